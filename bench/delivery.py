"""Document delivery benchmarks (PostgreSQL): `python -m bench delivery [--rows N] [--seconds S]`.

1. Statistics for 100,000 requests (the whole statistics page: summary with median and 90th
   percentile, per month, type, channel, supplier), against `SELECT COUNT(*)` of the same table.
   Target: ≤ 1 s.
2. Intake under load: `lifeline serve --no-worker` (granian) on loopback, `wrk` POSTing new requests
   to /api/delivery/requests/ with a unique Idempotency-Key each; then every 201 must be one row and
   every row one 201 (nothing lost, nothing doubled). Reference: wrk on /healthz in the same run.
   Target: ≥ 300 requests/s.

Uses its own database (LIFELINE_BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/
lifeline_bench_delivery), created and migrated on first use.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._common import free_port

DB_URL = os.environ.get(
    "LIFELINE_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/lifeline_bench_delivery"
)
ROOT = Path(__file__).resolve().parent.parent

LUA = r"""
local counter = 0
local threads = {}
function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  created, repeated, failed = 0, 0, 0
end
request = function()
  counter = counter + 1
  local key = string.format("bench-%s-%d-%d", RUN, id, counter)
  local body = string.format('{"title": "Load test paper %s", "doc_type": "foreign_article", '
    .. '"source": "Bench Journal", "year": 2020}', key)
  return wrk.format("POST", "/api/delivery/requests/", {["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. TOKEN, ["Idempotency-Key"] = key,
    ["Host"] = "127.0.0.1"}, body)
end
response = function(status, headers, body)
  if status == 201 then created = created + 1
  elseif status == 200 then repeated = repeated + 1
  else failed = failed + 1 end
end
done = function(summary, latency, requests)
  local c, r, f = 0, 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("created"); r = r + t:get("repeated"); f = f + t:get("failed")
  end
  io.write(string.format("COUNTS created=%d repeated=%d failed=%d\n", c, r, f))
end
"""


def _ensure_database() -> None:
    import psycopg

    base, name = DB_URL.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def _setup_django() -> None:
    os.environ["LIFELINE_DATABASE_URL"] = DB_URL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lifeline.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _library() -> Any:
    from lifeline.core.models import Library

    lib, _ = Library.objects.get_or_create(code="bench", defaults={"name": "基准测试图书馆"})
    return lib


def seed(rows: int) -> Any:
    """`rows` requests over 2020 (96% supplied), made once and reused by later runs."""
    from lifeline.delivery.choices import DocType, Status, SupplierKind
    from lifeline.delivery.models import DeliveryRequest, Supplier

    lib = _library()
    have = DeliveryRequest.objects.filter(library=lib, external_id__startswith="seed2-").count()
    if have >= rows:
        return lib
    DeliveryRequest.objects.filter(library=lib, external_id__startswith="seed2-").delete()
    suppliers = [
        Supplier.objects.get_or_create(
            library=lib, name=n, defaults={"kind": SupplierKind.OUTSIDE}
        )[0]
        for n in ("worldlib其他数据库", "worldlib人工智能在线咨询", "CASHL")
    ]
    types = DocType.values
    start = dt.datetime(2020, 1, 1, 8, tzinfo=dt.UTC)
    batch: list[DeliveryRequest] = []
    for i in range(rows):
        created = start + dt.timedelta(minutes=(i * 524160) // rows)  # 364 days: all inside 2020
        supplied = i % 25 != 0
        batch.append(
            DeliveryRequest(
                library=lib,
                external_id=f"seed2-{i}",
                title=f"Paper {i}",
                item_key=f"seed2:{i}",
                doc_type=types[i % len(types)],
                status=Status.DELIVERED if supplied else Status.UNFILLED,
                channel=f"WorldLib群{i % 2 + 1}",
                supplier=suppliers[i % 3] if supplied else None,
                created_at=created,
                closed_at=created + dt.timedelta(hours=1 + i % 30),
                turnaround_hours=float(1 + i % 30) if supplied else None,
            )
        )
        if len(batch) == 5000:
            DeliveryRequest.objects.bulk_create(batch)
            batch = []
    DeliveryRequest.objects.bulk_create(batch)
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("ANALYZE delivery_deliveryrequest")
    return lib


def bench_statistics(rows: int, repeat: int = 5) -> dict[str, float]:
    from django.db import connection

    from lifeline.delivery.logic import reports

    lib = seed(rows)
    timings, reference = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        report = reports.build(lib, dt.date(2020, 1, 1), dt.date(2020, 12, 31))
        timings.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute(
                "SELECT COUNT(*) FROM delivery_deliveryrequest WHERE library_id = %s", [lib.pk]
            )
            cur.fetchone()
        reference.append(time.perf_counter() - t0)
    s = report["summary"]
    print(
        f"statistics of {s['requested']} requests: fill rate {s['fill_rate']}%, "
        f"median {s['median_hours']} h, "
        f"p90 {s['p90_hours']} h"
    )
    return {"stats_s": statistics.median(timings), "count_s": statistics.median(reference)}


def _wait(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("server did not start")


def _wrk(url: str, seconds: int, connections: int, script: str | None = None) -> tuple[float, str]:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(
        [*cmd, url], capture_output=True, text=True, timeout=seconds + 60, check=True
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return rate, out


def bench_intake(seconds: int, connections: int) -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from django.db.models import Count

    from lifeline.core.models import ApiToken, Patron
    from lifeline.delivery.models import DeliveryRequest

    if not shutil.which("wrk"):
        raise RuntimeError("wrk is not installed")
    lib = _library()
    user, _ = get_user_model().objects.get_or_create(
        username="bench_patron", defaults={"email": "bench@example.edu"}
    )
    Patron.objects.get_or_create(user=user, defaults={"library": lib, "display_name": "基准"})
    _, token = ApiToken.issue(user, "bench")
    run = str(int(time.time()))
    port = free_port()
    env = {
        **os.environ,
        "LIFELINE_DATABASE_URL": DB_URL,
        "LIFELINE_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LIFELINE_LOG_LEVEL": "WARNING",
        "LIFELINE_DATA_DIR": tempfile.mkdtemp(prefix="lifeline-bench-"),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "lifeline", "serve", "--no-worker", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait(port)
        base = f"http://127.0.0.1:{port}"
        _wrk(base + "/healthz", 3, connections)  # warm every worker
        ref_rate, _ = _wrk(base + "/healthz", seconds, connections)
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
            fh.write(f'RUN = "{run}"\nTOKEN = "{token}"\n' + LUA)
        before = DeliveryRequest.objects.filter(
            library=lib, idempotency_key__startswith=f"bench-{run}-"
        ).count()
        rate, out = _wrk(base + "/api/delivery/requests/", seconds, connections, fh.name)
        counts = dict(re.findall(r"(created|repeated|failed)=(\d+)", out))
        errors = re.search(r"Socket errors: (.*)", out)
        mine = DeliveryRequest.objects.filter(
            library=lib, idempotency_key__startswith=f"bench-{run}-"
        )
        rows = mine.count() - before
        # Each key was sent once: a title (which carries the key) twice would be a doubled request.
        doubled = mine.values("title").annotate(n=Count("id")).filter(n__gt=1).exists()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=40)
    return {
        "intake_rps": rate,
        "healthz_rps": ref_rate,
        "created": int(counts.get("created", 0)),
        "repeated": int(counts.get("repeated", 0)),
        "failed": int(counts.get("failed", 0)),
        "rows": rows,
        "doubled": doubled,
        "socket_errors": errors.group(1) if errors else "none",
    }


def main(argv: list[str]) -> int:
    rows = int(next((a.split("=", 1)[1] for a in argv if a.startswith("--rows=")), 100_000))
    seconds = int(next((a.split("=", 1)[1] for a in argv if a.startswith("--seconds=")), 15))
    connections = int(
        next((a.split("=", 1)[1] for a in argv if a.startswith("--connections=")), 32)
    )
    _ensure_database()
    _setup_django()
    print(
        f"machine: {os.cpu_count()} cores, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, PostgreSQL"
    )
    s = bench_statistics(rows)
    print(
        f"statistics page for {rows} requests: {s['stats_s'] * 1000:.0f} ms "
        f"(SELECT COUNT(*) {s['count_s'] * 1000:.1f} ms, ratio {s['stats_s'] / s['count_s']:.0f}x) "
        f"-> {'OK' if s['stats_s'] <= 1 else 'OVER'} target 1 s"
    )
    i = bench_intake(seconds, connections)
    # wrk stops with requests in flight: those are stored but their 201 is never counted, so up to
    # one per connection may be rows without a counted answer. Fewer rows than 201s = lost.
    inflight = i["rows"] - i["created"] - i["repeated"]
    lost_or_doubled = inflight < 0 or inflight > connections or i["doubled"] or i["repeated"]
    print(
        f"intake: {i['intake_rps']:.0f} requests/s (healthz {i['healthz_rps']:.0f}/s, ratio "
        f"{i['intake_rps'] / i['healthz_rps']:.2f}); 201={i['created']} 200={i['repeated']} "
        f"other={i['failed']} "
        f"rows={i['rows']} (in flight at stop {inflight}) socket errors: {i['socket_errors']} -> "
        f"{'LOST/DOUBLED' if lost_or_doubled else 'none lost or doubled'}; "
        f"{'OK' if i['intake_rps'] >= 300 else 'UNDER'} target 300/s"
    )
    return 1 if lost_or_doubled else 0
