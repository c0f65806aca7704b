"""ISO 18626 round trips with the loopback peer over HTTP (PostgreSQL, or SQLite):
`python -m bench iso18626 [--transactions=N] [--threads=T] [--sqlite]`.

One complete copy transaction is: our Request → the peer's confirmation → its WillSupply →
its CopyCompleted with a document URL (we fetch the PDF from the peer through the outbound
fetcher and store it) → our Received. While waiting, the periodic send job runs every second
(a message held behind an earlier one of its transaction still being sent goes out with it).
Lifeline runs as `lifeline serve --no-worker` (granian) with the immediate task backend (the
web process sends its own replies); the peer is
`python -m lifeline.delivery.peer --auto`. The bench process files N requests and sends them to
the peer from T threads, and counts the transactions whose Received was sent.

Then N/2 more requests are sent and the peer is killed (SIGKILL) half-way through them; the rest
are sent while it is down (they wait, the peer's health shows "down"); the peer is started again
on the same port and its state file (`--state`), and the waiting messages on both sides are sent
by the retry jobs (`transport.retry_due` every second, as the periodic job does). Checks: every
request has exactly one Request message sent and one stored file, no message was applied twice
(one incoming row per idempotency key).

References in the same run: `GET /healthz` of the same server (wrk, 32 connections), and the
floor: the same HTTP exchanges of a transaction (four messages posted, the document fetched)
against a minimal handler under granian (parse, schema check, one INSERT; `bench/_iso_floor.py`)
from the same number of threads with kept-alive connections. CPU seconds per transaction are
read from /proc for each side: the server's processes, the peer, this process (it files and
sends our Requests), PostgreSQL's backends of the database.
Database: a fresh PostgreSQL database per run (LIFELINE_BENCH_ISO_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/lifeline_bench_iso18626), or with `--sqlite` a fresh SQLite
file (WAL) in a scratch folder. The server is started by `bench/_server.py`.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench._common import free_port, option
from bench._server import (
    LifelineServer,
    bench_env,
    fresh_postgres,
    process_cpu,
    process_tree,
    wait_ready,
    wrk,
)

DB_URL = os.environ.get(
    "LIFELINE_BENCH_ISO_DATABASE_URL",
    "postgres://postgres@127.0.0.1:5432/lifeline_bench_iso18626",
)
ROOT = Path(__file__).resolve().parent.parent
DATA = tempfile.mkdtemp(prefix="lifeline-bench-iso-")
PEER = ("ISIL", "ZZ-BENCH")


def _setup(engine: str) -> dict[str, str]:
    """A fresh database per run (the figures must not depend on earlier runs' rows), migrated;
    the server's environment, shared with this process (it reads the peers' secrets)."""
    if engine == "sqlite":
        url = f"sqlite:///{Path(DATA) / 'lifeline.sqlite3'}"
    else:
        fresh_postgres(DB_URL)
        url = DB_URL
    env = bench_env(url, DATA)
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return env


def _start_peer(port: int, target: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "lifeline.delivery.peer", "--auto", "--port", str(port),
            "--target", target, "--agency", ":".join(PEER),
            "--secret-out", "peer-to-us", "--secret-in", "us-to-peer",
            "--state", str(Path(DATA) / "peer.sqlite3"),
        ],
        stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    assert proc.stdout is not None
    assert proc.stdout.readline().startswith("READY")
    return proc


def _fixtures(peer_port: int) -> tuple[Any, Any, Any, Any]:
    from lifeline.core.models import Library
    from lifeline.delivery.choices import SupplierKind
    from lifeline.delivery.models import Peer, Supplier

    lib, _ = Library.objects.get_or_create(code="benchiso", defaults={"name": "ISO 基准图书馆"})
    other, _ = Library.objects.get_or_create(code="benchiso2", defaults={"name": "ISO 基准伙伴"})
    peer, _ = Peer.objects.update_or_create(
        library=lib, agency_id_type=PEER[0], agency_id_value=PEER[1],
        defaults={
            "name": "bench peer", "endpoint_url": f"http://127.0.0.1:{peer_port}/iso18626",
            "secret_out": "us-to-peer", "secret_in": "peer-to-us", "allow_internal": True,
            "health": "unknown",
        },
    )  # fmt: skip
    outside, _ = Supplier.objects.update_or_create(
        library=lib, name="bench peer", defaults={"kind": SupplierKind.OUTSIDE, "peer": peer}
    )
    partner, _ = Supplier.objects.update_or_create(
        library=lib, name="bench partner",
        defaults={"kind": SupplierKind.PARTNER, "partner": other, "peer": None},
    )  # fmt: skip
    return lib, other, outside, partner


def _file(lib: Any, n: int, tag: str) -> Any:
    from lifeline.delivery.models import DeliveryRequest

    return DeliveryRequest.objects.create(
        library=lib, title=f"Bench paper {tag} {n}", item_key=f"bench:{tag}:{n}",
        doc_type="foreign_article",
    )  # fmt: skip


def _send_all(reqs: list[Any], supplier: Any, threads: int) -> None:
    from django.db import connection

    from lifeline.delivery import services

    chunks = [reqs[i::threads] for i in range(threads)]

    def work(chunk: list[Any]) -> None:
        try:
            for req in chunk:
                services.send_to_supplier(req, supplier)
        finally:
            connection.close()

    pool = [threading.Thread(target=work, args=(c,)) for c in chunks]
    for t in pool:
        t.start()
    for t in pool:
        t.join()


def _pg_backends() -> list[int]:
    """PostgreSQL's server processes for this database (the bench's and the server's sessions)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cur:
        cur.execute(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid IS NOT NULL"
        )
        return [row[0] for row in cur.fetchall()]


class CpuMeter:
    """CPU seconds each side spends during a phase: Lifeline's web server (all its processes),
    the stand-in peer, this bench process (it files and sends our Requests, as a page would),
    and PostgreSQL's backends for this database (all sessions open at the start and the end)."""

    def __init__(self, server: list[int], peer: list[int]) -> None:
        self.server, self.peer = server, peer

    def sample(self) -> dict[str, Any]:
        t = os.times()
        return {
            "server": {p: process_cpu([p]) for p in self.server},
            "peer": {p: process_cpu([p]) for p in self.peer},
            "bench": t.user + t.system,
            "postgres": {p: process_cpu([p]) for p in _pg_backends()},
        }

    @staticmethod
    def spent(before: dict[str, Any], after: dict[str, Any]) -> dict[str, float]:
        out = {"bench": after["bench"] - before["bench"]}
        for side in ("server", "peer", "postgres"):
            pids = set(before[side]) | set(after[side])
            out[side] = sum(
                after[side].get(p, before[side].get(p, 0)) - before[side].get(p, 0) for p in pids
            )
        return out


def _done(reqs: list[Any]) -> int:
    """Requests of `reqs` whose Received is sent. Polled five times a second while the
    transactions run, so its CPU (here and in PostgreSQL) is counted with theirs: a batch filed
    in one go has consecutive ids and is read by range (a list of 300 ids bound into the query
    text each time was a fifth of this process's CPU)."""
    from lifeline.delivery.models import IsoMessage

    pks = sorted(r.pk for r in reqs)
    which = (
        {"request__gte": pks[0], "request__lte": pks[-1]}
        if pks and pks[-1] - pks[0] == len(pks) - 1
        else {"request__in": pks}
    )
    return (
        IsoMessage.objects.filter(**which, direction="out", status="Received", send_state="sent")
        .values("request")
        .distinct()
        .count()
    )


def _until_done(reqs: list[Any], timeout: float, skip_backoff: bool = False) -> float:
    """Wait until every request's Received is sent, running the periodic send job every second
    meanwhile (as `lifeline worker` does); with `skip_backoff` its back-off is treated as passed
    (after the peer's restart, so the bench need not wait 30 s and more)."""
    from django.utils import timezone

    from lifeline.delivery.logic import transport

    started = last = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if _done(reqs) == len(reqs):
            break
        if time.perf_counter() - last > 1.0:
            shift = transport.backoff(20) if skip_backoff else dt.timedelta(0)
            transport.retry_due(now=timezone.now() + shift, limit=10_000)
            last = time.perf_counter()
        time.sleep(0.2)
    return time.perf_counter() - started


def floor(threads: int, n: int) -> tuple[float, dict[str, float]]:
    """The same exchanges per transaction as the product's (Request, WillSupply, CopyCompleted
    and Received posted, the document fetched) against the minimal handler of `_iso_floor`,
    under granian as `lifeline serve` runs it, from `threads` threads on kept-alive connections.
    Returns (transactions/s, CPU seconds per side)."""
    import http.client

    from bench._iso_floor import setup

    setup(DB_URL)
    port = free_port()
    env = {**os.environ, "FLOOR_DATABASE_URL": DB_URL}
    argv = [sys.executable, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1"]
    argv += ["--port", str(port), "--workers", "2", "--blocking-threads", "4"]
    argv += ["--backpressure", "8", "--no-ws", "bench._iso_floor:app"]
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        wait_ready(f"http://127.0.0.1:{port}/doc/1.pdf")
        messages = _sample_messages()
        done = [0] * threads

        def work(i: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            for _ in range(n // threads):
                for kind, xml in messages:
                    if kind == "doc":
                        conn.request("GET", "/doc/1.pdf")
                    else:
                        conn.request("POST", "/iso18626", body=xml,
                                     headers={"Content-Type": "application/xml"})  # fmt: skip
                    response = conn.getresponse()
                    response.read()
                    assert response.status == 200, response.status
                done[i] += 1
            conn.close()

        pids = process_tree(proc.pid)
        meter = CpuMeter(pids, [])
        before = meter.sample()
        t0 = time.perf_counter()
        pool = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        elapsed = time.perf_counter() - t0
        return sum(done) / elapsed, {
            k: v / max(sum(done), 1) for k, v in meter.spent(before, meter.sample()).items()
        }
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def _sample_messages() -> list[tuple[str, bytes]]:
    """A transaction's messages as the peer and Lifeline write them (valid v1.2)."""
    from lifeline.delivery import peer as standin

    us, them = ("ISIL", "BENCHISO"), PEER
    root, body = standin.envelope("request")
    standin.header(body, them, us, "benchiso-1-1")
    standin.sub(standin.sub(body, "bibliographicInfo"), "title", "Bench paper")
    service = standin.sub(body, "serviceInfo")
    standin.sub(service, "requestType", "New")
    standin.sub(service, "serviceType", "Copy")
    out = [("request", standin.etree.tostring(root, xml_declaration=True, encoding="UTF-8"))]
    for status in ("WillSupply", "CopyCompleted"):
        root, body = standin.envelope("supplyingAgencyMessage")
        standin.header(body, them, us, "benchiso-1-1", "P1")
        standin.sub(standin.sub(body, "messageInfo"), "reasonForMessage", "StatusChange")
        st = standin.sub(body, "statusInfo")
        standin.sub(st, "status", status)
        standin.sub(st, "lastChange", standin.now())
        if status == "CopyCompleted":
            delivery = standin.sub(body, "deliveryInfo")
            standin.sub(delivery, "dateSent", standin.now())
            standin.sub(delivery, "itemId", "http://127.0.0.1/doc/P1.pdf")
            standin.sub(delivery, "sentVia", "URL")
        out.append((status, standin.etree.tostring(root, xml_declaration=True, encoding="UTF-8")))
    out.append(("doc", b""))
    root, body = standin.envelope("requestingAgencyMessage")
    standin.header(body, them, us, "benchiso-1-1", "P1")
    standin.sub(body, "action", "Received")
    out.append(("Received", standin.etree.tostring(root, xml_declaration=True, encoding="UTF-8")))
    return out


def _per_tx(cpu: dict[str, float], done: int) -> str:
    total = sum(cpu.values())
    return (
        ", ".join(f"{side} {1000 * s / max(done, 1):.1f} ms" for side, s in cpu.items())
        + f"; total {1000 * total / max(done, 1):.1f} ms → at most "
        f"{(os.cpu_count() or 1) * max(done, 1) / max(total, 1e-9):.0f}/s on "
        f"{os.cpu_count()} idle cores"
    )


def main(argv: list[str]) -> int:
    n = option(argv, "transactions", 300)
    threads = option(argv, "threads", 8)
    engine = "sqlite" if "--sqlite" in argv else "postgresql"
    env = _setup(engine)
    from django.db.models import Count

    from lifeline.delivery.models import DeliveryFile, IsoMessage

    peer_port = free_port()
    server = LifelineServer(env, log=Path(DATA) / "server.log")
    peer = None
    try:
        server.start()
        target = f"{server.base}/delivery/iso18626/"
        peer = _start_peer(peer_port, target)
        lib, _other, outside, _partner = _fixtures(peer_port)
        run = str(int(time.time()))
        wrk(f"{server.base}/healthz", 3, 8)  # warm-up: the workers finish starting
        # The patrons' requests are filed before the timed window (as in every earlier run of
        # this bench): the round trip starts at our Request.
        filing = time.process_time()
        first = [_file(lib, i, f"a{run}") for i in range(n)]
        filing = time.process_time() - filing
        print(
            f"filed {n} requests before the timed window (ORM): {1000 * filing / n:.1f} ms of "
            "this process's CPU each, not counted below"
        )
        meter = CpuMeter(server.pids(), [peer.pid])
        print(f"load average before: {os.getloadavg()}")
        cpu_before = meter.sample()
        t0 = time.perf_counter()
        _send_all(first, outside, threads)
        _until_done(first, timeout=600)
        elapsed = time.perf_counter() - t0
        cpu = meter.spent(cpu_before, meter.sample())
        done = _done(first)
        rate = done / elapsed
        print(f"over HTTP: {done}/{n} complete copy transactions in {elapsed:.1f} s = {rate:.1f}/s")
        print(f"CPU per transaction: {_per_tx(cpu, done)}")
        print(f"load average after: {os.getloadavg()}")
        cpu_before = meter.sample()
        health = wrk(f"{server.base}/healthz", 5, 32)
        health_cpu = meter.spent(cpu_before, meter.sample())
        print(
            f"reference, GET /healthz (wrk, 32 connections): {health.line()}; server CPU "
            f"{1000 * health_cpu['server'] / max(health.requests_per_s * 5.0, 1):.2f} ms per "
            f"request; ratio transactions / healthz: {rate / health.requests_per_s:.4f}"
        )
        # Kill the peer half-way through a batch (SIGKILL), keep sending while it is down,
        # start it again on its state file, and let the retry job send what waits.
        second = [_file(lib, i, f"b{run}") for i in range(n // 2)]
        sender = threading.Thread(target=_send_all, args=(second, outside, threads))
        sender.start()
        while (
            IsoMessage.objects.filter(
                request__in=[r.pk for r in second],
                direction="out",
                kind="request",
                send_state="sent",
            ).count()
            < len(second) // 2
            and sender.is_alive()
        ):
            time.sleep(0.02)
        peer.send_signal(signal.SIGKILL)
        peer.wait()
        sender.join()
        waiting = IsoMessage.objects.filter(
            request__in=[r.pk for r in second], direction="out", send_state="pending"
        ).count()
        peer = _start_peer(peer_port, target)
        elapsed2 = _until_done(second, timeout=600, skip_backoff=True)
        done2 = _done(second)
        # Integrity over both batches.
        everything = [r.pk for r in first + second]
        requests_sent = (
            IsoMessage.objects.filter(request__in=everything, direction="out", kind="request")
            .values("request")
            .annotate(c=Count("id"))
        )
        doubled_out = sum(1 for r in requests_sent if r["c"] != 1)
        files = DeliveryFile.objects.filter(request__in=everything).values("request")
        files_per = files.annotate(c=Count("id"))
        doubled_files = sum(1 for f in files_per if f["c"] != 1)
        doubled_in = (
            IsoMessage.objects.filter(request__in=everything, direction="in")
            .exclude(idempotency_key="")
            .values("peer", "idempotency_key")
            .annotate(c=Count("id"))
            .filter(c__gt=1)
            .count()
        )
        print(
            f"peer killed: {waiting} messages waited while it was down; after restart "
            f"{done2}/{len(second)} complete {elapsed2:.1f} s after the retry pass"
        )
        print(
            f"integrity: requests with not exactly one Request message: {doubled_out}; "
            f"with not exactly one file: {doubled_files} of {files_per.count()}; "
            f"incoming messages applied twice: {doubled_in}"
        )
        ok = done == n and done2 == len(second) and not (doubled_out or doubled_files or doubled_in)
        print(f"server log: {Path(DATA) / 'server.log'}")
    finally:
        if peer is not None and peer.poll() is None:
            peer.terminate()
            peer.wait(timeout=10)
        server.stop()
    if engine == "postgresql" and "--no-floor" not in argv:
        floor_rate, floor_cpu = floor(threads, n)
        print(
            f"floor, the same exchanges against a minimal handler: {floor_rate:.1f} transactions/s;"
            " CPU per transaction: "
            + ", ".join(f"{k} {1000 * v:.1f} ms" for k, v in floor_cpu.items())
            + f"; total {1000 * sum(floor_cpu.values()):.1f} ms; "
            f"ratio transactions / floor: {rate / floor_rate:.3f}"
        )
    print(f"load average at the end: {os.getloadavg()}; target ≥ 200/s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
