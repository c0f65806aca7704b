"""XLSX of an after-action review (one sheet per part), in the request's language."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from lifeline.core.spreadsheets import xlsx_bytes


def _t(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def review_xlsx(review: dict[str, Any]) -> bytes:
    event = review["event"]
    summary = [
        (_("Event"), str(event)),
        (_("Drill"), _("yes") if event.is_drill else _("no")),
        (_("Category"), event.get_category_display()),
        (_("Level at close"), event.level_roman),
        (_("Scope"), event.scope),
        (_("Reason"), event.reason),
        (_("Declared"), _t(review["start"])),
        (_("Stood down"), _t(event.closed_at)),
        (_("Duration (hours)"), review["duration_hours"]),
        (_("Time to first action (hours)"), review["time_to_first_action_hours"]),
        (_("Tasks"), review["total"]),
        (_("Done"), review["done"]),
        (_("Done on time"), review["on_time"]),
        (_("Done late"), len(review["late"])),
        (_("Not done"), len(review["not_done"])),
        (_("Withdrawn"), review["withdrawn"]),
    ]
    sheets: dict[str, Any] = {
        _("Summary"): ((_("Item"), _("Value")), summary),
        _("Tasks"): (
            (
                _("Team"),
                _("Task"),
                _("Section"),
                _("From level"),
                _("Assignee"),
                _("Due"),
                _("Finished"),
                _("Status"),
                _("Late"),
                _("Note"),
            ),
            [
                (
                    t.display_team,
                    t.display_title,
                    t.section,
                    t.get_level_display(),
                    t.assignee_name,
                    _t(t.due_at),
                    _t(t.done_at),
                    t.get_status_display(),
                    _("yes") if t.was_late else "",
                    t.note,
                )
                for t in review["tasks"]
            ],
        ),
        _("Timeline"): (
            (_("Time"), _("Kind"), _("By"), _("What")),
            [(_t(e.at), e.get_kind_display(), e.actor, e.display_text) for e in review["timeline"]],
        ),
    }
    if review["incidents"] is not None:
        sheets[_("Access incidents")] = (
            (_("Resource"), _("Kind"), _("Opened"), _("Closed"), _("Hours")),
            [
                (
                    str(i.get("resource", "")),
                    str(i.get("kind", "")),
                    _t(i.get("opened_at")),
                    _t(i.get("closed_at")),
                    round(i.get("duration_seconds", 0) / 3600, 2),
                )
                for i in review["incidents"]
            ],
        )
    if review["delivery"] is not None:
        dv = review["delivery"]
        sheets[_("Document delivery")] = (
            (_("Requested"), _("Supplied"), _("Fill rate %")),
            [(dv.get("requested"), dv.get("supplied"), dv.get("fill_rate"))],
        )
    if review["usage"] is not None:
        sheets[_("Usage")] = (
            (_("Resource"), _("Uses"), _("A year earlier"), _("Change %")),
            [(u["resource"], u["uses"], u["year_before"], u["change"]) for u in review["usage"]],
        )
    return xlsx_bytes(sheets)
