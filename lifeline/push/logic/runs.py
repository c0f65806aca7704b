"""A push run: one announcement to every subscriber of its topic, through the outbox, once.

Exactly once, even when the worker is killed (kill -9) and restarted:
- rows are written in batches, each batch in one transaction with the run's cursor, and each
  row carries the dedupe key (announcement, subscriber) under the outbox's unique constraint,
  so a restarted run that writes a batch again writes nothing;
- rows are held from the outbox sweep while the run is alive and sent by the run over one SMTP
  connection per batch, each marked sent as soon as the server accepted it;
- a run whose heartbeat stopped is taken over (by the periodic `resume_stale` or a new task);
  it first sends the rows the dead worker had written but not sent. The one message the dead
  worker had in flight waits for its lease: if the server had accepted it, it goes again with
  the same Message-ID (what mail stores de-duplicate on); the bench counts both.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext as _

from lifeline.core import notify
from lifeline.core.choices import Channel, NotificationStatus
from lifeline.core.models import Notification
from lifeline.push.choices import RunStatus
from lifeline.push.logic import html, subscriptions
from lifeline.push.logic.publish import page_url
from lifeline.push.models import Announcement, PushRun

BATCH = 500
HOLD = dt.timedelta(minutes=10)
TOKEN = "\x00TOKEN\x00"  # noqa: S105 - a placeholder replaced per subscriber (never in sanitised text)


def lease() -> dt.timedelta:
    """How long a sender holds its messages; also how long a silent run counts as alive (it
    beats after every batch, far more often)."""
    return dt.timedelta(seconds=getattr(settings, "PUSH_LEASE_SECONDS", 60))


def dedupe_key(ann_pk: int, sub_pk: int) -> str:
    return f"push:{ann_pk}:{sub_pk}"


def kind(ann: Announcement) -> str:
    return f"push:{ann.pk}"


def _domain() -> str:
    host = settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    return host or "localhost"


def click_url(ann_pk: int, url: str) -> str:
    from django.core import signing

    token = signing.dumps({"a": ann_pk, "u": url}, salt="lifeline.push.click", compress=True)
    return settings.SITE_URL + reverse("push:click", args=[token])


class Letter:
    """One announcement rendered once per language; `for_subscriber` fills in the token."""

    def __init__(self, ann: Announcement) -> None:
        self.ann = ann
        self.versions: dict[str, tuple[str, str, str]] = {}
        for lang in ("zh-hans", "en"):
            with translation.override(lang):
                english = lang == "en"
                title = (ann.title_en or ann.title) if english else (ann.title or ann.title_en)
                body = (ann.body_en or ann.body) if english else (ann.body or ann.body_en)
                unsub = settings.SITE_URL + reverse("push:unsubscribe", args=["TOKEN"])
                unsub = unsub.replace("TOKEN", TOKEN)
                pixel = settings.SITE_URL + reverse("push:open", args=[ann.pk, "TOKEN"])
                pixel = pixel.replace("TOKEN", TOKEN)
                footer = _(
                    "You receive this because you subscribed to announcements of %(library)s. "
                    "Unsubscribe with one click: %(link)s"
                ) % {"library": ann.library, "link": unsub}
                disclosure = _(
                    "This message contains a small image that tells the library it was opened; "
                    "your mail program may block it."
                )
                text = (
                    f"{title}\n\n{html.plain_text(body)}\n\n{page_url(ann)}\n\n-- \n{footer}\n"
                    f"{disclosure}"
                )
                styled = html.inline_styled(body, link=lambda u: click_url(ann.pk, u))
                markup = (
                    f'<!doctype html><html><body style="margin:0;padding:16px;">'
                    f'<h2 style="{html.INLINE["h2"]}">{escape(title)}</h2>{styled}'
                    f'<p style="{html.INLINE["p"]}"><a style="{html.INLINE["a"]}" '
                    f'href="{escape(page_url(ann))}">{escape(page_url(ann))}</a></p>'
                    f'<hr style="{html.INLINE["hr"]}"><p style="font-size:12px;color:#777;">'
                    f"{escape(footer)}<br>{escape(disclosure)}</p>"
                    f'<img src="{escape(pixel)}" width="1" height="1" alt=""></body></html>'
                )
                self.versions[lang] = (title, text, markup)
        self.unsub_base = settings.SITE_URL + reverse("push:unsubscribe", args=["TOKEN"])

    def for_subscriber(self, sub_pk: int, email: str, language: str) -> dict[str, Any]:
        title, text, markup = self.versions["en" if language.startswith("en") else "zh-hans"]
        token = subscriptions.subscriber_token(sub_pk)
        unsub = self.unsub_base.replace("TOKEN", token)
        return {
            "to": [email],
            "subject": title,
            "body": text.replace(TOKEN, token),
            "html": markup.replace(TOKEN, token),
            "dedupe_key": dedupe_key(self.ann.pk, sub_pk),
            "headers": {
                "List-Unsubscribe": f"<{unsub}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                "Message-ID": f"<push.{self.ann.pk}.{sub_pk}@{_domain()}>",
                "Precedence": "bulk",
                "Auto-Submitted": "auto-generated",
            },
        }


def claim(run_pk: int, now: dt.datetime, stale: dt.timedelta | None = None) -> bool:
    """Take a queued run, or one whose worker stopped beating (it died)."""
    stale = lease() if stale is None else stale
    taken = PushRun.objects.filter(pk=run_pk, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING, heartbeat_at=now, started_at=now
    )
    if taken:
        return True
    return bool(
        PushRun.objects.filter(
            pk=run_pk, status=RunStatus.RUNNING, heartbeat_at__lt=now - stale
        ).update(heartbeat_at=now, restarts=F("restarts") + 1)
    )


def _beat(run_pk: int) -> None:
    PushRun.objects.filter(pk=run_pk).update(heartbeat_at=timezone.now())


def _open_rows(ann: Announcement) -> Any:
    return Notification.objects.filter(
        library=ann.library,
        channel=Channel.EMAIL,
        kind=kind(ann),
        status__in=[NotificationStatus.PENDING, NotificationStatus.SENDING],
        attempts=0,
    )


def execute(run_pk: int, *, stale: dt.timedelta | None = None, batch: int = BATCH) -> int:
    """Run (or take over) a push run to the end. Returns the messages this call sent."""
    if not claim(run_pk, timezone.now(), stale):
        return 0
    run = PushRun.objects.select_related("announcement__library").get(pk=run_pk)
    ann = run.announcement
    library = ann.library
    audience = subscriptions.audience(library, ann.topic)
    if not run.total:
        PushRun.objects.filter(pk=run_pk).update(total=audience.count())  # type: ignore[attr-defined]
    letter = Letter(ann)
    sent = 0
    # A takeover first sends what the dead worker wrote but did not send.
    if run.restarts:
        sent += _drain(ann, run_pk, wait=False)
    cursor = run.cursor
    while True:
        rows = list(
            audience.filter(pk__gt=cursor).values_list("pk", "email", "language")[:batch]  # type: ignore[attr-defined]
        )
        if not rows:
            break
        messages = [letter.for_subscriber(pk, email, lang) for pk, email, lang in rows]
        with transaction.atomic():
            written = notify.queue_emails(library, messages, kind=kind(ann), hold=HOLD)
            cursor = rows[-1][0]
            PushRun.objects.filter(pk=run_pk).update(
                cursor=cursor, written=F("written") + written, heartbeat_at=timezone.now()
            )
        pks = list(
            Notification.objects.filter(
                library=library,
                channel=Channel.EMAIL,
                dedupe_key__in=[m["dedupe_key"] for m in messages],
            ).values_list("pk", flat=True)
        )
        sent += notify.deliver_many(pks, owned=True, lease=lease())
        _beat(run_pk)
    sent += _drain(ann, run_pk, wait=True)
    PushRun.objects.filter(pk=run_pk).update(
        status=RunStatus.DONE, finished_at=timezone.now(), heartbeat_at=timezone.now()
    )
    return sent


def _drain(ann: Announcement, run_pk: int, *, wait: bool) -> int:
    """Send the run's rows not yet sent; with `wait`, also those whose lease a dead worker
    holds, once it runs out (bounded by the lease)."""
    sent = 0
    deadline = time.monotonic() + lease().total_seconds() + 5
    while True:
        pks = list(_open_rows(ann).order_by("pk").values_list("pk", flat=True)[:BATCH])
        if not pks:
            return sent
        got = notify.deliver_many(pks, owned=True, lease=lease())
        sent += got
        _beat(run_pk)
        if not got:
            if not wait or time.monotonic() > deadline:
                return sent
            time.sleep(1)


def resume_stale(now: dt.datetime | None = None, stale: dt.timedelta | None = None) -> int:
    """The periodic job: start again every run whose worker died. Returns how many."""
    from lifeline.push.tasks import push_run

    now = now or timezone.now()
    stale = lease() if stale is None else stale
    runs = PushRun.objects.filter(
        Q(status=RunStatus.RUNNING, heartbeat_at__lt=now - stale)
        | Q(status=RunStatus.QUEUED, announcement__published_at__lt=now - stale)
    ).values_list("pk", flat=True)
    count = 0
    for pk in runs:
        push_run.enqueue(pk)
        count += 1
    return count


def progress(run: PushRun) -> dict[str, Any]:
    """Figures for the progress bar: written and sent out of the audience."""
    rows = Notification.objects.filter(
        library_id=run.announcement.library_id, channel=Channel.EMAIL, kind=kind(run.announcement)
    )
    sent = rows.filter(status=NotificationStatus.SENT).count()
    failed = rows.filter(status=NotificationStatus.FAILED).count()
    total = run.total or 0
    return {
        "total": total,
        "written": run.written,
        "sent": sent,
        "failed": failed,
        "percent": int(100 * sent / total) if total else (100 if run.status == "done" else 0),
    }
