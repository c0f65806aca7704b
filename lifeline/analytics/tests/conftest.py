from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.utils import translation

from lifeline.registry.choices import RouteKind
from lifeline.registry.models import AccessRoute, Resource

# The official COUNTER samples, kept in the repository (sources and licence in its README).
COUNTER_DATA = Path(__file__).resolve().parent / "data" / "counter_official"


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


@pytest.fixture
def platforms(library_a: Any) -> dict[str, Resource]:
    out = {}
    for key, url in [
        ("sd", "https://www.sciencedirect.com/"),
        ("cnki", "https://www.cnki.net/"),
        ("acs", "https://pubs.acs.org/"),
        ("ebsco", "https://ebscohost.com/"),
        ("duxiu", "http://book.duxiu.com/"),
        ("db", "https://www.example-db.com/"),
        ("wanfang", "https://www.wanfangdata.com.cn/"),
    ]:
        out[key] = Resource.objects.create(library=library_a, key=key, name=key)
        AccessRoute.objects.create(resource=out[key], kind=RouteKind.PROXY, url=url)
    return out
