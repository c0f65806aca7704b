"""The issue's "done when": a MARC 21 and a CNMARC catalogue and a holdings file imported, a
campaign in which patrons vote in both languages, a selection within budget (held titles out,
the optimum checked against brute force), the order exported, and a recommendation and a home
delivery gone through to the end."""

from __future__ import annotations

import datetime as dt
import io
import itertools
from decimal import Decimal
from typing import Any

import pymarc
import pytest
from django.utils import timezone

from lifeline.conftest import client_for
from lifeline.core.models import Library, Notification
from lifeline.selection import services
from lifeline.selection.choices import CampaignStatus, LineStatus, RecStatus, ShipStatus
from lifeline.selection.logic import knapsack
from lifeline.selection.models import Campaign, HomeDelivery, Recommendation, Selection, Title, Vote
from lifeline.selection.tests.conftest import CNMARC_XML, cnmarc_records, iso2709, read

pytestmark = pytest.mark.django_db


def test_the_whole_way(
    library_a: Library, acq_a: Any, patron_a: Any, teacher_a: Any, delivery_a: Any
) -> None:
    marc21 = services.import_catalogue(
        library_a, read("marc21-marc8-pymarc-marc.dat"), name="MARC 21"
    )
    cnmarc = services.import_catalogue(
        library_a, iso2709(cnmarc_records(), "gb18030"), name="CNMARC", flavour="unimarc"
    )
    Title.objects.filter(catalogue=marc21).update(price=Decimal("45.00"))
    held = Title.objects.get(catalogue=cnmarc, position=0)
    services.import_holdings(library_a, f"ISBN\n{held.isbn}\n".encode(), file_name="isbn.csv")
    held.refresh_from_db()
    assert held.status == LineStatus.HELD
    today = timezone.localdate()
    campaign = Campaign.objects.create(
        library=library_a,
        name="世界读书日云端选书",
        starts_on=today,
        ends_on=today + dt.timedelta(days=4),
        status=CampaignStatus.OPEN,
        budget=Decimal("260.00"),
    )
    campaign.catalogues.set([marc21, cnmarc])
    titles = list(Title.objects.filter(status=LineStatus.NEW, price__isnull=False).order_by("pk"))[
        :8
    ]
    for lang, user in (("zh-hans", patron_a), ("en", teacher_a)):
        client = client_for(user)
        client.cookies["lifeline_lang"] = lang
        for t in titles[:5] if lang == "en" else titles[3:]:
            client.post(
                f"/selection/nefu/c/{campaign.pk}/mark/", {"title": t.pk, "reason": "teaching"}
            )
        # The held title has no mark button, and a forged mark is refused.
        client.post(f"/selection/nefu/c/{campaign.pk}/mark/", {"title": held.pk, "reason": "study"})
    assert Vote.objects.count() == 10 and not Vote.objects.filter(title=held).exists()
    staff = client_for(acq_a)
    staff.post(f"/selection/nefu/campaigns/{campaign.pk}/close/")
    staff.post(f"/selection/nefu/campaigns/{campaign.pk}/select/", {"method": "exact"})
    staff.post(f"/selection/nefu/campaigns/{campaign.pk}/select/", {"method": "greedy"})
    exact = Selection.objects.get(campaign=campaign, method="exact")
    greedy = Selection.objects.get(campaign=campaign, method="greedy")
    assert exact.spend <= campaign.budget and exact.demand >= greedy.demand
    items, _limits = services.problem(campaign, services.candidates(campaign))
    best = max(
        knapsack.value(items, list(mask))
        for mask in itertools.product([False, True], repeat=len(items))
        if sum(it.cost for it, keep in zip(items, mask, strict=True) if keep)
        <= float(campaign.budget)
    )
    assert (exact.demand, float(exact.spend)) == pytest.approx(best)
    staff.post(f"/selection/nefu/campaigns/{campaign.pk}/adopt/", {"selection": exact.pk})
    order = staff.get(f"/selection/nefu/orders/{exact.pk}.mrc")
    records = list(pymarc.MARCReader(io.BytesIO(order.content), force_utf8=True))
    assert len(records) == exact.titles
    assert staff.get(f"/selection/nefu/orders/{exact.pk}.xlsx").status_code == 200
    # A recommendation through to arrival, with the notice in the outbox.
    client = client_for(patron_a)
    client.post("/selection/nefu/recommend/", {"title": "森林培育学", "author": "沈国舫"})
    rec = Recommendation.objects.get()
    staff.post(f"/selection/rec/{rec.pk}/ordered/")
    staff.post(f"/selection/rec/{rec.pk}/arrived/", {"answer": "已到馆"})
    rec.refresh_from_db()
    assert rec.status == RecStatus.ARRIVED
    assert Notification.objects.filter(recipients=["patron_a@example.edu"]).exists()
    # A home delivery there and back; the address goes when the book is back.
    client.post(
        "/selection/nefu/home-delivery/",
        {"title": "树木学", "recipient": "张三", "phone": "138", "address": "哈尔滨市"},
    )
    d = HomeDelivery.objects.get()
    desk = client_for(delivery_a)
    desk.post(f"/selection/home/{d.pk}/picked/")
    desk.post(f"/selection/home/{d.pk}/shipped/", {"courier": "顺丰", "tracking_no": "SF1"})
    client.post(f"/selection/home/{d.pk}/received/")
    client.post(f"/selection/home/{d.pk}/return_shipped/", {"tracking_no": "SF2"})
    desk.post(f"/selection/home/{d.pk}/returned/")
    d.refresh_from_db()
    assert d.status == ShipStatus.RETURNED and d.address == ""
    assert CNMARC_XML.exists()
