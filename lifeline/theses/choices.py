"""Choice sets of thesis deposit, each with a colour for badges."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Status(models.TextChoices):
    CHECKING = "checking", _("Being checked")
    CHECKS_FAILED = "checks_failed", _("Checks failed")
    WAITING = "waiting", _("Waiting for review")
    RETURNED = "returned", _("Returned for changes")
    APPROVED = "approved", pgettext_lazy("thesis", "Approved")


STATUS_COLOURS = {
    Status.CHECKING: "blue",
    Status.CHECKS_FAILED: "red",
    Status.WAITING: "yellow",
    Status.RETURNED: "orange",
    Status.APPROVED: "green",
}

# Where each status may go. A new version (resubmission) always starts again at CHECKING.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.CHECKING: frozenset({Status.CHECKS_FAILED, Status.WAITING}),
    Status.CHECKS_FAILED: frozenset({Status.CHECKING, Status.RETURNED}),
    Status.WAITING: frozenset({Status.APPROVED, Status.RETURNED, Status.CHECKING}),
    Status.RETURNED: frozenset({Status.CHECKING}),
    # A revoked receipt sends the thesis back to the student.
    Status.APPROVED: frozenset({Status.RETURNED}),
}
# The student may upload a new version in these states.
EDITABLE = frozenset({Status.CHECKS_FAILED, Status.RETURNED})


class DegreeLevel(models.TextChoices):
    MASTER = "master", _("Master's")
    DOCTOR = "doctor", _("Doctoral")


class DegreeType(models.TextChoices):
    ACADEMIC = "academic", _("Academic degree")
    PROFESSIONAL = "professional", _("Professional degree")


class Confidentiality(models.TextChoices):
    PUBLIC = "public", _("Public")
    INTERNAL = "internal", _("Internal")
    SECRET = "secret", _("Secret")


CONFIDENTIALITY_COLOURS = {
    Confidentiality.PUBLIC: "green",
    Confidentiality.INTERNAL: "orange",
    Confidentiality.SECRET: "red",
}


class Check(models.TextChoices):
    """The automatic checks, in the order they run. Each failure is explained by `logic.checks`."""

    OPENS = "opens", _("The PDF opens")
    NOT_ENCRYPTED = "not_encrypted", _("Not encrypted")
    TEXT = "text", _("Has text (not only scanned images)")
    PAGES = "pages", _("Page count within the rules")
    SIZE = "size", _("File size within the rules")
    COVER_TITLE = "cover_title", _("Title on the cover matches")
    COVER_AUTHOR = "cover_author", _("Author on the cover matches")
    FONTS = "fonts", _("Fonts embedded")


class ReturnReason(models.TextChoices):
    """Why a reviewer returns a thesis: one per check a human may confirm, and the usual others."""

    COVER = "cover", _("Cover page does not match the metadata")
    FORMAT = "format", _("Layout does not follow the library's rules")
    FONTS = "fonts", _("Fonts not embedded")
    SCAN = "scan", _("Scanned images instead of text")
    METADATA = "metadata", _("Metadata incomplete or wrong")
    ABSTRACT = "abstract", _("Abstract missing or too short")
    SIGNATURES = "signatures", _("Declaration page not signed")
    CONFIDENTIALITY = "confidentiality", _("Confidentiality level or release date wrong")
    OTHER = "other", pgettext_lazy("reason", "Other")


class ReceiptState(models.TextChoices):
    VALID = "valid", _("Genuine")
    REVOKED = "revoked", _("Revoked")
    TAMPERED = "tampered", _("Not genuine")
    UNKNOWN = "unknown", _("Unknown receipt")


RECEIPT_STATE_COLOURS = {
    ReceiptState.VALID: "green",
    ReceiptState.REVOKED: "red",
    ReceiptState.TAMPERED: "red",
    ReceiptState.UNKNOWN: "grey",
}
