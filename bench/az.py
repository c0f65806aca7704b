"""A–Z page under load: 5,000 resources, the production server, wrk with 100 connections.

    .venv/bin/python -m bench az [--duration=10] [--connections=100] [--resources=5000]

Builds a fresh SQLite database under bench/tmp/, starts `lifeline serve --no-worker` (granian)
on a free loopback port, runs wrk against /healthz (the trivial reference endpoint) and then the
A–Z page, and prints requests/s, p99 latency and errors for both, with the A–Z/healthz ratio.
The target (issue 2): A–Z >= 1,500 requests/s with p99 <= 100 ms and no errors.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bench._common import option
from bench._server import LifelineServer, bench_env, wait_ready, wrk

ROOT = Path(__file__).resolve().parent.parent
TMP = ROOT / "bench" / "tmp" / "az"
LIBRARY = "bench"


def environment() -> dict[str, str]:
    return bench_env(f"sqlite:///{TMP / 'lifeline.sqlite3'}", TMP)


def build_database(resources: int) -> None:
    """Runs in a child interpreter so that this process never imports Django settings."""
    if TMP.exists():
        shutil.rmtree(TMP)
    TMP.mkdir(parents=True)
    subprocess.run(
        [sys.executable, "-c", f"import bench.az as b; b._populate({resources})"],
        cwd=ROOT,
        env=environment(),
        check=True,
    )


def _populate(resources: int) -> None:
    import datetime as dt

    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from lifeline.core.models import Library
    from lifeline.registry.choices import ContentType, Language, RouteKind
    from lifeline.registry.models import AccessRoute, Category, Resource, normalise_text

    call_command("migrate", verbosity=0)
    lib = Library.objects.create(
        code=LIBRARY,
        name="基准测试图书馆",
        name_en="Benchmark Library",
        carsi_idp_entity_id="https://idp.bench.example.edu/idp/shibboleth",
    )
    cats = Category.objects.bulk_create(
        Category(
            library=lib,
            language=Language.CHINESE if i < 33 else Language.FOREIGN,
            name=f"类别{i:02}",
            name_en=f"Category {i:02}",
            position=i,
        )
        for i in range(46)
    )
    words = [
        "中国",
        "学术",
        "期刊",
        "数字",
        "图书",
        "论文",
        "专利",
        "标准",
        "数据",
        "知识",
        "科技",
        "文献",
        "万方",
        "维普",
        "超星",
    ]
    codes = list(ContentType.values)
    rows = []
    for i in range(resources):
        chinese = i % 3 != 0
        name = (
            (words[i % len(words)] + words[(i // 7) % len(words)] + f"数据库{i}")
            if chinese
            else f"Database {i:05} of Science"
        )
        description = (
            f"收录{words[i % 11]}与{words[i % 13]}等资源，第{i}号。"
            if chinese
            else f"Journals and books, item {i}."
        )
        types = ",".join(sorted({codes[i % len(codes)], codes[(i // 3) % len(codes)]}))
        rows.append(
            Resource(
                library=lib,
                key=f"r{i:05}",
                name=name,
                name_en="" if chinese else name,
                description=description,
                language=Language.CHINESE if chinese else Language.FOREIGN,
                category=cats[i % len(cats)],
                content_types=f",{types},",
                is_trial=i % 50 == 0,
                search_text=normalise_text(f"r{i:05}", name, description),
            )
        )
    created = Resource.objects.bulk_create(rows, batch_size=1000)
    kinds = [
        RouteKind.CARSI,
        RouteKind.VPN,
        RouteKind.PROXY,
        RouteKind.CAMPUS_IP,
        RouteKind.ACCOUNT,
    ]
    today = timezone.localdate()
    routes = []
    for i, r in enumerate(created):
        routes.append(
            AccessRoute(resource=r, kind=RouteKind.CAMPUS_IP, url=f"https://db{i}.example.com/")
        )
        extra = kinds[i % len(kinds)]
        if extra != RouteKind.CAMPUS_IP:
            routes.append(
                AccessRoute(
                    resource=r,
                    kind=extra,
                    url=f"https://db{i}.example.com/",
                    sp_login_url="https://sp.example.com/Shibboleth.sso/Login"
                    if extra == RouteKind.CARSI
                    else "",
                    ends_on=today + dt.timedelta(days=365) if i % 4 == 0 else None,
                )
            )
    AccessRoute.objects.bulk_create(routes, batch_size=2000)
    # Sub-databases under every tenth resource.
    subs = [
        Resource(
            library=lib,
            key=f"r{i:05}-sub",
            name=f"{created[i].name}子库",
            parent=created[i],
            search_text=normalise_text(f"{created[i].name}子库"),
        )
        for i in range(0, resources, 10)
    ]
    Resource.objects.bulk_create(subs, batch_size=1000)
    lib.touch_registry()


def main(argv: list[str]) -> int:
    duration = option(argv, "duration", 10)
    connections = option(argv, "connections", 100)
    resources = option(argv, "resources", 5000)
    if not shutil.which("wrk"):
        print("wrk is not installed (Debian package wrk)", file=sys.stderr)
        return 2
    started = time.monotonic()
    build_database(resources)
    print(
        f"database with {resources} resources built in {time.monotonic() - started:.1f} s",
        flush=True,
    )
    with LifelineServer(environment()) as server:
        base = server.base
        page = f"{base}/lib/{LIBRARY}/"
        for _ in range(4):  # warm every worker's page cache and connection
            wait_ready(page)
        with urllib.request.urlopen(page, timeout=10) as response:
            body = response.read().decode()
            vary = response.headers.get("Vary", "")
        assert "r00000" in body or "数据库" in body, "A–Z page did not list the resources"
        reference = wrk(f"{base}/healthz", duration, connections)
        az = wrk(page, duration, connections)
        # What browsers (WeChat's included) send: the page comes gzipped from the page cache.
        az_gzip = wrk(page, duration, connections, "Accept-Encoding: gzip, deflate")
    print(f"/healthz             {reference.line()}")
    print(f"/lib/{LIBRARY}/          {az.line()}")
    print(f"/lib/{LIBRARY}/ (gzip)   {az_gzip.line()}")
    print(
        f"ratio A–Z/healthz: {az.requests_per_s / reference.requests_per_s:.2f} plain, "
        f"{az_gzip.requests_per_s / reference.requests_per_s:.2f} gzip"
        f"  (Vary on A–Z: {vary or 'none'})"
    )
    ok = all(
        r.requests_per_s >= 1500 and r.p99_ms <= 100 and r.errors == 0 and r.non_2xx == 0
        for r in (az, az_gzip)
    )
    print("target >= 1500 req/s, p99 <= 100 ms, no errors:", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
