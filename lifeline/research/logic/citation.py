"""Citation and inclusion verification (查收查引): match a patron's papers to imported records,
count citations with and without self-citations, and issue a signed report.

Self-citation, as stated on the report: a citing paper that shares at least one author with the
cited paper, authors compared by normalised name (family name and initials, or the Chinese name
without spaces).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from lifeline.core.models import Library
from lifeline.core.signing import Signer
from lifeline.research.choices import Database, ListKind, Status
from lifeline.research.logic import workflow
from lifeline.research.logic.records import normalise_doi, normalise_title, year_of
from lifeline.research.models import BiblioRecord, CitedRef, JournalEntry, VerificationRequest

MAX_PAPERS = 300


def signer_for(library: Library) -> Signer:
    return Signer(f"research.report:{library.code}")


def paper_lines(text: str) -> list[str]:
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    if len(lines) > MAX_PAPERS:
        raise ValidationError(_("At most %(n)d papers in one request.") % {"n": MAX_PAPERS})
    return lines


CHUNK = 900  # bound parameters per query (SQLite's older limit is 999)


def _chunks(values: list[Any]) -> Any:
    for i in range(0, len(values), CHUNK):
        yield values[i : i + CHUNK]


def match_line(library: Library, line: str) -> BiblioRecord | None:
    """A DOI in the line finds its record; else a record whose whole title is in the line."""
    doi = normalise_doi(line)
    if doi:
        return _by_doi(library, [doi]).get(doi)
    qs = BiblioRecord.objects.filter(library=library)
    key = normalise_title(line)
    year = year_of(line)
    if year:
        qs = qs.filter(year=year)
    for rec in qs.only("pk", "title").iterator():
        title = normalise_title(rec.title)
        if len(title) >= 10 and title in key:
            return BiblioRecord.objects.get(pk=rec.pk)
    return None


def _by_doi(library: Library, dois: list[str]) -> dict[str, BiblioRecord]:
    """The library's records of these DOIs (the first of each), by the DOI's own index: with
    `library_id = ..` in the query SQLite picks the library's index and reads every record."""
    found: dict[str, BiblioRecord] = {}
    for chunk in _chunks(sorted(set(dois))):
        for rec in BiblioRecord.objects.filter(doi__in=chunk).order_by("pk"):
            if rec.library_id == library.pk:
                found.setdefault(rec.doi, rec)
    return found


def is_self_citation(cited: BiblioRecord, citing: BiblioRecord) -> bool:
    return bool(set(cited.author_keys) & set(citing.author_keys))


def _issns(rec: BiblioRecord) -> set[str]:
    return {i.strip().upper() for i in re.split(r"[;,\s]+", rec.issn) if i.strip()}


def _journal_entries(library: Library, recs: list[BiblioRecord]) -> list[JournalEntry]:
    """The list entries that may concern these records (by ISSN or title key), few queries."""
    issns = sorted({i for r in recs for i in _issns(r)})
    keys = sorted({normalise_title(r.journal) for r in recs if r.journal})
    years = sorted({r.year for r in recs if r.year is not None})
    mine = JournalEntry.objects.filter(library=library, year__in=years)
    entries: dict[int, JournalEntry] = {}
    for chunk in _chunks(issns):
        entries.update((e.pk, e) for e in mine.filter(issn__in=chunk))
    for chunk in _chunks(keys):
        entries.update((e.pk, e) for e in mine.filter(title_key__in=chunk))
    return list(entries.values())


def journal_standing(
    library: Library, rec: BiblioRecord, entries: list[JournalEntry] | None = None
) -> dict[str, Any]:
    """JCR quartile and impact factor of the publication year, and the other lists it is on."""
    if rec.year is None:
        return {"quartile": "", "impact_factor": "", "lists": []}
    if entries is None:
        entries = _journal_entries(library, [rec])
    issns = _issns(rec)
    key = normalise_title(rec.journal)
    mine = [
        e
        for e in entries
        if e.year == rec.year
        and (e.issn in issns or (e.title_key == key and bool(rec.journal)))
        and (rec.journal or e.issn in issns)
    ]
    jcr = next((e for e in mine if e.kind == ListKind.JCR), None)
    return {
        "quartile": jcr.quartile if jcr else "",
        "impact_factor": str(jcr.impact_factor) if jcr and jcr.impact_factor is not None else "",
        "lists": sorted({e.kind for e in mine if e.kind != ListKind.JCR}),
    }


def _citing(library: Library, recs: list[BiblioRecord]) -> dict[int, list[BiblioRecord]]:
    """For each record, the library's records that cite it by DOI (two queries a chunk)."""
    by_doi = {r.doi: r for r in recs if r.doi}
    links: list[tuple[str, int]] = []
    for chunk in _chunks(sorted(by_doi)):
        rows = CitedRef.objects.filter(doi__in=chunk).values_list("doi", "citing_id", "library_id")
        links += [(doi, citing) for doi, citing, owner in rows if owner == library.pk]
    papers: dict[int, BiblioRecord] = {}
    for chunk in _chunks(sorted({c for _d, c in links})):
        papers.update(BiblioRecord.objects.in_bulk(chunk))
    out: dict[int, list[BiblioRecord]] = {r.pk: [] for r in recs}
    for doi, citing in links:
        rec = by_doi[doi]
        if citing != rec.pk and citing in papers:
            out[rec.pk].append(papers[citing])
    for citing_papers in out.values():
        citing_papers.sort(key=lambda o: (o.year or 0, o.title, o.pk))
    return out


def paper_entry(
    library: Library,
    line: str,
    rec: BiblioRecord | None,
    citing_papers: list[BiblioRecord] | None = None,
    entries: list[JournalEntry] | None = None,
) -> dict[str, Any]:
    if rec is None:
        return {"input": line, "matched": False}
    if citing_papers is None:
        citing_papers = _citing(library, [rec])[rec.pk] if rec.doi else []
    citing = [
        {
            "title": other.title,
            "authors": other.authors[:6],
            "journal": other.journal,
            "year": other.year,
            "doi": other.doi,
            "self": is_self_citation(rec, other),
        }
        for other in citing_papers
    ]
    return {
        "input": line,
        "matched": True,
        "title": rec.title,
        "authors": rec.authors,
        "journal": rec.journal,
        "year": rec.year,
        "doi": rec.doi,
        "wos_ut": rec.wos_ut,
        "scopus_eid": rec.scopus_eid,
        "doc_type": rec.doc_type,
        "databases": [s for s in rec.sources if s in Database.values],
        "database_times_cited": rec.times_cited,
        **journal_standing(library, rec, entries),
        "cited": len(citing),
        "cited_without_self": sum(1 for c in citing if not c["self"]),
        "citing": citing,
    }


def build_content(req: VerificationRequest, now: dt.datetime) -> dict[str, Any]:
    """Everything the report states, as plain JSON: this is what is signed. The papers, their
    citing papers and their journals are read in batches: 200 papers are a dozen queries."""
    lib = req.library
    lines = paper_lines(req.papers_text)
    by_doi = _by_doi(lib, [d for d in (normalise_doi(ln) for ln in lines) if d])
    matched = [
        by_doi.get(normalise_doi(ln)) if normalise_doi(ln) else match_line(lib, ln) for ln in lines
    ]
    recs = [r for r in matched if r is not None]
    citing = _citing(lib, [r for r in recs if r.doi])
    entries = _journal_entries(lib, recs)
    papers = [
        paper_entry(lib, line, rec, citing.get(rec.pk, []) if rec else None, entries)
        for line, rec in zip(lines, matched, strict=True)
    ]
    return {
        "library": lib.code,
        "library_name": lib.name,
        "serial": req.serial,
        "patron": req.patron_name,
        "purpose": req.purpose,
        "databases": req.databases,
        "issued": timezone.localtime(now).date().isoformat(),
        "prepared_by": req.prepared_by.get_username() if req.prepared_by else "",
        "reviewed_by": req.reviewed_by.get_username() if req.reviewed_by else "",
        "papers": papers,
    }


def prepare(req: VerificationRequest, librarian: Any, now: dt.datetime | None = None) -> None:
    req.prepared_by = librarian
    req.save(update_fields=["prepared_by"])
    req.move(Status.PREPARED, librarian, now=now)


def next_serial(library: Library, now: dt.datetime) -> str:
    year = timezone.localtime(now).year
    prefix = f"{library.code.upper()}-CR-{year}-"
    taken = VerificationRequest.objects.filter(library=library, serial__startswith=prefix).count()
    return f"{prefix}{taken + 1:05d}"


def verification_path(req: VerificationRequest) -> str:
    return reverse(
        "research:verify",
        kwargs={"library": req.library.code, "serial": req.serial, "code": req.signature},
    )


def verification_url(req: VerificationRequest) -> str:
    return settings.SITE_URL + verification_path(req)


def issue(req: VerificationRequest, reviewer: Any, now: dt.datetime | None = None) -> bytes:
    """The second librarian's approval: serial, signed content, PDF (returned, its hash kept)."""
    from lifeline.research.logic.pdf import report_pdf

    now = now or timezone.now()
    if reviewer is None or reviewer.pk == getattr(req.prepared_by, "pk", None):
        raise ValidationError(_("A second librarian must review the report."))

    def fill(locked: VerificationRequest) -> bytes:
        locked.reviewed_by = reviewer
        locked.serial = next_serial(locked.library, now)
        locked.content = build_content(locked, now)
        locked.signature = signer_for(locked.library).sign(locked.content)
        return report_pdf(locked)

    _req, pdf = workflow.issue_report(VerificationRequest, req.pk, reviewer, fill, now)
    return pdf


def verify(library_code: str, serial: str, code: str) -> VerificationRequest | None:
    """The issued report this code proves, or None (unknown serial, made-up or edited)."""
    req = (
        VerificationRequest.objects.select_related("library")
        .filter(library__code=library_code, serial=serial, status=Status.ISSUED)
        .first()
    )
    if req is None or not signer_for(req.library).verify(req.content, code):
        return None
    if code != req.signature:
        return None
    return req


def verify_pdf(library_code: str, data: bytes) -> VerificationRequest | None:
    """An uploaded report file: genuine and unchanged only if it is byte for byte an issued one
    whose stored content still carries its signature."""
    digest = hashlib.sha256(data).hexdigest()
    req = (
        VerificationRequest.objects.select_related("library")
        .filter(library__code=library_code, pdf_sha256=digest, status=Status.ISSUED)
        .first()
    )
    if req is None or not signer_for(req.library).verify(req.content, req.signature):
        return None
    return req
