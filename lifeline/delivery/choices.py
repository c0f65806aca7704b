"""Choice sets of document delivery, each with a badge colour."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class DocType(models.TextChoices):
    FOREIGN_ARTICLE = "foreign_article", _("Foreign journal article")
    FOREIGN_BOOK = "foreign_book", _("Foreign book")
    CHINESE_ARTICLE = "chinese_article", _("Chinese article")
    CHINESE_BOOK = "chinese_book", _("Chinese book")
    TEXTBOOK = "textbook", _("Textbook")
    THESIS = "thesis", _("Thesis")
    STANDARD = "standard", _("Standard")
    PATENT = "patent", _("Patent")
    OTHER = "other", _("Other")


class Status(models.TextChoices):
    DEFLECTED = "deflected", _("Available at once")
    SUBMITTED = "submitted", _("Submitted")
    IN_PROCESS = "in_process", _("In process")
    REQUESTED = "requested", _("Requested from supplier")
    DELIVERED = "delivered", _("Delivered")
    UNFILLED = "unfilled", _("Unfilled")
    CANCELLED = "cancelled", _("Cancelled")


STATUS_COLOURS = {
    Status.DEFLECTED: "teal",
    Status.SUBMITTED: "yellow",
    Status.IN_PROCESS: "blue",
    Status.REQUESTED: "indigo",
    Status.DELIVERED: "green",
    Status.UNFILLED: "red",
    Status.CANCELLED: "grey",
}
# A patron may hold only one of these per item; the rest are history.
OPEN_STATUSES = (Status.SUBMITTED, Status.IN_PROCESS, Status.REQUESTED)
CLOSED_STATUSES = (Status.DEFLECTED, Status.DELIVERED, Status.UNFILLED, Status.CANCELLED)

# The one table of legal moves; model methods consult it and refuse the rest.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.SUBMITTED: frozenset(
        {Status.IN_PROCESS, Status.REQUESTED, Status.DELIVERED, Status.UNFILLED, Status.CANCELLED}
    ),
    Status.IN_PROCESS: frozenset(
        {Status.REQUESTED, Status.DELIVERED, Status.UNFILLED, Status.CANCELLED}
    ),
    Status.REQUESTED: frozenset(
        {Status.IN_PROCESS, Status.DELIVERED, Status.UNFILLED, Status.CANCELLED}
    ),
    Status.DEFLECTED: frozenset(
        {Status.SUBMITTED}
    ),  # "the link did not work": the patron asks staff after all
    Status.DELIVERED: frozenset(),
    Status.UNFILLED: frozenset(),
    Status.CANCELLED: frozenset(),
}


class SupplierKind(models.TextChoices):
    PARTNER = "partner", _("Partner library (same installation)")
    OUTSIDE = "outside", _("Outside service")
    COMMERCIAL = "commercial", _("Commercial supplier")


SUPPLIER_KIND_COLOURS = {
    SupplierKind.PARTNER: "green",
    SupplierKind.OUTSIDE: "blue",
    SupplierKind.COMMERCIAL: "purple",
}


class UnfilledReason(models.TextChoices):
    NOT_HELD = "not_held", _("No supplier holds it")
    NOT_AVAILABLE = "not_available", _("Held but not available")
    COPYRIGHT = "copyright", _("Copyright does not allow it")
    COST = "cost", _("Cost exceeds the limit")
    BAD_CITATION = "bad_citation", _("Citation incomplete or wrong")
    OTHER = "other", _("Other")


class Direction(models.TextChoices):
    OUT = "out", _("Sent")
    IN = "in", _("Received")


class MessageOutcome(models.TextChoices):
    OK = "ok", _("Accepted")
    ERROR = "error", _("Rejected")


MESSAGE_OUTCOME_COLOURS = {MessageOutcome.OK: "green", MessageOutcome.ERROR: "red"}


# --- ISO 18626 (v1.2 code lists) ---------------------------------------------------------------


class Role(models.TextChoices):
    """Which side of an ISO 18626 transaction this library plays."""

    REQUESTER = "requester", pgettext_lazy("ISO ILL role", "Requester")
    SUPPLIER = "supplier", pgettext_lazy("ISO ILL role", "Supplier")


class ServiceType(models.TextChoices):
    COPY = "Copy", pgettext_lazy("ISO ILL service", "Copy")
    LOAN = "Loan", pgettext_lazy("ISO ILL service", "Loan")
    COPY_OR_LOAN = "CopyOrLoan", pgettext_lazy("ISO ILL service", "Copy or loan")


class IsoStatus(models.TextChoices):
    """The supplying agency's status (ISO 18626 v1.2 `type_status`)."""

    REQUEST_RECEIVED = "RequestReceived", _("Request received")
    EXPECT_TO_SUPPLY = "ExpectToSupply", _("Expect to supply")
    WILL_SUPPLY = "WillSupply", _("Will supply")
    LOANED = "Loaned", _("Loaned")
    OVERDUE = "Overdue", _("Overdue")
    RECALLED = "Recalled", _("Recalled")
    RETRY_POSSIBLE = "RetryPossible", _("Retry possible")
    UNFILLED = "Unfilled", pgettext_lazy("ISO ILL status", "Unfilled")
    COPY_COMPLETED = "CopyCompleted", _("Copy completed")
    LOAN_COMPLETED = "LoanCompleted", _("Loan completed")
    COMPLETED_WITHOUT_RETURN = "CompletedWithoutReturn", _("Completed without return")
    CANCELLED = "Cancelled", pgettext_lazy("ISO ILL status", "Cancelled")


class IsoAction(models.TextChoices):
    """The requesting agency's actions (ISO 18626 v1.2 `type_action`)."""

    STATUS_REQUEST = "StatusRequest", _("Ask for the status")
    RECEIVED = "Received", _("Received")
    CANCEL = "Cancel", _("Ask to cancel")
    RENEW = "Renew", _("Ask to renew")
    SHIPPED_RETURN = "ShippedReturn", _("Returned (shipped back)")
    SHIPPED_FORWARD = "ShippedForward", _("Shipped forward")
    NOTIFICATION = "Notification", _("Notification")


class Health(models.TextChoices):
    UNKNOWN = "unknown", _("Not yet reached")
    UP = "up", _("Answering")
    DOWN = "down", _("Not answering")


HEALTH_COLOURS = {Health.UNKNOWN: "grey", Health.UP: "green", Health.DOWN: "red"}


class SendState(models.TextChoices):
    """An outgoing message's way to the peer."""

    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    REFUSED = "refused", _("Refused by the peer")
    FAILED = "failed", _("Given up")


SEND_STATE_COLOURS = {
    SendState.PENDING: "yellow",
    SendState.SENT: "green",
    SendState.REFUSED: "red",
    SendState.FAILED: "red",
}
