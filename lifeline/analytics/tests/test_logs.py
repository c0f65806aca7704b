"""Access-log analysis: a hand-built log with a known answer gives exactly that answer."""

from __future__ import annotations

import datetime as dt
import gzip
import io
from typing import Any

import pytest
from django.core.files.base import ContentFile

from lifeline.analytics.logimport import run_log_import
from lifeline.analytics.logs import LogAnalyser, analyse
from lifeline.analytics.models import DailyUsage, LogImport
from lifeline.registry.choices import RouteKind
from lifeline.registry.models import AccessRoute, Resource

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2024, 10, 10, 13, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def line(
    ip: str, user: str, seconds: int, url: str, status: int = 200, agent: str | None = "Mozilla/5.0"
) -> str:
    when = (T0 + dt.timedelta(seconds=seconds)).strftime("%d/%b/%Y:%H:%M:%S %z")
    tail = f' "-" "{agent}"' if agent is not None else ""
    return f'{ip} - {user} [{when}] "GET {url} HTTP/1.1" {status} 1234{tail}'


@pytest.fixture
def resources(library_a: Any) -> tuple[Resource, Resource]:
    cnki = Resource.objects.create(library=library_a, key="cnki", name="中国知网")
    AccessRoute.objects.create(resource=cnki, kind=RouteKind.PROXY, url="https://www.cnki.net/")
    jstor = Resource.objects.create(
        library=library_a, key="jstor", name="JSTOR", homepage="https://www.jstor.org/"
    )
    return cnki, jstor


def known_log() -> tuple[list[str], dict[str, Any]]:
    on, off = "10.10.3.4", "8.8.4.4"  # library_a's campus is 10.10.0.0/16
    lines = [
        # alice on campus: one PDF clicked twice within 30 s (counts once), then 31 s later
        # again (counts)
        line(on, "alice", 0, "https://www.cnki.net/kcms/download.aspx?id=1"),
        line(on, "alice", 20, "https://www.cnki.net/kcms/download.aspx?id=1"),
        line(on, "alice", 51, "https://www.cnki.net/kcms/download.aspx?id=1"),
        # page furniture is not use; a search is a search (CNKI's rules)
        line(on, "alice", 52, "https://www.cnki.net/static/site.css"),
        line(on, "alice", 53, "https://www.cnki.net/logo.png?v=2"),
        line(on, "alice", 54, "https://www.cnki.net/kns/brief/result.aspx?q=forest"),
        # bob off campus through the proxy-by-hostname host and a sub-site of the same vendor
        line(off, "bob", 60, "https://www-cnki-net.ezproxy.nefu.edu.cn/kcms/download.aspx?id=2"),
        line(off, "bob", 70, "http://kns.cnki.net:80/KXReader/Detail?id=3"),
        # anonymous users told apart by address + browser: two different people, one PDF each
        line(off, "-", 80, "https://www.jstor.org/stable/pdf/12345.pdf", agent="Firefox"),
        line(off, "-", 81, "https://www.jstor.org/stable/pdf/12345.pdf", agent="Chrome"),
        # failures, unknown hosts and garbage
        line(off, "carol", 90, "https://www.jstor.org/stable/pdf/999.pdf", status=404),
        line(off, "carol", 91, "https://www.example.com/paper.pdf"),
        "this is not a log line",
        "x" * (1024 * 1024),  # a 1 MB line
        line(
            on, "dave", 100, "https://www.jstor.org/stable/10.2307/123", agent=None
        ),  # common log format
        # next day (local time), after midnight: a separate day
        line(on, "alice", 11 * 3600 + 5, "https://www.jstor.org/stable/pdf/777.pdf"),
    ]
    expected = {
        "lines": 16,
        "unparseable": 2,
        "bad_line_numbers": [13, 14],
        "furniture": 2,
        "unsuccessful": 1,
        "unmatched": 1,
        "double_clicks": 1,
        # (resource, day, on campus) → [requests, investigations, searches]; CNKI's online
        # reader (KXReader) is a full-text request
        "usage": {
            ("cnki", dt.date(2024, 10, 10), True): [2, 0, 1],
            ("cnki", dt.date(2024, 10, 10), False): [2, 0, 0],
            ("jstor", dt.date(2024, 10, 10), False): [2, 0, 0],
            ("jstor", dt.date(2024, 10, 10), True): [0, 1, 0],
            ("jstor", dt.date(2024, 10, 11), True): [1, 0, 0],
        },
        "users": {
            ("cnki", dt.date(2024, 10, 10), True): 1,
            ("cnki", dt.date(2024, 10, 10), False): 1,
            ("jstor", dt.date(2024, 10, 10), False): 2,
        },
    }
    return lines, expected


def by_key(
    resources: tuple[Resource, Resource], usage: dict[tuple[int, dt.date, bool], Any]
) -> dict[tuple[str, dt.date, bool], Any]:
    names = {r.pk: r.key for r in resources}
    return {(names[rid], day, campus): value for (rid, day, campus), value in usage.items()}


@pytest.mark.parametrize(
    "chunk_bytes", [1 << 26, 700]
)  # one chunk, and many (boundaries inside double clicks)
@pytest.mark.parametrize("compressed", [False, True])
def test_known_answer(
    library_a: Any, resources: tuple[Resource, Resource], chunk_bytes: int, compressed: bool
) -> None:
    lines, expected = known_log()
    data = ("\n".join(lines) + "\n").encode()
    if compressed:
        data = gzip.compress(data)
    from lifeline.analytics.logs import open_log_stream

    result = analyse(library_a, open_log_stream(io.BytesIO(data)), chunk_bytes=chunk_bytes)
    assert result.lines == expected["lines"]
    assert (
        result.unparseable == expected["unparseable"]
        and result.bad_line_numbers == expected["bad_line_numbers"]
    )
    assert (
        result.furniture == expected["furniture"]
        and result.unsuccessful == expected["unsuccessful"]
    )
    assert result.unmatched == expected["unmatched"] and result.unmatched_hosts == {
        "www.example.com": 1
    }
    assert result.double_clicks == expected["double_clicks"]
    assert by_key(resources, result.usage) == expected["usage"]
    users = {k: len(v) for k, v in by_key(resources, result.users).items()}
    assert {k: users[k] for k in expected["users"]} == expected["users"]


def test_users_are_only_keyed_hashes(library_a: Any, resources: tuple[Resource, Resource]) -> None:
    lines, _expected = known_log()
    analyser = LogAnalyser(library_a, key=b"k1")
    analyser.feed(("\n".join(lines) + "\n").encode())
    hashes = set().union(*analyser.result.users.values())
    assert not {"alice", "bob", "dave"} & hashes and all(len(h) == 20 for h in hashes)
    other = LogAnalyser(library_a, key=b"k2")
    other.feed(("\n".join(lines) + "\n").encode())
    assert not hashes & set().union(*other.result.users.values())  # another key, other hashes


def test_import_stores_days_with_progress_and_replaces_on_reimport(
    library_a: Any, resources: tuple[Resource, Resource]
) -> None:
    lines, expected = known_log()
    data = gzip.compress(("\n".join(lines) + "\n").encode())
    first = LogImport.objects.create(library=library_a, filename="ezproxy.log.gz", size=len(data))
    first.file.save("ezproxy.log.gz", ContentFile(data), save=True)
    run_log_import(first, chunk_bytes=500)
    first.refresh_from_db()
    assert (
        first.status == "done"
        and first.percent == 100
        and first.lines == 16
        and first.unparseable == 2
    )
    assert first.first_day == dt.date(2024, 10, 10) and first.last_day == dt.date(2024, 10, 11)
    stored = {
        (d.resource.key, d.day, d.on_campus): [d.requests, d.investigations, d.searches]
        for d in DailyUsage.objects.select_related("resource")
    }
    assert stored == expected["usage"]
    second = LogImport.objects.create(library=library_a, filename="again.log.gz", size=len(data))
    second.file.save("again.log.gz", ContentFile(data), save=True)
    run_log_import(second)
    assert sum(DailyUsage.objects.values_list("requests", flat=True)) == 7
    third = LogImport.objects.create(
        library=library_a, filename="proxy2.log.gz", size=len(data), append=True
    )
    third.file.save("proxy2.log.gz", ContentFile(data), save=True)
    run_log_import(third)
    assert sum(DailyUsage.objects.values_list("requests", flat=True)) == 14


def test_damaged_gzip_fails_cleanly(library_a: Any, resources: tuple[Resource, Resource]) -> None:
    data = gzip.compress(b"x" * 10000)[:40]
    log = LogImport.objects.create(library=library_a, filename="bad.gz", size=len(data))
    log.file.save("bad.gz", ContentFile(data), save=True)
    run_log_import(log)
    log.refresh_from_db()
    assert log.status == "failed" and "could not be read" in log.message
    assert not DailyUsage.objects.exists()


def test_unbalanced_quote_falls_back_to_the_line_by_line_path(
    library_a: Any, resources: tuple[Resource, Resource]
) -> None:
    lines, expected = known_log()
    lines.insert(2, 'broken " quote that would swallow the next lines')
    result = analyse(library_a, io.BytesIO(("\n".join(lines) + "\n").encode()))
    assert (
        result.lines == expected["lines"] + 1 and result.unparseable == expected["unparseable"] + 1
    )
    assert result.bad_line_numbers == [3, 14, 15]
    assert by_key(resources, result.usage) == expected["usage"]


def test_fast_and_regex_paths_agree() -> None:
    import polars as pl

    from lifeline.analytics.logs import Tokens, tokens_fast, tokens_regex

    lines, _expected = known_log()
    chunk = ("\n".join(lines) + "\n").encode()

    def flat(tokens: Tokens) -> pl.DataFrame:
        # Each path has its own kind of key; what matters is the host and path behind it.
        return (
            tokens.rows.join(tokens.keys, on="key", how="left", maintain_order="left")
            .filter(pl.col("ip").is_not_null() & pl.col("valid"))
            .select("n", "ip", "user", "date", "tz", "status", "host", "path")
        )

    fast = tokens_fast(chunk)
    assert fast is not None
    assert flat(fast).equals(flat(tokens_regex(chunk)))
    assert flat(fast).height == 14
