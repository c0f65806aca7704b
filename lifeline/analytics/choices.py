"""Choice sets of the analytics app (with badge colours, see static/lifeline/lifeline.css)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Metric(models.IntegerChoices):
    """COUNTER R5 metric types, stored as small integers to keep the usage table compact."""

    TOTAL_ITEM_INVESTIGATIONS = 1, "Total_Item_Investigations"
    TOTAL_ITEM_REQUESTS = 2, "Total_Item_Requests"
    UNIQUE_ITEM_INVESTIGATIONS = 3, "Unique_Item_Investigations"
    UNIQUE_ITEM_REQUESTS = 4, "Unique_Item_Requests"
    UNIQUE_TITLE_INVESTIGATIONS = 5, "Unique_Title_Investigations"
    UNIQUE_TITLE_REQUESTS = 6, "Unique_Title_Requests"
    SEARCHES_REGULAR = 7, "Searches_Regular"
    SEARCHES_AUTOMATED = 8, "Searches_Automated"
    SEARCHES_FEDERATED = 9, "Searches_Federated"
    SEARCHES_PLATFORM = 10, "Searches_Platform"
    LIMIT_EXCEEDED = 11, "Limit_Exceeded"
    NO_LICENSE = 12, "No_License"


# COUNTER R5 Access_Method: use by text and data mining (TDM) is reported beside Regular use and
# must never be added to it (Code of Practice 5.1, 3.3.8). A TDM count is stored under its metric's
# code plus TDM_OFFSET, so every usage figure, which asks for Regular metric codes, leaves it out
# by construction; the readers name such a count "TDM:<Metric_Type>".
TDM_OFFSET = 100
TDM_PREFIX = "TDM:"
METRIC_CHOICES: list[tuple[int, str]] = [
    *Metric.choices,
    *((int(m.value) + TDM_OFFSET, f"{m.label} (TDM)") for m in Metric),
]
METRIC_BY_NAME: dict[str, int] = {m.label: int(m.value) for m in Metric} | {
    TDM_PREFIX + m.label: int(m.value) + TDM_OFFSET for m in Metric
}
DENIAL_METRICS = (Metric.LIMIT_EXCEEDED, Metric.NO_LICENSE)


def metric_label(code: int) -> str:
    """The COUNTER name of a stored metric code, TDM ones as "TDM:<Metric_Type>"."""
    if code > TDM_OFFSET:
        return TDM_PREFIX + Metric(code - TDM_OFFSET).label
    return Metric(code).label


class Release(models.TextChoices):
    R50 = "5", _("Release 5.0")
    R51 = "5.1", _("Release 5.1")


class ImportSource(models.TextChoices):
    UPLOAD = "upload", _("Uploaded file")
    SUSHI = "sushi", _("SUSHI harvest")
    REIMPORT = "reimport", _("Re-import of a kept response")


IMPORT_SOURCE_COLOURS = {
    ImportSource.UPLOAD: "blue",
    ImportSource.SUSHI: "teal",
    ImportSource.REIMPORT: "indigo",
}


class HarvestStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCESS = "success", _("Imported")
    PARTIAL = "partial", _("Imported, data partial")
    NO_USAGE = "no_usage", _("No usage in the period")
    QUEUED = "queued", _("Vendor is preparing the report: retry later")
    RATE_LIMITED = "rate_limited", _("Rate limited: retry later")
    UNAUTHORISED = "unauthorised", _("Not authorised")
    UNAVAILABLE = "unavailable", _("Report or service unavailable")
    INVALID = "invalid", _("Invalid response")
    FAILED = "failed", _("Failed")


HARVEST_STATUS_COLOURS = {
    HarvestStatus.PENDING: "grey",
    HarvestStatus.SUCCESS: "green",
    HarvestStatus.PARTIAL: "yellow",
    HarvestStatus.NO_USAGE: "blue",
    HarvestStatus.QUEUED: "indigo",
    HarvestStatus.RATE_LIMITED: "orange",
    HarvestStatus.UNAUTHORISED: "red",
    HarvestStatus.UNAVAILABLE: "purple",
    HarvestStatus.INVALID: "red",
    HarvestStatus.FAILED: "red",
}
# Statuses after which the scheduler tries the same harvest again later.
RETRY_STATUSES = {
    HarvestStatus.QUEUED,
    HarvestStatus.RATE_LIMITED,
    HarvestStatus.UNAVAILABLE,
    HarvestStatus.FAILED,
}


class LogStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Analysing")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


LOG_STATUS_COLOURS = {
    LogStatus.QUEUED: "grey",
    LogStatus.RUNNING: "blue",
    LogStatus.DONE: "green",
    LogStatus.FAILED: "red",
}
