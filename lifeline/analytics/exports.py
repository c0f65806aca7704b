"""Renewal plan and value tables as XLSX (lifeline.core.spreadsheets) and PDF (reportlab, with
the WenQuanYi Micro Hei font embedded so that Chinese names print)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from lifeline.analytics.counter.dates import month_range
from lifeline.analytics.renewal import Plan
from lifeline.core.spreadsheets import xlsx_bytes

FONT_PATH = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
FONT = "WQYMicroHei"


def plan_rows(plan: Plan) -> tuple[list[str], list[list[Any]]]:
    header = [
        _("Resource"),
        _("Decision"),
        _("Price (CNY)"),
        _("Weighted use"),
        _("Use only it reaches"),
        _("Cost per use (CNY)"),
        _("Cost-per-use ranking"),
        _("Why"),
    ]
    rows = [
        [
            ln.candidate.name,
            _("Keep") if ln.keep else _("Drop"),
            round(ln.candidate.price, 2),
            round(ln.candidate.use, 1),
            round(ln.exclusive_use, 1),
            round(ln.cost_per_use, 2) if ln.cost_per_use is not None else "",
            _("Keep") if ln.ranking_keep else _("Drop"),
            ln.reason,
        ]
        for ln in plan.lines
    ]
    return header, rows


def summary_rows(plan: Plan) -> list[tuple[str, str]]:
    pct = (lambda x: f"{x / plan.total_use:.1%}") if plan.total_use else (lambda x: "—")
    return [
        (_("Budget cut"), f"{plan.cut_percent:g} %"),
        (_("Current cost (CNY)"), f"{plan.total_price:,.2f}"),
        (_("Budget after the cut (CNY)"), f"{plan.budget:,.2f}"),
        (_("Optimal plan: cost (CNY)"), f"{plan.optimal_cost:,.2f}"),
        (
            _("Optimal plan: use still reachable"),
            f"{plan.optimal_use:,.0f} ({pct(plan.optimal_use)})",
        ),
        (_("Cost-per-use ranking: cost (CNY)"), f"{plan.ranking_cost:,.2f}"),
        (
            _("Cost-per-use ranking: use still reachable"),
            f"{plan.ranking_use:,.0f} ({pct(plan.ranking_use)})",
        ),
        (
            _("Titles valued by their own COUNTER use (matched through KBART)"),
            f"{len({t for ln in plan.lines for t in ln.candidate.title_use}):,}",
        ),
    ]


def plan_xlsx(plan: Plan) -> bytes:
    header, rows = plan_rows(plan)
    return xlsx_bytes(
        {
            _("Renewal plan"): (header, rows),
            _("Summary"): ([_("Item"), _("Value")], summary_rows(plan)),
        }
    )


def _register_font() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, FONT_PATH, subfontIndex=0))


def plan_pdf(plan: Plan, title: str) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    _register_font()
    body = ParagraphStyle("body", fontName=FONT, fontSize=8, leading=10)
    head = ParagraphStyle("head", fontName=FONT, fontSize=14, leading=18)
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=landscape(A4),
        title=title,
        leftMargin=28,
        rightMargin=28,
        topMargin=28,
        bottomMargin=28,
    )
    story: list[Any] = [Paragraph(title, head), Spacer(0, 6)]
    story.append(
        Table(
            [[Paragraph(k, body), Paragraph(v, body)] for k, v in summary_rows(plan)],
            colWidths=[220, 200],
        )
    )
    story.append(Spacer(0, 10))
    header, rows = plan_rows(plan)
    data = [[Paragraph(str(h), body) for h in header]] + [
        [Paragraph(str(c), body) for c in row] for row in rows
    ]
    table = Table(data, repeatRows=1, colWidths=[120, 40, 60, 55, 60, 55, 60, 330])
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story.append(table)
    doc.build(story)
    return out.getvalue()


Sheets = dict[str, tuple[list[str], list[list[Any]]]]


def dashboard_sheets(
    data: dict[str, Any],
    value_rows: list[Any],
    comparison: list[dict[str, Any]],
    unheld: list[dict[str, Any]],
    resource: Any,
    library: Any,
    start: dt.date,
    end: dt.date,
) -> Sheets:
    """Every table of the usage dashboard, one sheet each, in the language of the request."""
    from lifeline.analytics.services import monthly_usage

    uses = _("Uses")
    sheets: Sheets = {
        _("Cost per use"): (
            [_("Resource"), _("Price (CNY)"), uses, _("Turnaways"), _("Cost per use (CNY)")],
            [[str(r.resource), r.price_cny, r.uses, r.denials, r.cost_per_use] for r in value_rows],
        ),
        _("Per month"): (
            [_("Month"), _("COUNTER uses"), _("Access-log requests (resources without COUNTER)")],
            [[f"{m:%Y-%m}", c, lg] for m, c, lg in data["months"]],
        ),
        _("Per resource"): (
            [_("Resource"), _("Vendor"), _("Category"), uses],
            [
                [
                    str(r),
                    str(r.vendor) if r.vendor else "",
                    str(r.category) if r.category else "",
                    n,
                ]
                for r, n in data["ranked"]
            ],
        ),
        _("Per vendor"): ([_("Vendor"), uses], [[k, n] for k, n in data["vendors"]]),
        _("Per category"): ([_("Category"), uses], [[k, n] for k, n in data["categories"]]),
        _("Against a year earlier"): (
            [
                _("Resource"),
                _("This period"),
                _("A year earlier"),
                pgettext("difference", "Change"),
            ],
            [
                [
                    row["name"],
                    row["now"],
                    row["year_before"],
                    f"{row['change']:+.1%}" if row["change"] is not None else "",
                ]
                for row in comparison
            ],
        ),
        _("Requested, not held"): (
            [_("Title"), "ISSN", "ISBN", _("Requests")],
            [
                [r.get("title", ""), r.get("issn", ""), r.get("isbn", ""), r["count"]]
                for r in unheld
            ],
        ),
    }
    if resource is not None:
        series = monthly_usage(library, start, end, resource_ids=[resource.pk]).get(resource.pk, {})
        sheets[_("One resource")] = (
            [_("Month"), str(resource)],
            [[f"{m:%Y-%m}", series.get(m, 0)] for m in month_range(start, end)],
        )
    return sheets


def unmatched_sheets(rows: list[dict[str, Any]]) -> Sheets:
    return {
        _("Titles not in any KBART list"): (
            [
                _("Title"),
                _("Online ISSN"),
                _("Print ISSN"),
                "ISBN",
                "DOI",
                _("Uses"),
                _("Turnaways"),
            ],
            [
                [
                    r["title"],
                    r["online_issn"],
                    r["print_issn"],
                    r["isbn"],
                    r["doi"],
                    r["uses"],
                    r["denials"],
                ]
                for r in rows
            ],
        )
    }
