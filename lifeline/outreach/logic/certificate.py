"""Certificates as PDF (reportlab, WenQuanYi Micro Hei embedded as a subset)."""

from __future__ import annotations

import io

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfgen import canvas

from lifeline.core.pdffont import cjk_font


def certificate(library: str, name: str, title: str, line: str) -> bytes:
    """One landscape page: the library, the patron, what was achieved, the date."""
    font = cjk_font()
    out = io.BytesIO()
    width, height = landscape(A4)
    pdf = canvas.Canvas(out, pagesize=(width, height))
    pdf.setTitle(_("Certificate"))
    pdf.setStrokeColorRGB(0.04, 0.43, 0.31)
    pdf.setLineWidth(4)
    pdf.rect(30, 30, width - 60, height - 60)
    pdf.setFont(font, 34)
    pdf.drawCentredString(width / 2, height - 130, _("Certificate"))
    pdf.setFont(font, 20)
    pdf.drawCentredString(width / 2, height - 210, name)
    pdf.setFont(font, 16)
    pdf.drawCentredString(width / 2, height - 260, title)
    pdf.drawCentredString(width / 2, height - 295, line)
    pdf.setFont(font, 13)
    pdf.drawCentredString(width / 2, 110, library)
    pdf.drawCentredString(width / 2, 85, timezone.localdate().isoformat())
    pdf.showPage()
    pdf.save()
    return out.getvalue()
