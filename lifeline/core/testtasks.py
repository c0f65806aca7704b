"""Tasks used by the worker tests (kept in the package so worker processes can import them)."""

from __future__ import annotations

from django.tasks import task

from lifeline.core.models import AuditLog


@task()
def record_run(marker: str) -> str:
    # A row per run: the test counts them to prove no job ran twice and none was lost.
    AuditLog.objects.create(action="action", model="test.worker", message=marker, actor="worker")
    return marker
