from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.cache import cache

from lifeline.core.models import Library
from lifeline.emergency.context_processors import forget_local
from lifeline.emergency.models import Plan
from lifeline.emergency.services import install_default_plan

T0 = dt.datetime(2026, 1, 31, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _clear_cache() -> Any:
    # The banner's per-process memo outlives a test's database: clear it with the shared cache.
    cache.clear()
    forget_local()
    yield
    cache.clear()
    forget_local()


@pytest.fixture
def plan(library_a: Library) -> Plan:
    return install_default_plan(library_a)
