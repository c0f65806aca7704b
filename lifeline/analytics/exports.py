"""Renewal plan and value tables as XLSX (lifeline.core.spreadsheets) and PDF (reportlab, with
the WenQuanYi Micro Hei font embedded so that Chinese names print)."""

from __future__ import annotations

import io
from typing import Any

from django.utils.translation import gettext as _

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
