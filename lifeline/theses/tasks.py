"""Background work of thesis deposit (django.tasks): the PDF checks, the repository deposit."""

from __future__ import annotations

from django.tasks import task

from lifeline.core.audit import acting_as


@task()
def check_version(version_id: int) -> bool | None:
    """Run the automatic checks on one submitted version (the upload request never waits)."""
    from lifeline.theses import services
    from lifeline.theses.models import ThesisVersion

    version = (
        ThesisVersion.objects.select_related("thesis", "thesis__library")
        .filter(pk=version_id)
        .first()
    )
    if version is None:
        return None
    with acting_as(None, "theses checks"):
        return services.run_checks(version).checks_passed


@task()
def deposit_thesis(thesis_id: int) -> str:
    from lifeline.theses import services
    from lifeline.theses.models import Thesis

    thesis = Thesis.objects.select_related("library").get(pk=thesis_id)
    with acting_as(None, "theses deposit"):
        return str(services.deposit(thesis))


@task()
def deposit_released() -> int:
    from lifeline.theses import services

    with acting_as(None, "theses deposit"):
        return services.deposit_released()
