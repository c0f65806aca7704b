"""The first morning of a closure (issue 16 part 8): every patron page at once, for minutes.

    .venv/bin/python -m bench surge [--duration=600] [--restart=0|1] [--outage=10]
                                    [--restart-at=<s>] [--memtrace=0|1]
                                    [--connections=8] [--posts=4]

A private PostgreSQL cluster (bench/_pgcluster.py: never the machine's shared server) holds the
demo library (`load_demo`, the seed's own loader) plus signed-in patrons. `lifeline serve` runs
with its worker (task worker, scheduler, outbox, probes) and real SMTP to a local sink. For
`--duration` seconds, at once:

- wrk on the A–Z, resource pages (cycling through every resource), the status page, and
  /healthz (the reference: its p99 under the same load is the denominator of the ratios);
- paced Python clients POSTing fault reports (anonymous, with a contact address: an
  acknowledgement e-mail each) and delivery requests (signed-in patrons), each with a marker;
- a "watcher" reloading the A–Z and status page every 100 ms (the outage timeline);
- the resident memory of every server process every 10 s.

`--restart=1` stops the PostgreSQL server (`pg_ctl stop -m fast`) at half time (or at
`--restart-at` seconds), waits `--outage` seconds and starts it again. Afterwards the bench
waits (bounded) for the outbox to drain and checks: every form answered 200/302 is exactly one
row, every e-mail notification is sent and reached the sink exactly once, no 500s; with a
restart, the 503s of the outage carry the friendly page, their p99, and the time from "server
back" to the first good page.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench import _surge_memory as memory
from bench._common import ROOT, option
from bench._pgcluster import PrivateCluster
from bench._server import LifelineServer, bench_env, wrk
from bench._surge_load import (
    Client,
    Recorder,
    RssSampler,
    SmtpSink,
    WrkRun,
    delivery_intake,
    fault_report,
    page_script,
    statuses,
    watcher,
)

TMP = ROOT / "bench" / "tmp" / "surge"
LIBRARY = "nefu"  # the demo library
PATRONS = 40
# The private cluster stays here between runs (stopped); `--fresh=1` rebuilds its seed.
CLUSTER = Path(tempfile.gettempdir()) / "lifeline-surge-pg"
SEED, RUN_DB = "lifeline_surge_seed", "lifeline_surge_run"


def _populate(out: str) -> None:
    """Child interpreter: migrate, load the demo, sign patrons in, write what the load needs."""
    import django

    django.setup()
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command
    from django.middleware.csrf import _get_new_csrf_string

    from lifeline.core.choices import NotificationStatus, PatronCategory
    from lifeline.core.demo.loader import load_demo
    from lifeline.core.models import Library, Notification, Patron
    from lifeline.registry.models import Resource

    call_command("migrate", verbosity=0)
    load_demo()
    library = Library.objects.get(code=LIBRARY)
    # The campus NAT: every patron arrives from one address, which the library exempts from
    # the per-address form limits (issue 16 part 7), as a library would before a closure.
    library.rate_exempt_networks = "127.0.0.0/8"
    library.save()
    sessions = []
    for i in range(PATRONS):
        user = get_user_model().objects.create_user(f"surge{i}", f"surge{i}@patron.example.edu")
        Patron.objects.create(user=user, library=library, category=PatronCategory.STUDENT)
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        sessions.append(store.session_key)
    # The demo's own e-mails could not leave while it loaded (no mail server): they are set
    # aside, so the run's outbox check counts only the notifications the surge itself creates.
    Notification.objects.exclude(status=NotificationStatus.SENT).update(
        status=NotificationStatus.FAILED, last_error="bench surge: demo mail set aside"
    )
    resources = list(
        Resource.objects.filter(library=library).order_by("pk").values_list("pk", "key")
    )
    Path(out).write_text(
        json.dumps(
            {
                "sessions": sessions,
                # Django accepts the unmasked secret as the form token (4.1+): one pair for all.
                "csrf": _get_new_csrf_string(),
                "resource_ids": [pk for pk, _ in resources],
                "resource_keys": [key for _, key in resources],
            }
        )
    )


def _sql(url: str, query: str, *args: Any) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://"), connect_timeout=5) as c:
        return list(c.execute(query, args).fetchall())  # type: ignore[arg-type]


def p99(values: list[float]) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]


def drain(url: str, first: int, bound: float) -> tuple[dict[str, int], float]:
    """Wait until none of the run's notifications (id > first) is pending or being sent (at
    most `bound` s)."""
    start = time.monotonic()
    query = "SELECT status, count(*) FROM core_notification WHERE id > %s GROUP BY status"
    while True:
        counts: dict[str, int] = dict(_sql(url, query, first))  # type: ignore[arg-type]
        busy = counts.get("pending", 0) + counts.get("sending", 0)
        if not busy or time.monotonic() - start > bound:
            return counts, time.monotonic() - start
        time.sleep(2)


def outbox_check(url: str, sink: SmtpSink, first: int) -> dict[str, Any]:
    """The run's e-mail rows (id > first) against what reached the sink, as multisets of
    (recipients, subject): a message sent twice shows as a surplus, a lost one as a gap."""
    rows = _sql(
        url,
        "SELECT recipients::text, subject, status FROM core_notification"
        " WHERE channel = %s AND id > %s",
        "email",
        first,
    )
    sent: Counter[tuple[tuple[str, ...], str]] = Counter()
    ours: set[tuple[tuple[str, ...], str]] = set()
    for recipients, subject, status in rows:
        key = (tuple(sorted(json.loads(recipients))), subject)
        ours.add(key)
        if status == "sent":
            sent[key] += 1
    with sink.lock:
        # Only the run's own rows: a notice the seed's build could not send (no SMTP server
        # then) is retried by the worker during the run and reaches the sink too; it was once
        # counted here as "sent twice".
        got = Counter({key: n for key, n in sink.received.items() if key in ours})
    return {
        "created": len(rows),
        "sent": sum(sent.values()),
        "not_sent": len(rows) - sum(sent.values()),
        "received": sum(got.values()),
        "sent_twice": sum((got - sent).values()),
        "marked_sent_but_missing": sum((sent - got).values()),
    }


def forms_check(url: str, rec: Recorder) -> dict[str, dict[str, int]]:
    stored = {
        "fault report POST": Counter(
            d.split(" ", 3)[2].rstrip(":")
            for (d,) in _sql(url, "SELECT description FROM health_faultreport")
            if d.startswith("Surge test ")
        ),
        "delivery intake POST": Counter(
            t.split(" ", 2)[2]
            for (t,) in _sql(url, "SELECT title FROM delivery_deliveryrequest")
            if t.startswith("Surge article ")
        ),
    }
    report = {}
    for page, rows in stored.items():
        hits = [h for h in rec.hits if h.page == page]
        ok = {h.marker for h in hits if h.status in (200, 302)}
        refused = {h.marker for h in hits if h.status not in (200, 302)}
        report[page] = {
            "answered_ok": len(ok),
            "ok_without_row": sum(1 for m in ok if rows[m] == 0),
            "rows_twice": sum(1 for m in ok if rows[m] > 1),
            "refused_but_stored": sum(1 for m in refused if rows[m] > 0),
        }
    return report


def _admin(pg: PrivateCluster, *statements: str) -> None:
    import psycopg

    with psycopg.connect(pg.url("postgres").replace("postgres://", "postgresql://"),
                         autocommit=True, connect_timeout=5) as conn:  # fmt: skip
        for statement in statements:
            conn.execute(statement)  # type: ignore[arg-type]


def prepare(pg: PrivateCluster, fresh: bool) -> dict[str, Any]:
    """The seed database (demo library, patrons, sessions) is built once per cluster and
    copied for every run (CREATE DATABASE ... TEMPLATE: a file copy, seconds): loading the demo
    takes minutes on a busy machine, and a run must start from the same data anyway."""
    fixture_file = pg.root / "fixture.json"
    if fresh or not fixture_file.exists():
        _admin(pg, f"DROP DATABASE IF EXISTS {SEED} WITH (FORCE)", f"CREATE DATABASE {SEED}")
        # The keys are the seed's: sessions and encrypted fields were written with them.
        env = bench_env(pg.url(SEED), TMP)
        keys = {k: v for k, v in env.items() if k.endswith("_KEY")}
        started = time.monotonic()
        out = str(pg.root / "populate.json")
        subprocess.run(
            [sys.executable, "-c", f"import bench.surge as b; b._populate({out!r})"],
            cwd=ROOT, env=env, check=True, timeout=1800,
        )  # fmt: skip
        fixture = {**json.loads(Path(out).read_text()), "keys": keys}
        fixture_file.write_text(json.dumps(fixture))
        print(f"seed database built in {time.monotonic() - started:.0f} s", flush=True)
    _admin(pg, f"DROP DATABASE IF EXISTS {RUN_DB} WITH (FORCE)",
           f"CREATE DATABASE {RUN_DB} TEMPLATE {SEED}")  # fmt: skip
    return dict(json.loads(fixture_file.read_text()))


def main(argv: list[str]) -> int:
    duration = option(argv, "duration", 600)
    restart = bool(option(argv, "restart", 0))
    outage = option(argv, "outage", 10)
    restart_at = option(argv, "restart-at", duration // 2)
    connections = option(argv, "connections", 8)
    posts = option(argv, "posts", 4)  # form POSTs per second, per kind
    if TMP.exists():
        shutil.rmtree(TMP)
    TMP.mkdir(parents=True)
    with PrivateCluster(CLUSTER) as pg:
        fixture = prepare(pg, bool(option(argv, "fresh", 0)))
        if option(argv, "prepare-only", 0):
            return 0
        url = pg.url(RUN_DB)
        # `--memtrace=1`: tracemalloc snapshots in every server process (bench/_memhook).
        tracer = memory.Tracer(TMP / "memhook") if option(argv, "memtrace", 0) else None
        sink = SmtpSink()
        sink.controller.start()
        env = bench_env(
            url,
            TMP,
            LIFELINE_TASK_BACKEND="database",
            LIFELINE_EMAIL_HOST="127.0.0.1",
            LIFELINE_EMAIL_PORT=str(sink.port),
            LIFELINE_RATE_LIMITS="true",
            LIFELINE_WEB_WORKERS=os.environ.get("LIFELINE_WEB_WORKERS", "2"),
            **fixture["keys"],
            **(tracer.env(os.environ.get("PYTHONPATH", "")) if tracer else {}),
        )
        print(f"demo library: {len(fixture['resource_keys'])} resources, {PATRONS} patrons",
              flush=True)  # fmt: skip
        try:
            with LifelineServer(
                env, worker=True, log=TMP / "server.log", ready_timeout=300
            ) as server:
                code = _run(server, pg, url, sink, fixture, duration, restart, outage,
                            connections, posts, tracer,
                            bool(option(argv, "status-wrk", 1)), restart_at)  # fmt: skip
        finally:
            sink.controller.stop()
    return code


def _run(
    server: LifelineServer,
    pg: PrivateCluster,
    url: str,
    sink: SmtpSink,
    fixture: dict[str, Any],
    duration: int,
    restart: bool,
    outage: int,
    connections: int,
    posts: int,
    tracer: memory.Tracer | None = None,
    status_wrk: bool = True,
    restart_at: int | None = None,
) -> int:
    restart_at = duration // 2 if restart_at is None else restart_at
    wrk(f"{server.base}/lib/{LIBRARY}/", 3, 4)  # warm every worker's templates and caches
    time.sleep(5)  # let the worker start its loops
    first = int(_sql(url, "SELECT coalesce(max(id), 0) FROM core_notification")[0][0])
    t0 = time.monotonic()
    rec = Recorder(t0)
    stop = threading.Event()
    run_id = f"s{int(time.time())}"
    keys = fixture["resource_keys"]
    pages = {
        "/healthz (reference)": (["/healthz"], max(2, connections // 4)),
        "A–Z": ([f"/lib/{LIBRARY}/"], connections),
        "resource pages": ([f"/lib/{LIBRARY}/r/{k}/" for k in keys], connections),
    }
    if status_wrk:
        pages["status page"] = ([f"/status/{LIBRARY}/"], connections)
    runs = [
        WrkRun(name, server.base, duration, conns, page_script(TMP, f"p{i}", paths))
        for i, (name, (paths, conns)) in enumerate(pages.items())
    ]
    clients = [
        Client(
            server.port,
            fault_report(LIBRARY, fixture["resource_ids"], fixture["csrf"], run_id),
            posts / 2,
            rec,
            stop,
        )
        for _ in range(2)
    ] + [
        Client(
            server.port,
            delivery_intake(LIBRARY, fixture["sessions"], fixture["csrf"], run_id),
            posts / 2,
            rec,
            stop,
        )
        for _ in range(2)
    ]
    clients.append(
        Client(server.port, watcher([f"/lib/{LIBRARY}/", f"/status/{LIBRARY}/"]), 10, rec, stop)
    )
    if not status_wrk:  # `--status-wrk=0`: the status page from Python clients instead
        clients += [
            Client(
                server.port, watcher([f"/status/{LIBRARY}/"], "status page GET"), 1000, rec, stop
            )
            for _ in range(connections)
        ]
    sampler = RssSampler(server.pids, 10, t0)
    loads: list[str] = []
    for thread in [sampler, *runs, *clients]:
        thread.start()
    down_at = up_at = float("nan")
    load_stop = threading.Event()

    def sample_load() -> None:
        while not load_stop.wait(30):
            loads.append(Path("/proc/loadavg").read_text().split()[0])

    threading.Thread(target=sample_load, daemon=True).start()
    # Open incidents each minute: every reader's report on a resource without an open incident
    # opens one, so the status page (and what each of its renders holds in memory) grows until
    # every resource has one; the memory table is read against this.
    incidents: list[str] = []

    def sample_incidents() -> None:
        while not load_stop.wait(60):
            try:
                n = _sql(url, "SELECT count(*) FROM health_incident WHERE status <> 'resolved'")
                incidents.append(str(n[0][0]))
            except Exception:  # the database is away during the outage
                incidents.append("-")

    threading.Thread(target=sample_incidents, daemon=True).start()
    if tracer is not None:
        # Without a restart: trace from a quarter of the run, compare half time with the end.
        # With one: snap 1 just before the server stops, snap 2 a minute after it is back (what
        # the outage left), snap 3 at the end (what grew after the recovery).
        plan = ((duration / 4, "start"), (duration / 2, "snap-1"), (duration - 5, "snap-2"))
        if restart:
            plan = (
                (restart_at / 2, "start"),
                (restart_at - 5, "snap-1"),
                (restart_at + outage + 60, "snap-2"),
                (duration - 5, "snap-3"),
            )
        for at, name in plan:
            threading.Timer(at, tracer.trigger, (name,)).start()
    if restart:
        time.sleep(restart_at)
        down_at = time.monotonic() - t0
        pg.stop("fast")
        print(f"PostgreSQL stopped at {down_at:.0f} s", flush=True)
        time.sleep(outage)
        pg.start()
        up_at = time.monotonic() - t0
        print(f"PostgreSQL started again at {up_at:.0f} s", flush=True)
    for run in runs:
        run.join(duration + 90)
    stop.set()
    for client in clients:
        client.join(60)
    sampler.stop_event.set()
    sampler.sample()
    load_stop.set()
    print(f"\nopen incidents at the end of each minute: {' '.join(incidents)}")
    if tracer is not None:
        webs = [pid for (pid, label) in sampler.samples if label == "granian (web)"]
        last = 3 if restart else 2
        tracer.wait_for(webs, last)
        for pid in webs:
            for a in range(1, last):
                tracer.compare(pid, "granian (web)", a, a + 1)
    counts, waited = drain(url, first, 420 if restart else 240)
    time.sleep(2)  # the last "250 OK" and its mark cross in flight
    box = outbox_check(url, sink, first)
    forms = forms_check(url, rec)
    return report(
        runs, rec, sampler, box, forms, counts, waited, duration, loads, restart, down_at, up_at
    )


def report(
    runs: list[WrkRun],
    rec: Recorder,
    sampler: RssSampler,
    box: dict[str, Any],
    forms: dict[str, dict[str, int]],
    counts: dict[str, int],
    waited: float,
    duration: int,
    loads: list[str],
    restart: bool,
    down_at: float,
    up_at: float,
) -> int:
    bad = 0
    print(f"\nmachine: {os.cpu_count()} cores; load average during the run: {' '.join(loads)}")
    ref = next((r.result for r in runs if r.page.startswith("/healthz") and r.result), None)
    if ref is not None and not ref.p99_ms > 0:
        ref = None  # no reference answer at all: no ratios
    print(f"{'page':24} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'p99/ref':>8}  statuses")
    for run in runs:
        if run.result is None:
            print(f"{run.page:24} wrk failed: {run.error}")
            bad += 1
            continue
        r, codes = run.result, statuses(run.result)
        ratio = r.p99_ms / ref.p99_ms if ref else float("nan")
        print(
            f"{run.page:24} {r.requests_per_s:8.0f} {r.p50_ms:8.1f} {r.p99_ms:8.1f} "
            f"{ratio:8.1f}  {codes} socket errors {r.errors}"
        )
        bad += codes.get(500, 0) + r.errors
    for page in ("status page GET", "fault report POST", "delivery intake POST", "watch GET"):
        hits = [h for h in rec.hits if h.page == page]
        codes = Counter(h.status for h in hits)
        lat = [h.ms for h in hits if h.status in (200, 302)]
        ratio = p99(lat) / ref.p99_ms if ref else float("nan")
        print(
            f"{page:24} {len(hits) / duration:8.1f} {statistics.median(lat or [0]):8.1f} "
            f"{p99(lat):8.1f} {ratio:8.1f}  {dict(codes)}"
        )
        bad += codes.get(500, 0) + codes.get(0, 0) * (not restart)
    if restart:
        during = [h for h in rec.hits if down_at <= h.started <= up_at]
        unavailable = [h for h in rec.hits if h.status == 503]
        p99_503 = p99([h.ms for h in unavailable])
        # Any patron's first good answer to a request sent after the server was back.
        first_ok = min(
            (h.started + h.ms / 1000 for h in rec.hits
             if h.started >= up_at and h.status in (200, 302)),
            default=float("nan"),
        )  # fmt: skip
        print(
            f"\noutage {down_at:.0f}–{up_at:.0f} s: {len(during)} Python-client requests, "
            f"statuses {dict(Counter(h.status for h in during))}"
        )
        print(
            f"503 answers: {len(unavailable)}, friendly page on "
            f"{sum(h.friendly for h in unavailable)}; p99 of the 503s {p99_503:.1f} ms "
            f"({p99_503 / ref.p99_ms if ref else float('nan'):.1f} x /healthz p99), "
            f"max {max((h.ms for h in unavailable), default=0):.1f} ms"
        )
        print(f"first good page {first_ok - up_at:.1f} s after the server was back")
        bad += math.isnan(first_ok)
    bad += memory.report(sampler.samples, duration)
    print(f"\noutbox after {waited:.0f} s of draining: statuses {counts}; e-mail {box}")
    print(f"forms: {forms}")
    bad += box["not_sent"] + box["sent_twice"] + box["marked_sent_but_missing"]
    bad += sum(f["ok_without_row"] + f["rows_twice"] for f in forms.values())
    (TMP / "hits.json").write_text(json.dumps([h.__dict__ for h in rec.hits]))
    print("OK" if not bad else f"PROBLEMS: {bad}")
    return 0 if not bad else 1
