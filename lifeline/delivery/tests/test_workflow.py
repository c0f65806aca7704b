"""A request from a patron through deflection, queue, supplier, delivery, download, expiry, purge
and privacy.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.urls import reverse

from lifeline.conftest import client_for
from lifeline.core.notify import send_pending
from lifeline.delivery import services
from lifeline.delivery.choices import Status
from lifeline.delivery.logic.hours import add_service_hours, service_hours_between
from lifeline.delivery.models import DeliveryFile, DeliveryRequest, IllegalTransition

from .conftest import ARTICLE, pdf

pytestmark = pytest.mark.django_db


def test_patron_journey(
    library_a: Any,
    patron_a: Any,
    delivery_a: Any,
    held_journal: Any,
    outside_supplier: Any,
    today_10: dt.datetime,
    settings: Any,
) -> None:
    # 1. An article in a journal the library holds: answered at once, counted as a deflection.
    held, created = services.submit(
        library_a,
        {"title": "Ice cores", "source": "Nature", "issn": "0028-0836", "year": 2015},
        patron=patron_a,
        now=today_10,
    )
    assert created and held.status == Status.DEFLECTED
    assert held.deflection_url == "https://www.nature.com/nature/"
    # ...but not an issue from before the library's coverage.
    old, _ = services.submit(
        library_a,
        {"title": "Old paper", "issn": "0028-0836", "year": 1990},
        patron=patron_a,
        now=today_10,
    )
    assert old.status == Status.SUBMITTED

    # 2. An article the library does not hold: the queue, with a due time in service hours.
    req, created = services.submit(library_a, ARTICLE, patron=patron_a, now=today_10)
    assert created and req.status == Status.SUBMITTED and req.patron_name == "张三"
    assert req.due_at == today_10 + dt.timedelta(
        days=1, hours=10
    )  # 12 h Monday (10→22), 12 h Tuesday (08→20)

    # 3. Staff take it and ask the supplier, then deliver a PDF.
    staff = client_for(delivery_a)
    assert staff.post(reverse("delivery:act", args=[req.pk, "start"])).status_code == 302
    services.send_to_supplier(
        req, outside_supplier, by=delivery_a, now=today_10 + dt.timedelta(hours=1)
    )
    delivered_at = today_10 + dt.timedelta(hours=3)
    f = services.deliver(req, pdf(), by=delivery_a, now=delivered_at)
    req.refresh_from_db()
    assert req.status == Status.DELIVERED and req.turnaround_hours == 3.0
    assert [e.to_status for e in req.events.order_by("id")] == [
        "submitted",
        "in_process",
        "requested",
        "delivered",
    ]

    # 4. The patron is told by e-mail with the private link.
    assert send_pending() >= 1
    assert mail.outbox[-1].to == ["patron_a@example.edu"]
    assert f"/delivery/f/{f.token}/" in mail.outbox[-1].body

    # 5. The link works for the patron only and counts downloads.
    url = reverse("delivery:download", args=[f.token])
    patron = client_for(patron_a)
    response = patron.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")
    assert client_for(delivery_a).get(url).status_code == 200  # staff of the library may check it
    f.refresh_from_db()
    assert f.downloads == 2

    # 6. After expiry the link answers 410 and the purge removes the file; the statistics stay.
    DeliveryFile.objects.filter(pk=f.pk).update(expires_at=f.created_at)
    assert patron.get(url).status_code == 410
    path = f.file.path
    assert (
        services.purge_files(now=delivered_at + dt.timedelta(days=settings.DELIVERY_PURGE_DAYS + 1))
        == 1
    )
    f.refresh_from_db()
    assert f.purged_at is not None and not f.file
    import os

    assert not os.path.exists(path)

    # 7. Privacy: names and contacts go after the privacy period, the request is still counted.
    assert (
        services.anonymise(now=delivered_at + dt.timedelta(days=settings.DELIVERY_PRIVACY_DAYS + 1))
        >= 2
    )
    req.refresh_from_db()
    assert (req.patron_id, req.patron_name, req.patron_email) == (None, "", "")
    assert req.status == Status.DELIVERED
    from lifeline.delivery.services import volume_between

    day = today_10.date()
    assert volume_between(library_a, day, day) == {"requested": 2, "supplied": 1, "fill_rate": 50.0}


def test_illegal_moves_are_refused(library_a: Any, patron_a: Any, monday_10: dt.datetime) -> None:
    req, _ = services.submit(library_a, ARTICLE, patron=patron_a, now=monday_10)
    services.cancel(req, by=patron_a)
    with pytest.raises(IllegalTransition):
        req.move(Status.DELIVERED)
    req.refresh_from_db()
    assert req.status == Status.CANCELLED and req.events.count() == 2


def test_duplicates_give_one_request(library_a: Any, patron_a: Any, monday_10: dt.datetime) -> None:
    first, created = services.submit(library_a, ARTICLE, patron=patron_a, now=monday_10)
    again, created_again = services.submit(
        library_a, {**ARTICLE, "title": "DEEP  learning for trees!"}, patron=patron_a
    )
    assert created and not created_again and again.pk == first.pk
    # Same form token (a double click): one request, even for different text.
    a, _ = services.submit(
        library_a, {"title": "Another"}, patron=patron_a, idempotency_key="tok-1"
    )
    b, created_b = services.submit(
        library_a, {"title": "Another one"}, patron=patron_a, idempotency_key="tok-1"
    )
    assert a.pk == b.pk and not created_b
    # The database itself refuses a second open request for the same patron and item.
    with pytest.raises(IntegrityError), transaction.atomic():
        DeliveryRequest.objects.create(
            library=library_a, patron=patron_a, title="x", item_key=first.item_key
        )
    assert DeliveryRequest.objects.filter(item_key=first.item_key).count() == 1
    # Once closed, the patron may ask again.
    services.cancel(first, by=patron_a)
    _, created_later = services.submit(library_a, ARTICLE, patron=patron_a)
    assert created_later


def test_service_hours_clock(settings: Any, monday_10: dt.datetime) -> None:
    evening = monday_10.replace(hour=21)
    assert add_service_hours(evening, 24) == evening.replace(
        day=4, hour=17
    )  # 1 h Mon, 14 h Tue, 9 h Wed from 08:00
    assert service_hours_between(evening, evening.replace(day=3, hour=9)) == 2.0
    assert (
        service_hours_between(monday_10.replace(hour=23), monday_10.replace(day=3, hour=7)) == 0.0
    )
    settings.DELIVERY_SERVICE_HOURS = "09:00-17:00"
    assert service_hours_between(monday_10, monday_10.replace(day=3, hour=10)) == 8.0


def test_bad_uploads_are_refused(
    library_a: Any, patron_a: Any, delivery_a: Any, monday_10: dt.datetime, settings: Any
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    req, _ = services.submit(library_a, ARTICLE, patron=patron_a, now=monday_10)
    staff = client_for(delivery_a)
    staff.cookies["lifeline_lang"] = "en"
    url = reverse("delivery:act", args=[req.pk, "deliver"])
    fake = SimpleUploadedFile("paper.pdf", b"MZ\x90\x00 this is a Windows program" * 10)
    response = staff.post(url, {"file": fake}, follow=True)
    assert "is not a PDF file" in response.content.decode()
    # A 2 GB upload is refused from its declared length, before the body is read.
    response = staff.post(url, {"file": pdf()}, CONTENT_LENGTH=str(2 * 1024**3), follow=True)
    assert "the largest file accepted is" in response.content.decode()
    req.refresh_from_db()
    assert req.status == Status.SUBMITTED and not req.files.exists()


def test_patron_cannot_act_as_staff(
    library_a: Any, patron_a: Any, stranger: Any, monday_10: dt.datetime
) -> None:
    req, _ = services.submit(library_a, ARTICLE, patron=patron_a, now=monday_10)
    assert (
        client_for(patron_a).post(reverse("delivery:act", args=[req.pk, "start"])).status_code
        == 403
    )
    assert client_for(stranger).get(reverse("delivery:detail", args=[req.pk])).status_code == 404


def test_periodic_job_purges_and_anonymises(
    library_a: Any, patron_a: Any, delivery_a: Any, settings: Any
) -> None:
    import datetime as dt_

    from django.utils import timezone

    from lifeline.core.schedule import run_due
    from lifeline.delivery.schedule import JOBS

    long_ago = timezone.now() - dt_.timedelta(days=settings.DELIVERY_PRIVACY_DAYS + 5)
    req, _ = services.submit(library_a, ARTICLE, patron=patron_a, now=long_ago)
    f = services.deliver(req, pdf(), by=delivery_a, now=long_ago, notify=False)
    assert run_due(jobs=JOBS) == ["delivery.purge", "delivery.iso18626_retry"]
    f.refresh_from_db()
    req.refresh_from_db()
    assert (
        f.purged_at is not None and req.anonymised_at is not None and req.status == Status.DELIVERED
    )
    assert run_due(jobs=JOBS) == []  # not due again within the hour


def test_csrf_still_guards_actions_and_patron_can_reopen_a_deflection(
    library_a: Any, patron_a: Any, held_journal: Any
) -> None:
    from django.test import Client

    req, _ = services.submit(
        library_a, {"title": "Held", "issn": "0028-0836", "year": 2020}, patron=patron_a
    )
    assert req.status == Status.DEFLECTED
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(patron_a)
    assert strict.post(reverse("delivery:act", args=[req.pk, "reopen"])).status_code == 403
    assert (
        client_for(patron_a).post(reverse("delivery:act", args=[req.pk, "reopen"])).status_code
        == 302
    )
    req.refresh_from_db()
    assert req.status == Status.SUBMITTED and req.closed_at is None and req.due_at is not None
