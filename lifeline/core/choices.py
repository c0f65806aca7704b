"""Choice sets of the core app. Each has a colour for badges (NetBox style)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Library administrator")
    ERESOURCES = "eresources", _("E-resources librarian")
    TECH = "tech", _("Technical support")
    REFERENCE = "reference", _("Reference librarian")
    SUBJECT = "subject", _("Subject librarian")
    DELIVERY = "delivery", _("Document-delivery staff")
    LEADERSHIP = "leadership", _("Leadership viewer")


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
    ACTION = "action", _("Action")


AUDIT_ACTION_COLOURS = {
    AuditAction.CREATE: "green",
    AuditAction.UPDATE: "blue",
    AuditAction.DELETE: "red",
    AuditAction.IMPORT: "purple",
    AuditAction.ACTION: "grey",
}
