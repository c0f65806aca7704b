"""Operations: /metrics (only from configured addresses), JSON logs, `lifeline check`."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from lifeline import cli
from lifeline.core import deploychecks as checks
from lifeline.core.jsonlog import JsonFormatter
from lifeline.core.models import Library
from lifeline.core.notify import notify_email
from lifeline.health.models import ProbeConfig
from lifeline.registry.models import AccessRoute, Resource
from lifeline.settings import smtp_mailer


def scrape(client: Client, addr: str = "127.0.0.1") -> Any:
    return client.get("/metrics", REMOTE_ADDR=addr)


def value(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in the scrape")


@pytest.mark.django_db
def test_metrics_count_requests_and_read_the_queues(client: Client, library_a: Library) -> None:
    client.get("/healthz")
    # A notice still waiting in the outbox (its send is queued on commit: never, in this test).
    notify_email(library_a, ["a@example.edu"], "s", "b")
    resource = Resource.objects.create(library=library_a, key="r", name="R")
    route = AccessRoute.objects.create(resource=resource, kind="open_access", url="http://x.org/")
    ProbeConfig.objects.create(route=route, next_probe_at=timezone.now() - dt.timedelta(minutes=10))
    answer = scrape(client)
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/plain")
    text = answer.content.decode()
    assert 'lifeline_http_requests_total{method="GET",status="2xx",view="core:healthz"}' in text
    assert "lifeline_http_request_duration_seconds_bucket" in text
    assert value(text, "lifeline_outbox_backlog") == 1
    assert value(text, "lifeline_outbox_oldest_age_seconds") >= 0
    assert value(text, "lifeline_probe_overdue_routes") == 1
    assert 590 <= value(text, "lifeline_probe_lag_seconds") <= 3600
    assert "# TYPE lifeline_task_queue_depth gauge" in text
    # Unknown paths are labelled as one value, never by raw path.
    client.get("/no/such/page/" + "x" * 50)
    assert 'view="unmatched"' in scrape(client).content.decode()
    assert "xxxxx" not in scrape(client).content.decode()


@pytest.mark.django_db
def test_metrics_only_from_configured_addresses(client: Client, settings: Any) -> None:
    for addr in ("203.0.113.5", "10.1.2.3", "", "not an address", "::ffff:8.8.8.8"):
        assert scrape(client, addr).status_code == 404, addr
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    assert scrape(client, "10.1.2.3").status_code == 200
    assert scrape(client, "127.0.0.1").status_code == 404
    assert client.post("/metrics", REMOTE_ADDR="203.0.113.5").status_code == 404


@pytest.mark.django_db
def test_metrics_behind_a_proxy_read_the_scraper_address(client: Client, settings: Any) -> None:
    """Behind the reverse proxy every request comes from the proxy's address: the allow-list
    is checked against the client's address (core.clientip), not REMOTE_ADDR (issue 16)."""
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    settings.AXES_IPWARE_PROXY_COUNT = 0
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]

    def get(forwarded: str) -> int:
        return client.get(
            "/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded
        ).status_code

    assert get("203.0.113.5") == 404  # the world, through the proxy on loopback
    assert get("10.9.9.9") == 200


@pytest.mark.django_db
def test_metrics_task_queue_depth_with_the_database_backend(client: Client, settings: Any) -> None:
    from django_tasks_db.models import DBTaskResult

    from lifeline.core.testtasks import record_run

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    record_run.enqueue("m1")
    record_run.enqueue("m2")
    assert DBTaskResult.objects.count() == 2
    text = scrape(client).content.decode()
    assert 'lifeline_task_queue_depth{queue="default"} 2.0' in text
    assert value(text, "lifeline_task_queue_oldest_age_seconds") >= 0


def test_json_log_lines() -> None:
    formatter = JsonFormatter()
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord(
            "lifeline.x", logging.ERROR, __file__, 1, "图书馆 %s", ("ok",), sys.exc_info()
        )
    line = json.loads(formatter.format(record))
    assert (line["level"], line["logger"], line["message"]) == ("ERROR", "lifeline.x", "图书馆 ok")
    assert "ValueError: boom" in line["exception"] and line["time"].endswith("+00:00")


def ids(messages: list[Any]) -> set[str]:
    return {m.id for m in messages}


def test_deploy_checks_report_misconfiguration(
    settings: Any, monkeypatch: Any, tmp_path: Any
) -> None:
    monkeypatch.delenv("LIFELINE_FIELD_KEY", raising=False)
    monkeypatch.delenv("LIFELINE_FIELD_KEY_FILE", raising=False)
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    settings.SITE_URL = "http://127.0.0.1:8000"
    settings.SMTP_CONFIGURED = False
    settings.MAILERS = {"default": smtp_mailer("127.0.0.1", 25)}
    settings.DEMO_MODE = True
    settings.METRICS_ALLOWED_NETWORKS = ["0.0.0.0/0", "nonsense"]
    settings.DATA_DIR = tmp_path / "missing"
    found = ids(checks.check_reachable() + checks.check_mail() + checks.check_operations())
    assert found >= {
        "lifeline.W101", "lifeline.W102", "lifeline.W110", "lifeline.W120", "lifeline.W121",
        "lifeline.W123", "lifeline.E122", "lifeline.E124",
    }  # fmt: skip
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
    assert ids(checks.check_mail()) == {"lifeline.W111"}
    settings.SITE_URL = "http://lifeline.lib.example.edu.cn"
    assert "lifeline.W103" in ids(checks.check_reachable())


def test_deploy_checks_pass_when_configured(settings: Any, monkeypatch: Any, tmp_path: Any) -> None:
    monkeypatch.setenv("LIFELINE_FIELD_KEY", "a key of its own")
    settings.ALLOWED_HOSTS = ["lifeline.lib.example.edu.cn"]
    settings.SITE_URL = "https://lifeline.lib.example.edu.cn"
    settings.MAILERS = {"default": smtp_mailer("smtp.example.edu.cn", 587, use_tls=True)}
    settings.SMTP_CONFIGURED = True
    settings.DEMO_MODE = False
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.5/32"]
    settings.DATA_DIR = tmp_path
    assert checks.check_reachable() + checks.check_mail() + checks.check_operations() == []


def test_lifeline_check_runs_the_deploy_checks(monkeypatch: Any) -> None:
    seen: list[list[str]] = []
    monkeypatch.setattr(
        "django.core.management.execute_from_command_line", lambda argv: seen.append(argv)
    )
    cli.main(["check"])
    cli.main(["check", "--deploy", "--fail-level", "WARNING"])
    assert seen == [
        ["lifeline", "check", "--deploy"],
        ["lifeline", "check", "--deploy", "--fail-level", "WARNING"],
    ]
