"""Part 4: subject analysis on a known small set (the ten WoS records of
wos-plaintext-wok-tethne.txt, four with a Spanish address counted as "ours", citations set by
hand), ESI imports in ESI's CSV layout, the pages, XLSX and PDF; part 5's IP entry page."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import fitz  # PyMuPDF
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from lifeline.conftest import client_for
from lifeline.core.models import Library
from lifeline.research.logic import esi, importer, subject
from lifeline.research.logic.records import ParseError
from lifeline.research.models import (
    AffiliationVariant,
    AnalysisReport,
    BiblioRecord,
    EsiBaseline,
    EsiThreshold,
    IpRecord,
)
from lifeline.research.tests.conftest import DATA

ESI = Path(__file__).parent / "data" / "esi"


def known_set(library: Library) -> None:
    AffiliationVariant.objects.create(library=library, variant="Spain", canonical="Spain")
    importer.import_records(library, (DATA / "wos-plaintext-wok-tethne.txt").read_bytes())
    ours = BiblioRecord.objects.filter(library=library, is_ours=True).order_by("doi")
    # ECOTOXICOLOGY 2013: 12; ENVIRON MONIT ASSESS 2013: 7; ECOL INDIC 2012: 5; MAR POLICY 2013: 3
    for rec, n in zip(ours, [12, 7, 5, 3], strict=True):
        rec.times_cited = {"wos": n, "scopus": n - 1}
        rec.save()
    for name in ("esi-thresholds.csv", "esi-baselines-percentiles.csv", "esi-journals.csv"):
        esi.import_esi(library, "2020-09", (ESI / name).read_bytes())


def test_esi_exports_with_header_and_footer_lines(library_a: Library) -> None:
    assert esi.import_esi(library_a, "2020-09", (ESI / "esi-thresholds.csv").read_bytes()) == (
        "thresholds",
        22,
    )
    env = EsiThreshold.objects.get(field="Environment/Ecology")
    assert env.institution == 20 and env.author == 6
    assert EsiThreshold.objects.get(field="Agricultural Sciences").institution == 1251  # "1,251"
    kind, n = esi.import_esi(
        library_a, "2020-09", (ESI / "esi-baselines-percentiles.csv").read_bytes()
    )
    assert (kind, n) == ("baselines", 2 * 6 * 11)  # the ALL FIELDS row is not a field
    assert EsiBaseline.objects.get(field="Environment/Ecology", year=2013, percent=1).citations == 7
    # the same edition again replaces, never doubles
    esi.import_esi(library_a, "2020-09", (ESI / "esi-thresholds.csv").read_bytes())
    assert EsiThreshold.objects.count() == 22


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'"Research Fields","Institution"\n"ASTROLOGY","12"\n', 2),
        (b'"Research Fields","Institution"\n"PHYSICS","many"\n', 2),
        (b"just some text\n", None),
        (b'"Research Fields","Percentage"\n"PHYSICS","1.00%"\n', 1),
    ],
)
def test_bad_esi_files_name_the_problem(library_a: Library, body: bytes, message: int) -> None:
    with pytest.raises(ParseError) as exc:
        esi.import_esi(library_a, "2020-09", body)
    assert exc.value.line == message
    assert not EsiThreshold.objects.exists()


def test_edition_is_needed_for_thresholds(library_a: Library) -> None:
    with pytest.raises(ParseError):
        esi.import_esi(library_a, " ", (ESI / "esi-thresholds.csv").read_bytes())


def test_figures_of_the_known_set(library_a: Library) -> None:
    known_set(library_a)
    u = subject.figures(library_a)
    # checked by hand: 12 + 7 + 5 + 3 = 27; h = 3 (three papers with >= 3, no four with >= 4)
    assert (u.papers, u.citations, u.h_index) == (4, 27, 3)
    assert u.per_year == {2012: 1, 2013: 3}
    assert u.per_field == {"Environment/Ecology": 3, "Social Sciences, General": 1}
    # highly cited: top-1% baseline 7 (2013) / 8 (2012): 12 and 7 pass, 5 (2012) and 3 do not
    assert u.highly_cited == 2 and u.highly_share == 50.0
    assert u.top_journal is None  # no JCR list imported: not 0, unknown
    # collaborations: the non-Spanish addresses of our papers
    assert dict(u.countries) == {"Italy": 1, "Portugal": 1}
    # the variant list's one canonical name here ("Spain"): four papers, h = 3
    assert u.per_college == {"Spain": 4} and u.college_h == {"Spain": 3}
    edition, rows = subject.esi_standing(library_a, u)
    env = next(r for r in rows if r.field == "Environment/Ecology")
    assert edition == "2020-09" and len(rows) == 22
    assert (env.papers, env.citations, env.threshold, env.entered, env.gap) == (3, 24, 20, True, 0)
    soc = next(r for r in rows if r.field == "Social Sciences, General")
    assert (soc.citations, soc.threshold, soc.entered, soc.gap, soc.share) == (
        3,
        30,
        False,
        27,
        10.0,
    )
    peer = subject.figures(library_a, "Chinese Acad Sci")
    assert (peer.papers, peer.citations, peer.h_index) == (2, 0, 0)
    # the name as typed, case ignored: LIKE's wildcards in it are plain characters
    assert subject.figures(library_a, "chinese acad sci").papers == 2
    assert subject.figures(library_a, "Chinese_Acad Sci").papers == 0
    assert subject.figures(library_a, "Chinese%Sci").papers == 0


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_analysis_page_xlsx_and_pdf(
    lang: str, library_a: Library, reference_a: Any, leader_a: Any
) -> None:
    known_set(library_a)
    client = client_for(reference_a)
    client.cookies["lifeline_lang"] = lang
    q = "?peers=Chinese+Acad+Sci%0AUniv+Bologna&year_from=2012&year_to=2013"
    page = client.get(f"/research/nefu/analysis/{q}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and "Chinese Acad Sci" in html
    assert ("h-index (Hirsch 2005)" if lang == "en" else "h 指数（Hirsch 2005）") in html
    assert [u.name for u in page.context["units"]][1:] == ["Chinese Acad Sci", "Univ Bologna"]
    xlsx = client.get(f"/research/nefu/analysis/xlsx/{q}")
    wb = load_workbook(io.BytesIO(xlsx.content))
    summary = list(wb.worksheets[0].iter_rows(values_only=True))
    assert summary[1][1:5] == (4, 27, 6.75, 3)
    pdf = client.get(f"/research/nefu/analysis/pdf/{q}")
    text = "".join(p.get_text() for p in fitz.open(stream=pdf.content, filetype="pdf"))
    assert ("Environment/Ecology" in text) and ("Hirsch" in text)
    # odd parameters are no 500
    assert client.get("/research/nefu/analysis/?year_from=²&peers=" + "x" * 5000).status_code == 200
    # saving the day's figures as a report (what the service report counts)
    saved = client.post(
        f"/research/nefu/analysis/reports/{q}",
        {"kind": "subject", "title": "ESI 学科分析", "unit": "“双一流”办"},
    )
    assert saved.status_code == 302
    report = AnalysisReport.objects.get()
    assert report.content["ours"]["h_index"] == 3 and (report.year_from, report.year_to) == (
        2012,
        2013,
    )
    # the leadership sees the page but cannot save
    assert client_for(leader_a).get("/research/nefu/analysis/").status_code == 200
    assert client_for(leader_a).post("/research/nefu/analysis/reports/", {}).status_code == 403


def test_esi_import_page(library_a: Library, reference_a: Any, librarian_b: Any) -> None:
    client = client_for(reference_a)
    data = (ESI / "esi-thresholds.csv").read_bytes()
    ok = client.post(
        "/research/nefu/analysis/esi/",
        {"edition": "2020-09", "file": SimpleUploadedFile("t.csv", data, "text/csv")},
    )
    assert ok.status_code == 302 and EsiThreshold.objects.count() == 22
    bad = client.post(
        "/research/nefu/analysis/esi/",
        {"edition": "x", "file": SimpleUploadedFile("t.csv", b"\x7fELF\x02\x01", "text/csv")},
    )
    assert bad.status_code == 200 and bad.context["form"].errors
    assert client_for(librarian_b).get("/research/nefu/analysis/esi/").status_code == 403


def test_ip_entry_page(library_a: Library, reference_a: Any, leader_a: Any) -> None:
    client = client_for(reference_a)
    page = client.post(
        "/research/nefu/ip/", {"kind": "fee", "date": "2026-03-02", "count": "3", "person": "李四"}
    )
    assert page.status_code == 302
    assert IpRecord.objects.get().count == 3
    bad = client.post("/research/nefu/ip/", {"kind": "fee", "date": "x", "count": "0"})
    assert bad.status_code == 200 and set(bad.context["form"].errors) == {"date", "count"}
    assert client_for(leader_a).post("/research/nefu/ip/", {}).status_code == 403


def _direct(library: Library, peer: str, year_from: int | None, year_to: int | None) -> Any:
    """The figures straight from their definitions over the papers in the range: what the
    per-year partials must add up to."""
    from lifeline.research.logic.analysis import h_index, times_cited

    look = subject.Lookups(library)
    recs = BiblioRecord.objects.filter(library=library)
    if year_from:
        recs = recs.filter(year__gte=year_from)
    if year_to:
        recs = recs.filter(year__lte=year_to)
    needle = peer.casefold()
    mine = [
        r
        for r in recs.order_by("pk")
        if (any(needle in a.casefold() for a in r.affiliations) if peer else r.is_ours)
    ]
    cites = [times_cited(r) for r in mine]
    per_field: dict[str, int] = {}
    colleges: dict[str, list[int]] = {}
    authors: dict[str, list[int]] = {}
    highly = 0
    for r, tc in zip(mine, cites, strict=True):
        field, _keys = look.journal(r.journal, r.issn)
        if field:
            per_field[field] = per_field.get(field, 0) + 1
            need = look.top1.get((field, r.year or 0))
            highly += need is not None and tc >= need
        if not peer:
            for c in {
                c for v, c in look.variants if any(v in a.casefold() for a in r.affiliations)
            }:
                colleges.setdefault(c, []).append(tc)
        for key in r.author_keys:
            authors.setdefault(key, []).append(tc)
    top = sorted(authors.items(), key=lambda kv: (-len(kv[1]), kv[0]))[: subject.TOP_AUTHORS]
    return {
        "papers": len(mine),
        "citations": sum(cites),
        "h": h_index(cites),
        "per_year": {
            y: sum(1 for r in mine if r.year == y) for y in sorted({r.year for r in mine if r.year})
        },
        "per_field": per_field,
        "highly": highly,
        "college_h": {c: h_index(v) for c, v in colleges.items()},
        # a peer's authors are not shown anywhere, so a peer's pass does not gather them
        "authors": [] if peer else [(len(v), h_index(v)) for _k, v in top],
    }


@pytest.mark.parametrize(
    ("peer", "year_from", "year_to"),
    [("", None, None), ("", 2012, 2013), ("", 2013, None), ("univ", 2013, 2015),
     ("Università", None, 2013)],
)  # fmt: skip
def test_a_range_from_partials_equals_the_direct_figures(
    library_a: Library, peer: str, year_from: int | None, year_to: int | None
) -> None:
    """Per-year partials, made once and stored, give any year range and any peer exactly the
    figures a pass over its papers gives: counts, fields, highly cited, every h-index."""
    AffiliationVariant.objects.create(library=library_a, variant="Univ", canonical="U")
    AffiliationVariant.objects.create(library=library_a, variant="Spain", canonical="Spain")
    importer.import_records(library_a, (DATA / "wos-plaintext-tethne.txt").read_bytes())
    importer.import_records(library_a, (DATA / "wos-plaintext-wok-tethne.txt").read_bytes())
    for n, rec in enumerate(BiblioRecord.objects.filter(library=library_a).order_by("pk")):
        rec.times_cited = {"wos": (n * 7) % 23, "scopus": (n * 5) % 19}
        rec.affiliations = [*rec.affiliations, "Università di Bologna, Italy"][: 1 + n % 3]
        rec.save()
    for name in ("esi-thresholds.csv", "esi-baselines-percentiles.csv", "esi-journals.csv"):
        esi.import_esi(library_a, "2020-09", (ESI / name).read_bytes())
    subject.precompute(library_a)
    want = _direct(library_a, peer, year_from, year_to)
    assert want["papers"] > 0
    for _ in range(2):  # from the partials, then from the stored figures
        u = subject.figures(library_a, peer, year_from, year_to)
        got = {
            "papers": u.papers,
            "citations": u.citations,
            "h": u.h_index,
            "per_year": u.per_year,
            "per_field": u.per_field,
            "highly": u.highly_cited,
            "college_h": u.college_h,
            "authors": [(n, h) for _name, n, h in u.top_authors],
        }
        assert got == want
