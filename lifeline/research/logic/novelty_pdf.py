"""The novelty search report (科技查新报告) as PDF, laid out by the report elements of
GB/T 32003-2015: a cover (report number, project, commissioner, commission date, searching
institution with its seal, completion date), the project/commissioner/institution table, then
一 purpose, 二 scientific and technical points, 三 novelty points and requirements, 四 search
scope and strategy, 五 search results, 六 conclusion with the searcher's and reviewer's names,
七 their declaration, 八 attachments, 九 remarks. A4 with 28 mm side and 30 mm top/bottom margins,
WenQuanYi Micro Hei embedded; `invariant` mode so the same signed content gives the same bytes.
A QR code and URL of the public verification close the report.
"""

from __future__ import annotations

import io
from typing import Any

import segno
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    Image,
    KeepTogether,
    PageBreak,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from lifeline.core.pdffont import cjk_font
from lifeline.research.choices import NoveltyPurpose, NoveltyScope, Relevance
from lifeline.research.logic.pdf import _p, _seal, _seal_image_of
from lifeline.research.models import NoveltyRequest

GRID = TableStyle(
    [("GRID", (0, 0), (-1, -1), 0.5, colors.black), ("VALIGN", (0, 0), (-1, -1), "TOP")]
)


def _label(choices: Any, value: str) -> str:
    return str(choices(value).label) if value in choices.values else value


def novelty_pdf(req: NoveltyRequest) -> bytes:
    from lifeline.research.logic.novelty import verification_url

    font = cjk_font()
    base = ParagraphStyle("b", fontName=font, fontSize=10.5, leading=16, wordWrap="CJK")
    small = ParagraphStyle("s", parent=base, fontSize=8.5, leading=12)
    h1 = ParagraphStyle("h1", parent=base, fontSize=22, leading=30, alignment=1)
    h2 = ParagraphStyle("h2", parent=base, fontSize=12, leading=18, spaceBefore=6, spaceAfter=3)
    c = req.content
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=28 * mm,
        rightMargin=28 * mm,
        topMargin=30 * mm,
        bottomMargin=30 * mm,
        invariant=1,
        title=c["serial"],
        author=c["library_name"],
    )
    width = A4[0] - 56 * mm
    seal = _seal_image_of(req.library) or _seal(c["library_name"], font)
    cover = Table(
        [
            [_p(_("Project name"), base), _p(c["title"], base)],
            [_p(_("Commissioned by"), base), _p(c["organisation"] or c["patron"], base)],
            [_p(_("Date commissioned"), base), _p(c["commissioned"], base)],
            [_p(_("Searching institution (seal)"), base), _p(c["library_name"], base)],
            [_p(_("Date completed"), base), _p(c["issued"], base)],
        ],
        colWidths=[45 * mm, width - 45 * mm],
    )
    story: list[Any] = [
        _p(f"{_('Report number')}: {c['serial']}", base),
        Spacer(1, 30 * mm),
        _p(_("Novelty search report"), h1),
        Spacer(1, 25 * mm),
        cover,
        Spacer(1, 10 * mm),
        Table([["", seal]], colWidths=[width - 40 * mm, 40 * mm]),
        PageBreak(),
    ]
    info = Table(
        [
            [_p(_("Project name"), base), _p(_("In Chinese"), small), _p(c["title"], base)],
            ["", _p(_("In English"), small), _p(c["title_en"], base)],
            [
                _p(_("Commissioned by"), base),
                _p(_("Name"), small),
                _p(f"{c['patron']} {c['organisation']}", base),
            ],
            ["", _p(pgettext("person", "Contact"), small), _p(c["contact"], base)],
            [
                _p(_("Searching institution"), base),
                _p(_("Name"), small),
                _p(c["library_name"], base),
            ],
            ["", _p(_("Address"), small), _p(c["library_address"], base)],
            [
                "",
                _p(pgettext("person", "Contact"), small),
                _p(" ".join(x for x in (c["library_phone"], c["library_email"]) if x), base),
            ],
        ],
        colWidths=[32 * mm, 20 * mm, width - 52 * mm],
    )
    info.setStyle(
        TableStyle(
            [
                *GRID.getCommands(),
                ("SPAN", (0, 0), (0, 1)),
                ("SPAN", (0, 2), (0, 3)),
                ("SPAN", (0, 4), (0, 6)),
            ]
        )
    )
    story += [info, Spacer(1, 4 * mm)]

    english = (get_language() or "").startswith("en")

    def section(number: str, heading: str, *body: Any) -> None:
        # The standard numbers its parts 一 to 九; an English report numbers them 1 to 9.
        n = "一二三四五六七八九".index(number) + 1
        story.append(_p(f"{n}. {heading}" if english else f"{number}、{heading}", h2))
        story.extend(body)

    section("一", _("Purpose of the search"), _p(_label(NoveltyPurpose, c["purpose"]), base))
    section("二", _("Scientific and technical points of the project"), _p(c["tech_points"], base))
    points = [_p(f"{i}. {point}", base) for i, point in enumerate(c["novelty_points"], start=1)]
    section(
        "三",
        _("Novelty points and requirements"),
        *points,
        _p(
            _("Requirement: judge the novelty of the points above %(scope)s.")
            % {"scope": _label(NoveltyScope, c["scope"])},
            base,
        ),
    )
    section(
        "四",
        _("Search scope and strategy"),
        _p(f"{_('Databases searched and years')}:\n{c['search_databases']}", base),
        _p(f"{_('Keywords in Chinese')}: {c['keywords_zh']}", base),
        _p(f"{_('Keywords in English')}: {c['keywords_en']}", base),
        _p(f"{_('Search terms')}:\n{c['search_terms']}", base),
        _p(f"{_('Search statements')}:\n{c['search_queries']}", base),
    )
    results: list[Any] = [_p(c["search_results"], base)]
    for relevance in Relevance:
        docs = [d for d in c["documents"] if d["relevance"] == relevance]
        if not docs:
            continue
        results.append(_p(f"{relevance.label} ({len(docs)})", h2))
        for i, d in enumerate(docs, start=1):
            where = f" [{d['database']}]" if d["database"] else ""
            results.append(_p(f"{i}. {d['citation']}{where}", base))
            results.append(_p(f"{_('Comparison')}: {d['comparison']}", small))
    section("五", _("Search results"), *results)
    signed = Table(
        [
            [
                _p(f"{_('Searcher')}: {c['searcher']}", base),
                _p(f"{_('Reviewer')}: {c['reviewer']}", base),
            ]
        ],
        colWidths=[width / 2, width / 2],
    )
    section("六", _("Conclusion"), _p(c["conclusion"], base), Spacer(1, 3 * mm), signed)
    section(
        "七",
        _("Declaration of the searcher and reviewer"),
        _p(
            _(
                "1. The report was made on the documents found by the search described above; "
                "its facts and data are objective and true.\n"
                "2. We searched, compared and concluded independently, following GB/T "
                "32003-2015, and answer for the report's conclusion.\n"
                "3. We have no interest in the project that could bias the report."
            ),
            base,
        ),
        _p(f"{_('Searcher')}: {c['searcher']}    {_('Reviewer')}: {c['reviewer']}", base),
    )
    section(
        "八",
        _("Attachments"),
        *([_p(a, base) for a in c["attachments"]] or [_p(_("None"), base)]),
    )
    section("九", _("Remarks"), _p(c["notes"] or _("None"), base))
    url = verification_url(req)
    qr = io.BytesIO()
    segno.make(url, error="m").save(qr, kind="png", scale=3, border=1)
    qr.seek(0)
    story.append(
        KeepTogether(
            [
                Spacer(1, 5 * mm),
                Table(
                    [
                        [
                            Image(qr, 26 * mm, 26 * mm),
                            _p(f"{_('Check this report at')}\n{url}", small),
                            _seal_image_of(req.library) or _seal(c["library_name"], font),
                        ]
                    ],
                    colWidths=[30 * mm, width - 68 * mm, 38 * mm],
                ),
            ]
        )
    )
    doc.build(story)
    return out.getvalue()
