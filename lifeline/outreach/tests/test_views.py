"""Event pages: a patron registers without JavaScript; anonymous users, patrons and staff of
another library fail safely; lists stay within a query budget."""

from __future__ import annotations

from typing import Any

from lifeline.conftest import client_for
from lifeline.outreach.choices import RegStatus
from lifeline.outreach.models import Event, Registration, Session


def test_patron_registers_and_cancels(session: Session, patron_a: Any, patron_a2: Any) -> None:
    client = client_for(patron_a)
    assert client.get("/outreach/nefu/").status_code == 200
    page = client.get(f"/outreach/e/{session.event_id}/")
    assert page.status_code == 200
    assert client.post(f"/outreach/s/{session.pk}/register/").status_code == 302
    reg = Registration.objects.get(user=patron_a)
    page = client.get(f"/outreach/e/{session.event_id}/")
    assert b"data:image/svg+xml;base64," in page.content  # the check-in QR code
    other = client_for(patron_a2)
    other.post(f"/outreach/s/{session.pk}/register/")
    assert Registration.objects.get(user=patron_a2).status == RegStatus.WAITLISTED
    # Another patron cannot cancel or rate my registration.
    assert other.post(f"/outreach/r/{reg.pk}/cancel/").status_code == 404
    assert other.post(f"/outreach/r/{reg.pk}/feedback/", {"rating": 5}).status_code == 404
    assert client.post(f"/outreach/r/{reg.pk}/feedback/", {"rating": "x"}).status_code == 302
    assert client.post(f"/outreach/r/{reg.pk}/cancel/").status_code == 302
    assert Registration.objects.get(user=patron_a2).status == RegStatus.REGISTERED
    assert client.get("/outreach/nefu/mine/").status_code == 200


def test_english_page(session: Session, patron_a: Any) -> None:
    client = client_for(patron_a)
    client.cookies["lifeline_lang"] = "en"
    page = client.get(f"/outreach/e/{session.event_id}/")
    assert "Cloud reading: books against the epidemic" in page.content.decode()


def test_hostile(session: Session, patron_b: Any, librarian_b: Any, client: Any) -> None:
    # Anonymous: pages readable, actions need a sign-in.
    assert client.get(f"/outreach/e/{session.event_id}/").status_code == 200
    response = client.post(f"/outreach/s/{session.pk}/register/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.get("/outreach/nefu/mine/").status_code == 302
    assert client.get("/outreach/nefu/import/").status_code == 302
    # Patrons and staff of library B may not register for library A's session.
    for user in (patron_b, librarian_b):
        assert client_for(user).post(f"/outreach/s/{session.pk}/register/").status_code == 403
    assert not Registration.objects.exists()
    # GET on a POST-only action, unknown ids, unknown library.
    c = client_for(patron_b)
    assert c.get(f"/outreach/s/{session.pk}/register/").status_code == 405
    assert c.post("/outreach/s/999999/register/").status_code == 404
    assert c.get("/outreach/e/999999/").status_code == 404
    assert c.get("/outreach/zzz/").status_code == 404


def test_private_event_hidden(
    session: Session, patron_a: Any, librarian_b: Any, reference_a: Any
) -> None:
    Event.objects.filter(pk=session.event_id).update(is_public=False)
    assert client_for(librarian_b).get(f"/outreach/e/{session.event_id}/").status_code == 404
    assert client_for(patron_a).post(f"/outreach/s/{session.pk}/register/").status_code == 404
    assert client_for(reference_a).get(f"/outreach/e/{session.event_id}/").status_code == 200


def test_api_events_scoped(session: Session, reference_a: Any, librarian_b: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(reference_a)
    client.get("/api/outreach/events/")  # session and token set-up out of the count
    with CaptureQueriesContext(connection) as one:
        mine = client.get("/api/outreach/events/")
    assert mine.status_code == 200 and mine.json()["count"] == 1
    for i in range(3):
        event = Event.objects.create(library=session.event.library, kind="reading", title=f"e{i}")
        Session.objects.create(event=event, starts_at=session.starts_at, ends_at=session.ends_at)
    with CaptureQueriesContext(connection) as four:
        assert client.get("/api/outreach/events/").json()["count"] == 4
    assert len(four) == len(one)  # no query per event
    assert client_for(librarian_b).get("/api/outreach/events/").json()["count"] == 0
    assert (
        client_for(librarian_b).get(f"/api/outreach/events/{session.event_id}/").status_code == 404
    )
