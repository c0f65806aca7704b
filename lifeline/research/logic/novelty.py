"""Novelty search (科技查新) to GB/T 32003-2015 (科技查新技术规范).

The standard's steps: a commission (查新委托: project, its scientific and technical points, the
points to be checked for novelty, keywords in Chinese and English, purpose and scope), the search
(databases and years, search terms, search statements), comparison of the documents found with
the novelty points (closely / generally related), the conclusion, and review by a second searcher
(审核员) before the report is issued. The report carries the standard's 14-digit number: year,
province code (GB/T 2260), institution number, sequence.

The issued report is signed like the citation reports (`core/signing.py`, its own label per
library), stored byte for byte, and verifiable at a public URL and by uploading the PDF.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from lifeline.core.models import Library
from lifeline.core.signing import Signer
from lifeline.research.choices import Relevance, Status
from lifeline.research.logic import workflow
from lifeline.research.models import NoveltyDocument, NoveltyRequest, ReportSettings

SLA = dt.timedelta(days=10)  # the commission form's "normal" term; urgent ones are agreed
MAX_DOCUMENTS = 200


def signer_for(library: Library) -> Signer:
    return Signer(f"research.novelty:{library.code}")


def lines(text: str) -> list[str]:
    return [ln.strip() for ln in (text or "").splitlines() if ln.strip()]


def add_document(
    req: NoveltyRequest, citation: str, database: str, relevance: str, comparison: str
) -> NoveltyDocument:
    if req.status not in (Status.SUBMITTED, Status.RETURNED):
        raise ValidationError(_("The search of a request under review or closed cannot change."))
    if relevance not in Relevance.values:
        raise ValidationError(_("Please choose how closely the document is related."))
    if not citation.strip() or not comparison.strip():
        raise ValidationError(_("A document needs its citation and its comparison."))
    if req.documents.count() >= MAX_DOCUMENTS:
        raise ValidationError(_("At most %(n)d documents in one report.") % {"n": MAX_DOCUMENTS})
    last = req.documents.aggregate(m=Max("position"))["m"] or 0
    return NoveltyDocument.objects.create(
        request=req,
        citation=citation.strip()[:4000],
        database=database.strip()[:100],
        relevance=relevance,
        comparison=comparison.strip()[:8000],
        position=last + 1,
    )


def missing(req: NoveltyRequest) -> list[str]:
    """What the standard's report needs and the searcher has not yet recorded."""
    need = {
        _("databases searched and years"): req.search_databases,
        _("search terms"): req.search_terms,
        _("search statements"): req.search_queries,
        _("search results"): req.search_results,
        _("conclusion"): req.conclusion,
    }
    return [str(name) for name, value in need.items() if not value.strip()]


def prepare(req: NoveltyRequest, searcher: Any, now: dt.datetime | None = None) -> None:
    """The searcher (查新员) sends the finished search for review."""
    gaps = missing(req)
    if gaps:
        raise ValidationError(_("Still missing: %(what)s.") % {"what": ", ".join(gaps)})
    req.searcher = searcher
    req.save(update_fields=["searcher"])
    req.move(Status.PREPARED, searcher, now=now)


def next_serial(library: Library, now: dt.datetime) -> str:
    """GB/T 32003-2015's 14-digit number: year, province (2), institution (3), sequence (5)."""
    row = ReportSettings.objects.filter(library=library).first()
    code = (row.novelty_code if row else "") or "00000"
    prefix = f"{timezone.localtime(now).year}{code:0>5}"
    # The unique (library, serial) constraint refuses a twin if two reviewers issue at once.
    taken = NoveltyRequest.objects.filter(library=library, serial__startswith=prefix).count()
    return f"{prefix}{taken + 1:05d}"


def build_content(req: NoveltyRequest, now: dt.datetime) -> dict[str, Any]:
    """Everything the report states, as plain JSON: this is what is signed."""
    lib = req.library
    row = ReportSettings.objects.filter(library=lib).first()
    return {
        "kind": "novelty",
        "library": lib.code,
        "library_name": lib.name,
        "library_address": row.address if row else "",
        "library_phone": row.phone if row else "",
        "library_email": row.email if row else "",
        "serial": req.serial,
        "title": req.title,
        "title_en": req.title_en,
        "patron": req.patron_name,
        "organisation": req.organisation,
        "contact": req.contact,
        "commissioned": timezone.localtime(req.created_at).date().isoformat(),
        "issued": timezone.localtime(now).date().isoformat(),
        "purpose": req.purpose,
        "scope": req.scope,
        "tech_points": req.tech_points,
        "novelty_points": lines(req.novelty_points),
        "keywords_zh": req.keywords_zh,
        "keywords_en": req.keywords_en,
        "search_databases": req.search_databases,
        "search_terms": req.search_terms,
        "search_queries": req.search_queries,
        "search_results": req.search_results,
        "documents": [
            {
                "citation": d.citation,
                "database": d.database,
                "relevance": d.relevance,
                "comparison": d.comparison,
            }
            for d in req.documents.all()
        ],
        "conclusion": req.conclusion,
        "attachments": lines(req.attachments),
        "notes": req.notes,
        "searcher": req.searcher.get_username() if req.searcher else "",
        "reviewer": req.reviewer.get_username() if req.reviewer else "",
    }


def verification_url(req: NoveltyRequest) -> str:
    return settings.SITE_URL + reverse(
        "research:verify",
        kwargs={"library": req.library.code, "serial": req.serial, "code": req.signature},
    )


def issue(req: NoveltyRequest, reviewer: Any, now: dt.datetime | None = None) -> bytes:
    """The second searcher's review (审核) passed: number, signed content, PDF."""
    from lifeline.research.logic.novelty_pdf import novelty_pdf

    now = now or timezone.now()
    if req.status != Status.PREPARED:
        raise ValidationError(_("Only a search sent for review can be issued."))
    if reviewer is None or reviewer.pk == req.searcher_id:
        raise ValidationError(_("A second searcher must review the report."))

    def fill(locked: NoveltyRequest) -> bytes:
        locked.reviewer = reviewer
        locked.serial = next_serial(locked.library, now)
        locked.content = build_content(locked, now)
        locked.signature = signer_for(locked.library).sign(locked.content)
        return novelty_pdf(locked)

    _req, pdf = workflow.issue_report(NoveltyRequest, req.pk, reviewer, fill, now)
    return pdf


def verify(library_code: str, serial: str, code: str) -> NoveltyRequest | None:
    req = (
        NoveltyRequest.objects.select_related("library")
        .filter(library__code=library_code, serial=serial, status=Status.ISSUED)
        .first()
    )
    if req is None or code != req.signature:
        return None
    if not signer_for(req.library).verify(req.content, code):
        return None
    return req


def verify_pdf(library_code: str, data: bytes) -> NoveltyRequest | None:
    digest = hashlib.sha256(data).hexdigest()
    req = (
        NoveltyRequest.objects.select_related("library")
        .filter(library__code=library_code, pdf_sha256=digest, status=Status.ISSUED)
        .first()
    )
    if req is None or not signer_for(req.library).verify(req.content, req.signature):
        return None
    return req
