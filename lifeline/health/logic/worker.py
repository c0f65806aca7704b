"""The prober: claim due routes, probe them concurrently, record the results.

Claiming sets a lease (`lease_until`, `lease_owner`) with one UPDATE over rows picked with
`SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL, so several workers never take one route twice;
the result moves `next_probe_at` on by the interval. A worker killed mid-probe leaves its lease to
run out, after which another worker takes the route again: nothing is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import math
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connections, transaction
from django.utils import timezone

from lifeline.health.logic.probe import ProbeOutcome, Probers, ProbeSpec, probe, probe_all
from lifeline.health.logic.states import record_outcomes
from lifeline.health.models import MaintenanceWindow, ProbeConfig, lines, parse_statuses
from lifeline.registry.choices import RouteKind
from lifeline.registry.models import AccessRoute

log = logging.getLogger(__name__)
LEASE_MARGIN = dt.timedelta(seconds=30)
START_GRID = 0.1  # seconds; see `run_loop`


def setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def new_owner() -> str:
    return secrets.token_hex(8)


@lru_cache(maxsize=256)
def _statuses(text: str) -> tuple[tuple[int, int], ...]:
    # A few distinct texts ("200-299") across thousands of routes: parse each once.
    return tuple(parse_statuses(text))


@lru_cache(maxsize=1024)
def _phrases(text: str) -> tuple[str, ...]:
    return tuple(lines(text))


def _carsi_url(route: AccessRoute) -> str:
    """The WAYFless URL of a CARSI route that has one (followed end to end), else ""."""
    if route.kind != RouteKind.CARSI or not route.sp_login_url:
        return ""
    link = route.wayfless_url()
    return link if link != route.url else ""


def spec_for(config: ProbeConfig) -> ProbeSpec:
    carsi = "" if config.through_proxy else _carsi_url(config.route)
    return ProbeSpec(
        config_id=config.pk,
        route_id=config.route_id,
        url=carsi or config.target_url(),
        carsi=bool(carsi),
        timeout=float(config.timeout_seconds),
        statuses=_statuses(config.expected_status),
        must_contain=_phrases(config.must_contain),
        must_not_contain=_phrases(config.must_not_contain),
        max_redirects=config.max_redirects,
        slow_ms=config.slow_ms,
        cert_warning_days=config.cert_warning_days,
        allow_internal=config.allow_private or bool(setting("HEALTH_ALLOW_PRIVATE_TARGETS", False)),
        via_proxy=config.through_proxy,
        due_at=config.next_probe_at,
        known_state=config.state,
        pending_state=config.pending_state,
        pending_count=config.pending_count,
        retries=config.retries,
        platform=_vendor_key(config),
    )


def _vendor_key(config: ProbeConfig) -> str:
    vendor = config.route.resource.vendor
    return vendor.key if vendor is not None else ""


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


# What a probe needs, read as plain values: building four model objects per route (config, route,
# resource, library) was most of the claim's CPU. Routes whose address needs the route's own logic
# (a proxied or WAYFless link) still go through the models, see `claim`.
SPEC_COLUMNS = (
    "pk",
    "route_id",
    "route__target",
    "route__url",
    "through_proxy",
    "timeout_seconds",
    "expected_status",
    "must_contain",
    "must_not_contain",
    "max_redirects",
    "slow_ms",
    "cert_warning_days",
    "allow_private",
    "next_probe_at",
    "interval_seconds",
    "state",
    "pending_state",
    "pending_count",
    "retries",
    "route__resource__vendor__key",
    "route__kind",
    "route__sp_login_url",
)


def _set_aside(pk: int, route_id: int, interval: int, exc: Exception, now: dt.datetime) -> None:
    """A broken setting must not stop the other routes: skip this one for an interval."""
    log.warning("route %s cannot be probed: %s", route_id, exc)
    ProbeConfig.objects.filter(pk=pk).update(
        next_probe_at=now + dt.timedelta(seconds=interval), lease_until=None, lease_owner=""
    )


def claim(
    now: dt.datetime, limit: int, owner: str, ahead: dt.timedelta = dt.timedelta(0)
) -> list[ProbeSpec]:
    """Lease up to `limit` routes due by `now + ahead` to `owner`; routes under maintenance wait
    for its end. (The loop claims a little ahead and starts each probe at its due time.)"""
    until = now + ahead
    with transaction.atomic():
        picked = list(
            ProbeConfig.objects.due(now, until)
            .order_by("next_probe_at")
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("pk", "timeout_seconds")[:limit]
        )
        if not picked:
            return []
        ids = [pk for pk, _timeout in picked]
        longest = max(timeout for _pk, timeout in picked)
        ProbeConfig.objects.due(now, until).filter(pk__in=ids).update(
            lease_until=until + dt.timedelta(seconds=longest) + LEASE_MARGIN, lease_owner=owner
        )
    rows = ProbeConfig.objects.filter(lease_owner=owner, pk__in=ids).values_list(*SPEC_COLUMNS)
    windows = {
        w.config_id: w
        for w in MaintenanceWindow.objects.filter(
            config_id__in=ids, starts_at__lte=until, ends_at__gt=now
        )
    }
    allow_all_private = bool(setting("HEALTH_ALLOW_PRIVATE_TARGETS", False))
    specs: list[ProbeSpec] = []
    by_model: list[int] = []
    for row in rows:
        (pk, route_id, target, url, proxied, timeout, statuses, must, must_not) = row[:9]
        (redirects, slow_ms, cert_days, private, due_at, interval) = row[9:15]
        (state, pending, pending_count, retries, vendor_key, kind, sp_login) = row[15:]
        window = windows.get(pk)
        if window is not None:
            ProbeConfig.objects.filter(pk=pk).update(
                next_probe_at=window.ends_at, lease_until=None, lease_owner=""
            )
            continue
        if proxied or not (target or url) or (kind == RouteKind.CARSI and sp_login):
            by_model.append(pk)
            continue
        try:
            specs.append(
                ProbeSpec(
                    config_id=pk,
                    route_id=route_id,
                    url=target or url,
                    timeout=float(timeout),
                    statuses=_statuses(statuses),
                    must_contain=_phrases(must),
                    must_not_contain=_phrases(must_not),
                    max_redirects=redirects,
                    slow_ms=slow_ms,
                    cert_warning_days=cert_days,
                    allow_internal=private or allow_all_private,
                    via_proxy=False,
                    due_at=due_at,
                    known_state=state,
                    pending_state=pending,
                    pending_count=pending_count,
                    retries=retries,
                    platform=vendor_key or "",
                )
            )
        except Exception as exc:
            _set_aside(pk, route_id, interval, exc, now)
    if by_model:
        for config in ProbeConfig.objects.filter(pk__in=by_model).select_related(
            "route__resource__library", "route__resource__vendor"
        ):
            try:
                specs.append(spec_for(config))
            except Exception as exc:
                _set_aside(config.pk, config.route_id, config.interval_seconds, exc, now)
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


def relax_commit() -> None:
    """On PostgreSQL, the prober's commits do not wait for the write-ahead log to reach the disk.

    A state change is written the moment it is known, and under load a wait for the disk delayed
    it by seconds (past "one interval plus the retries"). A worker killed mid-run still loses
    nothing: what it committed is in the server. Only a crash of the database server itself could
    drop the last fraction of a second of results, and those routes are simply probed again.
    """
    conn = connections["default"]
    conn.ensure_connection()
    if conn.vendor == "postgresql":
        with conn.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")


async def run_loop(
    should_stop: Callable[[], bool],
    *,
    tick: float = 0.5,
    owner: str = "",
    on_claim: Callable[[list[ProbeSpec], dt.datetime], None] | None = None,
    on_flips: Callable[[list[Any]], None] | None = None,
    on_outcomes: Callable[[list[ProbeOutcome]], None] | None = None,
) -> None:
    """The long-running prober: each probe starts at its due time instead of at the next tick.

    Routes are claimed up to two ticks ahead and each probe waits for its own due time, so the
    tick adds no lag; a result that changes a route's state wakes the loop and is recorded at once
    (the others are recorded in batches every tick). Database work runs on one dedicated
    thread (one connection); probes run on the event loop. `on_claim` and `on_outcomes` run on the
    database thread.
    """
    owner = owner or new_owner()
    concurrency = int(setting("HEALTH_PROBE_CONCURRENCY", 200))
    ahead = dt.timedelta(seconds=2 * tick)
    db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="probe-db")
    loop = asyncio.get_running_loop()
    probers = open_probers()
    gate = asyncio.Semaphore(concurrency)
    inflight: set[asyncio.Task[ProbeOutcome]] = set()
    finished: list[ProbeOutcome] = []
    wake = asyncio.Event()

    async def one(spec: ProbeSpec) -> ProbeOutcome:
        if spec.due_at is not None:
            wait = (spec.due_at - timezone.now()).total_seconds()
            if wait > 0 and not spec.pending_state:
                # Routine probes start on a grid, so those due together start in one turn of the
                # event loop: a timer per probe woke the loop ~170 times a second and cost more
                # CPU than the requests. Retries that may confirm a change start on time.
                wait = math.ceil((loop.time() + wait) / START_GRID) * START_GRID - loop.time()
            while wait > 0:  # never before the due time (a timer may fire a millisecond early)
                await asyncio.sleep(wait)
                wait = (spec.due_at - timezone.now()).total_seconds()
        async with gate:
            return await probe(spec, probers)

    def done(task: asyncio.Task[ProbeOutcome]) -> None:
        inflight.discard(task)
        if not task.cancelled() and task.exception() is None:
            outcome = task.result()
            finished.append(outcome)
            if outcome.spec.changes_state(outcome):
                wake.set()

    last_ensured = [0.0]

    def db_claim(limit: int) -> list[ProbeSpec]:
        close_old_connections()
        relax_commit()
        now = timezone.now()
        if time.monotonic() - last_ensured[0] > 60:
            ensure_configs(now)
            last_ensured[0] = time.monotonic()
        specs = claim(now, limit, owner, ahead)
        if on_claim is not None:
            on_claim(specs, now)
        return specs

    def db_record(batch: list[ProbeOutcome]) -> None:
        flips = record_outcomes(batch)
        if on_outcomes is not None:
            on_outcomes(batch)
        if on_flips is not None and flips:
            on_flips(flips)

    next_claim = 0.0
    try:
        while not should_stop():
            # Cleared before the round: a result that arrives during it wakes the next wait.
            wake.clear()
            try:
                # Results first: a state change waits for no claim.
                if finished:
                    batch, finished[:] = list(finished), []
                    await loop.run_in_executor(db, db_record, batch)
                if time.monotonic() >= next_claim:
                    next_claim = time.monotonic() + tick
                    room = concurrency * 2 - len(inflight)
                    if room > 0:
                        for spec in await loop.run_in_executor(db, db_claim, room):
                            task = asyncio.create_task(one(spec))
                            inflight.add(task)
                            task.add_done_callback(done)
            except Exception:
                # The database went away (restart, failover): keep the process, try again shortly.
                # Unrecorded results are lost; their leases run out and the routes are probed again.
                log.exception("prober round failed; retrying in 5 s")
                await asyncio.sleep(5)
                continue
            # A slow round (a big batch to record) is not followed by a full pause: lag stays low.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, next_claim - time.monotonic())):
                    await wake.wait()
        # SIGTERM: finish the probes in hand and record them; unstarted leases simply run out.
        if inflight:
            await asyncio.wait(inflight, timeout=60)
        if finished:
            await loop.run_in_executor(db, db_record, list(finished))
    finally:
        await probers.aclose()
        # The database thread ends here: close its connection rather than leave it to the GC.
        db.submit(connections.close_all).result()
        db.shutdown(wait=True)
