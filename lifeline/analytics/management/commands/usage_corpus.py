"""lifeline usage_corpus [--counter DIR] [--kbart DIR]: what the readers make of real files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import translation

from lifeline.analytics.corpus import markdown, run


class Command(BaseCommand):
    help = "Read every COUNTER / KBART file of a folder (nothing stored) and print a table."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--counter", type=Path, help="folder of COUNTER reports")
        parser.add_argument("--kbart", type=Path, help="folder of KBART title lists")
        parser.add_argument("--lang", choices=["zh-hans", "en"], default="en")

    def handle(self, *args: Any, **opts: Any) -> None:
        with translation.override(opts["lang"]):
            for kind in ("counter", "kbart"):
                if opts[kind]:
                    self.stdout.write(f"## {kind.upper()}\n\n{markdown(run(opts[kind], kind))}\n")
