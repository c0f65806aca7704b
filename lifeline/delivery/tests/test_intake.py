"""Intake, the hot path: one insert guarded by the database's unique constraints, the first history
row with it, the deflection check as one query, the API's lean validation and library lookup.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from lifeline.core.models import ApiToken
from lifeline.delivery import services
from lifeline.delivery.choices import Status
from lifeline.delivery.models import DeliveryRequest, RequestEvent
from lifeline.registry.models import KbartTitle

from .conftest import ARTICLE

pytestmark = pytest.mark.django_db
URL = "/api/delivery/requests/"


def post(client: Any, token: str, body: dict[str, Any], key: str = "") -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if key:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post(URL, body, content_type="application/json", **headers)


def test_new_request_is_one_row_and_one_event(
    library_a: Any, patron_a: Any, monday_10: dt.datetime
) -> None:
    req, created = services.submit(library_a, ARTICLE, patron=patron_a, now=monday_10)
    stored = DeliveryRequest.objects.get(pk=req.pk)
    assert created and stored.status == Status.SUBMITTED and stored.patron_name == "张三"
    assert stored.created_at == monday_10 and stored.due_at == req.due_at
    assert stored.issn == "0378-1127" and stored.item_key == req.item_key
    event = RequestEvent.objects.get(request=req)
    assert (event.from_status, event.to_status, event.actor, event.at) == (
        "",
        Status.SUBMITTED,
        patron_a,
        monday_10,
    )


def test_duplicate_refused_by_the_database_returns_the_first(
    library_a: Any, patron_a: Any, monday_10: dt.datetime
) -> None:
    first, _ = services.submit(library_a, ARTICLE, patron=patron_a, now=monday_10)
    # The same second, another form token: the open-item constraint refuses the row.
    again, created = services.submit(
        library_a, ARTICLE, patron=patron_a, idempotency_key="other-tab", now=monday_10
    )
    assert not created and again.pk == first.pk
    assert DeliveryRequest.objects.filter(patron=patron_a).count() == 1
    assert RequestEvent.objects.filter(request__patron=patron_a).count() == 1


def test_first_closed_in_between_lets_the_retry_in(
    library_a: Any, patron_a: Any, monday_10: dt.datetime, monkeypatch: Any
) -> None:
    """The insert is refused, but the request that refused it is cancelled before we look it up:
    the next try files the new request instead of failing."""
    first, _ = services.submit(library_a, ARTICLE, patron=patron_a, now=monday_10)
    real = services._first_of

    def closed_meanwhile(*args: Any) -> Any:
        monkeypatch.setattr(services, "_first_of", real)
        services.cancel(first, by=patron_a)
        return real(*args)

    monkeypatch.setattr(services, "_first_of", closed_meanwhile)
    second, created = services.submit(library_a, ARTICLE, patron=patron_a, now=monday_10)
    assert created and second.pk != first.pk
    assert DeliveryRequest.objects.filter(patron=patron_a, status=Status.SUBMITTED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_simultaneous_submissions_give_one_request(library_a: Any, patron_a: Any) -> None:
    """Eight threads file the same item at the same instant (own connections, no shared
    transaction): one row, one 'created', every answer the same request."""
    if connection.vendor != "postgresql":
        # The SQLite test database lives in shared-cache memory, whose table locks ignore the
        # busy timeout; a file database (production) queues its writers instead.
        pytest.skip("concurrent writers need PostgreSQL or a file database")
    copies = 8
    gate = threading.Barrier(copies)
    answers: list[tuple[int, bool]] = []
    errors: list[BaseException] = []

    def file(n: int) -> None:
        try:
            gate.wait()
            req, created = services.submit(
                library_a, ARTICLE, patron=patron_a, idempotency_key=f"tab-{n}"
            )
            answers.append((req.pk, created))
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=file, args=(n,)) for n in range(copies)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len({pk for pk, _ in answers}) == 1 and sum(c for _, c in answers) == 1
    assert DeliveryRequest.objects.filter(patron=patron_a).count() == 1
    assert RequestEvent.objects.filter(request__patron=patron_a).count() == 1


@pytest.mark.parametrize(
    ("year", "held"),
    [(None, True), (1999, False), (2000, True), (2015, True), (2016, False)],
)
def test_deflection_follows_coverage(
    library_a: Any, patron_a: Any, held_journal: KbartTitle, year: int | None, held: bool
) -> None:
    held_journal.date_last_issue_online = dt.date(2015, 12, 31)
    held_journal.save()
    found = services.find_holding(library_a, issn="1476-4687", year=year)
    assert (found == held_journal) is held
    if held:
        assert found is not None and found.resource.name == "Nature 期刊"


def test_deflection_needs_an_active_resource_of_the_library(
    library_a: Any, library_b: Any, held_journal: KbartTitle
) -> None:
    assert services.find_holding(library_b, issn="0028-0836") is None
    held_journal.resource.is_active = False
    held_journal.resource.save()
    assert services.find_holding(library_a, issn="0028-0836") is None
    assert services.find_holding(library_a) is None


def test_api_intake_in_four_queries(
    library_a: Any, patron_a: Any, held_journal: KbartTitle, client: Any
) -> None:
    """Token and user, patron and library, the deflection check, the insert: nothing else."""
    _, token = ApiToken.issue(patron_a, "app")
    post(client, token, {"title": "warm-up"})  # the token's last-used stamp, once a minute
    body = {"title": "Lean", "issn": "0378-1127", "year": 2020}
    with CaptureQueriesContext(connection) as queries:
        response = post(client, token, body, key="lean-1")
    assert response.status_code == 201, response.content
    # On SQLite the insert and the event are two statements inside a transaction.
    extra = 0 if connection.vendor == "postgresql" else 3
    assert len(queries) == 4 + extra, [q["sql"] for q in queries]
    data = response.json()
    assert data["status"] == "submitted" and data["issn"] == "0378-1127"
    assert data["due_at"] and data["deflection_url"] == ""


def test_api_replay_and_duplicate(library_a: Any, patron_a: Any, client: Any) -> None:
    _, token = ApiToken.issue(patron_a, "app")
    first = post(client, token, {"title": "Replayed", "issn": "0378-1127"}, key="k-1")
    replay = post(client, token, {"title": "Replayed", "issn": "0378-1127"}, key="k-1")
    other_tab = post(client, token, {"title": "Replayed", "issn": "0378-1127"}, key="k-2")
    assert (first.status_code, replay.status_code, other_tab.status_code) == (201, 200, 200)
    assert first.json() == replay.json() == other_tab.json()
    assert DeliveryRequest.objects.filter(patron=patron_a).count() == 1
    assert RequestEvent.objects.filter(request__patron=patron_a).count() == 1


def test_api_someone_elses_key_is_refused(
    library_a: Any, patron_a: Any, librarian_a: Any, client: Any
) -> None:
    _, mine = ApiToken.issue(patron_a, "app")
    _, theirs = ApiToken.issue(librarian_a, "app")
    assert post(client, mine, {"title": "Private topic"}, key="shared").status_code == 201
    stolen = post(client, theirs, {"library": library_a.code, "title": "x"}, key="shared")
    assert stolen.status_code == 400 and "Private topic" not in stolen.content.decode()


def test_api_library_choice(library_a: Any, library_b: Any, librarian_a: Any, client: Any) -> None:
    """Staff without a patron record name the library; only one where they hold a role."""
    _, token = ApiToken.issue(librarian_a, "app")
    assert post(client, token, {"title": "No library"}).status_code == 400
    assert post(client, token, {"library": library_b.code, "title": "x"}).status_code == 400
    ok = post(client, token, {"library": library_a.code, "title": "For a reader"})
    assert ok.status_code == 201
    req = DeliveryRequest.objects.get(pk=ok.json()["id"])
    assert req.library == library_a and req.patron == librarian_a


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x", "year": 1200}, "year"),
        ({"title": "x", "year": "soon"}, "year"),
        ({"title": "x", "doc_type": "poem"}, "doc_type"),
        ({"title": "x\x00"}, "title"),
        ({"title": ["x"]}, "title"),
        ({"title": "x" * 1001}, "title"),
    ],
)
def test_api_refuses_bad_fields(
    library_a: Any, patron_a: Any, client: Any, body: dict[str, Any], field: str
) -> None:
    _, token = ApiToken.issue(patron_a, "app")
    response = post(client, token, body)
    assert response.status_code == 400 and field in response.json()
    assert not DeliveryRequest.objects.exists()


def test_api_refuses_a_body_that_is_no_object(library_a: Any, patron_a: Any, client: Any) -> None:
    _, token = ApiToken.issue(patron_a, "app")
    response = client.post(
        URL, "[1, 2]", content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert response.status_code == 400 and not DeliveryRequest.objects.exists()
