"""Issue 13: a peer's papers are found in SQL first (on PostgreSQL by a trigram index and a
partial index) and the result is the definition's (the name in an address, case folded as
Python folds it) for odd names on both databases; odd or hostile parameters of the analysis
pages get the form's errors, never a 500."""

from __future__ import annotations

import importlib
import unicodedata
from typing import Any

import pytest
from django.db import connection

from lifeline.conftest import client_for
from lifeline.core.models import Library
from lifeline.research.logic import peers, subject
from lifeline.research.models import AnalysisReport, BiblioRecord
from lifeline.research.tests.test_subject import known_set

ADDRESSES = [
    "[Berg, A] \u212aTH Royal Inst Technol, Stockholm, Sweden",  # the Kelvin sign folds to k
    "Humboldt Univ, Unter den Linden 6, Stra\u00dfe 5, Berlin, Germany",
    "Univ Applied Sci, STRASSE 7, Hamburg, Germany",
    "北京林业大学, 生物科学与技术学院, 北京 100083, 中国",
    'Univ "Quoted" Name, Rome, Italy',
    "Back\\slash Inst, Oslo, Norway",
    "100% Univ_Test, Paris, France",
    "École Polytech, Palaiseau, France",
    "ＦＵＬＬ Width Univ, Osaka, Japan",
    "Univ Tokyo, 東京, Japan",
    "Univ 😀 Smile, Lima, Peru",
    "İstanbul Univ, Istanbul, Turkey",
    "Oregon State Univ, Corvallis, OR 97331 USA",
    # JSON escapes whose tails a name could match in the JSON text ("\\n", "\\u0007")
    "Line\nBreak Univ, Oslo, Norway",
    "Bell\u0007 Labs, Murray Hill, NJ 07974 USA",
]
PEERS = [
    "kth",
    "KTH Royal",
    "strasse",
    "Straße",
    "北京林业大学",
    "林业大学, 生物",
    'univ "quoted"',
    "back\\slash",
    "100% univ_test",
    "0%_u",
    "% u",
    "école",
    "ÉCOLE POLYTECH",
    "ｆｕｌｌ",
    "東京",
    "😀 smile",
    "istanbul",
    "oregon state",
    "nowhere at all",
    "nbreak univ",
    "u0007 labs",
    "bell",
]


@pytest.fixture
def odd_addresses(library_a: Library) -> None:
    for i, address in enumerate(ADDRESSES):
        BiblioRecord.objects.create(
            library=library_a,
            title=f"Paper {i}",
            year=2010 + i % 5,
            affiliations=[f"[Li, {i}] Somewhere Else, Harbin, Peoples R China", address],
            times_cited={"wos": i},
        )


@pytest.mark.parametrize("peer", PEERS)
def test_a_peer_is_found_as_the_definition_says(
    library_a: Library, odd_addresses: None, peer: str
) -> None:
    needle = peer.casefold()
    want = [
        r.times_cited["wos"]
        for r in BiblioRecord.objects.filter(library=library_a).order_by("pk")
        if any(needle in a.casefold() for a in r.affiliations)
    ]
    got = sorted(row[5]["wos"] for row in peers.unit_rows(library_a, peer))
    assert got == want
    unit = subject.figures(library_a, peer)
    assert (unit.papers, unit.citations) == (len(want), sum(want))


def test_the_folding_constants_hold_for_every_character() -> None:
    """FOLDS_TO_ASCII is every non-ASCII character whose case folding holds an ASCII one; a
    CASELESS category's characters fold to themselves and come from no other's folding; the
    migration's partial index has the predicate `unit_rows` writes."""
    every = [chr(cp) for cp in range(0x110000)]
    folds = "".join(c for c in every if not c.isascii() and any(x.isascii() for x in c.casefold()))
    assert folds == peers.FOLDS_TO_ASCII
    made = {x for c in every if c.casefold() != c for x in c.casefold() if x != c}
    for c in every:
        if unicodedata.category(c) in peers.CASELESS:
            assert c.casefold() == c.lower() == c.upper() == c and c not in made, hex(ord(c))
    migration = importlib.import_module("lifeline.research.migrations.0005_affiliation_indexes")
    assert migration.FOLDS_TO_ASCII == peers.FOLDS_TO_ASCII
    assert migration.FORWARD[2].endswith(f"WHERE {peers.FOLDS_TO_ASCII_SQL}")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's indexes")
def test_postgresql_finds_a_peer_through_its_indexes(
    library_a: Library, odd_addresses: None
) -> None:
    """The statement's expressions are the indexes' (else the planner could not use them).
    Without the library's condition and with sequential scans off, as a large table of one
    library makes them: on a few rows the library's index is the cheapest."""
    sql, params = peers.rows_sql(library_a, "Oregon State Univ")
    assert sql.count("library_id = %s AND") == 1
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql.replace("library_id = %s AND", ""), params[1:])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "research_biblio_affil_trgm" in plan and "research_biblio_affil_fold" in plan, plan


BAD = [
    ("?peers=" + "x" * 5000, "at most"),
    ("?peers=" + "y" * 201, "at most 200 characters"),
    ("?peers=" + "%0A".join(f"peer{i}" for i in range(9)), "At most 5 peers"),
    ("?peers=ab", "too short"),
    ("?year_from=2020&year_to=2010", "before the first year"),
    ("?year_from=99999", "less than or equal to 2100"),
    ("?year_from=-5&year_to=abc", "whole number"),
]
GOOD = [
    "?peers=%ED%A0%80%ED%A0%80%ED",  # not UTF-8: replacement characters, looked for as such
    "?peers=%22%5C%25_%22%5C",
    "?peers=%20%20%20%20",
    "?year_from=2012&year_from=2013&peers=Univ&peers=Chinese",
    "?peers[]=x",
    "?peers=%E2%80%AE%E2%80%AEevil",
]
# long names the PDF must wrap (a long name as typed once made reportlab refuse the tables)
LONG = [
    "?peers=" + "%F0%9F%98%80" * 200,  # 200 characters, none of them the PDF font's
    "?peers=" + "K" * 199 + "%E2%84%AA",
    "?peers=" + "%E5%8C%97" * 200 + "%0AUniv+" + "W" * 195,
]


def test_odd_parameters_get_clear_answers(library_a: Library, reference_a: Any) -> None:
    known_set(library_a)
    client = client_for(reference_a)
    client.cookies["lifeline_lang"] = "en"
    for query, error in BAD:
        page = client.get(f"/research/nefu/analysis/{query}")
        assert page.status_code == 200 and error in page.content.decode(), query[:60]
        for export in ("xlsx/", "pdf/"):  # not the university's figures in place of those asked
            answer = client.get(f"/research/nefu/analysis/{export}{query}")
            assert answer.status_code == 400 and error in answer.content.decode(), (
                export,
                query[:60],
            )
    for query in GOOD:
        assert client.get(f"/research/nefu/analysis/{query}").status_code == 200, query
    for query in LONG:
        for export in ("", "xlsx/", "pdf/"):
            assert client.get(f"/research/nefu/analysis/{export}{query}").status_code == 200, (
                export,
                query[:60],
            )
    # a NUL character is refused before the view, as everywhere
    assert client.get("/research/nefu/analysis/pdf/?peers=a%00bcd").status_code == 400
    saved = client.post(
        "/research/nefu/analysis/reports/?year_from=2020&year_to=2010",
        {"kind": "subject", "title": "t", "unit": "u"},
    )
    assert saved.status_code == 400 and not AnalysisReport.objects.exists()


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_no_papers_is_said(library_a: Library, reference_a: Any, lang: str) -> None:
    """Another library's exports (no address names the university) or a peer's name found
    nowhere: the page says so rather than showing zeros."""
    client = client_for(reference_a)
    client.cookies["lifeline_lang"] = lang
    html = client.get("/research/nefu/analysis/?peers=Nowhere+Univ").content.decode()
    said = {
        "en": ("naming one of the university's variants", "containing “Nowhere Univ”"),
        "zh-hans": ("本校名称变体", "含“Nowhere Univ”的论文"),
    }[lang]
    assert all(text in html for text in said), lang


def test_another_librarys_analysis_is_refused(
    library_a: Library, odd_addresses: None, librarian_b: Any
) -> None:
    client = client_for(librarian_b)
    for export in ("", "xlsx/", "pdf/", "reports/"):
        assert client.get(f"/research/nefu/analysis/{export}?peers=Oregon").status_code == 403
    assert client.post("/research/nefu/analysis/reports/", {"kind": "subject"}).status_code == 403
    assert client.get("/research/nope/analysis/").status_code == 404
