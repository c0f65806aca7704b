"""What Access health tells people, in their language: subscribers, reporters and vendors.

Each function only queues an outbox row (`lifeline.core.notify`); sending happens after commit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from lifeline.core.choices import Channel
from lifeline.core.notify import notify_email, notify_webhook

if TYPE_CHECKING:
    from lifeline.health.models import Escalation, FaultReport, Incident


def status_url(incident: Incident) -> str:
    return settings.SITE_URL + reverse("health:incident", args=[incident.library.code, incident.pk])


def _context(incident: Incident, **extra: Any) -> dict[str, Any]:
    route = incident.route
    return {
        "incident": incident,
        "resource": incident.resource.display("name"),
        "route": route.get_kind_display() if route else "",
        "route_url": route.link() if route else incident.resource.homepage,
        "library": incident.library.display_name,
        "status_url": status_url(incident),
        "opened_at": timezone.localtime(incident.opened_at),
        "closed_at": timezone.localtime(incident.closed_at) if incident.closed_at else None,
        **extra,
    }


def _broadcast(incident: Incident, event: str) -> None:
    for sub in incident.library.health_subscriptions.filter(is_active=True):
        with translation.override(sub.language):
            if event == "opened":
                title = _("Access problem: %(resource)s") % {
                    "resource": incident.resource.display("name")
                }
            else:
                title = _("Access restored: %(resource)s") % {
                    "resource": incident.resource.display("name")
                }
            text = render_to_string(
                "health/notices/incident.txt", _context(incident, event=event)
            ).strip()
        key = f"health:incident:{incident.pk}:{event}:{sub.pk}"
        if sub.channel == Channel.EMAIL:
            notify_email(
                incident.library,
                [sub.email],
                title,
                text,
                kind=f"health.incident_{event}",
                dedupe_key=key,
            )
        else:
            notify_webhook(
                incident.library,
                sub.url,
                title=title,
                text=text,
                fmt=sub.webhook_format,
                payload={
                    "incident": incident.pk,
                    "resource": incident.resource.key,
                    "event": event,
                    "status_url": status_url(incident),
                },
                kind=f"health.incident_{event}",
                dedupe_key=key,
            )


def incident_opened(incident: Incident) -> None:
    _broadcast(incident, "opened")


def incident_resolved(incident: Incident) -> None:
    _broadcast(incident, "resolved")


def _to_reporter(report: FaultReport, event: str) -> None:
    with translation.override(report.language):
        if event == "received":
            subject = _("We received your report about %(resource)s") % {
                "resource": report.resource.display("name")
            }
        else:
            subject = _("%(resource)s works again") % {"resource": report.resource.display("name")}
        body = render_to_string(
            f"health/notices/report_{event}.txt", _context(report.incident, report=report)
        ).strip()
    notify_email(
        report.library,
        [report.contact_email],
        subject,
        body,
        kind=f"health.report_{event}",
        dedupe_key=f"health:report:{report.pk}:{event}",
    )


def report_received(report: FaultReport) -> None:
    _to_reporter(report, "received")


def report_fixed(report: FaultReport) -> None:
    _to_reporter(report, "fixed")


def vendor_message(escalation: Escalation) -> tuple[str, str]:
    """Subject and body in the vendor's preferred language, with the probe evidence."""
    incident = escalation.incident
    evidence = list(incident.route.probe_results.all()[:5]) if incident.route else []
    base = settings.SITE_URL + reverse("health:vendor_reply", args=[escalation.token])
    with translation.override(escalation.language):
        subject = _("Access fault at %(library)s: %(resource)s") % {
            "library": incident.library.display_name,
            "resource": incident.resource.display("name"),
        }
        body = render_to_string(
            "health/notices/vendor.txt",
            _context(
                incident,
                escalation=escalation,
                evidence=evidence,
                reply_url=base,
                due_at=f"{timezone.localtime(escalation.due_at):%Y-%m-%d %H:%M}",
                vendor=escalation.vendor,
            ),
        ).strip()
    return subject, body


def send_vendor_message(escalation: Escalation) -> None:
    notify_email(
        escalation.incident.library,
        escalation.recipients,
        escalation.subject,
        escalation.body,
        kind="health.vendor_escalation",
        dedupe_key=f"health:escalation:{escalation.pk}",
    )
