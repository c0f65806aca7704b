"""API (issue 2, part 6): cost of the JSON endpoints against a trivial endpoint, same process.

    .venv/bin/python -m bench api [--resources=5000] [--calls=200]

In-process through Django's test client (the whole middleware stack, no socket), on a fresh
SQLite database under bench/tmp/api/ holding one library of N resources with two routes each.
The reference is /healthz, timed in the same run: ratios stay comparable on a noisy machine.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench._common import best_per_call, option, scratch_django

ROOT = Path(__file__).resolve().parent.parent
TMP = ROOT / "bench" / "tmp" / "api"


def populate(n: int) -> tuple[Any, str]:
    from django.contrib.auth import get_user_model

    from lifeline.core.audit import acting_as
    from lifeline.core.choices import Role
    from lifeline.core.models import ApiToken, Library, Membership
    from lifeline.registry.models import AccessRoute, Category, Resource, normalise_text

    lib = Library.objects.create(
        code="nefu", name="东北林业大学图书馆", carsi_idp_entity_id="https://idp.example/"
    )
    cats = [Category.objects.create(library=lib, language="zh", name=f"类别{i}") for i in range(30)]
    with acting_as(None, "bench"):
        resources = [
            Resource(
                library=lib,
                key=f"r{i}",
                name=f"数据库{i:05d}",
                name_en=f"Database {i}",
                category=cats[i % 30],
                content_types=",journals,",
                search_text=normalise_text(f"r{i}", f"数据库{i:05d}"),
            )
            for i in range(n)
        ]
        Resource.objects.bulk_create(resources, batch_size=1000)
        ids = list(Resource.objects.values_list("pk", flat=True))
        AccessRoute.objects.bulk_create(
            [
                AccessRoute(resource_id=pk, kind="carsi", sp_login_url="https://sp.example/Login")
                for pk in ids
            ]
            + [AccessRoute(resource_id=pk, kind="vpn", url="https://vpn.example/") for pk in ids],
            batch_size=1000,
        )
    user = get_user_model().objects.create_user("bench", "b@example.edu", "x" * 12, is_staff=True)
    Membership.objects.create(user=user, library=lib, role=Role.ERESOURCES)
    _obj, token = ApiToken.issue(user, "bench")
    return lib, token


def main(argv: list[str]) -> int:
    n = option(argv, "resources", 5000)
    calls = option(argv, "calls", 200)
    scratch_django("api")
    from django.test import Client

    _lib, token = populate(n)
    anon = Client()
    bearer = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    cases: list[tuple[str, Callable[[], Any]]] = [
        ("/healthz (reference)", lambda: anon.get("/healthz")),
        ("public A–Z, first 50", lambda: anon.get("/api/registry/public/nefu/resources/")),
        (
            "public A–Z, 50 at offset 4,000",
            lambda: anon.get("/api/registry/public/nefu/resources/?offset=4000"),
        ),
        (
            "public A–Z, search q=数据库04",
            lambda: anon.get("/api/registry/public/nefu/resources/?q=数据库04"),
        ),
        (
            "public A–Z, works_from_home=true",
            lambda: anon.get("/api/registry/public/nefu/resources/?works_from_home=true"),
        ),
        (
            "public detail with routes",
            lambda: anon.get("/api/registry/public/nefu/resources/r1234/"),
        ),
        ("staff resources list (token), 50", lambda: bearer.get("/api/registry/resources/")),
        ("staff routes list (token), 50", lambda: bearer.get("/api/registry/routes/")),
        ("OpenAPI document (JSON)", lambda: anon.get("/api/schema/?format=json")),
    ]
    for _name, fn in cases:
        assert fn().status_code == 200, _name
    reference = None
    print(
        f"{n} resources, {2 * n} routes; best of 3 × {calls} calls"
        f" (schema: × {max(calls // 20, 3)})"
    )
    print("| what | ms/request | ratio to /healthz |")
    print("|---|---|---|")
    for name, fn in cases:
        ms = best_per_call(fn, max(calls // 20, 3) if "OpenAPI" in name else calls)
        reference = reference or ms
        print(f"| {name} | {ms:.2f} | {ms / reference:.1f} |", flush=True)
    return 0
