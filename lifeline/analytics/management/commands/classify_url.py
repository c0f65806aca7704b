"""`lifeline classify-url URL...`: how the log analysis classes each URL, and by which rule."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from lifeline.analytics.logrules.engine import RuleSet, default_rules
from lifeline.analytics.logrules.library import library_ruleset


class Command(BaseCommand):
    help = "Show the COUNTER class, unit and rule a URL gets from the platform rules."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("urls", nargs="+", metavar="URL")
        parser.add_argument("--library", help="library code: its own rules come first")

    def handle(self, *args: Any, **options: Any) -> None:
        rules: RuleSet = default_rules()
        if options.get("library"):
            from lifeline.core.models import Library

            library = Library.objects.get(code=options["library"])
            rules = library_ruleset(library)
        for url in options["urls"]:
            got = rules.classify(url)
            self.stdout.write(
                f"{url}\n  class={got.cls} rule={got.rule} platform={got.platform or '-'} "
                f"unit={got.unit_kind + ':' + got.unit if got.unit else '-'} "
                f"data_type={got.data_type or '-'} access={got.access}"
            )
