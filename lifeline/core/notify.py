"""Notifications through an outbox: e-mail and webhooks (JSON, WeCom, DingTalk, Feishu robots).

Callers decide inside their own transaction (`notify_email`, `notify_webhook` only write a row);
the row is sent by a task enqueued when the transaction commits, and a periodic sweep
(`send_pending`, scheduled every minute) retries failures with back-off and picks up rows whose
sender died. So a decision that committed is never lost, and one that rolled back never goes out.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import httpx
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from lifeline.core import outbound
from lifeline.core.choices import Channel, NotificationStatus, WebhookFormat
from lifeline.core.models import Library, Notification

log = logging.getLogger(__name__)
LEASE = dt.timedelta(minutes=5)
WEBHOOK_TIMEOUT = 10.0
# A robot answers a few hundred bytes; more is read no further.
WEBHOOK_ANSWER_BYTES = 64 * 1024


def _create(library: Library | None, dedupe_key: str, **fields: Any) -> Notification:
    if dedupe_key:
        existing = Notification.objects.filter(
            library=library, channel=fields["channel"], dedupe_key=dedupe_key
        ).first()
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            obj = Notification.objects.create(library=library, dedupe_key=dedupe_key, **fields)
    except IntegrityError:
        # Another process queued the same notice a moment ago: one notice, not two.
        return Notification.objects.get(
            library=library, channel=fields["channel"], dedupe_key=dedupe_key
        )
    transaction.on_commit(lambda: _enqueue(obj.pk))
    return obj


def _enqueue(pk: int) -> None:
    from lifeline.core.tasks import deliver_notification

    try:
        deliver_notification.enqueue(pk)
    except Exception:  # a broker outage must not break the request that queued the notice
        log.exception("could not enqueue notification %s; the sweep will send it", pk)


def notify_email(
    library: Library | None,
    to: list[str],
    subject: str,
    body: str,
    *,
    html: str = "",
    kind: str = "",
    dedupe_key: str = "",
    headers: dict[str, str] | None = None,
    from_email: str = "",
    reply_to: str = "",
) -> Notification:
    """Queue an e-mail. `headers` adds Message-ID/In-Reply-To/List-Unsubscribe and the like
    (CR and LF are refused: a header value someone typed must not start a new header)."""
    recipients = sorted({addr.strip() for addr in to if addr and addr.strip()})
    clean = {str(k): str(v) for k, v in (headers or {}).items()}
    for key, value in [*clean.items(), ("From", from_email), ("Reply-To", reply_to)]:
        if any(c in key + value for c in "\r\n\0"):
            raise ValueError(f"line break in e-mail header {key!r}")
    return _create(
        library,
        dedupe_key,
        channel=Channel.EMAIL,
        recipients=recipients,
        subject=subject[:300].replace("\r", " ").replace("\n", " "),
        body=body,
        html=html,
        kind=kind,
        headers=clean,
        from_email=from_email,
        reply_to=reply_to,
    )


def notify_app(
    library: Library | None,
    sender: str,
    *,
    subject: str = "",
    body: str = "",
    payload: dict[str, Any] | None = None,
    recipients: list[str] | None = None,
    kind: str = "",
    dedupe_key: str = "",
) -> Notification:
    """Queue a message for a channel with its own API. `sender` is the dotted path of a
    function `send(notification) -> None` under `lifeline.` that raises on failure; the outbox
    gives it the same lease, retries and back-off as e-mail and webhooks."""
    if not sender.startswith("lifeline."):
        raise ValueError("an app sender must live in the lifeline package")
    return _create(
        library,
        dedupe_key,
        channel=Channel.APP,
        sender=sender,
        subject=subject[:300],
        body=body,
        payload=payload,
        recipients=recipients or [],
        kind=kind,
    )


def notify_webhook(
    library: Library | None,
    url: str,
    *,
    title: str,
    text: str,
    fmt: str = WebhookFormat.JSON,
    payload: dict[str, Any] | None = None,
    kind: str = "",
    dedupe_key: str = "",
) -> Notification:
    return _create(
        library,
        dedupe_key,
        channel=Channel.WEBHOOK,
        url=url,
        webhook_format=fmt,
        subject=title[:300],
        body=text,
        payload=payload,
        kind=kind,
    )


def webhook_body(n: Notification) -> dict[str, Any]:
    """The request body each robot expects (their documented "markdown"/"text" message types)."""
    if n.webhook_format == WebhookFormat.WECOM:
        return {"msgtype": "markdown", "markdown": {"content": f"**{n.subject}**\n{n.body}"}}
    if n.webhook_format == WebhookFormat.DINGTALK:
        return {
            "msgtype": "markdown",
            "markdown": {"title": n.subject, "text": f"### {n.subject}\n\n{n.body}"},
        }
    if n.webhook_format == WebhookFormat.FEISHU:
        return {"msg_type": "text", "content": {"text": f"{n.subject}\n{n.body}"}}
    return {
        "title": n.subject,
        "text": n.body,
        "kind": n.kind,
        "created_at": n.created_at.isoformat(),
        **(n.payload or {}),
    }


def _robot_error(response: httpx.Response) -> str:
    """WeCom/DingTalk answer HTTP 200 with errcode != 0 on failure; Feishu with code != 0."""
    try:
        data = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return ""
    if not isinstance(data, dict):
        return ""
    for key in ("errcode", "code", "StatusCode"):
        if key in data and data[key] not in (0, "0", None):
            message = data.get("errmsg") or data.get("msg") or data.get("StatusMessage") or ""
            return f"{key}={data[key]} {message}".strip()
    return ""


def _send(n: Notification, connection: Any = None) -> None:
    if n.channel == Channel.EMAIL:
        if not n.recipients:
            raise ValueError("no recipients")
        msg = EmailMultiAlternatives(
            n.subject,
            n.body,
            from_email=n.from_email or None,
            to=n.recipients,
            reply_to=[n.reply_to] if n.reply_to else None,
            headers=n.headers or None,
            connection=connection,
        )
        if n.html:
            msg.attach_alternative(n.html, "text/html")
        msg.send()
        return
    if n.channel == Channel.APP:
        if not n.sender.startswith("lifeline."):
            raise ValueError(f"refused sender {n.sender!r}")
        send = import_string(n.sender)
        send(n)
        return
    # Through the one outbound helper (issue 21): a webhook URL is an address someone typed, so
    # an internal one is refused unless LIFELINE_OUTBOUND_ALLOW names its network.
    result = outbound.fetch(
        n.url,
        method="POST",
        headers={"Content-Type": "application/json"},
        content=json.dumps(webhook_body(n), ensure_ascii=False).encode(),
        follow_redirects=False,
        max_bytes=WEBHOOK_ANSWER_BYTES,
        truncate=True,
        timeout=WEBHOOK_TIMEOUT,
    )
    response = httpx.Response(result.status, headers=result.headers, content=result.content)
    if response.status_code >= 300:
        raise RuntimeError(f"HTTP {response.status_code}")
    error = _robot_error(response)
    if error:
        raise RuntimeError(error)


def backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 6 * 3600))


def claim(pk: int, now: dt.datetime) -> bool:
    """Take the row for sending: pending and due, or a lease that ran out (its sender died)."""
    due = Q(status=NotificationStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=NotificationStatus.SENDING, claimed_until__lt=now
    )
    return bool(
        Notification.objects.filter(due, pk=pk).update(
            status=NotificationStatus.SENDING, claimed_until=now + LEASE
        )
    )


def deliver(pk: int, now: dt.datetime | None = None, *, connection: Any = None) -> bool:
    """Send one notification if it is due and nobody else holds it. True when sent."""
    now = now or timezone.now()
    if not claim(pk, now):
        return False
    return _deliver_claimed(Notification.objects.get(pk=pk), now, connection)


def _deliver_claimed(n: Notification, now: dt.datetime, connection: Any = None) -> bool:
    pk = n.pk
    try:
        _send(n, connection)
    except Exception as exc:  # every failure is recorded on the row and retried
        attempts = n.attempts + 1
        final = attempts >= Notification.MAX_ATTEMPTS
        _record(
            pk,
            attempts=attempts,
            status=NotificationStatus.FAILED if final else NotificationStatus.PENDING,
            next_attempt_at=now + backoff(attempts),
            claimed_until=None,
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        log.warning("notification %s failed (attempt %s): %s", pk, attempts, exc)
        return False
    _record(
        pk,
        status=NotificationStatus.SENT,
        sent_at=timezone.now(),
        attempts=n.attempts + 1,
        claimed_until=None,
        last_error="",
    )
    return True


# How long a sender keeps trying to record an outcome while the database is away: less than
# the lease, so no sweep can take the row for sending while its sender still means to mark it.
RECORD_PATIENCE = LEASE - dt.timedelta(seconds=30)


def _pause(seconds: float) -> None:
    time.sleep(seconds)  # a function of its own so tests can step through without waiting


def _record(pk: int, **fields: Any) -> None:
    """Write the outcome of a send. The message has left: if the database is unreachable at
    this moment (a restart, issue 16), forgetting the outcome would send it again when the lease
    runs out. So an outage is waited out, reconnecting with back-off, for up to RECORD_PATIENCE;
    only then (or inside a caller's transaction, which cannot be resumed) does the error rise."""
    from django.db import connection

    from lifeline.core.dbdown import OUTAGE, reset_connections

    give_up = time.monotonic() + RECORD_PATIENCE.total_seconds()
    wait = 0.5
    while True:
        try:
            Notification.objects.filter(pk=pk).update(**fields)
            return
        except OUTAGE:
            if connection.in_atomic_block or time.monotonic() > give_up:
                raise
            log.warning("notification %s: database unavailable; outcome kept, retrying", pk)
            reset_connections()
            _pause(wait)
            wait = min(wait * 2, 5.0)


def queue_emails(
    library: Library | None,
    messages: list[dict[str, Any]],
    *,
    kind: str,
    hold: dt.timedelta | None = None,
) -> int:
    """Bulk mail (issue 11, push): one INSERT for many rows, no task per row; the caller sends
    them with `deliver_many` and the sweep picks up what it leaves. Each message is a dict of
    `to`, `subject`, `body`, `html`, `headers`, `dedupe_key` (required: a second call with the
    same keys writes nothing, so a restarted run never queues a message twice). Returns the
    number of rows written. `hold`: the sweep leaves the rows alone that long (their sender
    is alive and about to send them)."""
    due_at = timezone.now() + (hold or dt.timedelta(0))
    rows = []
    for m in messages:
        if not m.get("dedupe_key"):
            raise ValueError("bulk mail needs a dedupe key per message")
        headers = {str(k): str(v) for k, v in (m.get("headers") or {}).items()}
        for key, value in [*headers.items(), ("From", m.get("from_email", ""))]:
            if any(c in key + value for c in "\r\n\0"):
                raise ValueError(f"line break in e-mail header {key!r}")
        rows.append(
            Notification(
                library=library,
                channel=Channel.EMAIL,
                kind=kind,
                dedupe_key=m["dedupe_key"],
                recipients=sorted({a.strip() for a in m["to"] if a and a.strip()}),
                subject=str(m["subject"])[:300].replace("\r", " ").replace("\n", " "),
                body=m["body"],
                html=m.get("html", ""),
                headers=headers,
                from_email=m.get("from_email", ""),
                next_attempt_at=due_at,
            )
        )
    before = Notification.objects.filter(
        library=library, channel=Channel.EMAIL, dedupe_key__in=[r.dedupe_key for r in rows]
    ).count()
    Notification.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    after = Notification.objects.filter(
        library=library, channel=Channel.EMAIL, dedupe_key__in=[r.dedupe_key for r in rows]
    ).count()
    return after - before


def deliver_many(
    pks: list[int],
    now: dt.datetime | None = None,
    *,
    owned: bool = False,
    lease: dt.timedelta = LEASE,
) -> int:
    """Send many e-mail rows over one SMTP connection (bulk mail: a connection per message
    costs more than the message). One UPDATE claims them all; each is marked sent on its own
    as soon as the server accepted it, so a crash leaves at most the message in flight
    uncertain (sent again when its lease runs out: at-least-once, like every outbox row).
    `owned`: the caller queued these rows with a `hold` and sends its first attempt itself.
    Returns how many were sent."""
    from django.core.mail import mailers

    now = now or timezone.now()
    due = Q(status=NotificationStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=NotificationStatus.SENDING, claimed_until__lt=now
    )
    if owned:
        due |= Q(status=NotificationStatus.PENDING, attempts=0)
    with transaction.atomic():
        mine = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(due, pk__in=pks)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        Notification.objects.filter(pk__in=mine).update(
            status=NotificationStatus.SENDING, claimed_until=now + lease
        )
    if not mine:
        return 0
    sent = 0
    with _relaxed_commit(), mailers.default as connection:
        for n in list(Notification.objects.filter(pk__in=mine).order_by("pk")):
            sent += _deliver_claimed(n, now, connection)
    return sent


@contextlib.contextmanager
def _relaxed_commit() -> Iterator[None]:
    """On PostgreSQL, each "sent" mark commits without waiting for the disk flush: a dead
    worker loses nothing (the server still writes it), and only a crash of the database server
    itself could forget the last fraction of a second of marks, whose messages then go again
    with the same Message-ID. A flush per message would cap bulk mail at the disk's fsync rate.
    One statement per message in autocommit: no BEGIN/COMMIT round trips around it."""
    from django.db import connection

    relaxed = connection.vendor == "postgresql" and not connection.in_atomic_block
    if relaxed:
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        if relaxed:
            with connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")


def send_pending(now: dt.datetime | None = None, limit: int = 500) -> int:
    """Send every due notification (the sweep). Returns how many were sent."""
    now = now or timezone.now()
    due = Q(status=NotificationStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=NotificationStatus.SENDING, claimed_until__lt=now
    )
    ids = list(
        Notification.objects.filter(due)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(deliver(pk, now) for pk in ids)
