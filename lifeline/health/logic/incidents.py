"""Incidents: opened by probes, fault reports or a usage drop; acknowledged, escalated, resolved.

Every step writes a timeline event and queues its notices in the same transaction (outbox), so
a notice goes out exactly when the decision committed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lifeline.health.choices import EventKind, IncidentKind, IncidentStatus
from lifeline.health.logic import notices
from lifeline.health.models import Escalation, FaultReport, Incident, IncidentEvent
from lifeline.registry.models import AccessRoute, Resource


def open_incident_for(resource: Resource, route: AccessRoute | None) -> Incident | None:
    return (
        Incident.objects.filter(resource=resource, route=route)
        .exclude(status=IncidentStatus.RESOLVED)
        .order_by("opened_at")
        .first()
    )


def add_event(
    incident: Incident,
    kind: str,
    text: str = "",
    *,
    user: Any = None,
    at: dt.datetime | None = None,
    public: bool = True,
    data: Any = None,
) -> IncidentEvent:
    return IncidentEvent.objects.create(
        incident=incident,
        kind=kind,
        text=text,
        user=user if user is not None and user.is_authenticated else None,
        at=at or timezone.now(),
        public=public,
        data=data,
    )


@transaction.atomic
def open_or_join(
    resource: Resource,
    route: AccessRoute | None,
    *,
    kind: str,
    cause: str,
    failure: str = "",
    now: dt.datetime | None = None,
    event_text: str = "",
    data: Any = None,
) -> tuple[Incident, bool]:
    """The open incident of this resource and route, or a new one. True when it was opened now."""
    now = now or timezone.now()
    incident = open_incident_for(resource, route)
    if incident is not None:
        if event_text:
            add_event(
                incident,
                EventKind.STATE if kind == IncidentKind.PROBE else EventKind.REPORT,
                event_text,
                at=now,
                data=data,
            )
        if kind == IncidentKind.PROBE and incident.kind != IncidentKind.PROBE:
            # A report the probes now confirm: the probe's cause is the better description.
            Incident.objects.filter(pk=incident.pk).update(
                kind=IncidentKind.PROBE, cause=cause[:500], failure=failure
            )
            incident.refresh_from_db()
        return incident, False
    incident = Incident.objects.create(
        # The library object, not its id: the notices read it, and the prober has it loaded.
        library=resource.library,
        resource=resource,
        route=route,
        kind=kind,
        cause=cause[:500],
        failure=failure,
        opened_at=now,
    )
    add_event(incident, EventKind.OPENED, event_text or cause, at=now, data=data)
    notices.incident_opened(incident)
    return incident, True


@transaction.atomic
def acknowledge(
    incident: Incident, user: Any, now: dt.datetime | None = None, note: str = ""
) -> None:
    if incident.status != IncidentStatus.OPEN:
        raise ValidationError(_("Only an open incident can be acknowledged."))
    now = now or timezone.now()
    incident.status, incident.acknowledged_at = IncidentStatus.ACKNOWLEDGED, now
    incident.save(update_fields=["status", "acknowledged_at"])
    add_event(incident, EventKind.ACKNOWLEDGED, note, user=user, at=now)


@transaction.atomic
def resolve(
    incident: Incident, *, user: Any = None, now: dt.datetime | None = None, note: str = ""
) -> None:
    if incident.status == IncidentStatus.RESOLVED:
        raise ValidationError(_("This incident is already resolved."))
    now = now or timezone.now()
    incident.status, incident.closed_at = IncidentStatus.RESOLVED, now
    incident.save(update_fields=["status", "closed_at"])
    add_event(incident, EventKind.RESOLVED, note, user=user, at=now)
    notices.incident_resolved(incident)
    for report in incident.reports.filter(fixed_notice_at__isnull=True).exclude(contact_email=""):
        notices.report_fixed(report)
    incident.reports.filter(fixed_notice_at__isnull=True).update(fixed_notice_at=now)


def add_note(incident: Incident, user: Any, text: str, *, public: bool) -> IncidentEvent:
    if not text.strip():
        raise ValidationError(_("Write a note first."))
    return add_event(incident, EventKind.NOTE, text.strip(), user=user, public=public)


@transaction.atomic
def file_report(
    *,
    resource: Resource,
    route: AccessRoute | None,
    description: str,
    contact_name: str = "",
    contact_email: str = "",
    screenshot: Any = None,
    language: str = "zh-hans",
    user: Any = None,
    address: str | None = None,
    now: dt.datetime | None = None,
) -> FaultReport:
    now = now or timezone.now()
    incident, _opened = open_or_join(
        resource,
        route,
        kind=IncidentKind.REPORT,
        cause=description[:200],
        now=now,
        event_text=str(_("A reader reported that this resource cannot be reached.")),
    )
    report = FaultReport.objects.create(
        library_id=resource.library_id,
        incident=incident,
        resource=resource,
        route=route,
        description=description,
        contact_name=contact_name,
        contact_email=contact_email,
        language=language,
        user=user if user is not None and user.is_authenticated else None,
        address=address,
        created_at=now,
        screenshot=screenshot or "",
    )
    if contact_email:
        notices.report_received(report)
    return report


@transaction.atomic
def escalate(incident: Incident, *, user: Any = None, now: dt.datetime | None = None) -> Escalation:
    """Send the vendor the incident in the vendor's language; its promised clock starts."""
    if incident.status == IncidentStatus.RESOLVED:
        raise ValidationError(_("A resolved incident cannot be escalated."))
    vendor = incident.resource.vendor
    if vendor is None:
        raise ValidationError(_("This resource has no vendor to escalate to."))
    recipients = [vendor.email] if vendor.email else []
    # A second escalation of one incident also goes to the vendor's escalation contact.
    if vendor.escalation_email and (incident.escalations.exists() or not recipients):
        recipients.append(vendor.escalation_email)
    if not recipients:
        raise ValidationError(
            _("The vendor “%(vendor)s” has no e-mail address.") % {"vendor": vendor}
        )
    now = now or timezone.now()
    escalation = Escalation(
        incident=incident,
        vendor=vendor,
        recipients=recipients,
        language=vendor.preferred_language,
        sent_at=now,
        due_at=now + dt.timedelta(hours=vendor.response_hours),
        user=user if user is not None and user.is_authenticated else None,
    )
    escalation.subject, escalation.body = notices.vendor_message(escalation)
    escalation.save()
    notices.send_vendor_message(escalation)
    add_event(incident, EventKind.ESCALATED, str(vendor), user=user, at=now)
    return escalation


@transaction.atomic
def vendor_acknowledged(
    escalation: Escalation, *, user: Any = None, now: dt.datetime | None = None
) -> bool:
    if escalation.acknowledged_at is not None:
        return False
    now = now or timezone.now()
    escalation.acknowledged_at = now
    escalation.save(update_fields=["acknowledged_at"])
    add_event(escalation.incident, EventKind.VENDOR_ACK, str(escalation.vendor), user=user, at=now)
    return True


@transaction.atomic
def vendor_resolved(
    escalation: Escalation, *, user: Any = None, now: dt.datetime | None = None
) -> bool:
    if escalation.resolved_at is not None:
        return False
    now = now or timezone.now()
    escalation.acknowledged_at = escalation.acknowledged_at or now
    escalation.resolved_at = now
    escalation.save(update_fields=["acknowledged_at", "resolved_at"])
    add_event(
        escalation.incident, EventKind.VENDOR_RESOLVED, str(escalation.vendor), user=user, at=now
    )
    return True
