from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from lifeline.reference import demo
from lifeline.reference.models import Ticket


@pytest.mark.django_db
def test_demo_loads_twice(library_a: Any, reference_a: Any) -> None:
    demo.load(library_a, dt.date(2020, 2, 10))
    first = Ticket.objects.count()
    demo.load(library_a, dt.date(2020, 2, 10))
    assert Ticket.objects.count() == first == len(demo.QUESTIONS) + 2
