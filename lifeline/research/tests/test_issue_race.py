"""Issuing a report twice at once, or failing after its PDF was written, leaves exactly the
files the database names (issue 13: a stray PDF was left on disk)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from lifeline.conftest import make_staff
from lifeline.core.choices import Role
from lifeline.core.models import Library
from lifeline.research.choices import Status
from lifeline.research.logic import citation, novelty, workflow
from lifeline.research.models import NoveltyDocument, NoveltyRequest, VerificationRequest
from lifeline.research.tests.test_citation import load, make_request


def _files(root: Path) -> list[str]:
    return sorted(p.name for p in root.rglob("*.pdf"))


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


def _prepared(library: Library, patron: Any, preparer: Any) -> VerificationRequest:
    load(library)
    req = make_request(library, patron)
    citation.prepare(req, preparer)
    return req


def test_second_issue_is_refused_and_writes_no_file(
    media: Path, library_a: Library, patron_a: Any, reference_a: Any
) -> None:
    req = _prepared(library_a, patron_a, reference_a)
    reviewer = make_staff("reviewer_a", library_a, Role.SUBJECT)
    citation.issue(req, reviewer)
    with pytest.raises(ValidationError):
        citation.issue(req, reviewer)  # the second press of "issue", after the first
    req.refresh_from_db()
    assert req.status == Status.ISSUED and req.serial.endswith("-00001")
    assert _files(media) == [f"{req.serial}.pdf"]
    assert [e.status for e in req.events.all()] == [Status.PREPARED, Status.ISSUED]


def test_failure_after_the_file_was_written_removes_it(
    media: Path, library_a: Library, patron_a: Any, reference_a: Any, monkeypatch: Any
) -> None:
    req = _prepared(library_a, patron_a, reference_a)

    def broken(_req: Any) -> None:
        raise RuntimeError("outbox down")

    monkeypatch.setattr(workflow, "tell_issued", broken)
    with pytest.raises(RuntimeError):
        citation.issue(req, make_staff("reviewer_a", library_a, Role.SUBJECT))
    req.refresh_from_db()
    assert req.status == Status.PREPARED and not req.pdf and not req.serial
    assert _files(media) == []


def test_novelty_failure_removes_its_file(
    media: Path, library_a: Library, patron_a: Any, reference_a: Any, monkeypatch: Any
) -> None:
    req = NoveltyRequest.objects.create(
        library=library_a,
        patron=patron_a,
        patron_name="x",
        contact="x@example.org",
        title="Larch",
        purpose="project",
        scope="domestic",
        tech_points="t",
        novelty_points="n",
        keywords_zh="落叶松",
        search_databases="CNKI 2000-2020",
        search_terms="落叶松",
        search_queries="SU=落叶松",
        search_results="1",
        conclusion="新颖",
    )
    NoveltyDocument.objects.create(
        request=req, citation="A", relevance="close", comparison="different"
    )
    novelty.prepare(req, reference_a)
    monkeypatch.setattr(workflow, "tell_issued", lambda _req: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        novelty.issue(req, make_staff("reviewer_a", library_a, Role.SUBJECT))
    req.refresh_from_db()
    assert req.status == Status.PREPARED and not req.pdf
    assert _files(media) == []


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="two connections at once need PostgreSQL"
)
@pytest.mark.django_db(transaction=True)
def test_two_reviewers_at_once_one_report_one_file(
    media: Path, library_a: Library, patron_a: Any, reference_a: Any, monkeypatch: Any
) -> None:
    req = _prepared(library_a, patron_a, reference_a)
    first = make_staff("reviewer_a", library_a, Role.SUBJECT)
    second = make_staff("reviewer_b", library_a, Role.SUBJECT)
    outcomes: list[str] = []
    from lifeline.research.logic import pdf as pdf_module

    real = pdf_module.report_pdf
    other: list[threading.Thread] = []

    def issue_in_thread() -> None:
        try:
            citation.issue(VerificationRequest.objects.get(pk=req.pk), second)
            outcomes.append("issued")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    def report_pdf(locked: VerificationRequest) -> bytes:
        # The first reviewer holds the row while the PDF is made: the second one presses now.
        if not other:
            other.append(threading.Thread(target=issue_in_thread))
            other[0].start()
        return real(locked)

    monkeypatch.setattr(pdf_module, "report_pdf", report_pdf)
    citation.issue(req, first)
    other[0].join(timeout=60)
    assert outcomes == ["refused"]
    req.refresh_from_db()
    assert req.reviewed_by == first and req.serial.endswith("-00001")
    assert _files(media) == [f"{req.serial}.pdf"]
