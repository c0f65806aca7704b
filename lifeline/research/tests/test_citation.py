"""A teacher's ten papers (wos-plaintext-wok-tethne.txt) through import, report, review,
signature and public verification; citation figures checked by hand against tests/conftest.CITING.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from lifeline.core.models import Library
from lifeline.core.spreadsheets import xlsx_bytes
from lifeline.research.choices import ListKind, Status
from lifeline.research.logic import citation, importer
from lifeline.research.logic.formats import parse_bytes
from lifeline.research.logic.records import ParseError
from lifeline.research.models import AffiliationVariant, BiblioRecord, VerificationRequest
from lifeline.research.tests.conftest import CITING, DATA

TEACHER = "wos-plaintext-wok-tethne.txt"
P1 = "10.1007/s10646-013-1042-4"  # Marigomez et al. 2013, ECOTOXICOLOGY
P2 = "10.1007/s10661-012-2801-z"  # Han et al. 2013
P10 = "10.1016/j.ecolind.2011.07.024"  # Pinedo et al. 2012


def load(library: Library) -> None:
    importer.import_records(library, (DATA / TEACHER).read_bytes())
    importer.import_records(library, CITING.encode())
    importer.import_journal_list(
        library,
        ListKind.JCR,
        2013,
        xlsx_bytes(
            {
                "JCR": (
                    ["Full Journal Title", "ISSN", "JIF Quartile", "Impact Factor"],
                    [["ECOTOXICOLOGY", "0963-9292", "Q2", "2.5"]],
                )
            }
        ),
    )


def make_request(library: Library, patron: Any) -> VerificationRequest:
    _, recs = parse_bytes((DATA / TEACHER).read_bytes())
    lines = [r.doi for r in recs]
    assert len(lines) == 10
    return VerificationRequest.objects.create(
        library=library,
        patron=patron,
        patron_name="Teacher",
        purpose="promotion",
        databases=["wos"],
        papers_text="\n".join(lines),
    )


def test_import_merges_across_sources(library_a: Library) -> None:
    AffiliationVariant.objects.create(
        library=library_a, variant="Univ Pais Vasco", canonical="UPV/EHU"
    )
    first = importer.import_records(
        library_a, (DATA / "wos-tabdelimited-utf16le-wosfile.txt").read_bytes()
    )
    again = importer.import_records(
        library_a, (DATA / "wos-tabdelimited-utf8bom-wosfile.txt").read_bytes()
    )
    assert (first.created, again.created, again.merged) == (50, 0, 50)
    wos = importer.import_records(library_a, (DATA / TEACHER).read_bytes())
    assert wos.created == 10
    assert BiblioRecord.objects.get(doi=P1).is_ours  # "Univ Pais Vasco" in its C1
    # A Scopus CSV (BOM, Excel-mangled DOI, no EID) of the same paper merges into the WoS record.
    scopus = (
        "\ufeffAuthors,Title,Year,Source title,Cited by,DOI,Link\n"
        '"Marigomez I.","Marine ecosystem health status assessment through integrative biomarker '
        'indices: a comparative study after the Prestige oil spill ""Mussel Watch""",2013,'
        "Ecotoxicology,41,'10.1007/S10646-013-1042-4,x\n"
    )
    res = importer.import_records(library_a, scopus.encode("utf-8"))
    assert (res.created, res.merged) == (0, 1)
    rec = BiblioRecord.objects.get(doi=P1)
    assert rec.sources == ["wos", "scopus"] and rec.times_cited == {"wos": 0, "scopus": 41}
    # No identifier at all: normalised title + year + first author.
    cnki = f"RT Journal Article\nA1 Marigomez, Ionan\nT1 {rec.title.upper()}\nYR 2013\nDS CNKI\n"
    assert importer.import_records(library_a, cnki.encode()).merged == 1
    importer.import_records(library_a, (DATA / "cnki-refworks-crossreality.txt").read_bytes())
    assert BiblioRecord.objects.filter(library=library_a, sources=["cnki"]).count() == 298


def test_failed_import_writes_nothing(library_a: Library) -> None:
    with pytest.raises(ParseError):
        importer.import_records(library_a, (DATA / "scopus-csv-litstudy.csv").read_bytes())
    assert not BiblioRecord.objects.exists()


def test_ten_papers_report_figures_by_hand(
    library_a: Library, patron_a: Any, reference_a: Any, librarian_a: Any
) -> None:
    load(library_a)
    req = make_request(library_a, patron_a)
    citation.prepare(req, reference_a)
    with pytest.raises(ValidationError):
        citation.issue(req, reference_a)  # the preparer cannot review their own report
    from lifeline.conftest import make_staff
    from lifeline.core.choices import Role

    reviewer = make_staff("reviewer_a", library_a, Role.SUBJECT)
    pdf = citation.issue(req, reviewer)
    req.refresh_from_db()
    assert req.status == Status.ISSUED and req.serial == f"NEFU-CR-{req.issued_at.year}-00001"
    papers = {p["doi"]: p for p in req.content["papers"]}
    assert len(papers) == 10 and all(p["matched"] for p in req.content["papers"])
    # Hand count from CITING: P1 cited by papers 1 (Marigomez: self), 2 and 3; P2 by paper 1;
    # P10 by papers 2 and 3 (Pinedo: self).
    assert (papers[P1]["cited"], papers[P1]["cited_without_self"]) == (3, 2)
    assert (papers[P2]["cited"], papers[P2]["cited_without_self"]) == (1, 1)
    assert (papers[P10]["cited"], papers[P10]["cited_without_self"]) == (2, 1)
    assert sum(p["cited"] for p in papers.values()) == 6
    assert [c["self"] for c in papers[P1]["citing"]] == [True, False, False]
    assert papers[P1]["quartile"] == "Q2" and papers[P1]["impact_factor"] == "2.500"
    assert papers[P2]["quartile"] == ""
    assert papers[P1]["databases"] == ["wos"] and papers[P1]["doc_type"] == "Article"
    assert hashlib.sha256(pdf).hexdigest() == req.pdf_sha256
    assert pdf.startswith(b"%PDF")
    assert [e.status for e in req.events.all()] == [Status.PREPARED, Status.ISSUED]
    # Verification: the genuine code, an edited report, a made-up code, another library.
    assert citation.verify("nefu", req.serial, req.signature) == req
    assert citation.verify("nefu", req.serial, "A" * 86) is None
    assert citation.verify("hit", req.serial, req.signature) is None
    assert citation.verify_pdf("nefu", pdf) == req
    assert citation.verify_pdf("nefu", pdf[:999] + bytes([pdf[999] ^ 1]) + pdf[1000:]) is None
    assert citation.verify_pdf("hit", pdf) is None
    VerificationRequest.objects.filter(pk=req.pk).update(
        content={**req.content, "patron": "Someone else"}
    )
    assert citation.verify("nefu", req.serial, req.signature) is None  # edited in the database


def test_report_of_library_a_does_not_verify_as_b(library_a: Library, library_b: Library) -> None:
    sig = citation.signer_for(library_a).sign({"x": 1})
    assert not citation.signer_for(library_b).verify({"x": 1}, sig)


def test_pasted_citation_matches_by_title(library_a: Library, patron_a: Any) -> None:
    load(library_a)
    rec = BiblioRecord.objects.get(doi=P10)
    line = f"Pinedo S, Jordana E. {rec.title}. Ecological Indicators, 2012, 13: 1-10."
    assert citation.match_line(library_a, line) == rec
    assert citation.match_line(library_a, "Nobody. Unknown paper title here. 2012.") is None


def test_too_many_papers(library_a: Library) -> None:
    with pytest.raises(ValidationError):
        citation.paper_lines("\n".join(f"10.1/{i}" for i in range(citation.MAX_PAPERS + 1)))
