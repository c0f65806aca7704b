"""Reference desk chat under load: 500 patrons with open chats polling, messages reaching staff.

    .venv/bin/python -m bench reference [--chats=500] [--messages=200] [--poll=3] [--rate=5]

Builds a fresh SQLite database under bench/tmp/reference/ (one library, a reference librarian
with an API token, `--chats` open chat tickets), starts `lifeline serve --no-worker` (granian) on
a loopback port, then for `--messages / --rate` seconds:

- every chat's page polls its messages fragment every `--poll` seconds, as htmx does
  (`/lib/<code>/ask/<token>/messages/?after=<last message>`: 204 when nothing is new), staggered;
- `--rate` times a second a patron posts a message (the plain form post, CSRF token and all);
  the librarian's client polls that ticket in the API every 100 ms until the message is there.

Prints the p50/p99 of "a message reaching staff" (post sent → seen by staff), the polls served
(and their p99), and the server's CPU (all its processes, from /proc) in cores. Target (issue
11): under 2 cores, p99 ≤ 1 s. Loopback only; bounded in chats, messages and time.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import secrets
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bench._common import free_port, option

ROOT = Path(__file__).resolve().parent.parent
TMP = ROOT / "bench" / "tmp" / "reference"
LIBRARY = "bench"
AFTER = re.compile(r"messages/\?after=(\d+)")
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
# A production server refuses the public default keys: one pair per run, for build and serve.
KEYS = {
    "LIFELINE_SECRET_KEY": secrets.token_urlsafe(50),
    "LIFELINE_FIELD_KEY": secrets.token_urlsafe(50),
}


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        LIFELINE_DATABASE_URL=f"sqlite:///{TMP / 'lifeline.sqlite3'}",
        LIFELINE_DATA_DIR=str(TMP),
        LIFELINE_DEBUG="false",
        LIFELINE_LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="lifeline.settings",
        **KEYS,
    )
    env.pop("LIFELINE_REDIS_URL", None)
    return env


BUILD = """
import json, django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.contrib.auth import get_user_model
from lifeline.core.choices import Role
from lifeline.core.models import ApiToken, Library, Membership
from lifeline.reference import services
lib = Library.objects.create(code="bench", name="基准馆", anon_forms_per_hour=0,
    anon_api_per_minute=0, rate_exempt_networks="127.0.0.0/8")
user = get_user_model().objects.create_user("ref", "ref@example.edu", "x", is_staff=True)
Membership.objects.create(user=user, library=lib, role=Role.REFERENCE)
_obj, token = ApiToken.issue(user, "bench")
chats = [services.open_ticket(lib, channel="chat", body=f"问题 {i}") for i in range(CHATS)]
print(json.dumps({"token": token, "chats": [[t.pk, t.token] for t in chats]}))
"""


def build(chats: int) -> dict[str, object]:
    import shutil

    shutil.rmtree(TMP, ignore_errors=True)
    TMP.mkdir(parents=True)
    out = subprocess.run(
        [sys.executable, "-c", BUILD.replace("CHATS", str(chats))],
        cwd=ROOT,
        env=environment(),
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def wait_ready(url: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"server did not answer {url} within {timeout:.0f} s")


def cpu_seconds(pgid: int) -> float:
    """User + system CPU of every process in the server's group (granian and its workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # field 5 of stat: the process group
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run_load(
    base: str, data: dict[str, object], messages: int, poll: float, rate: float
) -> dict[str, object]:
    import httpx

    chats = [(int(pk), str(tok)) for pk, tok in data["chats"]]  # type: ignore[attr-defined]
    api_headers = {"Authorization": f"Bearer {data['token']}"}
    # No keep-alive: granian's backpressure admits a few connections per worker, and 500 idle
    # keep-alive connections would starve the rest (in production the reverse proxy holds the
    # browsers' connections and opens short ones to granian; this is that).
    limits = httpx.Limits(max_connections=len(chats) + 50, max_keepalive_connections=0)
    duration = messages / rate
    polls: list[float] = []
    reached: list[float] = []
    failures = 0
    stop = asyncio.Event()
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:

        async def poller(token: str) -> None:
            nonlocal failures
            await asyncio.sleep(random.uniform(0, poll))
            after = 0
            while not stop.is_set():
                started = time.perf_counter()
                try:
                    r = await client.get(f"/lib/{LIBRARY}/ask/{token}/messages/?after={after}")
                    if r.status_code == 200:
                        # As htmx does: the fragment carries the next poll's "after".
                        found = AFTER.search(r.text)
                        after = int(found.group(1)) if found else after
                    elif r.status_code != 204:
                        failures += 1
                except httpx.HTTPError:
                    failures += 1
                polls.append(time.perf_counter() - started)
                await asyncio.sleep(poll)

        async def one_message(n: int) -> None:
            nonlocal failures
            pk, token = random.choice(chats)
            marker = f"bench-{n}-{random.randrange(10**9)}"
            try:
                async with httpx.AsyncClient(base_url=base, timeout=30) as patron:
                    page = await patron.get(f"/lib/{LIBRARY}/ask/{token}/")
                    found = CSRF.search(page.text)
                    if found is None:
                        failures += 1
                        return
                    sent = time.perf_counter()
                    r = await patron.post(
                        f"/lib/{LIBRARY}/ask/{token}/",
                        data={"body": marker, "csrfmiddlewaretoken": found.group(1)},
                    )
                    if r.status_code != 302:
                        failures += 1
                        return
                while time.perf_counter() - sent < 30:
                    seen = await client.get(f"/api/reference/tickets/{pk}/", headers=api_headers)
                    if marker in seen.text:
                        reached.append(time.perf_counter() - sent)
                        return
                    await asyncio.sleep(0.1)
            except httpx.HTTPError:
                pass
            failures += 1

        pollers = [asyncio.create_task(poller(tok)) for _pk, tok in chats]
        await asyncio.sleep(poll)  # every poller under way before the clock starts
        pid_group = int(os.environ["BENCH_SERVER_PGID"])
        cpu0, wall0 = cpu_seconds(pid_group), time.perf_counter()
        polls.clear()
        senders = []
        for n in range(messages):
            senders.append(asyncio.create_task(one_message(n)))
            await asyncio.sleep(1 / rate)
        await asyncio.gather(*senders)
        cpu1, wall1 = cpu_seconds(pid_group), time.perf_counter()
        stop.set()
        await asyncio.gather(*pollers)
    return {
        "cores": (cpu1 - cpu0) / (wall1 - wall0),
        "seconds": wall1 - wall0,
        "polls": len(polls),
        "poll_p99": pct(polls, 0.99),
        "reached": reached,
        "failures": failures,
        "duration": duration,
    }


def main(argv: list[str]) -> int:
    chats = min(option(argv, "chats", 500), 2000)
    messages = min(option(argv, "messages", 200), 2000)
    poll = float(option(argv, "poll", 3))
    rate = float(option(argv, "rate", 5))
    started = time.monotonic()
    data = build(chats)
    print(
        f"database with {chats} open chats built in {time.monotonic() - started:.1f} s", flush=True
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lifeline",
            "serve",
            "--no-worker",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        env=environment(),
        start_new_session=True,
    )
    try:
        wait_ready(f"{base}/healthz")
        os.environ["BENCH_SERVER_PGID"] = str(server.pid)
        result = asyncio.run(run_load(base, data, messages, poll, rate))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
    reached = result["reached"]
    assert isinstance(reached, list)
    print(
        f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; "
        f"{chats} chats polling every {poll:.0f} s, {len(reached)} messages at {rate:.0f}/s"
    )
    print(
        f"message reaching staff: p50 {statistics.median(reached) * 1000:.0f} ms, "
        f"p99 {pct(reached, 0.99) * 1000:.0f} ms, max {max(reached) * 1000:.0f} ms"
        if reached
        else "no message reached staff"
    )
    print(
        f"polls served: {result['polls']} in {result['seconds']:.1f} s "
        f"({int(result['polls']) / float(result['seconds']):.0f}/s), "
        f"p99 {float(result['poll_p99']) * 1000:.0f} ms; failures {result['failures']}"
    )
    print(f"server CPU: {float(result['cores']):.2f} cores")
    return 0
