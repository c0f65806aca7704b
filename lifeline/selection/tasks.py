"""Background work of cloud selection (django.tasks): a selection over a large campaign, and
catalogue and holdings files uploaded on a page."""

from __future__ import annotations

from django.tasks import task

from lifeline.core.audit import acting_as


@task()
def run_selection(campaign_id: int, method: str) -> int:
    from lifeline.selection import services
    from lifeline.selection.models import Campaign

    with acting_as(None, "selection"):
        campaign = Campaign.objects.get(pk=campaign_id)
        return services.run_selection(campaign, method).pk


@task()
def import_upload(job_id: int) -> str:
    """A vendor catalogue or the holdings, uploaded on the page (200,000 records take tens of
    seconds: longer than a web request should)."""
    from lifeline.selection.importjobs import run_import
    from lifeline.selection.models import ImportJob

    job = ImportJob.objects.select_related("library", "created_by").get(pk=job_id)
    with acting_as(job.created_by, "selection import"):
        return run_import(job).status
