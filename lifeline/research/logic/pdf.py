"""The citation and inclusion report as PDF (reportlab, WenQuanYi Micro Hei embedded), with its
serial number, the library's seal and a QR code of the public verification URL.

Built with reportlab's `invariant` mode: the same signed content gives the same bytes, so the
hash kept at issue identifies the genuine file.
"""

from __future__ import annotations

import io
import re
from typing import Any
from xml.sax.saxutils import escape

import segno
from django.utils.translation import gettext as _
from reportlab.graphics.shapes import Circle, Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from lifeline.core.models import Library
from lifeline.core.pdffont import cjk_font
from lifeline.research.choices import Database, ListKind, Purpose
from lifeline.research.models import VerificationRequest

CJK = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")


def _latin(style: ParagraphStyle) -> ParagraphStyle:
    """The style with word wrapping by spaces: reportlab's CJK line breaking measures every
    character and took two thirds of a 200-paper report's time; Latin text needs none of it."""
    if style.wordWrap != "CJK":
        return style
    twin = getattr(style, "latin_twin", None)
    if twin is None:
        twin = ParagraphStyle(f"{style.name}-latin", parent=style)
        twin.wordWrap = None
        style.latin_twin = twin
    return twin


def _p(text: Any, style: ParagraphStyle) -> Paragraph:
    value = str(text if text is not None else "")
    if not CJK.search(value):
        style = _latin(style)
    return Paragraph(escape(value).replace("\n", "<br/>"), style)


def _seal(name: str, font: str) -> Drawing:
    """Drawn when the library has uploaded no seal image: a red ring with its name."""
    d = Drawing(34 * mm, 34 * mm)
    c = 17 * mm
    d.add(Circle(c, c, 16 * mm, strokeColor=colors.red, fillColor=None, strokeWidth=2))
    d.add(
        String(
            c,
            c + 2 * mm,
            name[:12],
            fontName=font,
            fontSize=7,
            fillColor=colors.red,
            textAnchor="middle",
        )
    )
    d.add(
        String(
            c,
            c - 5 * mm,
            "★",
            fontName=font,
            fontSize=12,
            fillColor=colors.red,
            textAnchor="middle",
        )
    )
    return d


def _seal_image(req: VerificationRequest) -> Image | None:
    return _seal_image_of(req.library)


def _seal_image_of(library: Library) -> Image | None:
    """The library's uploaded seal (ReportSettings), or None."""
    from lifeline.research.models import ReportSettings

    settings_row = ReportSettings.objects.filter(library=library).first()
    if settings_row is None or not settings_row.seal:
        return None
    with settings_row.seal.open("rb") as fh:
        data = io.BytesIO(fh.read())
    return Image(data, 32 * mm, 32 * mm, kind="proportional")


def report_pdf(req: VerificationRequest) -> bytes:
    from lifeline.research.logic.citation import verification_url

    font = cjk_font()
    base = ParagraphStyle("b", fontName=font, fontSize=9, leading=13, wordWrap="CJK")
    small = ParagraphStyle("s", parent=base, fontSize=7.5, leading=10)
    h1 = ParagraphStyle("h1", parent=base, fontSize=15, leading=20, alignment=1)
    c = req.content
    labels = {
        "Serial number": _("Serial number"),
        "Issued": _("Issued"),
        "Requested by": _("Requested by"),
        "Purpose": _("Purpose"),
        "Databases checked": _("Databases checked"),
        "Citing papers": _("Citing papers"),
        "self-citation": _("self-citation"),
        "Check this report at": _("Check this report at"),
        "Prepared by": _("Prepared by"),
        "Reviewed by": _("Reviewed by"),
    }
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=16 * mm,
        rightMargin=16 * mm,
        invariant=1,
        title=f"{c['serial']}",
        author=c["library_name"],
    )
    story: list[Any] = [
        _p(_("Citation and inclusion verification report"), h1),
        Spacer(1, 3 * mm),
        _p(f"{labels['Serial number']}: {c['serial']}    {labels['Issued']}: {c['issued']}", base),
        _p(
            f"{labels['Requested by']}: {c['patron']}    "
            f"{labels['Purpose']}: {Purpose(c['purpose']).label}",
            base,
        ),
        _p(
            f"{labels['Databases checked']}: "
            + ", ".join(str(Database(d).label) for d in c["databases"] if d in Database.values),
            base,
        ),
        Spacer(1, 3 * mm),
    ]
    header = [
        _("No."),
        _("Paper"),
        _("Indexed in"),
        _("Quartile / IF"),
        _("Times cited"),
        _("Without self-citations"),
    ]
    rows: list[list[Any]] = [[_p(h, small) for h in header]]
    for n, paper in enumerate(c["papers"], start=1):
        if not paper["matched"]:
            rows.append(
                [
                    _p(n, base),
                    _p(paper["input"], base),
                    _p(_("Not found in the databases checked"), base),
                    "",
                    "",
                    "",
                ]
            )
            continue
        lists = ", ".join(str(ListKind(k).label) for k in paper["lists"])
        rows.append(
            [
                _p(n, base),
                _p(
                    "\n".join(
                        [
                            paper["title"],
                            "; ".join(paper["authors"][:8]),
                            f"{paper['journal']} {paper['year'] or ''}",
                            f"{paper['doi']} {paper['wos_ut']}",
                            paper["doc_type"],
                        ]
                    ),
                    small,
                ),
                _p(
                    ", ".join(str(Database(d).label) for d in paper["databases"])
                    + ("\n" + lists if lists else ""),
                    small,
                ),
                _p(f"{paper['quartile']} {paper['impact_factor']}", small),
                _p(paper["cited"], base),
                _p(paper["cited_without_self"], base),
            ]
        )
    table = Table(rows, colWidths=[w * mm for w in (9, 78, 30, 20, 17, 24)], repeatRows=1)
    table.setStyle(
        TableStyle(
            [("GRID", (0, 0), (-1, -1), 0.4, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")]
        )
    )
    story += [table, Spacer(1, 3 * mm)]
    story.append(
        _p(
            _(
                "Self-citation: a citing paper that shares at least one author with the cited "
                "paper, authors compared by normalised name."
            ),
            small,
        )
    )
    for n, paper in enumerate(c["papers"], start=1):
        if paper.get("citing"):
            story.append(_p(f"{labels['Citing papers']} ({n})", base))
            for i, cit in enumerate(paper["citing"], start=1):
                mark = f" [{labels['self-citation']}]" if cit["self"] else ""
                story.append(
                    _p(
                        f"{i}. {'; '.join(cit['authors'])}. {cit['title']}. {cit['journal']}, "
                        f"{cit['year'] or ''}. {cit['doi']}{mark}",
                        small,
                    )
                )
    url = verification_url(req)
    qr = io.BytesIO()
    segno.make(url, error="m").save(qr, kind="png", scale=3, border=1)
    qr.seek(0)
    story += [
        Spacer(1, 5 * mm),
        Table(
            [
                [
                    Image(qr, 28 * mm, 28 * mm),
                    _p(f"{labels['Check this report at']}\n{url}", small),
                    _seal_image(req) or _seal(c["library_name"], font),
                ]
            ],
            colWidths=[32 * mm, 110 * mm, 38 * mm],
        ),
        _p(
            f"{labels['Prepared by']}: {c['prepared_by']}    "
            f"{labels['Reviewed by']}: {c['reviewed_by']}",
            small,
        ),
    ]
    doc.build(story)
    return out.getvalue()
