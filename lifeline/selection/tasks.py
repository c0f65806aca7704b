"""Background work of cloud selection (django.tasks): a selection over a large campaign.
Catalogue and holdings uploads run through `lifeline.core.jobs` (`lifeline/selection/jobs.py`)."""

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
