"""PDF print of a plan and of an after-action review, in the request's language.

The Chinese font (WenQuanYi Micro Hei, Debian fonts-wqy-microhei) is embedded as a subset so
the file reads the same on a phone or a printer without Chinese fonts.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from lifeline.core.pdffont import cjk_font
from lifeline.emergency.choices import ROMAN, EventCategory
from lifeline.emergency.models import PlanVersion, pick


def _styles() -> dict[str, ParagraphStyle]:
    font = cjk_font()
    # wordWrap="CJK" breaks Chinese lines between any two characters, as Chinese typesetting does.
    base = ParagraphStyle("base", fontName=font, fontSize=9.5, leading=13.5, wordWrap="CJK")
    return {
        "base": base,
        "small": ParagraphStyle(
            "small", parent=base, fontSize=8, leading=11, textColor=colors.HexColor("#59636e")
        ),
        "h1": ParagraphStyle("h1", parent=base, fontSize=16, leading=21, spaceAfter=6),
        "h2": ParagraphStyle(
            "h2",
            parent=base,
            fontSize=12.5,
            leading=17,
            spaceBefore=8,
            spaceAfter=4,
            textColor=colors.HexColor("#0b6e4f"),
        ),
    }


def _p(text: Any, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(str(text if text is not None else "")).replace("\n", "<br/>"), style)


def _table(
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    widths: Sequence[float],
    st: dict[str, ParagraphStyle],
) -> Table:
    data = [[_p(h, st["small"]) for h in header]] + [
        [_p(c, st["base"]) for c in row] for row in rows
    ]
    table = Table(data, colWidths=[w * mm for w in widths], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f0f3f6")),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#d1d9e0")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _build(title: str, story: list[Any]) -> bytes:
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=16 * mm,
        rightMargin=16 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=title,
        author="Lifeline",
    )

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(cjk_font(), 7.5)
        canvas.drawString(16 * mm, 9 * mm, f"{title} · {doc.page}")
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()


def plan_pdf(version: PlanVersion) -> bytes:
    st = _styles()
    d = version.document
    title = pick(d["name"], d.get("name_en", ""))
    cats = ", ".join(str(EventCategory(c).label) for c in d.get("categories", []))
    story: list[Any] = [
        _p(title, st["h1"]),
        _p(
            _("Version %(v)s, %(when)s. Event categories: %(cats)s.")
            % {
                "v": version.number,
                "when": timezone.localtime(version.created_at).strftime("%Y-%m-%d"),
                "cats": cats,
            },
            st["small"],
        ),
        Spacer(1, 4),
        _p(pick(d.get("description", ""), d.get("description_en", "")), st["base"]),
    ]
    services = d.get("services", {})
    for key, label in (
        ("reference_hours", _("Reference hours")),
        ("delivery", _("Document delivery")),
    ):
        text = pick(services.get(key, ""), services.get(f"{key}_en", ""))
        if text:
            story.append(_p(f"{label}: {text}", st["base"]))
    for team in d["teams"]:
        head = [
            _p(
                f"{team.get('section', '')} {pick(team['name'], team.get('name_en', ''))}".strip(),
                st["h2"],
            )
        ]
        duty = pick(team.get("duty", ""), team.get("duty_en", ""))
        if duty:
            head.append(_p(duty, st["base"]))
        members = [
            [
                m["call_order"],
                pick(m["name"], m.get("name_en", ""))
                + (f" ({_('deputy')})" if m.get("deputy") else ""),
                pick(m.get("role", ""), m.get("role_en", "")),
                m.get("phone", ""),
                m.get("email", ""),
                m.get("wechat", ""),
            ]
            for m in team["members"]
        ]
        head.append(
            _table(
                [
                    _("Call order"),
                    pgettext("person", "Name"),
                    _("Role"),
                    _("Phone"),
                    _("E-mail"),
                    _("WeChat"),
                ],
                members,
                [18, 36, 22, 28, 48, 26],
                st,
            )
        )
        story.append(KeepTogether(head))
        if team.get("tasks"):
            rows = [
                [
                    ROMAN[t["level"]],
                    _("within %(h)s h") % {"h": t["due_hours"]},
                    t.get("section", ""),
                    pick(t["title"], t.get("title_en", "")),
                ]
                for t in sorted(team["tasks"], key=lambda t: (-t["level"], t["due_hours"]))
            ]
            story += [
                Spacer(1, 3),
                _table(
                    [_("From level"), _("Deadline"), _("Section"), _("Task")],
                    rows,
                    [16, 22, 16, 124],
                    st,
                ),
            ]
    return _build(title, story)


def review_pdf(review: dict[str, Any]) -> bytes:
    st = _styles()
    event = review["event"]
    fmt = "%Y-%m-%d %H:%M"
    title = _("After-action review") + f": {event}"
    story: list[Any] = [_p(title, st["h1"])]
    if event.is_drill:
        story.append(_p(_("This was a drill; it is kept out of real statistics."), st["h2"]))
    summary = [
        [_("Category"), event.get_category_display()],
        [_("Level at close"), event.level_roman],
        [_("Scope"), event.scope],
        [_("Reason"), event.reason],
        [_("Declared"), timezone.localtime(review["start"]).strftime(fmt)],
        [
            _("Stood down"),
            timezone.localtime(review["end"]).strftime(fmt)
            if event.closed_at
            else _("still in force"),
        ],
        [_("Duration (hours)"), review["duration_hours"]],
        [
            _("Time to first action (hours)"),
            review["time_to_first_action_hours"]
            if review["time_to_first_action_hours"] is not None
            else _("none"),
        ],
        [
            _("Tasks"),
            _(
                "%(done)s of %(total)s done, %(on_time)s on time; %(late)s late; "
                "%(not_done)s not done; %(w)s withdrawn"
            )
            % {
                "done": review["done"],
                "total": review["total"],
                "on_time": review["on_time"],
                "late": len(review["late"]),
                "not_done": len(review["not_done"]),
                "w": review["withdrawn"],
            },
        ],
    ]
    story.append(_table([_("Item"), _("Value")], summary, [50, 128], st))
    story.append(_p(_("Tasks late or not done"), st["h2"]))
    rows = [
        [
            t.display_team,
            t.display_title,
            timezone.localtime(t.due_at).strftime(fmt),
            timezone.localtime(t.done_at).strftime(fmt) if t.done_at else "",
            t.get_status_display(),
        ]
        for t in review["late"] + review["not_done"]
    ]
    story.append(
        _table(
            [_("Team"), _("Task"), _("Due"), _("Finished"), _("Status")],
            rows or [["", _("none"), "", "", ""]],
            [32, 74, 26, 26, 20],
            st,
        )
    )
    story.append(_p(_("Timeline"), st["h2"]))
    story.append(
        _table(
            [_("Time"), _("By"), _("What")],
            [
                [timezone.localtime(e.at).strftime(fmt), e.actor, e.display_text]
                for e in review["timeline"]
            ],
            [28, 24, 126],
            st,
        )
    )
    if review["incidents"] is not None:
        story.append(_p(_("Access incidents"), st["h2"]))
        rows = [
            [
                str(i.get("resource", "")),
                str(i.get("kind", "")),
                timezone.localtime(i["opened_at"]).strftime(fmt),
                round(i.get("duration_seconds", 0) / 3600, 1),
            ]
            for i in review["incidents"]
        ]
        story.append(
            _table(
                [_("Resource"), _("Kind"), _("Opened"), _("Hours")],
                rows or [[_("none"), "", "", ""]],
                [70, 36, 40, 32],
                st,
            )
        )
    if review["delivery"] is not None:
        dv = review["delivery"]
        story.append(_p(_("Document delivery"), st["h2"]))
        story.append(
            _table(
                [_("Requested"), _("Supplied"), _("Fill rate %")],
                [[dv.get("requested"), dv.get("supplied"), dv.get("fill_rate")]],
                [60, 60, 58],
                st,
            )
        )
    if review["usage"] is not None:
        story.append(_p(_("Usage against the same period a year earlier"), st["h2"]))
        rows = [
            [
                u["resource"],
                u["uses"],
                u["year_before"],
                "" if u["change"] is None else f"{u['change']:+}%",
            ]
            for u in review["usage"][:40]
        ]
        story.append(
            _table(
                [_("Resource"), _("Uses"), _("A year earlier"), pgettext("difference", "Change")],
                rows or [[_("none"), "", "", ""]],
                [90, 30, 30, 28],
                st,
            )
        )
    return _build(title, story)
