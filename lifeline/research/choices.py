"""Choice sets of research services, each with a badge colour."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Database(models.TextChoices):
    WOS = "wos", _("Web of Science")
    SCOPUS = "scopus", _("Scopus")
    EI = "ei", _("Engineering Index (EI)")
    CNKI = "cnki", _("CNKI")
    WANFANG = "wanfang", _("Wanfang")
    VIP = "vip", _("VIP (CQVIP)")
    CSSCI = "cssci", _("CSSCI")
    CSCD = "cscd", _("CSCD")
    OTHER = "other", _("Other database")


class ListKind(models.TextChoices):
    JCR = "jcr", _("JCR (quartile and impact factor)")
    CSSCI = "cssci", _("CSSCI source journals")
    CSCD = "cscd", _("CSCD source journals")
    PKU = "pku", _("PKU core journals")
    EI = "ei", _("EI source list")


class Purpose(models.TextChoices):
    PROMOTION = "promotion", _("Promotion")
    AWARD = "award", _("Award application")
    GRADUATION = "graduation", _("Graduation")
    PROJECT = "project", _("Project application")
    OTHER = "other", _("Other purpose")


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    PREPARED = "prepared", _("Prepared, awaiting review")
    ISSUED = "issued", _("Issued")
    RETURNED = "returned", _("Returned for correction")
    CANCELLED = "cancelled", _("Cancelled")


STATUS_COLOURS = {
    Status.SUBMITTED: "yellow",
    Status.PREPARED: "blue",
    Status.ISSUED: "green",
    Status.RETURNED: "orange",
    Status.CANCELLED: "grey",
}
# Which moves the workflow allows.
TRANSITIONS = {
    Status.SUBMITTED: {Status.PREPARED, Status.CANCELLED},
    Status.RETURNED: {Status.PREPARED, Status.CANCELLED},
    Status.PREPARED: {Status.ISSUED, Status.RETURNED},
    Status.ISSUED: set(),
    Status.CANCELLED: set(),
}


class IpKind(models.TextChoices):
    APPLICATION = "application", _("Patent application assisted")
    FEE = "fee", _("Official fee paid")
    SEARCH = "search", _("Patent search")
    TRAINING = "training", _("Training session")


class NoveltyPurpose(models.TextChoices):
    """查新目的 (GB/T 32003-2015): project approval, or results (appraisal, award, patent)."""

    PROJECT = "project", _("Project approval")
    APPRAISAL = "appraisal", _("Appraisal of results")
    AWARD = "award", _("Award application")
    PATENT = "patent", _("Patent application")
    OTHER = "other", _("Other purpose")


class NoveltyScope(models.TextChoices):
    """查新范围要求: where the project's novelty is to be judged."""

    DOMESTIC = "domestic", _("In China")
    FOREIGN = "foreign", _("Outside China")
    BOTH = "both", _("In China and abroad")


class Relevance(models.TextChoices):
    """How close a found document is to the project (密切相关 / 一般相关 in reports)."""

    CLOSE = "close", _("Closely related")
    GENERAL = "general", _("Generally related")


class AnalysisKind(models.TextChoices):
    SUBJECT = "subject", _("Subject analysis report")
    OUTPUT = "output", _("Research output report")


class FeeStatus(models.TextChoices):
    NONE = "none", _("No fee")
    DUE = "due", _("Fee due")
    PAID = "paid", _("Fee paid")
    WAIVED = "waived", _("Fee waived")


FEE_STATUS_COLOURS = {
    FeeStatus.NONE: "grey",
    FeeStatus.DUE: "orange",
    FeeStatus.PAID: "green",
    FeeStatus.WAIVED: "teal",
}
