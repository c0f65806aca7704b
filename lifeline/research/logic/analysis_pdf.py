"""The subject analysis report for the leadership as PDF: the definitions, the summary of the
university beside its peers, papers per year as a bar chart (reportlab graphics, drawn in the
PDF), the ESI standing, colleges, top authors and collaborations. WenQuanYi Micro Hei embedded.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import SimpleDocTemplate, Spacer, Table, TableStyle

from lifeline.core.models import Library
from lifeline.core.pdffont import cjk_font
from lifeline.research.logic.pdf import _p

if TYPE_CHECKING:
    from lifeline.research.analysis_views import Analysis

PALETTE = [colors.HexColor(c) for c in ("#0b6e4f", "#0969da", "#bc4c00", "#8250df", "#cf222e")]


def definitions() -> list[str]:
    return [
        _(
            "A paper is the university's when one of its addresses names one of the library's "
            "variants of the university's name; a peer's when an address contains the peer's name."
        ),
        _(
            "Times cited: the highest figure among the databases' exports that list the paper "
            "(the databases count different citing sets, so they are not added)."
        ),
        _(
            "h-index (Hirsch 2005): the largest h such that h papers have at least h "
            "citations each."
        ),
        _(
            "Highly cited: times cited at or above ESI's top 1 per cent baseline of the paper's "
            "field and year. Top journal: JCR quartile Q1 in the publication year."
        ),
        _(
            "ESI standing: the citations of the university's papers in each field (a paper's field "
            "is its journal's, as ESI assigns them) against the field's top 1 per cent institution "
            "threshold of the latest imported edition."
        ),
    ]


def _chart(a: Analysis, font: str, width: float) -> Drawing | None:
    units = [a.ours, *a.peers]
    years = sorted({y for u in units for y in u.per_year})
    if not years:
        return None
    d = Drawing(width, 60 * mm)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 12 * mm, 10 * mm, width - 20 * mm, 45 * mm
    chart.data = [[u.per_year.get(y, 0) for y in years] for u in units]
    chart.categoryAxis.categoryNames = [str(y) for y in years]
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    for i in range(len(units)):
        chart.bars[i].fillColor = PALETTE[i % len(PALETTE)]
    d.add(chart)
    return d


def _table(
    header: Sequence[str], rows: Sequence[Sequence[Any]], style: ParagraphStyle, width: float
) -> Table:
    """A table of the page's width, its first column (names) twice as wide as the others: left
    to measure its content, a long peer name as typed took the others' width and reportlab
    refused to draw them (negative width)."""
    body = [[_p(h, style) for h in header]] + [
        [_p("—" if v is None else v, style) for v in row] for row in rows
    ]
    share = width / (len(header) + 1)
    t = Table(body, colWidths=[2 * share] + [share] * (len(header) - 1), repeatRows=1)
    t.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f5")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return t


def analysis_pdf(
    library: Library,
    a: Analysis,
    sheets: dict[str, tuple[list[str], list[list[Any]]]],
    title: str,
) -> bytes:
    font = cjk_font()
    base = ParagraphStyle("b", fontName=font, fontSize=9, leading=13, wordWrap="CJK")
    small = ParagraphStyle("s", parent=base, fontSize=7.5, leading=10)
    h1 = ParagraphStyle("h1", parent=base, fontSize=16, leading=22, alignment=1)
    h2 = ParagraphStyle("h2", parent=base, fontSize=11.5, leading=16, spaceBefore=8)
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, title=title, author=library.name
    )
    width = A4[0] - 36 * mm
    span = (
        f"{a.year_from or ''}–{a.year_to or ''}" if (a.year_from or a.year_to) else _("all years")
    )
    story: list[Any] = [
        _p(title, h1),
        _p(f"{library.name} · {span} · {timezone.localdate().isoformat()}", base),
        Spacer(1, 4 * mm),
        _p(_("Definitions"), h2),
        *[_p(f"• {d}", small) for d in definitions()],
    ]
    for name, (header, rows) in sheets.items():
        story.append(_p(name, h2))
        if name == _("Papers per year"):
            chart = _chart(a, font, width)
            if chart is not None:
                story.append(chart)
        story.append(_table(header, rows[:60], small, width) if rows else _p(_("No data"), small))
    doc.build(story)
    return out.getvalue()
