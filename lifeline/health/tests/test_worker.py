"""Claims and leases: several workers never probe one route twice; a dead worker loses nothing."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from typing import Any

import pytest
from django.db import connection

from lifeline.health.choices import HealthState
from lifeline.health.logic.worker import claim, probe_step, relax_commit, run_loop
from lifeline.health.models import ProbeConfig
from lifeline.health.tests.conftest import make_route
from lifeline.health.tests.servers import Site
from lifeline.registry.models import Resource

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def routes(resource: Resource, admin: Any, site: Site, n: int) -> list[int]:
    ids = [make_route(resource, site.url(f"/?n={i}"), admin=admin).pk for i in range(n)]
    ProbeConfig.objects.update(next_probe_at=T0)
    return ids


def test_claim_leases_and_a_dead_workers_routes_come_back(
    resource_a: Resource, admin_a: Any, site: Site
) -> None:
    routes(resource_a, admin_a, site, 3)
    first = claim(T0, 10, "worker-1")
    assert len(first) == 3
    assert (
        claim(T0 + dt.timedelta(seconds=5), 10, "worker-2") == []
    )  # leased: nobody else takes them
    # worker-1 dies without recording anything; once the lease runs out, worker-2 takes them all.
    later = T0 + dt.timedelta(seconds=5 + 30 + 1)
    report = probe_step(now=later, owner="worker-2")
    assert report.probed == 3
    assert set(ProbeConfig.objects.values_list("state", flat=True)) == {HealthState.UP}
    assert set(ProbeConfig.objects.values_list("lease_owner", flat=True)) == {""}
    assert (
        probe_step(now=later + dt.timedelta(seconds=60)).probed == 0
    )  # not due again within the interval


def test_limit_and_order(resource_a: Resource, admin_a: Any, site: Site) -> None:
    ids = routes(resource_a, admin_a, site, 4)
    ProbeConfig.objects.filter(route_id=ids[3]).update(next_probe_at=T0 - dt.timedelta(minutes=5))
    got = claim(T0, 2, "w")
    assert (len(got) == 2 and got[0].route_id == ids[3]) or got[1].route_id == ids[3]
    assert ProbeConfig.objects.filter(lease_owner="w").count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_claim_disjoint_sets(library_a: Any, admin_a: Any, site: Site) -> None:
    if connection.vendor != "postgresql":
        # SQLite's in-memory test database shares a cache whose table locks ignore busy_timeout;
        # on a real SQLite file IMMEDIATE transactions serialise claims. Many workers: PostgreSQL.
        pytest.skip("several concurrent workers need PostgreSQL")
    resource = Resource.objects.create(library=library_a, key="r", name="R")
    ids = routes(resource, admin_a, site, 30)
    results: dict[str, list[int]] = {}
    barrier = threading.Barrier(3)

    def worker(name: str) -> None:
        from django.db import connection as conn

        try:
            barrier.wait(timeout=5)
            got: list[int] = []
            for _ in range(5):
                got += [s.route_id for s in claim(T0, 4, name)]
            results[name] = got
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    claimed = [r for got in results.values() for r in got]
    assert len(claimed) == len(set(claimed)) == 30, connection.vendor
    assert set(claimed) == set(ids)


@pytest.mark.django_db(transaction=True)
def test_run_loop_probes_as_routes_fall_due(library_a: Any, admin_a: Any, site: Site) -> None:
    resource = Resource.objects.create(library=library_a, key="r", name="R")
    for i in range(5):
        make_route(resource, site.url(f"/?n={i}"), admin=admin_a)
    claimed: list[int] = []
    flipped: list[Any] = []
    deadline = time.monotonic() + 10

    def stop() -> bool:  # called on the event loop: no database here
        return len(flipped) == 5 or time.monotonic() > deadline

    asyncio.run(
        run_loop(
            stop,
            tick=0.05,
            on_claim=lambda specs, now: claimed.extend(s.route_id for s in specs),
            on_flips=flipped.extend,
        )
    )
    assert ProbeConfig.objects.filter(state=HealthState.UP).count() == 5
    assert len(claimed) == 5


@pytest.mark.django_db(transaction=True)
def test_run_loop_claims_ahead_and_starts_each_probe_when_due(
    library_a: Any, admin_a: Any, site: Site
) -> None:
    """Probes start at their due time, not at the next tick, and the schedule keeps no lag."""
    from django.utils import timezone

    resource = Resource.objects.create(library=library_a, key="r", name="R")
    for i in range(3):
        make_route(resource, site.url(f"/?n={i}"), admin=admin_a)
    due = timezone.now() + dt.timedelta(seconds=0.7)
    ProbeConfig.objects.update(next_probe_at=due)
    outcomes: list[Any] = []
    deadline = time.monotonic() + 10

    def stop() -> bool:
        return len(outcomes) == 3 or time.monotonic() > deadline

    asyncio.run(run_loop(stop, tick=0.5, on_outcomes=outcomes.extend))
    assert len(outcomes) == 3
    assert all(o.started_at >= due for o in outcomes)
    for config in ProbeConfig.objects.all():
        assert config.state == HealthState.UP
        assert config.next_probe_at == due + dt.timedelta(seconds=config.interval_seconds)


def test_every_route_with_an_address_gets_probe_settings(resource_a: Resource) -> None:
    from lifeline.health.logic.worker import ensure_configs
    from lifeline.registry.models import AccessRoute

    with_url = AccessRoute.objects.create(
        resource=resource_a, kind="vpn", url="https://vpn.example.edu/"
    )
    AccessRoute.objects.create(
        resource=resource_a, kind="campus_ip", ip_ranges="10.0.0.0/8"
    )  # nothing to probe
    AccessRoute.objects.create(
        resource=resource_a, kind="vpn", url="https://old.example/", is_active=False
    )
    now = T0
    assert ensure_configs(now) == 1
    config = ProbeConfig.objects.get()
    assert config.route == with_url and config.interval_seconds == 300
    assert now <= config.next_probe_at < now + dt.timedelta(seconds=300)
    assert ensure_configs(now) == 0


def test_prune_evidence(resource_a: Resource) -> None:
    from lifeline.health.models import ProbeResult
    from lifeline.health.tasks import prune_evidence
    from lifeline.registry.models import AccessRoute

    route = AccessRoute.objects.create(
        resource=resource_a, kind="vpn", url="https://vpn.example.edu/"
    )
    for days in (1, 90):
        ProbeResult.objects.create(
            route=route, at=T0 - dt.timedelta(days=days), url=route.url, state="down"
        )
    assert prune_evidence(now=T0) == 1
    assert ProbeResult.objects.count() == 1


def test_probe_loop_command_once(resource_a: Resource, admin_a: Any, site: Site) -> None:
    from io import StringIO

    from django.core.management import call_command

    make_route(resource_a, site.url("/"), admin=admin_a)
    out = StringIO()
    call_command("probe_loop", "--once", stdout=out)
    assert "probed 1, 1 state changes" in out.getvalue()
    assert ProbeConfig.objects.get().state == HealthState.UP


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL setting")
def test_prober_commits_without_waiting_for_the_disk() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = on")
        relax_commit()
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "off"
        cursor.execute("SET synchronous_commit = on")  # leave the test connection as it was
