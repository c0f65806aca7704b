"""The database away (issue 16, surge test): pages answer a friendly 503 fast, the API a JSON
503, both with Retry-After; the outbox keeps the outcome of a send until it can write it; the
scheduler's loop waits an outage out. The live PostgreSQL restart is `python -m bench surge
--restart=1` (docs/benchmarks.md)."""

from __future__ import annotations

import gc
import logging
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail
from django.db import OperationalError, connection
from django.db.models import QuerySet
from django.test import Client

from lifeline.core import dbdown, notify
from lifeline.core.choices import Channel, NotificationStatus
from lifeline.core.models import Library, Notification


def _refuse(*args: Any, **kwargs: Any) -> Any:
    raise OperationalError('connection to server at "127.0.0.1", port 5432 failed: refused')


@pytest.fixture
def database_down(db: Any) -> Iterator[None]:
    """Every query fails as it does while PostgreSQL restarts (undone before the test database
    is cleaned up)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(connection, "cursor", _refuse)
        yield


def test_page_answers_friendly_bilingual_503(library_a: Library, database_down: None) -> None:
    response = Client(raise_request_exception=False).get(f"/lib/{library_a.code}/")
    assert response.status_code == 503
    assert response["Retry-After"] == str(dbdown.RETRY_AFTER)
    assert response["Cache-Control"] == "no-store"
    body = response.content.decode()
    assert "Service temporarily unavailable" in body  # English
    assert "服务暂时不可用" in body  # and Chinese, whatever the patron's language
    assert "Traceback" not in body and "127.0.0.1" not in body  # nothing of the cause leaks


def test_form_post_answers_503_not_500(library_a: Library, database_down: None) -> None:
    response = Client(raise_request_exception=False).post(
        f"/status/{library_a.code}/report/", {"description": "CNKI is down"}
    )
    assert response.status_code == 503


def test_api_answers_json_503(library_a: Library, database_down: None) -> None:
    response = Client(raise_request_exception=False).get(
        f"/api/registry/public/{library_a.code}/resources/"
    )
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"].startswith("Service temporarily unavailable")
    assert response["Retry-After"] == str(dbdown.RETRY_AFTER)


def test_other_errors_stay_500(library_a: Library) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ValueError("a bug, not an outage")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(connection, "cursor", broken)
        response = Client(raise_request_exception=False).get(f"/lib/{library_a.code}/")
    assert response.status_code == 500


def test_page_recovers_when_database_is_back(
    library_a: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = Client(raise_request_exception=False)
    with monkeypatch.context() as down:
        down.setattr(connection, "cursor", _refuse)
        assert client.get(f"/lib/{library_a.code}/").status_code == 503
    assert client.get(f"/lib/{library_a.code}/").status_code == 200


def test_survive_skips_a_step_during_an_outage(caplog: pytest.LogCaptureFixture) -> None:
    assert dbdown.survive(_refuse, "scheduler") is None
    assert "database unavailable" in caplog.text
    assert dbdown.survive(lambda: ["job"], "scheduler") == ["job"]


def _queued(library: Library) -> Notification:
    # Written directly: notify_email would send it at once (tasks run immediately in tests).
    return Notification.objects.create(
        library=library, channel=Channel.EMAIL, recipients=["p@example.edu"], subject="s", body="b"
    )


@pytest.fixture
def flaky_outcome(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The database goes away between the SMTP server's "250 OK" and the "sent" mark: the first
    `failures` writes of an outcome raise, as they would while PostgreSQL restarts."""
    state: dict[str, Any] = {"failures": 2, "pauses": []}
    real_update = QuerySet.update

    def update(self: QuerySet[Any], **fields: Any) -> int:
        if self.model is Notification and "last_error" in fields and state["failures"]:
            state["failures"] -= 1
            raise OperationalError("terminating connection due to administrator command")
        return real_update(self, **fields)

    monkeypatch.setattr(QuerySet, "update", update)
    monkeypatch.setattr(notify, "_pause", state["pauses"].append)
    return state


@pytest.mark.django_db(transaction=True)
def test_sender_keeps_the_outcome_across_an_outage(
    library_a: Library, flaky_outcome: dict[str, Any]
) -> None:
    n = _queued(library_a)
    assert notify.deliver(n.pk) is True
    n.refresh_from_db()
    assert (n.status, n.attempts, n.claimed_until) == (NotificationStatus.SENT, 1, None)
    assert len(mail.outbox) == 1  # sent once, and marked so: the sweep will not send it again
    assert flaky_outcome["pauses"] == [0.5, 1.0]  # waited with back-off, then wrote
    assert notify.send_pending() == 0
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_sender_gives_up_after_its_patience(
    library_a: Library, flaky_outcome: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the patience the error rises: the row keeps its lease, and only then may the sweep
    send it again (at-least-once is the floor, never a lost message)."""
    monkeypatch.setattr(notify, "RECORD_PATIENCE", notify.RECORD_PATIENCE * 0)
    n = _queued(library_a)
    with pytest.raises(OperationalError):
        notify.deliver(n.pk)
    n.refresh_from_db()
    assert n.status == NotificationStatus.SENDING and n.claimed_until is not None


def test_outage_logs_one_line_not_a_traceback() -> None:
    import logging
    import sys

    try:
        _refuse()
    except OperationalError:
        outage = sys.exc_info()
    try:
        raise ValueError("a bug")
    except ValueError:
        bug = sys.exc_info()
    keep = dbdown.OutageLogFilter()
    one = logging.LogRecord("django.request", 50, "", 0, "%s: %s", ("Down", "/lib/x/"), outage)
    other = logging.LogRecord("django.request", 50, "", 0, "Error: %s", ("/lib/x/",), bug)
    assert keep.filter(one) and keep.filter(other)
    assert one.exc_info is None and "database unavailable: connection to server" in one.getMessage()
    assert other.exc_info is bug  # a bug keeps its traceback


def _refuse_as_driver(*args: Any, **kwargs: Any) -> Any:
    """A failed connect as Django raises it: the driver's own error, wrapped, with its
    traceback (the frames of the request) chained as the cause."""
    with connection.wrap_database_errors:
        raise connection.Database.OperationalError(
            "connection failed: FATAL:  the database system is shutting down"
        )


def _live_objects() -> Counter[str]:
    gc.collect()
    return Counter(type(o).__name__ for o in gc.get_objects())


def test_an_outage_leaves_nothing_behind_in_the_web_process(library_a: Library) -> None:
    """Hundreds of requests answered 503 keep nothing: no exceptions or tracebacks (whose frames
    hold the requests), no log records, no connection wrappers, no per-request cache entries or
    metric label sets. Object counts after 150 more failed requests equal those before, to within a
    few objects that do not scale with the number of requests (the restart run's question: what
    does a web worker keep after the database went away; docs/benchmarks.md). A list keeping
    each request's exception in `server_error` fails it with thousands of frames."""
    client = Client(raise_request_exception=False)
    code = library_a.code
    root = logging.getLogger()
    # pytest's own capture handlers keep every record of the test (with its exc_info): the
    # product's handlers (settings.LOGGING: the console, with the outage filter) stay.
    product_handlers = [h for h in root.handlers if not type(h).__module__.startswith("_pytest")]

    def outage(n: int, first: int) -> None:
        for i in range(first, first + n):
            responses = [
                client.get(f"/lib/{code}/"),
                client.get(f"/lib/{code}/r/res-{i}/"),  # a new path each time
                client.get(f"/status/{code}/"),
                client.post(f"/status/{code}/report/", {"description": f"down {i}"}),
                client.get(f"/api/registry/public/{code}/resources/"),
            ]
            assert {r.status_code for r in responses} == {503}

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(root, "handlers", product_handlers)
        patch.setattr(connection, "cursor", _refuse_as_driver)
        outage(10, 0)  # warm: first-use caches (URL resolver, templates, translations)
        # Two equal rounds: the first may still fill something bounded (the test client's
        # signal receivers leave a few dead weak references until the signal is next sent).
        first = _live_objects()
        outage(30, 1000)
        before = _live_objects()
        outage(30, 2000)
        after = _live_objects()
    grown = {kind: after[kind] - before.get(kind, 0) for kind in after}
    kept = {k: n for k, n in grown.items() if n > 0}
    # 150 failed requests: anything kept per request would show as hundreds of one type.
    assert sum(kept.values()) < 60, sorted(kept.items(), key=lambda kv: -kv[1])[:10]
    assert sum(after.values()) - sum(first.values()) < 300  # and no steady climb overall
    for kind in ("OperationalError", "traceback", "frame", "WSGIRequest", "LogRecord"):
        assert grown.get(kind, 0) <= 0, (kind, grown.get(kind))
