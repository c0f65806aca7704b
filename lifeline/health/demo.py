"""Demo data of Access health for the seed library: route states, their history and incidents.

Probes of the demo stay switched off (the routes point at real vendors); the rows below are what
the probe logic would have written. The incidents go through the app's own domain functions
(`apply_outcome`, `file_report`, `escalate`, `vendor_acknowledged`, ...), so states, timelines
and vendor figures agree. Re-running replaces this app's rows of the library; the notices those
functions queue are deleted, so nothing is sent.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from lifeline.core.models import Library, Notification
from lifeline.health import standin
from lifeline.health.choices import EventKind, FailureKind, HealthState, IncidentKind
from lifeline.health.logic import incidents
from lifeline.health.logic.probe import ProbeOutcome, ProbeSpec
from lifeline.health.logic.states import apply_outcome
from lifeline.health.models import Flip, Incident, ProbeConfig, ProbeResult
from lifeline.registry.choices import RouteKind
from lifeline.registry.models import AccessRoute

SEED = 20200217
# When the library started watching its routes: the first weeks of the 2020 epidemic.
WATCH_START = dt.datetime(2020, 1, 6, 9, 0)
HISTORY_DAYS = 35


def _aware(value: dt.datetime) -> dt.datetime:
    return timezone.make_aware(value)


def _route(library: Library, resource_key: str, *kinds: str) -> AccessRoute | None:
    routes = AccessRoute.objects.filter(
        resource__library=library, resource__key=resource_key, resource__parent__isnull=True
    ).select_related("resource__library", "resource__vendor")
    for kind in kinds:
        route = routes.filter(kind=kind).order_by("pk").first()
        if route is not None:
            return route
    return routes.order_by("pk").first()


def _probe(
    config: ProbeConfig,
    at: dt.datetime,
    state: str,
    *,
    failure: str = "",
    error: str = "",
    status: int | None = 200,
    ms: int = 600,
) -> None:
    """One probe result through the prober's own rule, confirmed by its retries when it changes
    the state (as the worker does: retries taken `retry_seconds` apart)."""
    spec = ProbeSpec(config_id=config.pk, route_id=config.route_id, url=config.target_url())
    for attempt in range(config.retries + 1 if state != config.state else 1):
        outcome = ProbeOutcome(
            spec=spec,
            started_at=at,
            state=state,
            failure=failure,
            error=error,
            status_code=status,
            response_ms=ms,
            final_url=spec.url,
            address="203.0.113.10",
        )
        apply_outcome(config, outcome, at + dt.timedelta(seconds=config.retry_seconds * attempt))
        if config.state == state:
            break


def _history(
    library: Library, rng: random.Random, anchor: dt.datetime, skip: set[int]
) -> tuple[int, int]:
    """Flips of every other route: up since the watch began, a few slow spells in the last
    weeks, two routes slow right now. Bulk-written, as many rows as the prober would leave."""
    configs = list(
        ProbeConfig.objects.filter(route__resource__library=library)
        .exclude(route_id__in=skip)
        .select_related("route")
        .order_by("route_id")
    )
    start = _aware(WATCH_START)
    flips: list[Flip] = []
    results: list[ProbeResult] = []
    degraded_now = {c.route_id for c in rng.sample(configs, min(2, len(configs)))}
    for config in configs:
        url = config.target_url()
        flips.append(
            Flip(route_id=config.route_id, old=HealthState.UNKNOWN, new=HealthState.UP, at=start)
        )
        state, since = HealthState.UP.value, start
        spells = rng.choices([0, 0, 0, 1, 1, 2], k=1)[0] if rng.random() < 0.35 else 0
        for _spell in range(spells):
            begin = anchor - dt.timedelta(
                days=rng.randint(1, HISTORY_DAYS - 1), minutes=rng.randint(0, 1439)
            )
            minutes = rng.randint(15, 180)
            failure = rng.choice([FailureKind.SLOW, FailureKind.SLOW, FailureKind.TOO_LARGE])
            ms = rng.randint(5200, 14000)
            error = f"{ms} ms" if failure == FailureKind.SLOW else "body > 5 MB"
            flips.append(
                Flip(
                    route_id=config.route_id,
                    old="up",
                    new="degraded",
                    at=begin,
                    failure=failure,
                    reason=error,
                )
            )
            flips.append(
                Flip(
                    route_id=config.route_id,
                    old="degraded",
                    new="up",
                    at=begin + dt.timedelta(minutes=minutes),
                )
            )
            results.append(
                ProbeResult(
                    route_id=config.route_id,
                    at=begin,
                    url=url,
                    state="degraded",
                    failure=failure,
                    error=error,
                    status_code=200,
                    response_ms=ms,
                )
            )
            since = max(since, begin + dt.timedelta(minutes=minutes))
        config.last_failure, config.last_error = "", ""
        config.last_response_ms = rng.randint(180, 1600)
        if config.route_id in degraded_now:
            begin = anchor - dt.timedelta(minutes=rng.randint(40, 300))
            ms = rng.randint(6000, 9500)
            flips.append(
                Flip(
                    route_id=config.route_id,
                    old="up",
                    new="degraded",
                    at=begin,
                    failure=FailureKind.SLOW,
                    reason=f"{ms} ms",
                )
            )
            results.append(
                ProbeResult(
                    route_id=config.route_id,
                    at=begin,
                    url=url,
                    state="degraded",
                    failure=FailureKind.SLOW,
                    error=f"{ms} ms",
                    status_code=200,
                    response_ms=ms,
                )
            )
            state, since = HealthState.DEGRADED.value, begin
            config.last_failure, config.last_error = FailureKind.SLOW.value, f"{ms} ms"
            config.last_response_ms = ms
        config.state, config.state_since = state, since
        config.last_checked_at = anchor - dt.timedelta(seconds=rng.randint(0, 290))
        config.last_status_code = 200
        config.pending_state, config.pending_count = "", 0
    Flip.objects.bulk_create(flips)
    ProbeResult.objects.bulk_create(results)
    ProbeConfig.objects.bulk_update(
        configs,
        [
            "state",
            "state_since",
            "last_checked_at",
            "last_failure",
            "last_error",
            "last_status_code",
            "last_response_ms",
            "pending_state",
            "pending_count",
        ],
        batch_size=200,
    )
    return len(flips), len(results)


def _config(route: AccessRoute) -> ProbeConfig:
    config = ProbeConfig.objects.select_related("route__resource__library").get(route=route)
    config.route = route
    return config


def _epidemic_2020(library: Library) -> None:
    """17 February 2020, the first day of online teaching: the VPN gave way under the load."""
    route = _route(library, "cnki", RouteKind.VPN)
    if route is None:
        return
    config = _config(route)
    _probe(config, _aware(dt.datetime(2020, 1, 6, 9, 0)), HealthState.UP)
    _probe(
        config,
        _aware(dt.datetime(2020, 2, 17, 8, 40)),
        HealthState.DOWN,
        failure=FailureKind.TIMEOUT,
        error="Timed out after 15 s (VPN gateway: concurrent sessions exhausted)",
        status=None,
        ms=15000,
    )
    incident = route.incidents.order_by("-opened_at").first()
    if incident is None:
        return
    incidents.add_event(
        incident,
        EventKind.NOTE,
        "VPN 并发授权已满（2000 个），信息中心临时扩容至 8000 个；请读者优先使用 CARSI 登录。"
        " / VPN licences exhausted; the IT centre is raising the limit. Use CARSI meanwhile.",
        at=_aware(dt.datetime(2020, 2, 17, 9, 30)),
    )
    _probe(config, _aware(dt.datetime(2020, 2, 17, 15, 20)), HealthState.UP, ms=900)


def _watched(
    library: Library, key: str, kind: str, fallback: str
) -> tuple[AccessRoute, ProbeConfig] | None:
    """The resource's route of that kind (or the fallback) with its probe settings, up since
    watching began unless it already has a state."""
    route = _route(library, key, kind, fallback)
    if route is None:
        return None
    config = _config(route)
    if config.state == HealthState.UNKNOWN:
        _probe(config, _aware(WATCH_START), HealthState.UP)
    return route, config


def _resolved_last_week(library: Library, anchor: dt.datetime, staff: Any) -> None:
    """CNKI through CARSI: the vendor's identity-federation certificate expired; escalated,
    acknowledged in 1.5 h, fixed in 5 h."""
    watched = _watched(library, "cnki", RouteKind.CARSI, RouteKind.VPN)
    if watched is None:
        return
    route, config = watched
    day = timezone.localtime(anchor - dt.timedelta(days=6)).replace(
        hour=9, minute=10, second=0, microsecond=0
    )
    _probe(
        config,
        day,
        HealthState.DOWN,
        failure=FailureKind.KEYWORD_FORBIDDEN,
        error="“请登录” found: CARSI login returns to the sign-in page (SAML metadata expired)",
        ms=1300,
    )
    incident = route.incidents.order_by("-opened_at").first()
    if incident is None:
        return
    incidents.acknowledge(
        incident, staff, now=day + dt.timedelta(minutes=20), note="已确认，正在联系知网。"
    )
    escalation = incidents.escalate(incident, user=staff, now=day + dt.timedelta(minutes=35))
    incidents.vendor_acknowledged(escalation, now=day + dt.timedelta(hours=2, minutes=5))
    incidents.vendor_resolved(escalation, now=day + dt.timedelta(hours=5, minutes=35))
    _probe(config, day + dt.timedelta(hours=5, minutes=50), HealthState.UP, ms=820)


def _resolved_earlier(library: Library, anchor: dt.datetime, staff: Any) -> None:
    """Wanfang through the VPN, 19 days ago: a 502 for three hours; the vendor answered late."""
    watched = _watched(library, "wanfang", RouteKind.VPN, RouteKind.CARSI)
    if watched is None:
        return
    route, config = watched
    day = timezone.localtime(anchor - dt.timedelta(days=19)).replace(
        hour=14, minute=5, second=0, microsecond=0
    )
    _probe(
        config,
        day,
        HealthState.DOWN,
        failure=FailureKind.STATUS,
        error="HTTP 502 Bad Gateway",
        status=502,
        ms=2100,
    )
    incident = route.incidents.order_by("-opened_at").first()
    if incident is None:
        return
    escalation = incidents.escalate(incident, user=staff, now=day + dt.timedelta(minutes=30))
    incidents.vendor_acknowledged(escalation, now=day + dt.timedelta(hours=9, minutes=40))
    incidents.vendor_resolved(escalation, now=day + dt.timedelta(hours=21, minutes=30))
    _probe(config, day + dt.timedelta(hours=21, minutes=45), HealthState.UP, ms=700)


def _open_now(library: Library, anchor: dt.datetime, staff: Any) -> None:
    """ScienceDirect through CARSI is down now: a reader reported it, the vendor has been
    written to and has not answered yet."""
    watched = _watched(library, "sd", RouteKind.CARSI, RouteKind.PROXY)
    if watched is None:
        return
    route, config = watched
    down_at = anchor - dt.timedelta(hours=5, minutes=25)
    error = "“Access denied” found: institution not recognised after CARSI login"
    _probe(
        config,
        down_at,
        HealthState.DOWN,
        failure=FailureKind.KEYWORD_FORBIDDEN,
        error=error,
        status=200,
        ms=1800,
    )
    # Each probe since then saw the same: evidence for the vendor.
    ProbeResult.objects.bulk_create(
        [
            ProbeResult(
                route_id=route.pk,
                at=down_at + dt.timedelta(minutes=30 * i),
                url=config.target_url(),
                state="down",
                failure=FailureKind.KEYWORD_FORBIDDEN,
                error=error,
                status_code=200,
                response_ms=1700 + 37 * i,
                address="203.0.113.10",
            )
            for i in range(1, 11)
        ]
    )
    ProbeConfig.objects.filter(pk=config.pk).update(last_checked_at=anchor)
    incidents.file_report(
        resource=route.resource,
        route=route,
        description=(
            "在家通过 CARSI 登录 ScienceDirect 后提示 “Access denied”，无法下载全文。"
            " / After CARSI login ScienceDirect says “Access denied”."
        ),
        contact_name="张同学",
        contact_email="student@nefu.example.edu",
        now=down_at + dt.timedelta(minutes=50),
    )
    incident = route.incidents.order_by("-opened_at").first()
    if incident is None:
        return
    incidents.acknowledge(
        incident, staff, now=down_at + dt.timedelta(hours=1), note="请读者暂用 VPN 访问。"
    )
    incidents.escalate(incident, user=staff, now=down_at + dt.timedelta(hours=1, minutes=10))


def _suspected(library: Library, anchor: dt.datetime) -> None:
    """The usage-drop signal: Wiley is up by the probes, but downloads collapsed yesterday."""
    route = _route(library, "wiley", RouteKind.CARSI)
    resource = route.resource if route else None
    if resource is None:
        return
    day = timezone.localtime(anchor).date() - dt.timedelta(days=2)
    evidence = {"resource_id": resource.pk, "day": day.isoformat(), "observed": 4, "baseline": 187}
    reason = (
        f"{resource} 的使用量在 {day.isoformat()} 降至 4 次（此前日均约 187 次），而探测显示可用。"
        f" / Use of {resource.display('name')} fell to 4 on {day.isoformat()} against about 187 "
        "a day before, while the probes say it is up."
    )
    # What `services.raise_suspected_fault` does, at the time the daily job ran.
    incidents.open_or_join(
        resource,
        None,
        kind=IncidentKind.SUSPECTED,
        cause=reason,
        now=anchor - dt.timedelta(hours=17, minutes=45),
        event_text=reason,
        data=evidence,
    )


def load(library: Library, today: dt.date) -> None:
    rng = random.Random(SEED)
    # "Now" of the demo: the start of `today`, so every row is in the past whenever it runs.
    anchor = _aware(dt.datetime.combine(today, dt.time(0, 0)))
    routes = AccessRoute.objects.filter(resource__library=library)
    Incident.objects.filter(library=library).delete()
    Flip.objects.filter(route__in=routes).delete()
    ProbeResult.objects.filter(route__in=routes).delete()
    # The demo's probes are off and stay off; their state fields start blank on every load.
    ProbeConfig.objects.bulk_create(
        [ProbeConfig(route_id=pk, enabled=False) for pk in routes.values_list("pk", flat=True)],
        ignore_conflicts=True,
    )
    ProbeConfig.objects.filter(route__in=routes).update(
        enabled=False,
        state=HealthState.UNKNOWN,
        state_since=None,
        pending_state="",
        pending_count=0,
        next_probe_at=anchor,
    )
    staff = get_user_model().objects.filter(username="tech").first()
    _epidemic_2020(library)
    _resolved_earlier(library, anchor, staff)
    _resolved_last_week(library, anchor, staff)
    _open_now(library, anchor, staff)
    touched = set(
        Flip.objects.filter(route__in=routes).values_list("route_id", flat=True).distinct()
    )
    _history(library, rng, anchor, touched)
    ProbeConfig.objects.filter(route_id__in=touched).update(last_checked_at=anchor)
    _suspected(library, anchor)
    # The steps above queue notices (vendor e-mails, the reader's receipt): none is sent.
    Notification.objects.filter(library=library, kind__startswith="health.").delete()
    if standin.enabled():
        # Demo mode: a few resources get a route on the loopback stand-in vendor, probed live.
        standin.setup(library, get_user_model().objects.filter(is_superuser=True).first())
