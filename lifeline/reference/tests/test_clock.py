from __future__ import annotations

import datetime as dt

from django.utils import timezone

from lifeline.reference.logic.clock import add_service_minutes, service_minutes

OPENS, CLOSES = dt.time(8), dt.time(22)


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2020, 2, day, hour, minute, tzinfo=timezone.get_current_timezone())


def test_a_question_at_ten_to_ten_at_night_is_due_next_morning() -> None:
    assert add_service_minutes(at(3, 21, 50), 30, OPENS, CLOSES) == at(4, 8, 20)


def test_a_question_in_the_night_starts_its_clock_at_opening() -> None:
    assert add_service_minutes(at(3, 2, 0), 30, OPENS, CLOSES) == at(3, 8, 30)
    assert service_minutes(at(3, 2, 0), at(3, 8, 30), OPENS, CLOSES) == 30


def test_the_clock_counts_only_service_hours() -> None:
    assert service_minutes(at(3, 21, 50), at(4, 8, 20), OPENS, CLOSES) == 30
    assert service_minutes(at(3, 10), at(3, 9), OPENS, CLOSES) == 0
    assert service_minutes(at(3, 8), at(5, 8), OPENS, CLOSES) == 2 * 14 * 60
