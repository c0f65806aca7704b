"""The vectorised log analysis against a plain line-by-line reference of the same rules.

A generated log full of edge cases (double clicks that straddle chunk boundaries, the same URL
through http and https or with another case or port, malformed lines, an unbalanced quote, a
1 MB line, a bad time stamp, another time zone, midnight) must give exactly the reference's
answer, whatever the chunk size, plain or gzip.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import random
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.files.base import ContentFile

from lifeline.analytics.logimport import run_log_import
from lifeline.analytics.logrules.library import library_ruleset
from lifeline.analytics.logs import (
    DOUBLE_CLICK_SECONDS,
    LINE_RE,
    SAMPLE_BAD_LINES,
    CampusTest,
    HostResolver,
    LogResult,
    analyse,
    hash_user,
    open_log_stream,
)
from lifeline.analytics.models import DailyUsage, LogImport
from lifeline.registry.choices import RouteKind
from lifeline.registry.models import AccessRoute, Resource

pytestmark = pytest.mark.django_db
KEY = b"reference-key"
START = dt.datetime(2024, 10, 10, 23, 58, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
URLS = [
    "https://www.cnki.net/kcms/download.aspx?id={n}",
    "http://WWW.CNKI.NET:80/kcms/download.aspx?id={n}",  # the same URL as the one above
    "https://kns.cnki.net/kns/brief/result.aspx?q={n}",
    "https://www-cnki-net.ezproxy.nefu.edu.cn/KXReader/Detail?id={n}",
    "https://www.jstor.org/stable/pdf/{n}.pdf",
    "https://www.jstor.org/stable/{n}",
    "https://www.jstor.org/static/site.css?v={n}",
    "https://www.jstor.org/img/logo.png",
    "https://www.example.com/paper{n}.pdf",
    "/relative/path/{n}",
]


def reference(library: Any, text: str) -> LogResult:
    """The rules one line at a time in plain Python: no chunks, no polars."""
    resolver, campus, zone = (
        HostResolver(library),
        CampusTest(library),
        ZoneInfo(settings.TIME_ZONE),
    )
    pattern = re.compile(LINE_RE)
    rules = library_ruleset(library, resolver.proxy_suffix)
    result = LogResult()
    clicks: list[tuple[str, str, int, int, int, dt.date, bool, str, str]] = []
    for number, line in enumerate(text.split("\n")[:-1], start=1):
        result.lines += 1
        found = pattern.match(line)
        if found is None:
            result.unparseable += 1
            if len(result.bad_line_numbers) < SAMPLE_BAD_LINES:
                result.bad_line_numbers.append(number)
            continue
        result.parsed += 1
        status = int(found["status"])
        if not (200 <= status < 300 or status == 304):
            result.unsuccessful += 1
            continue
        host = found["host"].lower() if found["host"] else None
        rid = resolver(host)
        if rid is None:
            result.unmatched += 1
            name = host or "(no host)"
            result.unmatched_hosts[name] = result.unmatched_hosts.get(name, 0) + 1
            continue
        path = found["path"]
        code, unit = rules.classify_path(host, path)
        rule = rules.rules[code]
        result.rule_hits[rule.id] = result.rule_hits.get(rule.id, 0) + 1
        if rule.cls == "none":
            result.furniture += 1
            continue
        try:
            when = dt.datetime.strptime(found["ts"], "%d/%b/%Y:%H:%M:%S %z")
        except ValueError:
            result.unparseable += 1
            result.parsed -= 1
            continue
        user = found["user"]
        identity = user if user != "-" else f"{found['ip']}|{found['agent'] or ''}"
        clicks.append(
            (
                hash_user(identity, KEY),
                f"{host}{path}",
                int(when.timestamp()),
                number,
                rid,
                when.astimezone(zone).date(),
                campus(found["ip"]),
                rule.cls,
                # What the line names: the rule's unit, else the URL (for unique counts only).
                f"{rule.unit_kind}\t{rule.data_type}\t{rule.access}\t{rule.platform}\t{unit}"
                if unit
                else f"\t\t\t\t{host}{path}",
            )
        )
    previous: tuple[str, str, int] | None = None
    items: dict[tuple[int, dt.date, str], list[int]] = {}
    sessions: dict[tuple[str, int, str], tuple[bool, int, dt.date]] = {}
    for uid, url, t, _number, rid, day, on_campus, cls, item in sorted(clicks):
        repeat = (
            previous is not None
            and previous[:2] == (uid, url)
            and t - previous[2] <= DOUBLE_CLICK_SECONDS
        )
        previous = (uid, url, t)
        if repeat:
            result.double_clicks += 1
            continue
        slot = result.usage.setdefault((rid, day, on_campus), [0, 0, 0])
        slot[{"request": 0, "investigation": 1, "search": 2}[cls]] += 1
        if cls in ("request", "investigation"):
            month = day.replace(day=1)
            totals = items.setdefault((rid, month, item), [0, 0, 0, 0])
            totals[0] += cls == "request"
            totals[1] += 1
            key = (uid, t // 3600, item)
            seen = sessions.get(key)
            sessions[key] = (
                (cls == "request" or seen[0], seen[1], seen[2])
                if seen
                else (cls == "request", rid, month)
            )
        result.users.setdefault((rid, day, on_campus), set()).add(uid)
    for (_uid, _hour, item), (is_request, rid, month) in sessions.items():
        totals = items[(rid, month, item)]
        totals[2] += is_request
        totals[3] += 1
    result.unique_requests = sum(v[2] for v in items.values())
    result.unique_investigations = sum(v[3] for v in items.values())
    result.items = {k: v for k, v in items.items() if not k[2].startswith("\t")}
    return result


def generated_log(lines: int = 1500, seed: int = 7) -> str:
    rnd = random.Random(seed)
    users = ["alice", "bob", "-"]
    agents = ["Firefox/1", None]
    out: list[str] = []
    t = START
    for i in range(lines):
        # Mostly 0-3 s apart: many clicks on the same URL fall within 30 s of each other,
        # some just outside, and the log crosses midnight (local time).
        t += dt.timedelta(seconds=rnd.choice([0, 0, 1, 2, 3, 31]))
        ip = rnd.choice(["10.10.1.2", "8.8.8.8"])
        url = rnd.choice(URLS).format(n=rnd.randrange(2))
        status = rnd.choice([200] * 12 + [206, 304, 302, 404, 500])
        agent = rnd.choice(agents)
        zone = "+0800"
        when = t
        if i % 97 == 5:
            zone, when = "+0000", t.astimezone(dt.UTC)
        stamp = when.strftime("%d/%b/%Y:%H:%M:%S ") + zone
        tail = f' "-" "{agent}"' if agent is not None else ""
        out.append(f'{ip} - {rnd.choice(users)} [{stamp}] "GET {url} HTTP/1.1" {status} 99{tail}')
        if i % 211 == 100:
            out.append("garbage without any structure")
        if i % 307 == 200:
            out.append(
                f"{ip} - alice [{stamp.replace(stamp[:2], '32', 1)}] "
                f'"GET https://www.jstor.org/stable/pdf/1.pdf HTTP/1.1" 200 99'
            )  # a day 32: a bad time on a line that is otherwise counted
        if i == 400:
            out.append(f'{ip} - bob [{stamp}] "GET https://www.cnki.net/x HTTP/1.1" 2x0 99')
        if i == 500:
            out.append('broken " quote that would swallow the next lines')
        if i == 900:
            out.append("y" * (1024 * 1024))
        if i == 1100:
            # A byte that is not UTF-8 in an anonymous user's browser (part of the identity).
            out.append(f'{ip} - - [{stamp}] "GET {url} HTTP/1.1" 200 99 "-" "Opera@BAD@"')
    return "\n".join(out) + "\n"


@pytest.fixture
def routes(library_a: Any) -> None:
    cnki = Resource.objects.create(library=library_a, key="cnki", name="CNKI")
    AccessRoute.objects.create(resource=cnki, kind=RouteKind.PROXY, url="https://www.cnki.net/")
    Resource.objects.create(
        library=library_a, key="jstor", name="JSTOR", homepage="https://www.jstor.org/"
    )


def as_dict(result: LogResult) -> dict[str, Any]:
    return {
        name: getattr(result, name)
        for name in (
            "lines",
            "parsed",
            "unparseable",
            "bad_line_numbers",
            "furniture",
            "unsuccessful",
            "unmatched",
            "double_clicks",
            "usage",
            "users",
            "unmatched_hosts",
            "rule_hits",
            "items",
            "unique_requests",
            "unique_investigations",
        )
    }


@pytest.mark.parametrize("chunk_bytes", [1 << 26, 4096, 997])
@pytest.mark.parametrize("compressed", [False, True])
def test_same_answer_as_the_line_by_line_reference(
    library_a: Any, routes: None, chunk_bytes: int, compressed: bool
) -> None:
    data = generated_log().encode().replace(b"@BAD@", b"\xff")
    # Like the analysis, the reference reads broken UTF-8 with replacement characters.
    expected = reference(library_a, data.decode("utf-8", "replace"))
    # The log is meant to exercise every rule.
    assert expected.double_clicks > 50 and expected.unparseable > 10
    assert expected.furniture and expected.unsuccessful and expected.unmatched
    assert len({day for _rid, day, _campus in expected.usage}) == 2
    assert expected.items and expected.unique_requests and expected.unique_investigations
    if compressed:
        data = gzip.compress(data)
    result = analyse(library_a, open_log_stream(io.BytesIO(data)), chunk_bytes=chunk_bytes, key=KEY)
    assert as_dict(result) == as_dict(expected)


def test_a_double_click_across_a_chunk_boundary_counts_once(library_a: Any, routes: None) -> None:
    first = START.strftime("%d/%b/%Y:%H:%M:%S %z")
    second = (START + dt.timedelta(seconds=29)).strftime("%d/%b/%Y:%H:%M:%S %z")
    text = "".join(
        f'10.10.1.2 - alice [{stamp}] "GET https://www.cnki.net/a.pdf HTTP/1.1" 200 9\n'
        for stamp in (first, second)
    )
    one_line = len(text) // 2
    result = analyse(library_a, io.BytesIO(text.encode()), chunk_bytes=one_line, key=KEY)
    assert result.double_clicks == 1 and result.requests() == 1
    assert as_dict(result) == as_dict(reference(library_a, text))


def test_plain_log_imported_from_the_file_field(library_a: Any, routes: None) -> None:
    """An uncompressed upload is read straight from the stored file, chunk by chunk."""
    data = generated_log().encode()
    expected = reference(library_a, data.decode())
    log = LogImport.objects.create(library=library_a, filename="ezproxy.log", size=len(data))
    log.file.save("ezproxy.log", ContentFile(data), save=True)
    run_log_import(log, chunk_bytes=4096)
    log.refresh_from_db()
    assert (log.status, log.lines, log.unparseable, log.double_clicks) == (
        "done",
        expected.lines,
        expected.unparseable,
        expected.double_clicks,
    )
    stored = {
        (d.resource_id, d.day, d.on_campus): (d.requests, d.investigations, d.searches, d.users)
        for d in DailyUsage.objects.filter(log_import=log)
    }
    assert stored == {
        slot: (counts[0], counts[1], counts[2], len(expected.users.get(slot, ())))
        for slot, counts in expected.usage.items()
    }
