"""The outbox against a real SMTP server and a real HTTP server on loopback."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.db import transaction
from django.utils import timezone

from lifeline.core.choices import NotificationStatus, WebhookFormat
from lifeline.core.models import Library, Notification
from lifeline.core.notify import (
    backoff,
    deliver,
    notify_app,
    notify_email,
    notify_webhook,
    send_pending,
    webhook_body,
)
from lifeline.core.schedule import Periodic, run_due
from lifeline.settings import smtp_mailer


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Sink:
    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.port = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp(settings: Any) -> Iterator[Sink]:
    sink = Sink()
    sink.port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    settings.MAILERS = {"default": smtp_mailer("127.0.0.1", sink.port)}
    try:
        yield sink
    finally:
        controller.stop()


class Hook(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []
    answer: tuple[int, dict[str, Any]] = (200, {"errcode": 0})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        Hook.received.append(json.loads(self.rfile.read(length)))
        status, body = Hook.answer
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def hook(settings: Any) -> Iterator[str]:
    # Webhooks go through core.outbound: a loopback test server is an allowed internal network.
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8", "::1/128"]
    Hook.received = []
    Hook.answer = (200, {"errcode": 0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()


@pytest.mark.django_db(transaction=True)
def test_email_sent_on_commit_to_real_smtp(library_a: Library, smtp: Sink) -> None:
    with transaction.atomic():
        n = notify_email(
            library_a, ["reader@example.edu"], "数据库已恢复", "中国知网 CARSI 已恢复访问。"
        )
        assert not smtp.messages  # nothing leaves before the decision commits
    n.refresh_from_db()
    assert n.status == NotificationStatus.SENT
    assert len(smtp.messages) == 1
    assert smtp.messages[0].rcpt_tos == ["reader@example.edu"]
    assert (
        "中国知网".encode() in smtp.messages[0].content or b"=?utf-8?" in smtp.messages[0].content
    )


@pytest.mark.django_db(transaction=True)
def test_rolled_back_decision_sends_nothing(library_a: Library, smtp: Sink) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        notify_email(library_a, ["reader@example.edu"], "x", "y")
        raise RuntimeError("the caller failed")
    assert not Notification.objects.exists()
    assert not smtp.messages


@pytest.mark.django_db
def test_failure_is_retried_with_backoff_then_sent(
    library_a: Library, settings: Any, smtp: Sink
) -> None:
    settings.MAILERS = {"default": smtp_mailer("127.0.0.1", 1)}  # nothing listens there
    n = notify_email(library_a, ["a@example.edu"], "s", "b")
    now = timezone.now()
    assert deliver(n.pk, now) is False
    n.refresh_from_db()
    assert (n.status, n.attempts) == (NotificationStatus.PENDING, 1)
    assert n.next_attempt_at == now + backoff(1)
    assert "Error" in n.last_error or "refused" in n.last_error.lower()
    assert send_pending(now) == 0  # not due yet
    settings.MAILERS = {"default": smtp_mailer("127.0.0.1", smtp.port)}
    assert send_pending(now + dt.timedelta(minutes=2)) == 1
    n.refresh_from_db()
    assert n.status == NotificationStatus.SENT and n.attempts == 2


@pytest.mark.django_db
def test_dead_sender_lease_expires_and_row_is_resent(library_a: Library, smtp: Sink) -> None:
    n = notify_email(library_a, ["a@example.edu"], "s", "b")
    now = timezone.now()
    # A worker claimed it and died before sending.
    Notification.objects.filter(pk=n.pk).update(
        status=NotificationStatus.SENDING, claimed_until=now + dt.timedelta(minutes=5)
    )
    assert send_pending(now) == 0
    assert send_pending(now + dt.timedelta(minutes=6)) == 1
    assert len(smtp.messages) == 1


@pytest.mark.django_db
def test_dedupe_key_gives_one_notice(library_a: Library) -> None:
    a = notify_email(library_a, ["a@example.edu"], "s", "b", dedupe_key="incident-1-open")
    b = notify_email(library_a, ["a@example.edu"], "s", "b", dedupe_key="incident-1-open")
    assert a.pk == b.pk and Notification.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", [f.value for f in WebhookFormat])
def test_webhook_formats_reach_a_real_server(library_a: Library, hook: str, fmt: str) -> None:
    n = notify_webhook(
        library_a,
        hook,
        title="访问故障",
        text="维普 VPN 无法访问",
        fmt=fmt,
        payload={"incident": 7},
    )
    assert deliver(n.pk) is True
    body = Hook.received[-1]
    assert body == webhook_body(n)
    flat = json.dumps(body, ensure_ascii=False)
    assert "访问故障" in flat and "维普" in flat


@pytest.mark.django_db
def test_robot_error_code_counts_as_failure(library_a: Library, hook: str) -> None:
    Hook.answer = (200, {"errcode": 93000, "errmsg": "invalid webhook url"})
    n = notify_webhook(library_a, hook, title="t", text="x", fmt=WebhookFormat.WECOM)
    assert deliver(n.pk) is False
    n.refresh_from_db()
    assert "93000" in n.last_error


@pytest.mark.django_db
def test_scheduler_enqueues_each_job_once() -> None:
    calls: list[int] = []
    job = Periodic("test.job", dt.timedelta(minutes=5), lambda: calls.append(1))
    now = timezone.now()
    assert run_due(now, [job]) == ["test.job"]
    assert run_due(now, [job]) == []  # a second scheduler at the same moment does nothing
    assert run_due(now + dt.timedelta(minutes=5), [job]) == ["test.job"]
    assert calls == [1, 1]


@pytest.mark.django_db
def test_webhook_to_an_internal_address_is_refused(
    library_a: Library, hook: str, settings: Any
) -> None:
    """Issue 21: a webhook URL is an address someone typed; without the allowance, loopback is
    refused by core.outbound and nothing reaches the server."""
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    n = notify_webhook(library_a, hook, title="t", text="x")
    assert not deliver(n.pk)
    n.refresh_from_db()
    assert n.last_error.startswith("OutboundRefused")
    assert Hook.received == []


@pytest.mark.django_db(transaction=True)
def test_email_headers_thread_and_unsubscribe(library_a: Library, smtp: Sink) -> None:
    notify_email(
        library_a,
        ["reader@example.edu"],
        "Re: 知网无法下载",
        "已恢复。",
        headers={
            "Message-ID": "<answer-1@lifeline.test>",
            "In-Reply-To": "<question-1@example.edu>",
            "List-Unsubscribe": "<https://lib.example.edu/u/abc>",
        },
        from_email="ask@lib.example.edu",
        reply_to="ask+t1@lib.example.edu",
    )
    raw = smtp.messages[0].content.decode()
    assert "In-Reply-To: <question-1@example.edu>" in raw
    assert "Message-ID: <answer-1@lifeline.test>" in raw
    assert "List-Unsubscribe: <https://lib.example.edu/u/abc>" in raw
    assert "Reply-To: ask+t1@lib.example.edu" in raw
    assert smtp.messages[0].mail_from == "ask@lib.example.edu"


def test_header_with_a_line_break_is_refused(library_a: Library) -> None:
    with pytest.raises(ValueError, match="line break"):
        notify_email(library_a, ["a@b.c"], "s", "b", headers={"X-A": "v\r\nBcc: evil@x"})


SENT_BY_APP: list[str] = []


def app_sender(n: Notification) -> None:
    if n.payload and n.payload.get("fail"):
        raise RuntimeError("errcode=42001 access_token expired")
    SENT_BY_APP.append(n.body)


@pytest.mark.django_db(transaction=True)
def test_app_channel_sends_through_the_named_function_with_retries(library_a: Library) -> None:
    SENT_BY_APP.clear()
    ok = notify_app(library_a, f"{__name__}.app_sender", body="您好", kind="test")
    ok.refresh_from_db()
    assert ok.status == NotificationStatus.SENT and SENT_BY_APP == ["您好"]
    bad = notify_app(library_a, f"{__name__}.app_sender", body="x", payload={"fail": True})
    bad.refresh_from_db()
    assert bad.status == NotificationStatus.PENDING and "42001" in bad.last_error
    with pytest.raises(ValueError):
        notify_app(library_a, "os.system", body="x")
