"""Access-health prober: 10,000 routes at a 60-second interval, one worker process.

    python -m bench probes [--routes=10000] [--seconds=150] [--interval=60]

Test servers run in a separate process on 127.0.0.1 (asyncio, one connection per request):
80% of routes answer at once, 5% slowly (1.5 s), 5% fail (HTTP 500), 5% flap (alternate every
90 s), 5% answer until the "outage switch" is thrown a third of the way through the run.

Measured in this process (the worker, run as `lifeline probe_loop` runs it: `run_async(run_loop)`):
scheduling lag (time a probe started minus its due time) p50/p99, CPU seconds of the process
(all its threads: event loop and database thread) per wall second (share of one core) and per
probe, outage detection time for the switched routes (the flag is thrown → the state change is
recorded) against the bound "one interval plus the retries". References in the same run: CPU per
request of a bare client against the same server, without the database, the guard or the state
machine: httpx (the previous client, default event loop) and aiohttp on the worker's event loop
(the client the prober uses). Database: a fresh SQLite file (or LIFELINE_BENCH_DATABASE_URL).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._common import option

KINDS = [("ok", 80), ("slow", 5), ("fail", 5), ("flap", 5), ("switch", 5)]


# --- the test server (runs in its own process) ---------------------------------------------------


def serve(port: int, flag: str) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            path = head.split(b" ", 2)[1].decode()
            kind = path.strip("/").split("/", 1)[0]
            status = 200
            if kind == "slow":
                await asyncio.sleep(1.5)
            elif (
                kind == "fail"
                or (kind == "flap" and int(time.time() // 90) % 2)
                or (kind == "switch" and os.path.exists(flag))
            ):
                status = 500
            body = b"<html><body>database home</body></html>" if status == 200 else b"error"
            writer.write(
                b"HTTP/1.1 %d X\r\nContent-Type: text/html\r\nContent-Length: %d\r\n"
                b"Connection: close\r\n\r\n%s" % (status, len(body), body)
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=4096)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


# --- the benchmark -----------------------------------------------------------------------------


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _setup_django(tmp: Path) -> None:
    os.environ["LIFELINE_DATABASE_URL"] = (
        os.environ.get("LIFELINE_BENCH_DATABASE_URL") or f"sqlite:///{tmp / 'bench.sqlite3'}"
    )
    os.environ.setdefault("LIFELINE_DATA_DIR", str(tmp))
    os.environ["LIFELINE_TASK_BACKEND"] = "immediate"
    os.environ["LIFELINE_LOG_LEVEL"] = "WARNING"
    os.environ["DJANGO_SETTINGS_MODULE"] = "lifeline.settings"
    import django

    django.setup()
    from django.core.management import call_command

    if os.environ.get("LIFELINE_BENCH_DATABASE_URL"):
        call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0)


def _seed(n: int, port: int, interval: int) -> dict[str, list[int]]:
    import datetime as dt

    from django.utils import timezone

    from lifeline.core.models import Library
    from lifeline.health.choices import HealthState
    from lifeline.health.models import ProbeConfig
    from lifeline.registry.models import AccessRoute, Resource

    library = Library.objects.create(code="bench", name="Bench")
    kinds: list[str] = [k for k, share in KINDS for _ in range(share)]
    resources = Resource.objects.bulk_create(
        [
            Resource(library=library, key=f"r{i}", name=f"Resource {i}", search_text="")
            for i in range(n)
        ]
    )
    routes = AccessRoute.objects.bulk_create(
        [
            AccessRoute(
                resource=r, kind="open_access", url=f"http://127.0.0.1:{port}/{kinds[i % 100]}/{i}"
            )
            for i, r in enumerate(resources)
        ]
    )
    now = timezone.now()
    by_kind: dict[str, list[int]] = {k: [] for k, _ in KINDS}
    configs = []
    for i, route in enumerate(routes):
        kind = kinds[i % 100]
        by_kind[kind].append(route.pk)
        # Steady state: probes spread evenly over the interval, states already known.
        configs.append(
            ProbeConfig(
                route=route,
                interval_seconds=interval,
                retries=2,
                retry_seconds=10,
                timeout_seconds=10,
                allow_private=True,
                state=HealthState.DOWN if kind == "fail" else HealthState.UP,
                state_since=now,
                next_probe_at=now + dt.timedelta(seconds=interval * (i * 7919 % n) / n),
            )
        )
    ProbeConfig.objects.bulk_create(configs, batch_size=2000)
    return by_kind


def _reference_cpu_per_request(port: int, count: int = 400) -> float:
    """Bare httpx, no keep-alive, 100 at a time, on the default event loop."""
    import httpx

    async def go() -> None:
        limits = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(limits=limits) as client:
            gate = asyncio.Semaphore(100)

            async def one(i: int) -> None:
                async with gate:
                    r = await client.get(f"http://127.0.0.1:{port}/ok/{i}")
                    await r.aread()

            await asyncio.gather(*(one(i) for i in range(count)))

    start = time.process_time()
    asyncio.run(go())
    return (time.process_time() - start) / count


def _reference_aiohttp_cpu_per_request(port: int, count: int = 1000) -> float:
    """Bare aiohttp, no keep-alive, 100 at a time, on the event loop the worker uses."""
    import aiohttp

    from lifeline.health.logic.worker import run_async

    async def go(n: int) -> None:
        connector = aiohttp.TCPConnector(limit=0, force_close=True)
        async with aiohttp.ClientSession(connector=connector) as client:
            gate = asyncio.Semaphore(100)

            async def one(i: int) -> None:
                async with gate, client.get(f"http://127.0.0.1:{port}/ok/{i}") as r:
                    await r.read()

            await asyncio.gather(*(one(i) for i in range(n)))

    run_async(go(100))  # imports and first-use costs are not per request
    start = time.process_time()
    run_async(go(count))
    return (time.process_time() - start) / count


def _signature_cost() -> None:
    """CPU of the failure-signature scan per page against the route's own phrase check (the
    reference: decode, casefold, eight default phrases), same pages, same run."""
    from lifeline.health.logic.probe import _decode
    from lifeline.health.logic.signatures import library
    from lifeline.health.models import DEFAULT_FORBIDDEN_TEXT, lines

    phrases = [p.casefold() for p in lines(DEFAULT_FORBIDDEN_TEXT)]
    small = b"<html><body>database home</body></html>"
    filler = "<p>期刊 学位论文 Journal of Forestry Research, Vol. 31, pp. 1-20.</p>\n"
    repeat = 200_000 // len(filler.encode())
    large = ("<html><body>" + filler * repeat + "</body></html>").encode()
    for label, body in (("40-byte page", small), ("200 KB page", large)):
        rounds = 2000 if body is small else 40

        def phrase_check(body: bytes = body) -> None:
            text = _decode(body, "utf-8").casefold()
            for p in phrases:
                _ = p in text

        def scan(matcher: Any, body: bytes = body) -> None:
            matcher.search(_decode(body, "utf-8"))

        times = {}
        for name, fn in (
            ("phrases", phrase_check),
            ("generic", lambda: scan(library().matcher("http://127.0.0.1/"))),
            ("cnki+generic", lambda: scan(library().matcher("https://kns.cnki.net/"))),
        ):
            fn()
            start = time.process_time()
            for _ in range(rounds):
                fn()
            times[name] = (time.process_time() - start) / rounds
        ref = times["phrases"]
        print(
            f"signature scan, {label}: phrases (reference) {ref * 1e6:.1f} µs; "
            f"EZproxy+Shibboleth {times['generic'] * 1e6:.1f} µs ({times['generic'] / ref:.2f}×); "
            f"CNKI+EZproxy+Shibboleth {times['cnki+generic'] * 1e6:.1f} µs "
            f"({times['cnki+generic'] / ref:.2f}×)"
        )


def main(argv: list[str]) -> int:
    n = option(argv, "routes", 10_000)
    seconds = option(argv, "seconds", 150)
    interval = option(argv, "interval", 60)
    tmp = Path(tempfile.mkdtemp(prefix="lifeline-bench-probes-"))
    flag = tmp / "outage"
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-c", f"from bench.probes import serve; serve({port}, {str(flag)!r})"],
        cwd=str(Path(__file__).resolve().parent.parent),
    )
    try:
        time.sleep(1.0)
        _setup_django(tmp)
        print(f"seeding {n} routes ...", flush=True)
        by_kind = _seed(n, port, interval)
        _signature_cost()
        references = (
            _reference_cpu_per_request(port),
            _reference_aiohttp_cpu_per_request(port),
        )
        return _run(by_kind, seconds, interval, flag, references)
    finally:
        server.terminate()
        server.wait(timeout=10)


def _run(
    by_kind: dict[str, list[int]],
    seconds: int,
    interval: int,
    flag: Path,
    references: tuple[float, float],
) -> int:
    from django.utils import timezone

    from lifeline.health.choices import HealthState
    from lifeline.health.logic.worker import run_async, run_loop

    lags: list[float] = []
    probes = 0
    switched = set(by_kind["switch"])
    detections: dict[int, float] = {}
    outage_at: list[Any] = []
    started = time.monotonic()
    cpu_start = time.process_time()

    def on_outcomes(outcomes: list[Any]) -> None:
        nonlocal probes
        probes += len(outcomes)
        if time.monotonic() - started > 10:  # skip start-up
            lags.extend(
                max(0.0, (o.started_at - o.spec.due_at).total_seconds())
                for o in outcomes
                if o.spec.due_at
            )

    def on_flips(flips: list[Any]) -> None:
        if not outage_at:
            return
        for f in flips:
            if (
                f.route_id in switched
                and f.new == HealthState.DOWN
                and f.route_id not in detections
            ):
                detections[f.route_id] = (f.at - outage_at[0]).total_seconds()

    def should_stop() -> bool:
        elapsed = time.monotonic() - started
        if not outage_at and elapsed > seconds / 3:
            outage_at.append(timezone.now())
            flag.touch()
        return elapsed > seconds

    run_async(run_loop(should_stop, tick=0.5, on_outcomes=on_outcomes, on_flips=on_flips))
    wall = time.monotonic() - started
    cpu = time.process_time() - cpu_start
    rate = probes / wall
    bound = interval + 2 * 10
    detect = list(detections.values())
    routes = sum(len(v) for v in by_kind.values())
    nan = float("nan")
    per_probe = cpu / max(probes, 1)
    httpx_ref, aiohttp_ref = references
    print(
        f"routes {routes}, interval {interval} s, run {wall:.0f} s, probes {probes} ({rate:.0f}/s)"
    )
    print(
        f"scheduling lag (start - due): p50 {_pct(lags, 0.5):.2f} s, "
        f"p99 {_pct(lags, 0.99):.2f} s, max {max(lags, default=nan):.2f} s"
    )
    print(
        f"worker CPU (process time, all threads): {cpu:.1f} s over {wall:.0f} s = "
        f"{100 * cpu / wall:.0f}% of one core; {1000 * per_probe:.2f} ms per probe vs "
        f"{1000 * httpx_ref:.2f} ms per bare httpx request (ratio {per_probe / httpx_ref:.2f})"
    )
    print(
        f"  and {1000 * aiohttp_ref:.2f} ms per bare aiohttp request on the worker's event loop "
        f"(ratio {per_probe / aiohttp_ref:.2f})"
    )
    print(
        f"at the issue's load (10,000 routes / 60 s = 167 probes/s) that CPU per probe is "
        f"{100 * per_probe * 10_000 / 60:.0f}% of one core (target: at most 30%)"
    )
    median = statistics.median(detect) if detect else nan
    print(
        f"outage detection ({len(detect)}/{len(switched)} switched routes detected): "
        f"p50 {median:.1f} s, p99 {_pct(detect, 0.99):.1f} s, max {max(detect, default=nan):.1f} s "
        f"(bound: interval + retries = {bound} s)"
    )
    return 0
