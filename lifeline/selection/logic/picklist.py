"""The home-delivery pick list as PDF (reportlab, WenQuanYi Micro Hei embedded as a subset, as
the other apps' PDFs): what the desk takes from the shelves and where each book goes."""

from __future__ import annotations

import io
from collections.abc import Iterable
from xml.sax.saxutils import escape

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

from lifeline.core.models import Library
from lifeline.selection.models import HomeDelivery

FONT_PATH = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
FONT = "WQYMicroHei"


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, FONT_PATH, subfontIndex=0))
    return FONT


def pick_list_pdf(library: Library, deliveries: Iterable[HomeDelivery]) -> bytes:
    font = _font()
    # wordWrap="CJK" breaks Chinese lines between any two characters.
    base = ParagraphStyle("base", fontName=font, fontSize=9.5, leading=13, wordWrap="CJK")
    head = ParagraphStyle("head", parent=base, fontSize=14, leading=18)

    def p(text: object) -> Paragraph:
        return Paragraph(escape(str(text or "")), base)

    rows = [
        [
            p(h)
            for h in (
                "#",
                _("Call number"),
                _("Title"),
                _("Recipient"),
                _("Phone"),
                _("Address"),
                _("Status"),
            )
        ]
    ]
    for d in deliveries:
        rows.append(
            [
                p(d.pk),
                p(d.call_number),
                p(d.title),
                p(d.recipient),
                p(d.phone),
                p(d.address),
                p(d.get_status_display()),
            ]
        )
    table = Table(
        rows,
        repeatRows=1,
        colWidths=[14 * mm, 30 * mm, 75 * mm, 28 * mm, 30 * mm, 75 * mm, 25 * mm],
    )
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f0f3f6")),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#d1d9e0")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    out = io.BytesIO()
    title = _("Pick list") + f" · {library.display_name}"
    doc = SimpleDocTemplate(
        out,
        pagesize=landscape(A4),
        leftMargin=10 * mm,
        rightMargin=10 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=title,
    )
    stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    doc.build([Paragraph(escape(f"{title} · {stamp}"), head), table])
    return out.getvalue()
