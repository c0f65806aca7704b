"""Background work of Sign-in and security (django.tasks)."""

from __future__ import annotations

from django.tasks import task

from lifeline.accounts.saml.flow import purge


@task()
def purge_saml_state_task() -> int:
    return purge()
