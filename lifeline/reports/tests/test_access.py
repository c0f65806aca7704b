"""Who may see the report, the counts contract's gaps, and malformed input."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from lifeline.conftest import client_for
from lifeline.core import counts as contract
from lifeline.core.models import Library
from lifeline.reports import services
from lifeline.reports.models import ReportNarrative

pytestmark = pytest.mark.django_db


def test_every_app_on_main_has_a_provider_and_absent_apps_are_skipped(
    monkeypatch: Any, library_a: Library
) -> None:
    found = contract.providers()
    assert {"registry", "health", "emergency", "delivery", "analytics", "theses"} <= set(found)
    monkeypatch.setattr(contract, "COUNT_APPS", ["registry", "no_such_app"])
    assert set(contract.providers()) == {"registry"}


def test_a_service_without_provider_is_no_data_not_zero(
    monkeypatch: Any, library_a: Library
) -> None:
    # An installation without the reference desk and its knowledge base: "no data", not 0.
    monkeypatch.setattr(
        contract,
        "COUNT_APPS",
        [a for a in contract.COUNT_APPS if a not in {"reference", "knowledge"}],
    )
    report = services.build(library_a, dt.date(2020, 1, 1), dt.date(2020, 12, 31))
    rows = {r.key: r for r in report.table1}
    assert rows["reference"].figures == []
    assert rows["delivery"].figures[0].figure == 0  # delivery counts, and found none
    assert contract.year_before(dt.date(2020, 2, 29)) == dt.date(2019, 2, 28)


@pytest.mark.parametrize("who", ["leader_a", "admin_a"])
def test_leaders_and_admins_see_the_report(request: Any, who: str, library_a: Library) -> None:
    client = client_for(request.getfixturevalue(who))
    url = reverse("reports:report", args=[library_a.code])
    page = client.get(url, {"start": "2020-01-01", "end": "2020-12-31"})
    assert page.status_code == 200
    assert "—" in page.content.decode()


@pytest.mark.parametrize(
    "who", ["librarian_a", "delivery_a", "librarian_b", "patron_a", "stranger"]
)
def test_others_may_not(request: Any, who: str, library_a: Library) -> None:
    client = client_for(request.getfixturevalue(who))
    url = reverse("reports:report", args=[library_a.code])
    assert client.get(url).status_code == 403
    assert client.get(url, {"format": "xlsx"}).status_code == 403
    assert (
        client.post(url, {"start": "2020-01-01", "end": "2020-12-31", "text": "x"}).status_code
        == 403
    )
    assert not ReportNarrative.objects.exists()


def test_anonymous_and_unknown_library(client: Any, leader_a: Any, library_a: Library) -> None:
    url = reverse("reports:report", args=[library_a.code])
    assert client.get(url).status_code == 302
    assert client_for(leader_a).get(reverse("reports:report", args=["nope"])).status_code == 404


def test_malformed_input_fails_safely(leader_a: Any, library_a: Library) -> None:
    client = client_for(leader_a)
    url = reverse("reports:report", args=[library_a.code])
    for query in (
        {"start": "junk", "end": "2020-01-01"},
        {"start": "2020-12-31", "end": "2020-01-01"},
        {"start": "0001-01-01", "end": "9999-12-31"},
        {"event": "'; drop table"},
        {"event": "99999999999999999999"},
        {"format": "exe"},
    ):
        assert client.get(url, query).status_code == 200, query
    assert client.post(url, {"start": "2020-01-01", "end": "junk", "text": "x"}).status_code == 400
    huge = {"start": "2020-01-01", "end": "2020-12-31", "text": "x" * 30_000}
    assert client.post(url, huge).status_code == 400
    assert not ReportNarrative.objects.exists()
