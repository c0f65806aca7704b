"""Notices reach a real webhook (a loopback HTTP server) in the robot's format, and linked staff
users are written to at their own address."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from django.core import mail

from lifeline.core.notify import send_pending
from lifeline.emergency import services
from lifeline.emergency.choices import Level
from lifeline.emergency.logic import review

PLAN = """\
name: 小预案
categories: [public_health]
webhooks:
  - {{url: "{url}/robot", format: wecom}}
teams:
  - key: lead
    name: 领导小组
    leadership: true
    members:
      - {{name: 馆长, user: leader_a}}
    tasks:
      - {{key: meet, title: 开会, title_en: Meet, level: IV, due_hours: 1}}
"""


class Robot(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Robot.received.append(json.loads(body))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"errcode": 0, "errmsg": "ok"}')

    def log_message(self, *args: Any) -> None:
        pass


def test_webhook_and_linked_user_are_notified(library_a: Any, leader_a: Any, settings: Any) -> None:
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]  # webhooks go through core.outbound
    server = ThreadingHTTPServer(("127.0.0.1", 0), Robot)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Robot.received.clear()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        plan = services.import_yaml(library_a, PLAN.format(url=url), user=leader_a)
        event = services.declare(
            library_a,
            plan,
            category="public_health",
            level=Level.IV,
            scope="全校",
            reason="演示",
            user=leader_a,
        )
        assert event.tasks.get().assignee == leader_a
        assert send_pending() == 2
    finally:
        server.shutdown()
        server.server_close()
    assert [m.to for m in mail.outbox] == [["leader_a@example.edu"]]
    assert "开会" in mail.outbox[0].body and "Meet" in mail.outbox[0].body
    [message] = Robot.received
    assert message["msgtype"] == "markdown" and "开会" in message["markdown"]["content"]


def test_review_reads_the_other_modules_when_present(library_a: Any, leader_a: Any) -> None:
    plan = services.install_default_plan(library_a)
    event = services.declare(
        library_a,
        plan,
        category="public_health",
        level=Level.IV,
        scope="全校",
        reason="x",
        user=leader_a,
    )
    r = review.build(event)
    for module, key in (("health", "incidents"), ("delivery", "delivery"), ("analytics", "usage")):
        try:
            __import__(f"lifeline.{module}.services")
        except ImportError:
            assert r[key] is None
        else:
            assert r[key] is not None, key
    if r["delivery"] is not None:
        assert {"requested", "supplied", "fill_rate"} <= set(r["delivery"])
