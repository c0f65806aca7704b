"""The human library: one reader per slot even when two ask at once, both sides told through the
outbox (booking, cancelling, a reminder the day before), other libraries' patrons refused."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from lifeline.conftest import client_for
from lifeline.core.models import Library, Notification
from lifeline.outreach.logic import humanlib
from lifeline.outreach.models import Conversation, HumanBook


@pytest.fixture
def book(library_a: Library) -> HumanBook:
    return HumanBook.objects.create(
        library=library_a,
        name="王同学",
        title="求职面试经验谈",
        title_en="Job interviews, from one who passed",
        profile="2019届毕业生，<b>五次</b>面试。",
        topics="求职，面试, 简历",
        email="wang@example.edu",
    )


@pytest.fixture
def slots(book: HumanBook, now: dt.datetime) -> list[Conversation]:
    return humanlib.add_slots(
        book, now + dt.timedelta(days=2), 3, online=True, place="腾讯会议 111-222-333"
    )


def test_book_cancel_remind(
    slots: list[Conversation], patron_a: Any, patron_a2: Any, now: dt.datetime,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    first = slots[0]
    with django_capture_on_commit_callbacks(execute=True):
        humanlib.book_slot(first, patron_a, now=now)
    told = Notification.objects.filter(kind="outreach.conv_booked")
    assert sorted(r for n in told for r in n.recipients) == [
        "patron_a@example.edu",
        "wang@example.edu",
    ]
    with pytest.raises(ValidationError):  # taken
        humanlib.book_slot(first, patron_a2, now=now)
    with pytest.raises(ValidationError):  # one slot at a time with the same book
        humanlib.book_slot(slots[1], patron_a, now=now)
    # A day before: both reminded, once however often the job runs.
    later = first.starts_at - dt.timedelta(hours=3)
    assert humanlib.send_reminders(now=later) == 1
    assert humanlib.send_reminders(now=later) == 0
    assert Notification.objects.filter(kind="outreach.conv_reminder").count() == 2
    assert humanlib.cancel_slot(first, patron_a2, now=now) is False  # not theirs
    assert humanlib.cancel_slot(first, patron_a, now=now) is True
    assert Notification.objects.filter(kind="outreach.conv_cancelled").count() == 2
    humanlib.book_slot(first, patron_a2, now=now)  # free again
    assert Conversation.objects.get(pk=first.pk).reader == patron_a2
    with pytest.raises(ValidationError):
        humanlib.book_slot(slots[2], patron_a, now=slots[2].starts_at)


def test_last_slot_race_one_wins(slots: list[Conversation], patron_a: Any, patron_a2: Any) -> None:
    # The second request read the slot as free before the first wrote: the conditional update
    # is what refuses it.
    stale = Conversation.objects.get(pk=slots[0].pk)
    humanlib.book_slot(slots[0], patron_a)
    with pytest.raises(ValidationError):
        humanlib.book_slot(stale, patron_a2)
    assert Conversation.objects.get(pk=slots[0].pk).reader == patron_a


def test_pages_and_outsiders(
    book: HumanBook, slots: list[Conversation], patron_a: Any, patron_b: Any,
    librarian_b: Any, client: Any,
) -> None:  # fmt: skip
    page = client.get("/outreach/nefu/humans/")
    assert page.status_code == 200 and "求职面试经验谈" in page.content.decode()
    detail = client.get(f"/outreach/hb/{book.pk}/").content.decode()
    assert "&lt;b&gt;五次&lt;/b&gt;" in detail and "面试" in detail
    for outsider in (patron_b, librarian_b):
        with pytest.raises(PermissionDenied):
            humanlib.book_slot(slots[0], outsider)
        assert client_for(outsider).post(f"/outreach/conv/{slots[0].pk}/book/").status_code == 403
    me = client_for(patron_a)
    assert me.post(f"/outreach/conv/{slots[0].pk}/book/").status_code == 302
    assert client_for(patron_b).post(f"/outreach/conv/{slots[0].pk}/cancel/").status_code == 404
    assert "腾讯会议" in me.get("/outreach/nefu/mine/").content.decode()
    assert me.post(f"/outreach/conv/{slots[0].pk}/cancel/").status_code == 302
    assert not Conversation.objects.filter(reader__isnull=False).exists()
    me.cookies["lifeline_lang"] = "en"
    assert (
        "Job interviews, from one who passed" in me.get(f"/outreach/hb/{book.pk}/").content.decode()
    )
