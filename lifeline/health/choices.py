"""Choice sets of Access health, each with badge colours (CSS classes in lifeline.css)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class HealthState(models.TextChoices):
    # A context of their own: "Down" and "Up" mean other things in other catalogues.
    UNKNOWN = "unknown", pgettext_lazy("access state", "Unknown")
    UP = "up", pgettext_lazy("access state", "Up")
    DEGRADED = "degraded", pgettext_lazy("access state", "Degraded")
    DOWN = "down", pgettext_lazy("access state", "Down")


STATE_COLOURS = {
    HealthState.UNKNOWN: "grey",
    HealthState.UP: "green",
    HealthState.DEGRADED: "yellow",
    HealthState.DOWN: "red",
}
# Best first: a resource is as reachable as its best route.
STATE_RANK = {
    HealthState.UP: 0,
    HealthState.DEGRADED: 1,
    HealthState.DOWN: 2,
    HealthState.UNKNOWN: 3,
}


class FailureKind(models.TextChoices):
    NONE = "", _("None")
    DNS = "dns", _("DNS lookup failed")
    REFUSED = "refused", _("Connection refused")
    CONNECT = "connect", _("Could not connect")
    TIMEOUT = "timeout", _("Timed out")
    TLS = "tls", _("TLS certificate invalid")
    REDIRECTS = "redirects", _("Too many redirects")
    TOO_LARGE = "too_large", _("Response body too large")
    STATUS = "status", _("Unexpected HTTP status")
    KEYWORD_MISSING = "keyword_missing", _("Expected text missing")
    KEYWORD_FORBIDDEN = "keyword_forbidden", _("Login wall or error text found")
    FORBIDDEN_TARGET = "forbidden_target", _("Target address not allowed")
    SLOW = "slow", _("Slow response")
    CERT_EXPIRING = "cert_expiring", _("Certificate expires soon")
    PROTOCOL = "protocol", _("Protocol error")


# What each result means for the route: failures that stop a patron are "down"; the rest "degraded".
DEGRADING = frozenset({FailureKind.TOO_LARGE, FailureKind.SLOW, FailureKind.CERT_EXPIRING})


class IncidentKind(models.TextChoices):
    PROBE = "probe", _("Probe failure")
    REPORT = "report", _("Fault report")
    SUSPECTED = "suspected", _("Suspected fault (usage drop)")


INCIDENT_KIND_COLOURS = {
    IncidentKind.PROBE: "red",
    IncidentKind.REPORT: "orange",
    IncidentKind.SUSPECTED: "purple",
}


class IncidentStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")


INCIDENT_STATUS_COLOURS = {
    IncidentStatus.OPEN: "red",
    IncidentStatus.ACKNOWLEDGED: "orange",
    IncidentStatus.RESOLVED: "green",
}


class EventKind(models.TextChoices):
    OPENED = "opened", _("Opened")
    STATE = "state", _("State changed")
    REPORT = "report", _("Fault reported")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged by the library")
    ESCALATED = "escalated", _("Escalated to the vendor")
    VENDOR_ACK = "vendor_ack", _("Vendor acknowledged")
    VENDOR_RESOLVED = "vendor_resolved", _("Vendor reported a fix")
    NOTE = "note", _("Note")
    RESOLVED = "resolved", _("Resolved")


EVENT_COLOURS = {
    EventKind.OPENED: "red",
    EventKind.STATE: "blue",
    EventKind.REPORT: "orange",
    EventKind.ACKNOWLEDGED: "indigo",
    EventKind.ESCALATED: "purple",
    EventKind.VENDOR_ACK: "teal",
    EventKind.VENDOR_RESOLVED: "teal",
    EventKind.NOTE: "grey",
    EventKind.RESOLVED: "green",
}
