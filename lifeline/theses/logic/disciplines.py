"""The national discipline catalogue shipped with the app (`data/disciplines.csv`)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.utils.translation import get_language

CATALOGUE = Path(__file__).resolve().parent.parent / "data" / "disciplines.csv"


@dataclass(frozen=True)
class Discipline:
    code: str
    name: str
    name_en: str

    @property
    def label(self) -> str:
        name = self.name if (get_language() or "zh-hans").startswith("zh") else self.name_en
        return f"{self.code} {name}"


@cache
def catalogue() -> dict[str, Discipline]:
    with CATALOGUE.open(encoding="utf-8", newline="") as fh:
        return {
            row["code"]: Discipline(row["code"], row["name"], row["name_en"])
            for row in csv.DictReader(fh)
        }


def choices() -> list[tuple[str, str]]:
    return [(d.code, d.label) for d in sorted(catalogue().values(), key=lambda d: d.code)]


def name(code: str, english: bool = False) -> str:
    d = catalogue().get(code)
    if d is None:
        return ""
    return d.name_en if english else d.name
