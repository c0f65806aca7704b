"""Prometheus metrics at `/metrics`.

Requests are counted by a middleware (method, status class, view) with a latency histogram.
`lifeline serve` runs several web processes: it points `PROMETHEUS_MULTIPROC_DIR` at an empty
directory under `DATA_DIR` before starting them, so every process writes its counters there and
a scrape sums them (prometheus-client's multiprocess mode). The queue figures are read from the
database at scrape time: task queue depth and the age of the oldest waiting task, access-probe
lag (how late the most overdue probe is, how many are overdue), outbox backlog and its oldest
notice. The page answers only to the addresses in `METRICS_ALLOWED_NETWORKS` (default loopback);
everyone else gets a 404, so the endpoint's existence is not advertised.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import time
from collections.abc import Callable, Iterator
from functools import lru_cache

from django.conf import settings
from django.db.models import Min
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils import timezone
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from lifeline.core.clientip import client_ip

REQUESTS = Counter(
    "lifeline_http_requests",
    "HTTP requests answered, by method, status class and view.",
    ["method", "status", "view"],
)
LATENCY = Histogram(
    "lifeline_http_request_duration_seconds",
    "Time to answer an HTTP request, by view.",
    ["view"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
PROBE_OVERDUE_AFTER = dt.timedelta(seconds=30)


@lru_cache(maxsize=4096)
def _view_name(path: str) -> str:
    # Label by URL name, never by raw path (unbounded label values would grow the registry).
    try:
        match = resolve(path)
    except Resolver404:
        return "unmatched"
    return match.view_name or "unnamed"


class MetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        began = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name if match is not None else "") or _view_name(request.path_info)
        if view != "core:metrics":
            REQUESTS.labels(request.method or "", f"{response.status_code // 100}xx", view).inc()
            LATENCY.labels(view).observe(time.perf_counter() - began)
        return response


def _age(now: dt.datetime, since: dt.datetime | None) -> float:
    return max(0.0, (now - since).total_seconds()) if since is not None else 0.0


class QueueCollector(Collector):
    """Figures read from the database at scrape time (a few aggregate queries)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from lifeline.core.choices import NotificationStatus
        from lifeline.core.models import Notification
        from lifeline.health.models import ProbeConfig

        now = timezone.now()
        waiting = Notification.objects.filter(
            status__in=[NotificationStatus.PENDING, NotificationStatus.SENDING]
        )
        backlog = waiting.aggregate(oldest=Min("created_at"))
        yield GaugeMetricFamily(
            "lifeline_outbox_backlog", "Notifications not yet sent.", value=waiting.count()
        )
        yield GaugeMetricFamily(
            "lifeline_outbox_oldest_age_seconds",
            "Age of the oldest notification not yet sent.",
            value=_age(now, backlog["oldest"]),
        )
        failed = Notification.objects.filter(status=NotificationStatus.FAILED).count()
        yield GaugeMetricFamily(
            "lifeline_outbox_failed", "Notifications given up after retries.", value=failed
        )
        overdue = ProbeConfig.objects.filter(
            enabled=True, route__is_active=True, next_probe_at__lt=now - PROBE_OVERDUE_AFTER
        )
        lag = overdue.aggregate(oldest=Min("next_probe_at"))
        yield GaugeMetricFamily(
            "lifeline_probe_lag_seconds",
            "How late the most overdue access probe is (0 when none is late).",
            value=_age(now, lag["oldest"]),
        )
        yield GaugeMetricFamily(
            "lifeline_probe_overdue_routes",
            f"Enabled routes whose probe is more than {PROBE_OVERDUE_AFTER.seconds} s late.",
            value=overdue.count(),
        )
        yield from _task_queue(now)


def _task_queue(now: dt.datetime) -> Iterator[GaugeMetricFamily]:
    depth = GaugeMetricFamily(
        "lifeline_task_queue_depth", "Background tasks waiting to run, by queue.", labels=["queue"]
    )
    age = GaugeMetricFamily(
        "lifeline_task_queue_oldest_age_seconds",
        "Age of the oldest background task waiting to run, by queue.",
        labels=["queue"],
    )
    if "django_tasks_db" in settings.INSTALLED_APPS and "DatabaseBackend" in str(
        settings.TASKS["default"]["BACKEND"]
    ):
        from django.db.models import Count
        from django_tasks_db.models import DBTaskResult

        rows = (
            DBTaskResult.objects.ready()
            .values("queue_name")
            .annotate(n=Count("id"), oldest=Min("enqueued_at"))
        )
        for row in rows:
            depth.add_metric([row["queue_name"]], row["n"])
            age.add_metric([row["queue_name"]], _age(now, row["oldest"]))
    yield depth
    yield age


def allowed(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    return any(
        ip in ipaddress.ip_network(net, strict=False)
        for net in getattr(settings, "METRICS_ALLOWED_NETWORKS", ["127.0.0.0/8", "::1/128"])
    )


def metrics_view(request: HttpRequest) -> HttpResponse:
    # The scraper's own address behind the trusted proxies, not the proxy's (issue 16).
    if not allowed(client_ip(request) or ""):
        raise Http404
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        for collector in (REQUESTS, LATENCY):
            registry.register(collector)
    registry.register(QueueCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
