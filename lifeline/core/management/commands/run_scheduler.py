from __future__ import annotations

import signal
import time
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand

from lifeline.core.dbdown import survive
from lifeline.core.schedule import run_due


class Command(BaseCommand):
    help = "Enqueue periodic jobs when they are due (runs until SIGTERM)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--interval", type=float, default=5.0)
        parser.add_argument("--once", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        stop = False

        def on_term(signum: int, frame: FrameType | None) -> None:
            nonlocal stop
            stop = True

        signal.signal(signal.SIGTERM, on_term)
        signal.signal(signal.SIGINT, on_term)
        while True:
            # A database outage skips the turn instead of ending the process (issue 16).
            for name in survive(run_due, "scheduler") or []:
                self.stdout.write(f"enqueued {name}")
            if opts["once"] or stop:
                return
            deadline = time.monotonic() + opts["interval"]
            while not stop and time.monotonic() < deadline:
                time.sleep(0.2)
