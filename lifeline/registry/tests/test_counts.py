"""Registry's counts for the service report, against its own rows."""

from __future__ import annotations

import datetime as dt

import pytest

from lifeline.core.models import Library
from lifeline.registry.choices import RouteKind
from lifeline.registry.counts import counts
from lifeline.registry.models import AccessRoute, Resource

pytestmark = pytest.mark.django_db


def test_databases_and_sub_databases_by_language(library_a: Library, library_b: Library) -> None:
    cnki = Resource.objects.create(library=library_a, key="cnki", name="中国知网", language="zh")
    Resource.objects.create(
        library=library_a, key="cnki-j", name="期刊", language="zh", parent=cnki
    )
    Resource.objects.create(
        library=library_a,
        key="worldlib",
        name="Worldlib",
        language="foreign",
    )
    Resource.objects.filter(key="worldlib").update(
        created_at=dt.datetime(2020, 3, 1, 9, 0, tzinfo=dt.UTC)
    )
    Resource.objects.create(
        library=library_a,
        key="ended",
        name="Ended",
        language="foreign",
        subscription_end=dt.date(2019, 12, 31),
    )
    Resource.objects.create(
        library=library_a, key="old", name="Old", language="foreign", is_active=False
    )
    Resource.objects.create(library=library_b, key="other", name="Other", language="zh")
    AccessRoute.objects.create(resource=cnki, kind=RouteKind.CARSI, url="https://fsso.cnki.net/")
    AccessRoute.objects.create(
        resource=cnki, kind=RouteKind.VPN, url="https://vpn.nefu.edu.cn/", is_active=False
    )
    got = {
        c.measure: c.figure for c in counts(library_a, dt.date(2020, 1, 1), dt.date(2020, 12, 31))
    }
    assert got == {
        "databases_zh": 1,
        "subdatabases_zh": 1,
        "databases_foreign": 1,
        "subdatabases_foreign": 0,
        "new_databases": 1,
        "carsi_databases": 1,
        "vpn_databases": 0,  # its VPN route is switched off
    }
    # Added to the registry in March 2020: new then, not in 2019; the ended one counted in 2019.
    got = {
        c.measure: c.figure for c in counts(library_a, dt.date(2019, 1, 1), dt.date(2019, 12, 31))
    }
    assert (got["databases_foreign"], got["new_databases"]) == (2, 0)


def test_new_databases_by_first_subscription_not_by_entry(library_a: Library) -> None:
    # Entered in the registry today, first taken in February 2020: new in 2020, not today.
    Resource.objects.create(
        library=library_a,
        key="vip-exam",
        name="维普考试资源系统",
        first_subscribed=dt.date(2020, 2, 10),
    )
    Resource.objects.create(
        library=library_a, key="cnki", name="中国知网", first_subscribed=dt.date(2008, 1, 1)
    )

    def new(year: int) -> int | float | None:
        got = {
            c.measure: c.figure
            for c in counts(library_a, dt.date(year, 1, 1), dt.date(year, 12, 31))
        }
        return got["new_databases"]

    assert new(2020) == 1
    assert new(2008) == 1
    assert new(dt.date.today().year) == 0
