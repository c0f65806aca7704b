"""The report as PDF: WenQuanYi Micro Hei embedded (a subset), tables 1–3 and a bar chart of
table 3, in the request's language."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape

from django.utils.translation import gettext as _
from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from lifeline.reports import exports
from lifeline.reports.services import Report

FONT_PATH = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
FONT = "WQYMicroHei"


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, FONT_PATH, subfontIndex=0))
    return FONT


def _p(text: Any, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(str(text if text is not None else "")).replace("\n", "<br/>"), style)


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]], st: ParagraphStyle) -> Table:
    data = [[_p(h, st) for h in header]] + [[_p(c, st) for c in row] for row in rows]
    table = Table(data, repeatRows=1)
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


def _chart(report: Report, font: str) -> Drawing | None:
    rows = [f for f in report.table3 if f.figure][:10]
    if not rows:
        return None
    height = 30 + 18 * len(rows)
    drawing = Drawing(170 * mm, height)
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 60 * mm, 10, 100 * mm, height - 20
    chart.data = [[float(f.figure or 0) for f in reversed(rows)]]
    chart.categoryAxis.categoryNames = [f.label[:24] for f in reversed(rows)]
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = colors.HexColor("#0b6e4f")
    drawing.add(chart)
    return drawing


def pdf(report: Report) -> bytes:
    font = _font()
    base = ParagraphStyle("base", fontName=font, fontSize=8.5, leading=12, wordWrap="CJK")
    h1 = ParagraphStyle("h1", parent=base, fontSize=15, leading=20, spaceAfter=6)
    h2 = ParagraphStyle("h2", parent=base, fontSize=11.5, leading=16, spaceBefore=8, spaceAfter=4)
    head1, head2, head3 = exports.headers()
    story: list[Any] = [_p(exports.title(report), h1)]
    story.append(
        _p(
            _("Figures a year earlier: %(start)s to %(end)s.")
            % {"start": report.before_start.isoformat(), "end": report.before_end.isoformat()},
            base,
        )
    )
    story += [_p(_("Narrative summary"), h2), _p(report.narrative, base)]
    story += [_p(_("Table 1 Services and figures"), h2)]
    story.append(_table(head1, exports.table1_rows(report), base))
    story += [_p(_("Table 2 Document delivery requested and supplied"), h2)]
    story.append(_table(head2, exports.table2_rows(report), base))
    story += [_p(_("Table 3 Full-text downloads per platform"), h2)]
    story.append(_table(head3, exports.table3_rows(report), base))
    chart = _chart(report, font)
    if chart is not None:
        story += [Spacer(1, 4 * mm), chart]
    out = io.BytesIO()
    SimpleDocTemplate(
        out, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, title=exports.title(report)
    ).build(story)
    return out.getvalue()
