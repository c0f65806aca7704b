from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lifeline.core.audit import acting_as
from lifeline.core.models import Library
from lifeline.emergency.services import install_default_plan


class Command(BaseCommand):
    help = (
        "Install the default emergency plan (the 2020 study's sections 3.1–3.2) for a library. "
        "Safe to re-run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--library", required=True, help="library code")

    def handle(self, *args: Any, **opts: Any) -> None:
        library = Library.objects.filter(code=opts["library"]).first()
        if library is None:
            raise CommandError(f"No library with code “{opts['library']}”.")
        with acting_as(None, "load_default_plan"):
            plan = install_default_plan(library)
        self.stdout.write(
            self.style.SUCCESS(
                f"Plan “{plan.name}” (id {plan.pk}, version {plan.current_version}) "
                f"ready for {library.code}."
            )
        )
