from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.utils import translation

# The official COUNTER samples sit beside the repository (../shared/data/counter), in CI as here.
REPO = Path(__file__).resolve().parents[3]
COUNTER_DATA = REPO.parent / "shared" / "data" / "counter"


@pytest.fixture
def counter_data() -> Path:
    assert COUNTER_DATA.is_dir(), f"COUNTER samples not found at {COUNTER_DATA}"
    return COUNTER_DATA


def sample_files() -> list[Path]:
    return sorted(
        p for p in (COUNTER_DATA / "r50").glob("*") if p.suffix in {".json", ".tsv"}
    ) + sorted(p for p in (COUNTER_DATA / "r51").glob("*") if p.suffix in {".json", ".tsv"})


@pytest.fixture(autouse=True)
def english_messages() -> Any:
    """Domain functions speak the active language; assertions here read the English msgids.
    (Pages pick their language per request, so view tests still see Chinese by default.)"""
    with translation.override("en"):
        yield
