"""The report sent to the leadership group: monthly, and when an emergency event stands down.

Sent through the outbox (one row per library and period, by its dedupe key, so a scheduler that
runs twice or a stand-down replayed never sends two). The mail carries the figures of table 1
and the drafted summary in Chinese and English, and links to the page and its exports.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from lifeline.core.choices import Role
from lifeline.core.models import Library, Membership, Notification
from lifeline.core.notify import notify_email
from lifeline.reports import exports, services

LANGUAGES = ("zh-hans", "en")


def leadership_emails(library: Library) -> list[str]:
    """The library's leadership group: active members with the leadership-viewer role."""
    rows = Membership.objects.filter(
        library=library, role=Role.LEADERSHIP, is_active=True
    ).values_list("user__email", flat=True)
    return sorted({e for e in rows if e})


def previous_month(today: dt.date) -> tuple[dt.date, dt.date]:
    end = today.replace(day=1) - dt.timedelta(days=1)
    return end.replace(day=1), end


def _section(library: Library, start: dt.date, end: dt.date) -> tuple[str, str]:
    report = services.build(library, start, end)
    lines = [exports.title(report), "", report.narrative, ""]
    for row in exports.table1_rows(report):
        service, name, figure, before, unit, _how = row
        if figure == exports.NO_DATA:
            continue
        lines.append(
            _("%(service)s · %(name)s: %(figure)s %(unit)s (a year earlier: %(before)s)")
            % {"service": service, "name": name, "figure": figure, "unit": unit, "before": before}
        )
    return exports.title(report), "\n".join(lines)


def send_report(
    library: Library, start: dt.date, end: dt.date, *, kind: str, dedupe_key: str
) -> Notification | None:
    """Queue the report for the leadership group; None when the library has nobody to send to."""
    to = leadership_emails(library)
    if not to:
        return None
    link = settings.SITE_URL + reverse("reports:report", args=[library.code])
    query = urlencode({"start": start.isoformat(), "end": end.isoformat()})
    parts, subject = [], ""
    for language in LANGUAGES:
        with translation.override(language):
            title, text = _section(library, start, end)
            subject = subject or title
            parts.append(
                text
                + "\n\n"
                + _("The report: %(url)s") % {"url": f"{link}?{query}"}
                + "\n"
                + _("XLSX: %(url)s  Word: %(docx)s  PDF: %(pdf)s")
                % {
                    "url": f"{link}?{query}&format=xlsx",
                    "docx": f"{link}?{query}&format=docx",
                    "pdf": f"{link}?{query}&format=pdf",
                }
            )
    return notify_email(
        library,
        to,
        subject,
        "\n\n———\n\n".join(parts),
        kind=kind,
        dedupe_key=dedupe_key,
    )


def send_monthly(today: dt.date | None = None) -> int:
    """Each library's report for the month before `today`, once per library and month."""
    today = today or timezone.localdate()
    start, end = previous_month(today)
    sent = 0
    for library in Library.objects.order_by("pk"):
        n = send_report(
            library,
            start,
            end,
            kind="reports.monthly",
            dedupe_key=f"reports.monthly:{start:%Y-%m}",
        )
        sent += n is not None
    return sent


def on_event_stood_down(
    sender: Any,
    *,
    event_id: int,
    library: Library,
    is_drill: bool,
    start: dt.date,
    end: dt.date,
    **kwargs: Any,
) -> None:
    """At stand-down the event's span is reported to the leadership group (not for drills)."""
    if is_drill:
        return
    send_report(library, start, end, kind="reports.event", dedupe_key=f"reports.event:{event_id}")
