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

Reference in the same run: the same transactions between two libraries of the installation,
in-process (no HTTP), and `GET /healthz` of the same server (ratio and CPU per request). CPU
seconds per transaction are read from /proc for each side: the server's processes, the peer, this
process (it files and sends our Requests), PostgreSQL's backends of the database.
Database: a fresh PostgreSQL database per run (LIFELINE_BENCH_ISO_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/lifeline_bench_iso18626), or with `--sqlite` a fresh SQLite
file (WAL) in a scratch folder.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench._common import free_port, option

DB_URL = os.environ.get(
    "LIFELINE_BENCH_ISO_DATABASE_URL",
    "postgres://postgres@127.0.0.1:5432/lifeline_bench_iso18626",
)
ROOT = Path(__file__).resolve().parent.parent
DATA = tempfile.mkdtemp(prefix="lifeline-bench-iso-")
PEER = ("ISIL", "ZZ-BENCH")


# Fixed bench-only keys: the server refuses to start on default or short ones (issue 21), and
# the bench process and the server must share the field key to read the peers' secrets.
KEYS = {
    "LIFELINE_SECRET_KEY": "bench-iso18626-secret-" + "k7Qz" * 12,
    "LIFELINE_FIELD_KEY": "bench-iso18626-field-" + "p3Wx" * 12,
    "LIFELINE_LOG_USER_KEY": "bench-iso18626-loguser-" + "m9Rt" * 12,
}


def _database(engine: str) -> str:
    """A fresh database per run, so the figures do not depend on earlier runs' rows."""
    if engine == "sqlite":
        return f"sqlite:///{Path(DATA) / 'lifeline.sqlite3'}"
    import psycopg

    base, name = DB_URL.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return DB_URL


def _setup(engine: str) -> None:
    os.environ.update(
        **KEYS,
        LIFELINE_DATABASE_URL=_database(engine),
        LIFELINE_DATA_DIR=DATA,
        LIFELINE_TASK_BACKEND="immediate",
        LIFELINE_LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="lifeline.settings",
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _wait(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listens on {port}")


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


def _healthz_rate(port: int, threads: int, seconds: float = 5.0) -> float:
    """Reference: plain GET /healthz per second from `threads` threads, same server, same run."""
    import http.client

    count = [0] * threads
    stop = time.perf_counter() + seconds

    def work(i: int) -> None:
        while time.perf_counter() < stop:
            # A connection per request, as every message of the exchange has.
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            conn.close()
            count[i] += 1

    pool = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sum(count) / seconds


def _ticks(pid: int) -> int:
    """CPU time (user + system, clock ticks) a process has used so far; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def _session(sid: int) -> list[int]:
    """The processes of a session: `lifeline serve`, granian and its workers."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == sid:
                out.append(int(entry.name))
    return out


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

    def __init__(self, server_sid: int, peer_pid: int) -> None:
        self.server_sid, self.peer_pid = server_sid, peer_pid
        self.hz = os.sysconf("SC_CLK_TCK")

    def sample(self) -> dict[str, Any]:
        t = os.times()
        return {
            "server": {p: _ticks(p) for p in _session(self.server_sid)},
            "peer": {self.peer_pid: _ticks(self.peer_pid)},
            "bench": t.user + t.system,
            "postgres": {p: _ticks(p) for p in _pg_backends()},
        }

    def spent(self, before: dict[str, Any], after: dict[str, Any]) -> dict[str, float]:
        out = {"bench": after["bench"] - before["bench"]}
        for side in ("server", "peer", "postgres"):
            pids = set(before[side]) | set(after[side])
            ticks = sum(
                after[side].get(p, before[side].get(p, 0)) - before[side].get(p, 0) for p in pids
            )
            out[side] = ticks / self.hz
        return out


def _done(reqs: list[Any]) -> int:
    from lifeline.delivery.models import IsoMessage

    return (
        IsoMessage.objects.filter(
            request__in=[r.pk for r in reqs], direction="out", status="Received", send_state="sent"
        )
        .values("request")
        .distinct()
        .count()
    )


def _until_done(reqs: list[Any], timeout: float, retry: bool = False) -> float:
    """Wait until every request's Received is sent; with `retry`, run the periodic send job
    every second meanwhile (as `lifeline worker` does), its back-off treated as passed."""
    from django.utils import timezone

    from lifeline.delivery.logic import transport

    started = last = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if _done(reqs) == len(reqs):
            break
        if retry and time.perf_counter() - last > 1.0:
            transport.retry_due(now=timezone.now() + transport.backoff(20), limit=10_000)
            last = time.perf_counter()
        time.sleep(0.05)
    return time.perf_counter() - started


def main(argv: list[str]) -> int:
    n = option(argv, "transactions", 300)
    threads = option(argv, "threads", 8)
    engine = "sqlite" if "--sqlite" in argv else "postgresql"
    _setup(engine)
    from django.db.models import Count

    from lifeline.delivery.models import DeliveryFile, IsoMessage

    web_port, peer_port = free_port(), free_port()
    env = {**os.environ, "LIFELINE_ALLOWED_HOSTS": "127.0.0.1,localhost"}
    server = subprocess.Popen(
        [sys.executable, "-m", "lifeline", "serve", "--no-worker", "--port", str(web_port)],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=(Path(DATA) / "server.log").open("w"),
        start_new_session=True,
    )  # fmt: skip
    target = f"http://127.0.0.1:{web_port}/delivery/iso18626/"
    peer = None
    try:
        _wait(web_port)
        peer = _start_peer(peer_port, target)
        lib, _other, outside, partner = _fixtures(peer_port)
        run = str(int(time.time()))
        _healthz_rate(web_port, threads, seconds=10.0)  # warm-up: the workers finish starting
        # Reference: the same exchange in-process with a partner library (no HTTP).
        ref = [_file(lib, i, f"ref{run}") for i in range(n // 3)]
        t0 = time.perf_counter()
        _send_all(ref, partner, 1)
        ref_rate = len(ref) / (time.perf_counter() - t0)
        # (The partner does not supply by itself: the reference is Request + confirmation only.)
        first = [_file(lib, i, f"a{run}") for i in range(n)]
        meter = CpuMeter(server.pid, peer.pid)
        cpu_before = meter.sample()
        t0 = time.perf_counter()
        _send_all(first, outside, threads)
        _until_done(first, timeout=600, retry=True)
        elapsed = time.perf_counter() - t0
        cpu = meter.spent(cpu_before, meter.sample())
        done = _done(first)
        rate = done / elapsed
        print(f"over HTTP: {done}/{n} complete copy transactions in {elapsed:.1f} s = {rate:.1f}/s")
        total_cpu = sum(cpu.values())
        print(
            "CPU per transaction: "
            + ", ".join(f"{side} {1000 * s / max(done, 1):.1f} ms" for side, s in cpu.items())
            + f"; total {1000 * total_cpu / max(done, 1):.1f} ms → at most "
            f"{(os.cpu_count() or 1) * max(done, 1) / max(total_cpu, 1e-9):.0f}/s on "
            f"{os.cpu_count()} idle cores"
        )
        print(f"reference, in-process Request+confirmation: {ref_rate:.1f}/s")
        cpu_before = meter.sample()
        health_rate = _healthz_rate(web_port, threads)
        health_cpu = meter.spent(cpu_before, meter.sample())
        print(
            f"reference, GET /healthz from {threads} threads: {health_rate:.1f}/s; server CPU "
            f"{1000 * health_cpu['server'] / max(health_rate * 5.0, 1):.2f} ms per request; "
            f"ratio transactions / healthz: {rate / health_rate:.4f}"
        )
        print(f"load average: {os.getloadavg()}")
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
        elapsed2 = _until_done(second, timeout=600, retry=True)
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
        print(f"ratio HTTP / in-process reference: {rate / ref_rate:.2f}; target ≥ 200/s")
        return 0 if ok else 1
    finally:
        if peer is not None and peer.poll() is None:
            peer.terminate()
            peer.wait(timeout=10)
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
