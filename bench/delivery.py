"""Document delivery benchmarks (PostgreSQL): `python -m bench delivery [--rows N] [--seconds S]`.

1. Statistics for 100,000 requests (the whole statistics page: summary with median and 90th
   percentile, per month, type, channel, supplier), against `SELECT COUNT(*)` of the same table.
   Target: ≤ 1 s.
2. Intake under load: `lifeline serve --no-worker` (granian) on loopback, `wrk` POSTing new requests
   to /api/delivery/requests/ with a unique Idempotency-Key each; then every 201 must be one row and
   every row one 201 (nothing lost, nothing doubled). Every request names a journal ISSN, so each
   one goes through the KBART deflection check against the library's 20,000 held titles: one in four
   is held (answered at once with the access link), the rest go to staff. Reference: wrk on /healthz
   in the same run. Target: ≥ 300 requests/s.

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
  -- One in four asks for a held journal (deflected), the rest for one the library lacks.
  local issn = (counter % 4 == 0) and HELD_ISSN or MISSING_ISSN
  local body = string.format('{"title": "Load test paper %s", "doc_type": "foreign_article", '
    .. '"source": "Bench Journal", "year": 2020, "issn": "%s"}', key, issn)
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


HELD_ISSN = "0028-0836"  # Nature: held from 2000, so the 2020 requests are answered at once
MISSING_ISSN = "0378-1127"  # not among the held titles: goes to staff
KBART_TITLES = 20_000


def _issn(n: int) -> str:
    digits = f"{n:07d}"
    check = (11 - sum(int(d) * w for d, w in zip(digits, range(8, 1, -1), strict=True)) % 11) % 11
    return f"{digits[:4]}-{digits[4:]}{'X' if check == 10 else check}"


def seed_holdings(lib: Any) -> None:
    """A KBART list of 20,000 journals (plus Nature) on an active resource of the bench library,
    so the deflection check of every request searches a realistic index. Made once."""
    from lifeline.registry.choices import RouteKind
    from lifeline.registry.models import AccessRoute, KbartTitle, Resource

    resource, _ = Resource.objects.get_or_create(
        library=lib, key="bench-kbart", defaults={"name": "基准期刊包", "homepage": "https://e.x/"}
    )
    if KbartTitle.objects.filter(resource=resource).count() > KBART_TITLES:
        return
    KbartTitle.objects.filter(resource=resource).delete()
    AccessRoute.objects.get_or_create(
        resource=resource, kind=RouteKind.OPEN_ACCESS, defaults={"url": "https://e.x/journals/"}
    )
    # Identifiers from 5,000,000 up: none of them is either bench ISSN.
    titles = [
        KbartTitle(
            resource=resource,
            publication_title=f"Journal {i}",
            print_identifier=_issn(5_000_000 + 2 * i),
            online_identifier=_issn(5_000_001 + 2 * i),
            date_first_issue_online=dt.date(1990, 1, 1),
        )
        for i in range(KBART_TITLES)
    ]
    titles.append(
        KbartTitle(
            resource=resource,
            publication_title="Nature",
            print_identifier=HELD_ISSN,
            online_identifier="1476-4687",
            date_first_issue_online=dt.date(2000, 1, 1),
            title_url="https://www.nature.com/nature/",
        )
    )
    KbartTitle.objects.bulk_create(titles, batch_size=5000)
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("ANALYZE registry_kbarttitle")


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


def _burst(base: str, token: str, title: str, keys: list[str]) -> list[tuple[int, int]]:
    """POST the same request once per key, all released at the same instant; (status, id) each."""
    import json
    import threading
    import urllib.request

    gate = threading.Barrier(len(keys))
    answers: list[tuple[int, int]] = []
    body = json.dumps({"title": title, "issn": MISSING_ISSN, "year": 2020}).encode()

    def post(key: str) -> None:
        req = urllib.request.Request(
            base + "/api/delivery/requests/",
            data=body,
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {token}",
                "Idempotency-Key": key,
            },
        )
        gate.wait()
        with urllib.request.urlopen(req, timeout=30) as resp:
            answers.append((resp.status, json.loads(resp.read())["id"]))

    threads = [threading.Thread(target=post, args=(k,)) for k in keys]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


def _twins(base: str, token: str, run: str, copies: int = 16) -> dict[str, tuple[int, bool]]:
    """The same request sent `copies` times at the same instant, twice: with one Idempotency-Key
    (a retried POST), and with a key each (a double click in two tabs). Each burst must leave
    exactly one row: one 201, the rest 200 with the same id."""
    from lifeline.delivery.models import DeliveryRequest

    out: dict[str, tuple[int, bool]] = {}
    for label, same_key in (("same key", True), ("same item", False)):
        title = f"Twin paper {run} {label}"
        keys = [
            f"twin-{run}-{label}" if same_key else f"twin-{run}-{label}-{n}" for n in range(copies)
        ]
        answers = _burst(base, token, title, keys)
        rows = DeliveryRequest.objects.filter(title=title).count()
        ok = (
            rows == 1
            and sorted(status for status, _ in answers) == [200] * (copies - 1) + [201]
            and len({pk for _, pk in answers}) == 1
        )
        out[label] = (rows, ok)
    return out


def bench_intake(seconds: int, connections: int) -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from django.db.models import Count

    from lifeline.core.models import ApiToken, Patron
    from lifeline.delivery.choices import Status
    from lifeline.delivery.models import DeliveryRequest, RequestEvent

    if not shutil.which("wrk"):
        raise RuntimeError("wrk is not installed")
    lib = _library()
    seed_holdings(lib)
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
            fh.write(
                f'RUN = "{run}"\nTOKEN = "{token}"\nHELD_ISSN = "{HELD_ISSN}"\n'
                f'MISSING_ISSN = "{MISSING_ISSN}"\n' + LUA
            )
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
        deflected = mine.filter(status=Status.DEFLECTED).count()
        twins = _twins(base, token, run)
        # Every status change a row: each stored request has exactly its first event.
        history_ok = RequestEvent.objects.filter(request__in=mine).count() == mine.count()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=40)
        except subprocess.TimeoutExpired:
            # Granian's main process now and then outlives its workers after SIGTERM; the figures
            # are in by now, so end it rather than lose the run.
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
    return {
        "intake_rps": rate,
        "healthz_rps": ref_rate,
        "created": int(counts.get("created", 0)),
        "repeated": int(counts.get("repeated", 0)),
        "failed": int(counts.get("failed", 0)),
        "rows": rows,
        "doubled": doubled,
        "deflected": deflected,
        "history_ok": history_ok,
        "twins": twins,
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
    history_ok = i["history_ok"]
    twins_ok = all(ok for _, ok in i["twins"].values())
    print(
        f"intake: {i['intake_rps']:.0f} requests/s (healthz {i['healthz_rps']:.0f}/s, ratio "
        f"{i['intake_rps'] / i['healthz_rps']:.2f}); 201={i['created']} 200={i['repeated']} "
        f"other={i['failed']} "
        f"rows={i['rows']} (in flight at stop {inflight}, deflected {i['deflected']}) "
        f"socket errors: {i['socket_errors']} -> "
        f"{'LOST/DOUBLED' if lost_or_doubled else 'none lost or doubled'}"
        f"{'' if history_ok else ', HISTORY ROWS MISSING'}; "
        f"{'OK' if i['intake_rps'] >= 300 else 'UNDER'} target 300/s"
    )
    print(
        "the same request 16 times at once: "
        + ", ".join(f"{label}: {rows} row(s)" for label, (rows, _) in i["twins"].items())
        + f" -> {'one outcome each' if twins_ok else 'NOT ONE OUTCOME'}"
    )
    return 1 if lost_or_doubled or not history_ok or not twins_ok else 0
