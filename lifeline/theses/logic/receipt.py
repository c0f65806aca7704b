"""The deposit receipt (回执单) as a PDF, and the library's seal image.

Bilingual on one page, so the graduate school and an employer read the same file. The Chinese
font is embedded as a subset (WenQuanYi Micro Hei, as the emergency plans' PDFs). The QR code
carries the public verify URL with the receipt's serial number and signature.
"""

from __future__ import annotations

import io
import math
from functools import cache
from typing import Any

import segno
from PIL import Image, ImageDraw, ImageFont
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from lifeline.core.pdffont import FONT_PATH
from lifeline.core.pdffont import cjk_font as register_font

RED = (200, 16, 46)


@cache
def seal_png(name: str, size: int = 360) -> bytes:
    """A simple round red seal: ring, star, the library's name. A library may upload its own."""
    img = Image.new("RGBA", (size, size), (255, 255, 255, 0))
    draw = ImageDraw.Draw(img)
    pad = size // 24
    draw.ellipse((pad, pad, size - pad, size - pad), outline=(*RED, 235), width=size // 28)
    cx, cy, r = size / 2, size * 0.43, size * 0.15
    points = []
    for i in range(10):
        radius = r if i % 2 == 0 else r * 0.4
        angle = -math.pi / 2 + i * math.pi / 5
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    draw.polygon(points, fill=(*RED, 235))
    text = name[:12]
    font_size = max(12, int(size * 0.78 / max(len(text), 1)))
    font_size = min(font_size, size // 9)
    font = ImageFont.truetype(FONT_PATH, font_size, index=0)
    box = draw.textbbox((0, 0), text, font=font)
    draw.text(((size - (box[2] - box[0])) / 2, size * 0.66), text, font=font, fill=(*RED, 235))
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def qr_png(url: str) -> bytes:
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=6, border=2)
    return out.getvalue()


def receipt_pdf(
    *,
    library_name: str,
    library_name_en: str,
    serial: str,
    rows: list[tuple[str, str, str]],
    verify_url: str,
    issued: str,
    seal: bytes,
    fingerprint: str,
) -> bytes:
    """One A4 page: heading, the thesis data (Chinese label, English label, value), the seal over
    the signature line, the QR code and the verify URL. `invariant` keeps the bytes stable."""
    font = register_font()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    c.setTitle(f"学位论文提交回执 Thesis deposit receipt {serial}")
    c.setAuthor(library_name)
    width, height = A4
    left = 20 * mm
    c.setFont(font, 17)
    c.drawCentredString(width / 2, height - 28 * mm, f"{library_name} 学位论文提交回执")
    c.setFont(font, 11)
    c.drawCentredString(width / 2, height - 35 * mm, f"{library_name_en} · Thesis deposit receipt")
    c.setFont(font, 9.5)
    c.drawString(left, height - 46 * mm, f"回执编号 Serial No.: {serial}")
    c.drawRightString(width - left, height - 46 * mm, f"签发 Issued: {issued}")
    y = height - 54 * mm
    c.setStrokeColor(colors.HexColor("#d1d9e0"))
    for label_zh, label_en, value in rows:
        lines = _wrap(value, 44)
        row_h = max(2, len(lines) + 1) * 5.2 * mm
        c.rect(left, y - row_h, width - 2 * left, row_h, stroke=1, fill=0)
        c.setFont(font, 9.5)
        c.drawString(left + 2 * mm, y - 5 * mm, label_zh)
        c.setFont(font, 7.5)
        c.setFillColor(colors.HexColor("#59636e"))
        c.drawString(left + 2 * mm, y - 9.5 * mm, label_en)
        c.setFillColor(colors.black)
        c.setFont(font, 10)
        for i, line in enumerate(lines):
            c.drawString(left + 42 * mm, y - (5 + i * 5) * mm, line)
        y -= row_h
    y -= 8 * mm
    c.setFont(font, 9.5)
    c.drawString(
        left,
        y,
        "经审核，该生学位论文电子版已按要求提交本馆。"
        "The electronic thesis above has been deposited with the library.",
    )
    seal_size = 42 * mm
    c.drawImage(
        ImageReader(io.BytesIO(seal)),
        width - left - seal_size - 10 * mm,
        y - seal_size + 8 * mm,
        seal_size,
        seal_size,
        mask="auto",
    )
    c.drawString(width - left - 60 * mm, y - 14 * mm, f"{library_name}（盖章 Seal）")
    qr_size = 34 * mm
    qy = 30 * mm
    c.drawImage(ImageReader(io.BytesIO(qr_png(verify_url))), left, qy, qr_size, qr_size)
    c.setFont(font, 8.5)
    text_x = left + qr_size + 5 * mm
    c.drawString(text_x, qy + 26 * mm, "扫码或访问以下网址核验本回执的真伪与内容：")
    c.drawString(text_x, qy + 21 * mm, "Scan or open the address below to check this receipt:")
    c.setFont(font, 7)
    for i, part in enumerate(_chunks(verify_url, 80)):
        c.drawString(text_x, qy + (15 - i * 4) * mm, part)
    c.drawString(text_x, qy + 3 * mm, f"Ed25519 key {fingerprint}")
    c.showPage()
    c.save()
    return buf.getvalue()


def _chunks(text: str, n: int) -> list[str]:
    return [text[i : i + n] for i in range(0, len(text), n)] or [""]


def _wrap(text: str, width: int) -> list[str]:
    """Break a line at about `width` full-width characters (a Latin letter counts as half)."""
    lines: list[str] = []
    for paragraph in str(text).split("\n"):
        line, used = "", 0.0
        for ch in paragraph:
            w = 0.5 if ord(ch) < 0x2E80 else 1.0
            if used + w > width:
                lines.append(line)
                line, used = "", 0.0
            line += ch
            used += w
        lines.append(line)
    return lines[:6]


def seal_for(library: Any) -> bytes:
    rules = getattr(library, "thesis_rules", None)
    if rules is not None and rules.seal:
        try:
            with rules.seal.open("rb") as fh:
                data: bytes = fh.read()
            return data
        except OSError:
            pass
    return seal_png(library.name)
