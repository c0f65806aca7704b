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


def match_line(library: Library, line: str) -> BiblioRecord | None:
    """A DOI in the line finds its record; else a record whose whole title is in the line."""
    qs = BiblioRecord.objects.filter(library=library)
    doi = normalise_doi(line)
    if doi:
        return qs.filter(doi=doi).first()
    key = normalise_title(line)
    year = year_of(line)
    if year:
        qs = qs.filter(year=year)
    for rec in qs.only("pk", "title").iterator():
        title = normalise_title(rec.title)
        if len(title) >= 10 and title in key:
            return BiblioRecord.objects.get(pk=rec.pk)
    return None


def is_self_citation(cited: BiblioRecord, citing: BiblioRecord) -> bool:
    return bool(set(cited.author_keys) & set(citing.author_keys))


def journal_standing(library: Library, rec: BiblioRecord) -> dict[str, Any]:
    """JCR quartile and impact factor of the publication year, and the other lists it is on."""
    if rec.year is None:
        return {"quartile": "", "impact_factor": "", "lists": []}
    issns = {i.strip().upper() for i in re.split(r"[;,\s]+", rec.issn) if i.strip()}
    qs = JournalEntry.objects.filter(library=library, year=rec.year)
    entries = [
        e
        for e in qs.filter(issn__in=issns) | qs.filter(title_key=normalise_title(rec.journal))
        if rec.journal or e.issn in issns
    ]
    jcr = next((e for e in entries if e.kind == ListKind.JCR), None)
    return {
        "quartile": jcr.quartile if jcr else "",
        "impact_factor": str(jcr.impact_factor) if jcr and jcr.impact_factor is not None else "",
        "lists": sorted({e.kind for e in entries if e.kind != ListKind.JCR}),
    }


def paper_entry(library: Library, line: str, rec: BiblioRecord | None) -> dict[str, Any]:
    if rec is None:
        return {"input": line, "matched": False}
    citing = []
    if rec.doi:
        ids = CitedRef.objects.filter(library=library, doi=rec.doi).values_list("citing_id")
        for other in (
            BiblioRecord.objects.filter(pk__in=ids).exclude(pk=rec.pk).order_by("year", "title")
        ):
            citing.append(
                {
                    "title": other.title,
                    "authors": other.authors[:6],
                    "journal": other.journal,
                    "year": other.year,
                    "doi": other.doi,
                    "self": is_self_citation(rec, other),
                }
            )
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
        **journal_standing(library, rec),
        "cited": len(citing),
        "cited_without_self": sum(1 for c in citing if not c["self"]),
        "citing": citing,
    }


def build_content(req: VerificationRequest, now: dt.datetime) -> dict[str, Any]:
    """Everything the report states, as plain JSON: this is what is signed."""
    lib = req.library
    papers = [
        paper_entry(lib, line, match_line(lib, line)) for line in paper_lines(req.papers_text)
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
