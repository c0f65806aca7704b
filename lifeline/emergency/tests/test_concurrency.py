"""Two leaders press "declare" at the same moment: one event, and a clear message for the other."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from lifeline.conftest import make_staff
from lifeline.core.choices import Role
from lifeline.emergency import services
from lifeline.emergency.choices import Level
from lifeline.emergency.models import Event


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="the in-memory test database of SQLite reports a table lock "
    "at once instead of waiting (a file database waits busy_timeout); "
    "test_flow covers the constraint there",
)
def test_two_leaders_declaring_at_once_make_one_event(library_a: Any, leader_a: Any) -> None:
    other = make_staff("leader_two", library_a, Role.LEADERSHIP)
    plan = services.install_default_plan(library_a)
    barrier = threading.Barrier(2, timeout=10)
    outcomes: list[str] = []

    def run(user: Any) -> None:
        try:
            barrier.wait()
            services.declare(
                library_a,
                plan,
                category="public_health",
                level=Level.II,
                scope="全校",
                reason=f"by {user}",
                user=user,
            )
            outcomes.append("declared")
        except services.EmergencyError as exc:
            outcomes.append(f"refused: {exc}")
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(u,)) for u in (leader_a, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(o.split(":")[0] for o in outcomes) == ["declared", "refused"]
    assert Event.objects.count() == 1
    event = Event.objects.get()
    # The refused leader's half-made work is gone: tasks and timeline belong to the one event only.
    assert event.timeline.count() == 3 and event.tasks.count() > 20
