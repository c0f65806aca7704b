"""The load of `bench surge`: wrk for the pages, paced Python clients for the forms, an SMTP
sink for the outbox, and a sampler of every server process's memory."""

from __future__ import annotations

import email
import email.header
import http.client
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aiosmtpd.controller import Controller

from bench._common import free_port
from bench._server import WrkResult, process_rss_mb, wrk

# The friendly page's English line (lifeline/core/templates/core/db_unavailable.html).
FRIENDLY = b"Service temporarily unavailable"


class SmtpSink:
    """Counts what reaches "the mail server": (recipients, subject) of every message."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: Counter[tuple[tuple[str, ...], str]] = Counter()
        self.lock = threading.Lock()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.original_content or envelope.content)
        subject = str(email.header.make_header(email.header.decode_header(message["Subject"])))
        with self.lock:
            self.received[(tuple(sorted(envelope.rcpt_tos)), subject)] += 1
        return "250 OK"


STATUS_LUA = """
local paths = {%s}
local counter = 0
statuses = {}
local threads = {}
function setup(thread) table.insert(threads, thread) end
function request()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("statuses")) do io.write(string.format("status %%d %%d\\n", k, v)) end
  end
end
"""


def page_script(folder: Path, name: str, paths: list[str]) -> Path:
    """A wrk script that cycles through `paths` and counts every answer's status."""
    script = folder / f"{name}.lua"
    script.write_text(STATUS_LUA % ", ".join(f'"{p}"' for p in paths), encoding="utf-8")
    return script


def statuses(result: WrkResult) -> dict[int, int]:
    found: Counter[int] = Counter()
    for code, count in re.findall(r"^status (\d+) (\d+)$", result.output, re.MULTILINE):
        found[int(code)] += int(count)
    return dict(found)


class WrkRun(threading.Thread):
    def __init__(self, name: str, url: str, duration: int, connections: int, script: Path) -> None:
        super().__init__(daemon=True)
        self.page, self.url, self.duration = name, url, duration
        self.connections, self.script = connections, script
        self.result: WrkResult | None = None
        self.error = ""

    def run(self) -> None:
        try:
            self.result = wrk(
                self.url, self.duration, self.connections, script=self.script, threads=1
            )
        except Exception as exc:  # reported, not raised: the other streams go on
            self.error = f"{type(exc).__name__}: {exc}"
        else:
            self.script.with_suffix(".out").write_text(self.result.output, encoding="utf-8")


@dataclass
class Hit:
    page: str
    started: float  # seconds since the load began
    ms: float
    status: int
    friendly: bool = False  # a 503 carrying the friendly page
    marker: str = ""


@dataclass
class Recorder:
    t0: float
    hits: list[Hit] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, hit: Hit) -> None:
        with self.lock:
            self.hits.append(hit)


Request = Callable[[int], tuple[str, str, bytes, dict[str, str], str]]


class Client(threading.Thread):
    """One keep-alive connection sending `make(n)` = (page, path, body, headers, marker) at
    `rate` requests per second until stopped; every answer is recorded with its start time.
    Network errors are recorded as status 0 (the connection is then opened afresh)."""

    def __init__(
        self, port: int, make: Request, rate: float, rec: Recorder, stop: threading.Event
    ) -> None:
        super().__init__(daemon=True)
        self.port, self.make, self.rate, self.rec, self.stop_event = port, make, rate, rec, stop

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        n = 0
        next_at = time.monotonic()
        while not self.stop_event.is_set():
            page, path, body, headers, marker = self.make(n)
            n += 1
            start = time.monotonic()
            status, friendly = 0, False
            try:
                conn.request("POST" if body else "GET", path, body=body or None, headers=headers)
                response = conn.getresponse()
                content = response.read()
                status = response.status
                friendly = status == 503 and FRIENDLY in content
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            end = time.monotonic()
            self.rec.add(
                Hit(page, start - self.rec.t0, (end - start) * 1000, status, friendly, marker)
            )
            next_at = max(next_at + 1 / self.rate, end - 1.0)
            self.stop_event.wait(max(0.0, next_at - time.monotonic()))
        conn.close()


def fault_report(library: str, resources: list[int], csrf: str, run: str) -> Request:
    def make(n: int) -> tuple[str, str, bytes, dict[str, str], str]:
        marker = f"{run}-f{threading.get_ident() % 100000}-{n}"
        body = urlencode(
            {
                "csrfmiddlewaretoken": csrf,
                "resource": resources[n % len(resources)],
                "description": f"Surge test {marker}: the full text does not open.",
                "contact_email": f"{marker}@patron.example.edu",
                "website": "",
            }
        ).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={csrf}",
        }
        return "fault report POST", f"/status/{library}/report/", body, headers, marker

    return make


def delivery_intake(library: str, sessions: list[str], csrf: str, run: str) -> Request:
    def make(n: int) -> tuple[str, str, bytes, dict[str, str], str]:
        marker = f"{run}-d{threading.get_ident() % 100000}-{n}"
        body = urlencode(
            {
                "csrfmiddlewaretoken": csrf,
                "doc_type": "foreign_article",
                "title": f"Surge article {marker}",
                "authors": "Li, Ming",
                "source": "Journal of Forestry Research",
                "year": 2020,
                "form_token": marker,
            }
        ).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={csrf}; sessionid={sessions[n % len(sessions)]}",
        }
        return "delivery intake POST", f"/delivery/{library}/new/", body, headers, marker

    return make


def watcher(paths: list[str], page: str = "watch GET") -> Request:
    """A patron reloading pages (by default the A–Z and the status page: the timeline of an
    outage)."""

    def make(n: int) -> tuple[str, str, bytes, dict[str, str], str]:
        return page, paths[n % len(paths)], b"", {}, ""

    return make


class RssSampler(threading.Thread):
    """Every `every` seconds, the resident memory of each process of the server tree, by pid
    and command line (a restarted worker shows as a new line)."""

    def __init__(self, pids: Callable[[], list[int]], every: float, t0: float) -> None:
        super().__init__(daemon=True)
        self.pids, self.every, self.t0 = pids, every, t0
        self.samples: dict[tuple[int, str], list[tuple[float, float]]] = {}
        self.stop_event = threading.Event()

    @staticmethod
    def label(pid: int) -> str:
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return "?"
        words = [a.decode(errors="replace") for a in argv if a]
        text = " ".join(w.rsplit("/", 1)[-1] for w in words[:6])
        if "granian" in text and "lifeline.wsgi" in " ".join(words):
            return "granian (web)"
        return text[:60]

    def sample(self) -> None:
        now = time.monotonic() - self.t0
        for pid in self.pids():
            mb = process_rss_mb([pid])
            if mb:
                self.samples.setdefault((pid, self.label(pid)), []).append((now, mb))

    def run(self) -> None:
        while not self.stop_event.is_set():
            self.sample()
            self.stop_event.wait(self.every)
