from __future__ import annotations

import signal
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand

from lifeline.core.audit import acting_as
from lifeline.health.logic.worker import probe_step, run_async, run_loop


class Command(BaseCommand):
    help = "Probe access routes as they fall due (runs until SIGTERM)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="Probe what is due now, then exit.")
        parser.add_argument("--tick", type=float, default=0.5)

    def handle(self, *args: Any, **opts: Any) -> None:
        with acting_as(None, "probe_loop"):
            if opts["once"]:
                report = probe_step()
                self.stdout.write(f"probed {report.probed}, {report.flips} state changes")
                return
            stop = False

            def on_term(signum: int, frame: FrameType | None) -> None:
                nonlocal stop
                stop = True

            signal.signal(signal.SIGTERM, on_term)
            signal.signal(signal.SIGINT, on_term)
            run_async(run_loop(lambda: stop, tick=opts["tick"]))
