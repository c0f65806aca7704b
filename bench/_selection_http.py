"""Cloud book selection over HTTP (issue 12): browse and search a campaign of 200,000 titles under
wrk, and 2,000 patrons voting at once. Run through `python -m bench selection --browse=1` and/or
`--votes=1` (this module's name starts with "_" so the runner does not take it for a topic).

Targets: browse and search p99 ≤ 100 ms under wrk on loopback; ≥ 500 votes/s on PostgreSQL,
none lost or doubled.

The database is LIFELINE_BENCH_DATABASE_URL when it is a postgres:// URL (dropped and created
afresh), else a scratch SQLite file. The catalogue is the one `bench/selection.py` generates
(CNMARC, 200,000 records), imported by `services.import_catalogue` as a librarian's upload would
be, and put in an open campaign. The server is `bench._server.LifelineServer` (`lifeline serve
--no-worker` on 127.0.0.1, granian, the project's defaults); its CPU is read from /proc.
Patrons have signed-in sessions made in the bench process (as a sign-in would leave them).
Reference in the same run, same client, threads and connections: GET /healthz (a view that does
no database work).

Browse: wrk (`--latency`) with a Lua script cycling through the patron page by CLC class (pages
1, 2, 5 and 20 of every class, each reached by its keyset link `after=<id>`) and searches (a
title, an author, the publisher every line shares, a 13-digit ISBN, a word that matches nothing,
two characters, a class and a word together), one signed-in patron's cookie.
Votes: T threads, each on one keep-alive connection, each patron's vote as the page's htmx sends
it (`POST /selection/c/vote/` with the signed ballot the page hands out, bound to the session
cookie); then the same again as a form POST (as a phone without JavaScript sends it) in a
second campaign. Each time a second, identical POST from 500 of them at once on other threads
follows, and the votes in the database are counted: one per patron, on the title sent.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from bench._common import option
from bench._server import (
    LifelineServer,
    WrkResult,
    bench_env,
    fresh_postgres,
    process_cpu,
    wrk,
)
from bench.outreach import CSRF, _pct, _run_threads


def _setup(data_dir: str) -> str:
    url = os.environ.get("LIFELINE_BENCH_DATABASE_URL", "")
    if url.startswith("postgres"):
        fresh_postgres(url)
    else:
        url = f"sqlite:///{Path(data_dir) / 'lifeline.sqlite3'}"
    # The bench process shares the server's keys, so the sessions it writes are the server's.
    os.environ.update(bench_env(url, data_dir))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return url.split(":", 1)[0]


def _cookies(users: list[Any]) -> tuple[dict[int, str], dict[int, str]]:
    """(user id → Cookie header, user id → session key)."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore
    cookies: dict[int, str] = {}
    keys: dict[int, str] = {}
    for u in users:
        s = store()
        s[SESSION_KEY] = str(u.pk)
        s[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        s[HASH_SESSION_KEY] = u.get_session_auth_hash()
        s.create()
        cookies[u.pk] = f"{settings.SESSION_COOKIE_NAME}={s.session_key}; csrftoken={CSRF}"
        keys[u.pk] = str(s.session_key)
    return cookies, keys


def _wrk_paths(
    base: str, paths: list[str], cookie: str, seconds: int, connections: int
) -> WrkResult:
    """wrk over the paths in turn (a Lua script), with one patron's cookie."""
    script = Path(tempfile.mkdtemp(prefix="lifeline-wrk-")) / "paths.lua"
    quoted = ('  "' + p.replace("\\", "\\\\").replace('"', '\\"') + '"' for p in paths)
    script.write_text(
        "local paths = {\n" + ",\n".join(quoted) + "\n}\nlocal i = 0\n"
        "request = function()\n  i = i + 1\n"
        '  return wrk.format("GET", paths[(i % #paths) + 1])\nend\n',
        encoding="utf-8",
    )
    try:
        return wrk(base, seconds, connections, f"Cookie: {cookie}", script=script)
    finally:
        shutil.rmtree(script.parent, ignore_errors=True)


def http_main(argv: list[str]) -> int:
    records = option(argv, "records", 200_000)
    seconds = option(argv, "seconds", 20)
    connections = option(argv, "connections", 16)
    patrons = option(argv, "patrons", 2000)
    threads = option(argv, "threads", 16)
    data_dir = tempfile.mkdtemp(prefix="lifeline-bench-selection-")
    vendor = _setup(data_dir)
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from bench.selection import catalogue
    from lifeline.core.models import Library, Patron
    from lifeline.selection import services
    from lifeline.selection.choices import CampaignStatus
    from lifeline.selection.logic import ballot
    from lifeline.selection.models import Campaign, Catalogue, Title

    library = Library.objects.create(code="bench", name="基准图书馆")
    t = time.perf_counter()
    result = services.import_catalogue(library, catalogue(records), name="bench", flavour="unimarc")
    took = time.perf_counter() - t
    print(f"{vendor}: {result.lines} titles generated and imported in {took:.0f} s")
    today = timezone.localdate()
    campaign = Campaign.objects.create(
        library=library, name="2027年度荐购", starts_on=today - dt.timedelta(days=1),
        ends_on=today + dt.timedelta(days=30), status=CampaignStatus.OPEN, budget=1_000_000,
    )  # fmt: skip
    campaign.catalogues.set(Catalogue.objects.filter(library=library))
    if vendor == "postgres":
        # What autovacuum does within a minute of a 200,000-row import: without statistics the
        # planner takes the fresh table for empty.
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    User = get_user_model()
    users = User.objects.bulk_create([User(username=f"p{i:05d}") for i in range(patrons)])
    Patron.objects.bulk_create(
        [Patron(user=u, library=library, department=f"学院{i % 20}") for i, u in enumerate(users)]
    )
    cookies, session_keys = _cookies(users)
    base = f"/selection/bench/c/{campaign.pk}/"
    ok = True
    with LifelineServer(dict(os.environ), log=Path(data_dir) / "server.log") as server:
        _run_threads(server.port, [[("GET", "/healthz", b"", "")] * 50 for _ in range(4)])
        if option(argv, "browse", 0):
            ok &= _browse(server, base, cookies[users[0].pk], seconds, connections, campaign)
        if option(argv, "votes", 0):
            hot = list(Title.objects.filter(catalogue__library=library, status="new")
                       .order_by("?").values_list("pk", flat=True)[:100])  # fmt: skip
            sent = {u.pk: hot[i % len(hot)] for i, u in enumerate(users)}
            ref_jobs = [[("GET", "/healthz", b"", "")] * (patrons // threads)] * threads
            ref_lat, _ref_failed, ref_wall = _run_threads(server.port, ref_jobs)
            print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()}")
            print(f"reference GET /healthz ({threads} connections): "
                  f"{len(ref_lat) / ref_wall:.0f}/s, p50 {_pct(ref_lat, 50):.1f} ms, "
                  f"p99 {_pct(ref_lat, 99):.1f} ms")  # fmt: skip
            # The thin vote as the page's htmx sends it: the signed ballot the page hands out
            # (made here with the server's keys, as the page makes it), the title and a reason.
            thin = []
            for u in users:
                token = ballot.issue(services.ballot_for(campaign, u), session_keys[u.pk])
                body = urlencode({"b": token, "title": sent[u.pk], "reason": "teaching"})
                thin.append(("POST", "/selection/c/vote/", body.encode(), cookies[u.pk]))
            ok &= _votes(server, "thin (htmx) votes", campaign, thin, sent, threads, refused=True)
            # The no-JS form path (a CSRF-checked POST, a flash message, a redirect), in a second
            # campaign over the same list.
            second = Campaign.objects.create(
                library=library, name="2027年度荐购（表单）", starts_on=campaign.starts_on,
                ends_on=campaign.ends_on, status=CampaignStatus.OPEN, budget=1_000_000,
            )  # fmt: skip
            second.catalogues.set(campaign.catalogues.all())
            form = []
            for u in users:
                body = urlencode(
                    {"csrfmiddlewaretoken": CSRF, "title": sent[u.pk], "reason": "teaching"}
                )
                form.append(("POST", f"/selection/bench/c/{second.pk}/mark/", body.encode(),
                             cookies[u.pk]))  # fmt: skip
            ok &= _votes(server, "form (no-JS) votes", second, form, sent, threads, refused=False)
            print("target: ≥ 500 votes/s on PostgreSQL, none lost or doubled")
    if ok:
        shutil.rmtree(data_dir, ignore_errors=True)
    else:  # what the server said about the failures
        log = (Path(data_dir) / "server.log").read_text(errors="replace")
        print(f"server log ({data_dir}), last lines:\n" + "\n".join(log.splitlines()[-40:]))
    return 0 if ok else 1


def _votes(
    server: LifelineServer,
    label: str,
    campaign: Any,
    requests: list[tuple[str, str, bytes, str]],
    sent: dict[int, int],
    threads: int,
    *,
    refused: bool,
) -> bool:
    """Every patron's vote at once on `threads` keep-alive connections, then the same vote again
    from 500 of them at once on other threads; then the votes in the database are counted. A
    repeat is refused (409) on the thin path and redirected with a message on the form path."""
    from django.db.models import Count

    from lifeline.selection.models import Vote

    jobs: list[list[tuple[str, str, bytes, str]]] = [[] for _ in range(threads)]
    for i, request in enumerate(requests):
        jobs[i % threads].append(request)
    cpu = process_cpu(server.pids())
    lat, failed, wall = _run_threads(server.port, jobs)
    cpu = process_cpu(server.pids()) - cpu
    load = os.getloadavg()
    again = [[requests[(i * 7) % len(requests)]] for i in range(min(500, len(requests)))]
    _again_lat, again_failed, _ = _run_threads(server.port, again)
    votes = Vote.objects.filter(campaign=campaign)
    stored = dict(votes.values_list("user_id").annotate(n=Count("id")))
    titles = dict(votes.values_list("user_id", "title_id"))
    lost = sum(1 for u in sent if u not in stored)
    doubled = sum(1 for n in stored.values() if n > 1)
    wrong = sum(1 for u, tid in titles.items() if sent.get(u) != tid)
    rate = len(lat) / wall
    print(f"{label} ({len(requests)} patrons, {threads} connections, load {load[0]:.1f}): "
          f"{rate:.0f}/s, p50 {_pct(lat, 50):.1f} ms, p99 {_pct(lat, 99):.1f} ms, {failed} failed; "
          f"server CPU {cpu * 1000 / max(1, len(lat)):.2f} ms a vote")  # fmt: skip
    expected = len(again) if refused else 0
    print(f"  integrity: {len(stored)} of {len(sent)} patrons' votes stored, {lost} lost, "
          f"{doubled} doubled, {wrong} on another title; 500 repeated at once: "
          f"{again_failed} refused (expected {expected})")  # fmt: skip
    return not (lost or doubled or wrong or failed) and again_failed == expected


def _keyset(campaign: Any, cls: str, page: int, size: int = 30) -> str:
    """The `after` of the page-th page of a class, as following "Next" would reach it."""
    from lifeline.selection import services

    if page == 1:
        return ""
    titles = services.campaign_titles(campaign).filter(clc_class=cls).order_by("id")
    last = titles.values_list("id", flat=True)[(page - 1) * size - 1 : (page - 1) * size]
    return f"&after={last[0]}&page={page}" if last else ""


def _browse(
    server: LifelineServer, base: str, cookie: str, seconds: int, connections: int, campaign: Any
) -> bool:
    classes = "ABCDEFGHIKNOPQRSTUVXZ"
    browse = [f"{base}?cls={c}{_keyset(campaign, c, p)}" for c in classes for p in (1, 2, 5, 20)]
    n = campaign.catalogues.get().lines
    words = [f"第{n - 1}卷", "作者4321", "中国林业", "量子力学", f"9787{n // 2:08d}", "生态"]
    search = [f"{base}?q={quote(w)}" for w in words] + [f"{base}?cls=S&q={quote('生态学')}"]
    ref = wrk(f"{server.base}/healthz", seconds, connections, f"Cookie: {cookie}")
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()}")
    print(f"wrk -t2 -c{connections} -d{seconds}s, reference GET /healthz: {ref.line()}")
    ok = True
    runs = (("browse by CLC class", browse), ("search", search), ("both", browse + search))
    for label, paths in runs:
        cpu = process_cpu(server.pids())
        got = _wrk_paths(server.base, paths, cookie, seconds, connections)
        cpu = process_cpu(server.pids()) - cpu
        print(f"{label} ({len(paths)} URLs in turn): {got.line()}; "
              f"{got.requests_per_s / ref.requests_per_s:.2f}× the reference rate, p99 "
              f"{got.p99_ms / max(ref.p99_ms, 0.01):.1f}× the reference; server CPU "
              f"{cpu / max(seconds, 1):.2f} cores, "
              f"{cpu * 1000 / max(1.0, got.requests_per_s * seconds):.2f} ms a page")  # fmt: skip
        ok &= got.non_2xx == 0 and got.errors == 0
    print(f"load average after: {os.getloadavg()}; target: p99 ≤ 100 ms")
    return ok
