"""`lifeline mail-gateway`: the reference desk's inbound SMTP server.

Put it behind the campus mail relay (MX or a forwarding rule for the desk addresses). Each
message is one step (`channels.gateway.step`); SIGTERM stops accepting and finishes the message
in hand.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from lifeline.reference.channels.gateway import controller


class Command(BaseCommand):
    help = "Receive e-mail for the reference desk (SMTP) and file it as tickets."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=2525)

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        server = controller(options["host"], options["port"])
        server.start()
        self.stdout.write(f"mail gateway listening on {options['host']}:{options['port']}")
        try:
            stop.wait()
        finally:
            server.stop()
