"""The delivery demo: the seed's 2020 on the statistics page, open requests in the queue and on a
patron's page, and the same rows after a second load.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from lifeline.conftest import client_for
from lifeline.core.demo.loader import load_demo
from lifeline.delivery.logic import stats
from lifeline.delivery.models import (
    DeliveryFile,
    DeliveryRequest,
    IllTransaction,
    IsoMessage,
    RequestEvent,
    Supplier,
)

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 4)


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Supplier, DeliveryRequest, RequestEvent, DeliveryFile, IsoMessage)
    }


def test_demo_shows_the_seed_year_and_the_present(settings: Any, tmp_path: Any) -> None:
    settings.DATA_DIR = tmp_path
    lib = load_demo(TODAY)["library"]
    year = stats.summary(lib, dt.date(2020, 1, 1), dt.date(2020, 12, 31))
    assert (year["requested"], year["supplied"], year["fill_rate"]) == (86_712, 83_091, 95.8)
    # Table 2: the two WorldLib service groups together, January to October.
    groups = stats.per_channel(lib, dt.date(2020, 1, 1), dt.date(2020, 10, 31))
    assert [g["channel"] for g in groups] == ["WorldLib群1", "WorldLib群2"]
    assert sum(g["requested"] for g in groups) == 72_584
    assert sum(g["supplied"] for g in groups) == 69_170
    kinds = set(Supplier.objects.filter(library=lib).values_list("kind", flat=True))
    assert kinds == {"partner", "outside", "commercial"}
    mine = DeliveryRequest.objects.filter(library=lib, idempotency_key__startswith="demo-")
    page = client_for(get_user_model().objects.get(username="delivery")).get(
        reverse("delivery:detail", args=[mine.get(idempotency_key="demo-7").pk])
    )
    assert page.status_code == 200 and b"ZZ-DEMO" in page.content
    assert set(mine.values_list("status", flat=True)) == {
        "submitted",
        "in_process",
        "requested",
        "delivered",
        "unfilled",
    }
    assert IsoMessage.objects.filter(library=lib, kind="request", direction="out").count() == 2
    # 7. Supplied by the outside library through the loopback peer: delivered, its link passed on;
    # our messages to it wait (the peer is not running while the demo loads) and show it.
    outside = mine.get(idempotency_key="demo-7")
    txn = outside.transactions.get()
    assert (outside.status, txn.iso_status, txn.peer.agency_id_value) == (
        "delivered",
        "CopyCompleted",
        "ZZ-DEMO",
    )
    assert txn.document_url.endswith("/doc/ZZ-DEMO-1.pdf")
    # 8. That library asks us, with its own request id.
    theirs = IllTransaction.objects.get(
        library=lib, role="supplier", requesting_id="ZZ-DEMO/2026/0042"
    )
    assert theirs.request.status == "submitted"
    assert DeliveryRequest.objects.filter(library__code="hrbeu", origin__in=mine).count() == 1
    assert DeliveryFile.objects.filter(request__in=mine).count() == 1

    User = get_user_model()
    staff = client_for(User.objects.get(username="delivery"))
    staff.cookies["lifeline_lang"] = "en"
    page = staff.get(
        reverse("delivery:statistics", args=["nefu"]), {"start": "2020-01-01", "end": "2020-12-31"}
    )
    assert page.status_code == 200 and "95.8%" in page.content.decode()
    page = staff.get(reverse("delivery:queue", args=["nefu"]))
    assert page.status_code == 200 and "Larix gmelinii" in page.content.decode()
    page = staff.get(reverse("delivery:suppliers", args=["nefu"]))
    assert page.status_code == 200 and "CASHL" in page.content.decode()
    student = client_for(User.objects.get(username="student"))
    page = student.get(reverse("delivery:mine", args=["nefu"]))
    text = page.content.decode()
    assert page.status_code == 200 and "Larix gmelinii" in text and "cross-laminated" in text

    before = counts()
    load_demo(TODAY)
    assert counts() == before
    assert stats.summary(lib, dt.date(2020, 1, 1), dt.date(2020, 12, 31))["requested"] == 86_712
