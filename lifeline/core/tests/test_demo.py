from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from lifeline.core.demo.loader import load_demo
from lifeline.registry.choices import RouteKind
from lifeline.registry.models import AccessRoute, Resource


@pytest.mark.django_db
def test_demo_matches_the_seed_and_reloads_idempotently(settings: Any, tmp_path: Any) -> None:
    settings.DATA_DIR = tmp_path
    today = dt.date(2026, 3, 1)
    first = load_demo(today)
    lib = first["library"]
    res = Resource.objects.filter(library=lib)
    # Table 1 of the seed: 33 Chinese categories / 63 sub-databases, 13 foreign / 58.
    assert res.filter(language="zh", parent__isnull=True).count() == 33
    assert res.filter(language="zh", parent__isnull=False).count() == 63
    assert res.filter(language="foreign", parent__isnull=True).count() == 13
    assert res.filter(language="foreign", parent__isnull=False).count() == 58
    kinds = set(AccessRoute.objects.filter(resource__library=lib).values_list("kind", flat=True))
    assert kinds == set(RouteKind.values)
    route_ids = set(AccessRoute.objects.values_list("pk", flat=True))
    second = load_demo(today)
    assert second["password"] == first["password"]
    assert Resource.objects.filter(library=lib).count() == res.count() == 167
    assert (
        set(AccessRoute.objects.values_list("pk", flat=True)) == route_ids
    )  # routes kept, not recreated
    # Something expires within 30 days and something has no off-campus route:
    # the dashboard has work.
    assert AccessRoute.objects.filter(resource__library=lib).expiring(30, today).exists()
    no_remote = res.filter(parent__isnull=True).exclude(
        pk__in=Resource.objects.works_from_home(today)
    )
    assert set(no_remote.values_list("key", flat=True)) == {"cscd", "diaolong"}


@pytest.mark.django_db
def test_demo_never_probes_the_real_vendors(settings: Any, tmp_path: Any) -> None:
    from lifeline.health.logic.worker import claim, ensure_configs
    from lifeline.health.models import ProbeConfig

    settings.DATA_DIR = tmp_path
    load_demo(dt.date(2026, 3, 1))
    ensure_configs()  # what the prober does first: it must not switch the demo's probes on
    assert ProbeConfig.objects.count() == AccessRoute.objects.count()
    assert not ProbeConfig.objects.filter(enabled=True).exists()
    assert claim(timezone.now() + dt.timedelta(days=1), 1000, "test") == []
