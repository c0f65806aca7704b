"""Emergency app: the cost of the service-mode banner on every page, and of the heavy actions.

    .venv/bin/python -m bench emergency [--calls=20000]

In-process, on a fresh SQLite database under bench/tmp/emergency/. The banner's context
processor runs on every patron page (the A–Z list serves 1,500 req/s), so it is timed against
the core context processor that every page already pays for (the reference, same run). Then one
activation of the default plan (tasks + notices + timeline), the plan PDF and the review PDF/XLSX.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench._common import best_per_call, option, scratch_django

ROOT = Path(__file__).resolve().parent.parent
TMP = ROOT / "bench" / "tmp" / "emergency"


def _once_ms(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return (time.perf_counter() - start) * 1000, result


def main(argv: list[str]) -> int:
    calls = option(argv, "calls", 20000)
    scratch_django(
        "emergency", LIFELINE_TASK_BACKEND="database"
    )  # notices stay in the outbox: no SMTP here
    from django.contrib.auth import get_user_model
    from django.test import RequestFactory
    from django.urls import resolve
    from django.utils import timezone

    from lifeline.core.choices import Role
    from lifeline.core.context_processors import lifeline as core_processor
    from lifeline.core.models import Library, Membership
    from lifeline.emergency import services
    from lifeline.emergency.context_processors import active_emergency
    from lifeline.emergency.logic import exports, pdf, review

    library = Library.objects.create(code="bench", name="基准图书馆", name_en="Bench Library")
    leader = get_user_model().objects.create_user("leader", "leader@example.edu", "x" * 12)
    Membership.objects.create(user=leader, library=library, role=Role.LEADERSHIP)
    plan = services.install_default_plan(library)

    request = RequestFactory().get("/lib/bench/")
    request.resolver_match = resolve("/lib/bench/")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()

    reference = best_per_call(lambda: core_processor(request), calls, 1e6)
    quiet = best_per_call(lambda: active_emergency(request), calls, 1e6)
    ms_declare, event = _once_ms(
        lambda: services.declare(
            library,
            plan,
            category="public_health",
            level=2,
            scope="全校",
            reason="bench",
            user=leader,
        )
    )
    services.forget_active(library)
    assert active_emergency(request)["active_emergency"] is not None
    banner = best_per_call(lambda: active_emergency(request), calls, 1e6)

    def cold() -> Any:  # both caches empty: what the first request after a change pays
        from django.core.cache import cache

        from lifeline.emergency.context_processors import forget_local

        cache.delete(services.CACHE_KEY.format(library.pk))
        forget_local()
        return active_emergency(request)

    miss = best_per_call(cold, max(calls // 20, 100), 1e6)
    ms_escalate, _ = _once_ms(lambda: services.change_level(event, 1, user=leader))
    services.stand_down(event, user=leader, now=timezone.now())
    ms_plan_pdf_first, _ = _once_ms(lambda: pdf.plan_pdf(plan.latest()))  # loads the font
    ms_plan_pdf, _ = _once_ms(lambda: pdf.plan_pdf(plan.latest()))
    data = review.build(event)
    ms_review_pdf, _ = _once_ms(lambda: pdf.review_pdf(data))
    ms_review_xlsx, _ = _once_ms(lambda: exports.review_xlsx(data))

    print(f"core context processor (reference)   {reference:8.2f} µs/call")
    print(
        f"banner, no event (cached)            {quiet:8.2f} µs/call  ratio {quiet / reference:5.2f}"
    )
    print(
        f"banner, event in force (cached)      {banner:8.2f} µs/call  "
        f"ratio {banner / reference:5.2f}"
    )
    print(
        f"banner, cache miss (one query)       {miss:8.2f} µs/call  ratio {miss / reference:5.2f}"
    )
    print(f"declare level II ({event.tasks.count()} tasks now)     {ms_declare:8.1f} ms")
    print(f"escalate II → I                      {ms_escalate:8.1f} ms")
    print(
        f"plan PDF (first / next)              {ms_plan_pdf_first:8.1f} ms / {ms_plan_pdf:.1f} ms"
    )
    print(f"review PDF / XLSX                    {ms_review_pdf:8.1f} ms / {ms_review_xlsx:.1f} ms")
    return 0
