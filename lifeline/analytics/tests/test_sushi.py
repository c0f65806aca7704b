"""SUSHI harvesting against a loopback server built from the official COUNTER_SUSHI API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from lifeline.analytics.choices import HarvestStatus
from lifeline.analytics.models import SushiCredential, SushiHarvest, UsageRecord, UsageReport
from lifeline.analytics.schedule import JOBS
from lifeline.analytics.sushi import harvest_due, reimport, run_harvest, start_harvest
from lifeline.analytics.tests.sushi_server import R51_SAMPLE, LoopbackSushi
from lifeline.analytics.tests.test_counter_import import expected_totals
from lifeline.core.schedule import run_due

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2023, 1, 5, 3, 0, tzinfo=dt.UTC)


@pytest.fixture
def server(counter_data: Path, settings: Any) -> Iterator[LoopbackSushi]:
    # Harvests go through core.outbound: the loopback vendor is an allowed internal network here.
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8", "::1/128"]
    with LoopbackSushi(counter_data) as srv:
        yield srv
    assert srv.errors == [], "the loopback server answered outside the API document"


def account(
    library: Any, server: LoopbackSushi, release: str = "5.1", **kw: Any
) -> SushiCredential:
    fields = {
        "name": "Loopback",
        "base_url": server.base_url(release),
        "release": release,
        "customer_id": server.customer_id,
        "requestor_id": server.requestor_id,
        "api_key": server.api_key,
        "reports": "TR_J1",
        "timeout_seconds": 5,
    } | kw
    return SushiCredential.objects.create(library=library, **fields)


def harvest(cred: SushiCredential, code: str = "TR_J1") -> SushiHarvest:
    return run_harvest(
        start_harvest(cred, code, dt.date(2022, 1, 1), dt.date(2022, 12, 31)), now=NOW
    )


@pytest.mark.parametrize("release", ["5.1", "5"])
def test_every_report_is_harvested_with_matching_totals(
    library_a: Any, server: LoopbackSushi, counter_data: Path, release: str
) -> None:
    cred = account(library_a, server, release)
    for code, stem in R51_SAMPLE.items():
        done = harvest(cred, code)
        assert done.status == HarvestStatus.SUCCESS, (code, done.message)
        sample = (
            counter_data / "r51" / f"{stem}_sample_r51.json"
            if release == "5.1"
            else counter_data / "r50" / f"Sample-{code}.json"
        )
        assert done.report is not None and done.report.totals == expected_totals(sample)
        assert bytes(done.raw).startswith(b"{") and done.http_status == 200
    _path, params = server.requests[-1]
    assert (
        params["customer_id"] == "cust-1"
        and params["begin_date"] == "2022-01"
        and params["end_date"] == "2022-12"
    )


def test_api_key_is_encrypted_at_rest(library_a: Any, server: LoopbackSushi) -> None:
    cred = account(library_a, server)
    with connection.cursor() as cursor:
        cursor.execute("SELECT api_key FROM analytics_sushicredential WHERE id = %s", [cred.pk])
        stored = cursor.fetchone()[0]
    assert stored and server.api_key not in stored
    assert SushiCredential.objects.get(pk=cred.pk).api_key == server.api_key


@pytest.mark.parametrize(
    ("code", "status", "retry", "imported"),
    [
        (1011, HarvestStatus.QUEUED, dt.timedelta(hours=1), False),
        (1010, HarvestStatus.UNAVAILABLE, dt.timedelta(hours=1), False),
        (1000, HarvestStatus.UNAVAILABLE, dt.timedelta(hours=6), False),
        (1020, HarvestStatus.RATE_LIMITED, dt.timedelta(seconds=120), False),
        (1030, HarvestStatus.INVALID, None, False),
        (2000, HarvestStatus.UNAUTHORISED, None, False),
        (2010, HarvestStatus.UNAUTHORISED, None, False),
        (2020, HarvestStatus.UNAUTHORISED, None, False),
        (3020, HarvestStatus.INVALID, None, False),
        (3030, HarvestStatus.NO_USAGE, None, False),
        (3031, HarvestStatus.PARTIAL, dt.timedelta(days=3), True),
        (3032, HarvestStatus.PARTIAL, None, True),
        (3040, HarvestStatus.PARTIAL, dt.timedelta(days=3), True),
        (3050, HarvestStatus.SUCCESS, None, True),
    ],
)
def test_each_exception(
    library_a: Any,
    server: LoopbackSushi,
    code: int,
    status: str,
    retry: dt.timedelta | None,
    imported: bool,
) -> None:
    server.behaviour["TR_J1"] = code
    done = harvest(account(library_a, server))
    assert done.status == status, done.message
    assert done.exception_codes == [code]
    assert str(code) in done.message
    assert done.retry_at == (NOW + retry if retry else None)
    assert (done.report is not None) == imported
    assert UsageReport.objects.exists() == imported


def test_real_credential_errors(library_a: Any, server: LoopbackSushi) -> None:
    assert harvest(account(library_a, server, api_key="wrong")).exception_codes == [2020]
    assert (
        harvest(account(library_a, server, requestor_id="nobody")).status
        == HarvestStatus.UNAUTHORISED
    )
    assert harvest(account(library_a, server, customer_id="other")).exception_codes == [2010]


def test_html_truncated_and_hanging_servers(library_a: Any, server: LoopbackSushi) -> None:
    cred = account(library_a, server, timeout_seconds=1)
    server.behaviour["TR_J1"] = "html"
    done = harvest(cred)
    assert (
        done.status == HarvestStatus.INVALID
        and "HTML" in done.message
        and b"sign in" in bytes(done.raw)
    )
    server.behaviour["TR_J1"] = "truncated"
    done = harvest(cred)
    assert done.status == HarvestStatus.INVALID and "cut short" in done.message
    server.behaviour["TR_J1"] = "hang"
    done = harvest(cred)
    assert (
        done.status == HarvestStatus.FAILED
        and "1 seconds" in done.message
        and done.retry_at is not None
    )
    assert not UsageRecord.objects.exists()


def test_unreachable_server(library_a: Any, server: LoopbackSushi) -> None:
    done = harvest(account(library_a, server, base_url="http://127.0.0.1:9/r51"))
    assert done.status == HarvestStatus.FAILED and done.retry_at is not None


def test_queued_then_retried_by_the_daily_job(library_a: Any, server: LoopbackSushi) -> None:
    cred = account(library_a, server)
    server.behaviour["TR_J1"] = 1011
    first = harvest(cred)
    assert first.status == HarvestStatus.QUEUED
    server.behaviour.clear()
    # Before the retry time nothing is retried (but last month's harvest starts).
    harvest_due(now=NOW + dt.timedelta(minutes=30))
    first.refresh_from_db()
    assert first.attempts == 1
    harvest_due(now=NOW + dt.timedelta(hours=2))
    first.refresh_from_db()
    assert first.status == HarvestStatus.SUCCESS and first.attempts == 2


def test_rate_limit_backs_off_exponentially_without_retry_after(
    library_a: Any, server: LoopbackSushi
) -> None:
    from lifeline.analytics.sushi import _retry_after

    assert [_retry_after(None, n).total_seconds() for n in (1, 2, 3)] == [60, 120, 240]


def test_monthly_harvest_runs_once_per_month(library_a: Any, server: LoopbackSushi) -> None:
    account(library_a, server, reports="TR_J1,DR_D2")
    done = harvest_due(now=NOW)
    assert sorted(h.report_code for h in done) == ["DR_D2", "TR_J1"]
    assert {(h.begin, h.end) for h in done} == {(dt.date(2022, 12, 1), dt.date(2022, 12, 31))}
    count = len(server.requests)
    assert harvest_due(now=NOW + dt.timedelta(hours=1)) == []
    assert len(server.requests) == count


def test_raw_response_reimports_without_double_counting(
    library_a: Any, server: LoopbackSushi
) -> None:
    done = harvest(account(library_a, server))
    before = sum(UsageRecord.objects.values_list("count", flat=True))
    again = reimport(done)
    assert again.report is not None and again.report.pk != done.pk
    assert sum(UsageRecord.objects.values_list("count", flat=True)) == before
    assert UsageReport.objects.count() == 1


def test_scheduler_enqueues_the_harvest(library_a: Any) -> None:
    assert run_due(now=timezone.now(), jobs=JOBS) == [
        "analytics.sushi_harvest",
        "analytics.usage_drop",
    ]


def test_server_speaks_the_api(server: LoopbackSushi) -> None:
    import httpx

    base = server.base_url()
    creds = {"customer_id": "cust-1", "requestor_id": "req-1", "api_key": "key-1"}
    assert httpx.get(f"{base}/status", timeout=5).json()[0]["Service_Active"] is True
    assert (
        httpx.get(f"{base}/members", params=creds, timeout=5).json()[0]["Customer_ID"] == "cust-1"
    )
    assert len(httpx.get(f"{base}/reports", params=creds, timeout=5).json()) == 16
    missing = httpx.get(f"{base}/reports/tr_j1", params=creds, timeout=5)
    assert missing.status_code == 400 and missing.json()["Code"] == 1030
    base50 = server.base_url("5")
    assert httpx.get(f"{base50}/reports", params=creds, timeout=5).status_code == 200
