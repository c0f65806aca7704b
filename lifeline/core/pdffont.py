"""The one Chinese font every PDF embeds: WenQuanYi Micro Hei (Debian fonts-wqy-microhei),
registered with reportlab once per process and embedded as a subset, so a file reads the same
on a phone or a printer without Chinese fonts."""

from __future__ import annotations

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_PATH = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
FONT = "WQYMicroHei"


def cjk_font() -> str:
    """Register the font (first call only) and return its reportlab name."""
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, FONT_PATH, subfontIndex=0))
    return FONT
