"""Choice sets of the core app. Each has a colour for badges (NetBox style)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Role(models.TextChoices):
    ADMIN = "admin", _("Library administrator")
    ERESOURCES = "eresources", _("E-resources librarian")
    TECH = "tech", _("Technical support")
    REFERENCE = "reference", _("Reference librarian")
    SUBJECT = "subject", _("Subject librarian")
    DELIVERY = "delivery", _("Document-delivery staff")
    LEADERSHIP = "leadership", _("Leadership viewer")
    ACQUISITIONS = "acquisitions", _("Acquisitions librarian")


class PatronCategory(models.TextChoices):
    TEACHER = "teacher", _("Teacher")
    STUDENT = "student", _("Student")
    RESEARCHER = "researcher", _("Researcher")
    STAFF = "staff", _("Staff")
    OTHER = "other", _("Other")


class AuditAction(models.TextChoices):
    CREATE = "create", _("Created")
    UPDATE = "update", _("Updated")
    DELETE = "delete", _("Deleted")
    IMPORT = "import", _("Imported")
    ACTION = "action", pgettext_lazy("audit", "Action")


AUDIT_ACTION_COLOURS = {
    AuditAction.CREATE: "green",
    AuditAction.UPDATE: "blue",
    AuditAction.DELETE: "red",
    AuditAction.IMPORT: "purple",
    AuditAction.ACTION: "grey",
}


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    WEBHOOK = "webhook", _("Webhook")
    # Sent by a function an app names (`notify_app`): channels with their own API (WeCom apps).
    APP = "app", _("App channel")


class WebhookFormat(models.TextChoices):
    JSON = "json", _("Plain JSON")
    WECOM = "wecom", _("WeCom robot")
    DINGTALK = "dingtalk", _("DingTalk robot")
    FEISHU = "feishu", _("Feishu robot")


class NotificationStatus(models.TextChoices):
    # "Pending" alone is a job waiting its turn (analytics); a notification waits to be sent.
    PENDING = "pending", pgettext_lazy("notification", "Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


NOTIFICATION_STATUS_COLOURS = {
    NotificationStatus.PENDING: "yellow",
    NotificationStatus.SENDING: "blue",
    NotificationStatus.SENT: "green",
    NotificationStatus.FAILED: "red",
}


class JobStatus(models.TextChoices):
    """A long import started from a page (`core.jobs`)."""

    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


JOB_STATUS_COLOURS = {
    JobStatus.QUEUED: "grey",
    JobStatus.RUNNING: "blue",
    JobStatus.DONE: "green",
    JobStatus.FAILED: "red",
    JobStatus.CANCELLED: "orange",
}
