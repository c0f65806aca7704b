"""Background work of Sign-in and security (django.tasks)."""

from __future__ import annotations

from django.tasks import task

from lifeline.accounts.saml.federation import refresh_due
from lifeline.accounts.saml.flow import purge


@task()
def purge_saml_state_task() -> int:
    return purge()


@task()
def refresh_federations_task() -> int:
    """Fetch and verify each federation's metadata when due (the last good copy stays on error)."""
    return refresh_due()
