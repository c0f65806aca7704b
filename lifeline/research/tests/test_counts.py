"""Part 6: volumes per period, and the demo's seed figures read back through them."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from lifeline.core.models import Library
from lifeline.research import demo
from lifeline.research.logic.counts import reports_per_month, service_counts


def _aware(y: int, m: int, d: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime(y, m, d))


def test_demo_figures_through_the_counts(library_a: Library) -> None:
    demo.load(library_a, dt.date(2026, 12, 6))
    demo.load(library_a, dt.date(2026, 12, 6))  # idempotent
    year = service_counts(library_a, _aware(2020, 1, 1), _aware(2021, 1, 1))
    assert year["citation_reports_issued"] == 5426
    assert year["ip_application"] == 552 and year["ip_fee"] == 312 and year["ip_training"] == 4
    months = reports_per_month(library_a)
    assert months[0]["month"] == "2020-02" and sum(m["n"] for m in months) == 5426
    march = service_counts(library_a, _aware(2020, 3, 1), _aware(2020, 4, 1))
    assert 0 < march["citation_reports_issued"] < 5426
    assert (
        service_counts(library_a, _aware(2019, 1, 1), _aware(2020, 1, 1))["citation_reports_issued"]
        == 0
    )


def test_counts_are_per_library(library_a: Library, library_b: Library) -> None:
    demo.load(library_a, dt.date(2026, 12, 6))
    other = service_counts(library_b, _aware(2020, 1, 1), _aware(2021, 1, 1))
    assert other["citation_reports_issued"] == 0 and other["ip_application"] == 0


def test_statistics_page(library_a: Library, librarian_a: object, librarian_b: object) -> None:
    from lifeline.conftest import client_for

    demo.load(library_a, dt.date(2026, 12, 6))
    page = client_for(librarian_a).get("/research/nefu/statistics/?year=2020")
    assert page.status_code == 200
    assert dict((str(k), v) for k, v in page.context["rows"])  # labelled
    assert [v for _, v in page.context["rows"]][:2] == [5426, 5426]
    assert sum(m["n"] for m in page.context["months"]) == 5426
    assert client_for(librarian_a).get("/research/nefu/statistics/?year=abc").status_code == 200
    assert client_for(librarian_b).get("/research/nefu/statistics/").status_code == 403


def test_service_report_provider(library_a: Library, library_b: Library) -> None:
    """The report's contract: the seed's 5,426, 552 and 312 under their table-1 keys."""
    from lifeline.core.counts import SERVICE_KEYS, providers
    from lifeline.research.counts import counts

    assert providers()["research"] is counts
    demo.load(library_a, dt.date(2026, 12, 6))
    got = counts(library_a, dt.date(2020, 1, 1), dt.date(2020, 12, 31))
    assert {c.service_key for c in got} <= SERVICE_KEYS
    own = {(c.service_key, c.measure): c.figure for c in got}
    assert own[("citation_reports", "reports")] == 5426
    assert own[("citation_reports", "citation")] == 5426
    assert own[("ip", "application")] == 552 and own[("ip", "fee")] == 312
    assert own[("subject_analysis", "reports")] == 6  # the seed's six decision-support reports
    # dates are both included: 31 December counts, 1 January of the next year does not
    last = counts(library_a, dt.date(2020, 12, 31), dt.date(2020, 12, 31))
    assert {(c.service_key, c.measure): c.figure for c in last}[("citation_reports", "reports")] > 0
    before = counts(library_a, dt.date(2019, 1, 1), dt.date(2019, 12, 31))
    assert all(c.figure == 0 for c in before)
    other = counts(library_b, dt.date(2020, 1, 1), dt.date(2020, 12, 31))
    assert all(c.figure == 0 for c in other)
