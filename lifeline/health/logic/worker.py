"""The prober: claim due routes, probe them concurrently, record the results.

Claiming sets a lease (`lease_until`, `lease_owner`) with one UPDATE over rows picked with
`SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL, so several workers never take one route twice;
the result moves `next_probe_at` on by the interval. A worker killed mid-probe leaves its lease to
run out, after which another worker takes the route again: nothing is lost.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone

from lifeline.health.logic.probe import ProbeOutcome, Probers, ProbeSpec, probe, probe_all
from lifeline.health.logic.states import record_outcomes
from lifeline.health.models import MaintenanceWindow, ProbeConfig, lines
from lifeline.registry.models import AccessRoute

log = logging.getLogger(__name__)
LEASE_MARGIN = dt.timedelta(seconds=30)


def setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def new_owner() -> str:
    return secrets.token_hex(8)


def spec_for(config: ProbeConfig) -> ProbeSpec:
    return ProbeSpec(
        config_id=config.pk,
        route_id=config.route_id,
        url=config.target_url(),
        timeout=float(config.timeout_seconds),
        statuses=tuple(config.status_ranges()),
        must_contain=tuple(lines(config.must_contain)),
        must_not_contain=tuple(lines(config.must_not_contain)),
        max_redirects=config.max_redirects,
        slow_ms=config.slow_ms,
        cert_warning_days=config.cert_warning_days,
        allow_internal=config.allow_private or bool(setting("HEALTH_ALLOW_PRIVATE_TARGETS", False)),
        via_proxy=config.through_proxy,
        due_at=config.next_probe_at,
    )


def ensure_configs(now: dt.datetime | None = None) -> int:
    """Give every active route with an address default probe settings, so every route is probed.

    New routes are spread over the default interval instead of all falling due at once.
    """
    now = now or timezone.now()
    missing = list(
        AccessRoute.objects.filter(is_active=True, probe__isnull=True)
        .exclude(url="", target="", sp_login_url="")
        .values_list("pk", flat=True)[:5000]
    )
    if not missing:
        return 0
    interval = ProbeConfig._meta.get_field("interval_seconds").default
    configs = [
        ProbeConfig(route_id=pk, next_probe_at=now + dt.timedelta(seconds=(pk * 7919) % interval))
        for pk in missing
    ]
    ProbeConfig.objects.bulk_create(configs, ignore_conflicts=True)
    return len(configs)


def claim(now: dt.datetime, limit: int, owner: str) -> list[ProbeSpec]:
    """Lease up to `limit` due routes to `owner`; routes under maintenance wait for its end."""
    with transaction.atomic():
        ids = list(
            ProbeConfig.objects.due(now)
            .order_by("next_probe_at")
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("pk", flat=True)[:limit]
        )
        if not ids:
            return []
        longest = max(
            ProbeConfig.objects.filter(pk__in=ids).values_list("timeout_seconds", flat=True)
        )
        ProbeConfig.objects.due(now).filter(pk__in=ids).update(
            lease_until=now + dt.timedelta(seconds=longest) + LEASE_MARGIN, lease_owner=owner
        )
    configs = list(
        ProbeConfig.objects.filter(lease_owner=owner, pk__in=ids).select_related(
            "route__resource__library"
        )
    )
    windows = {
        w.config_id: w
        for w in MaintenanceWindow.objects.filter(
            config_id__in=ids, starts_at__lte=now, ends_at__gt=now
        )
    }
    specs: list[ProbeSpec] = []
    for config in configs:
        window = windows.get(config.pk)
        if window is not None:
            ProbeConfig.objects.filter(pk=config.pk).update(
                next_probe_at=window.ends_at, lease_until=None, lease_owner=""
            )
            continue
        try:
            specs.append(spec_for(config))
        except Exception as exc:  # a broken setting must not stop the other routes
            log.warning("route %s cannot be probed: %s", config.route_id, exc)
            ProbeConfig.objects.filter(pk=config.pk).update(
                next_probe_at=now + dt.timedelta(seconds=config.interval_seconds),
                lease_until=None,
                lease_owner="",
            )
    return specs


def open_probers() -> Probers:
    return Probers.open(
        proxy=setting("HEALTH_PROBE_PROXY", ""),
        ca_bundle=setting("HEALTH_PROBE_CA_BUNDLE", ""),
        max_body=int(setting("HEALTH_PROBE_MAX_BODY_BYTES", 2 * 1024 * 1024)),
    )


async def _probe_batch(specs: list[ProbeSpec]) -> list[ProbeOutcome]:
    probers = open_probers()
    try:
        return await probe_all(
            specs, probers, concurrency=int(setting("HEALTH_PROBE_CONCURRENCY", 200))
        )
    finally:
        await probers.aclose()


def run_async(coro: Any) -> Any:
    """Run the prober's coroutine on uvloop when it is installed (a third less CPU per probe)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
        return asyncio.run(coro)
    return asyncio.run(coro, loop_factory=uvloop.new_event_loop)


@dataclass
class StepReport:
    probed: int = 0
    flips: int = 0
    outcomes: list[ProbeOutcome] = field(default_factory=list)


def probe_step(now: dt.datetime | None = None, limit: int = 500, owner: str = "") -> StepReport:
    """One synchronous step (what tests call): claim what is due, probe it, record it."""
    now = now or timezone.now()
    ensure_configs(now)
    specs = claim(now, limit, owner or new_owner())
    if not specs:
        return StepReport()
    outcomes = run_async(_probe_batch(specs))
    flips = record_outcomes(outcomes, now)
    return StepReport(probed=len(outcomes), flips=len(flips), outcomes=outcomes)


async def run_loop(
    should_stop: Callable[[], bool],
    *,
    tick: float = 0.5,
    owner: str = "",
    on_claim: Callable[[list[ProbeSpec], dt.datetime], None] | None = None,
    on_flips: Callable[[list[Any]], None] | None = None,
) -> None:
    """The long-running prober: probes start as they fall due instead of waiting for a whole batch.

    Database work runs on one dedicated thread (one connection); probes run on the event loop.
    """
    owner = owner or new_owner()
    concurrency = int(setting("HEALTH_PROBE_CONCURRENCY", 200))
    db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="probe-db")
    loop = asyncio.get_running_loop()
    probers = open_probers()
    gate = asyncio.Semaphore(concurrency)
    inflight: set[asyncio.Task[ProbeOutcome]] = set()
    finished: list[ProbeOutcome] = []

    async def one(spec: ProbeSpec) -> ProbeOutcome:
        async with gate:
            return await probe(spec, probers)

    def done(task: asyncio.Task[ProbeOutcome]) -> None:
        inflight.discard(task)
        if not task.cancelled() and task.exception() is None:
            finished.append(task.result())

    last_ensured = [0.0]

    def db_claim(limit: int) -> list[ProbeSpec]:
        close_old_connections()
        now = timezone.now()
        if time.monotonic() - last_ensured[0] > 60:
            ensure_configs(now)
            last_ensured[0] = time.monotonic()
        specs = claim(now, limit, owner)
        if on_claim is not None:
            on_claim(specs, now)
        return specs

    def db_record(batch: list[ProbeOutcome]) -> None:
        flips = record_outcomes(batch)
        if on_flips is not None and flips:
            on_flips(flips)

    try:
        while not should_stop():
            began = time.monotonic()
            room = concurrency * 2 - len(inflight)
            try:
                if room > 0:
                    for spec in await loop.run_in_executor(db, db_claim, room):
                        task = asyncio.create_task(one(spec))
                        inflight.add(task)
                        task.add_done_callback(done)
                if finished:
                    batch, finished[:] = list(finished), []
                    await loop.run_in_executor(db, db_record, batch)
            except Exception:
                # The database went away (restart, failover): keep the process, try again shortly.
                # Unrecorded results are lost; their leases run out and the routes are probed again.
                log.exception("prober round failed; retrying in 5 s")
                await asyncio.sleep(5)
                continue
            # A slow round (a big batch to record) is not followed by a full pause: lag stays low.
            await asyncio.sleep(max(0.0, tick - (time.monotonic() - began)))
        # SIGTERM: finish the probes in hand and record them; unstarted leases simply run out.
        if inflight:
            await asyncio.wait(inflight, timeout=60)
        if finished:
            await loop.run_in_executor(db, db_record, list(finished))
    finally:
        await probers.aclose()
        db.submit(close_old_connections).result()
        db.shutdown(wait=True)
