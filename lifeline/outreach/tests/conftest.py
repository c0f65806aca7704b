"""Fixtures of the outreach tests: an event with a small session, a question bank and quiz, the
interview recording room, a second patron and one of library B."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from lifeline.conftest import PASSWORD
from lifeline.core.choices import PatronCategory
from lifeline.core.models import Library, Patron
from lifeline.outreach.choices import EventKind, QuestionKind
from lifeline.outreach.models import Event, Question, QuestionBank, Quiz, Room, Session


def make_patron(username: str, library: Library) -> Any:
    user = get_user_model().objects.create_user(username, f"{username}@example.edu", PASSWORD)
    Patron.objects.create(user=user, library=library, category=PatronCategory.STUDENT)
    return user


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    """Contest entries and materials are written under a scratch folder, not the worktree."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def patron_a2(library_a: Library) -> Any:
    return make_patron("patron_a2", library_a)


@pytest.fixture
def patron_b(library_b: Library) -> Any:
    return make_patron("patron_b", library_b)


@pytest.fixture
def now() -> dt.datetime:
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def event(library_a: Library) -> Event:
    return Event.objects.create(
        library=library_a,
        kind=EventKind.READING,
        title="云阅读：战疫书单分享会",
        title_en="Cloud reading: books against the epidemic",
        online=True,
    )


@pytest.fixture
def session(event: Event, now: dt.datetime) -> Session:
    return Session.objects.create(
        event=event,
        starts_at=now + dt.timedelta(days=2),
        ends_at=now + dt.timedelta(days=2, hours=1),
        location="腾讯会议 123-456-789",
        capacity=1,
    )


@pytest.fixture
def bank(library_a: Library) -> QuestionBank:
    bank = QuestionBank.objects.create(library=library_a, name="防疫知识")
    Question.objects.bulk_create(
        [
            Question(bank=bank, kind=QuestionKind.SINGLE, text="新冠病毒主要传播途径？",
                     options=["呼吸道飞沫", "饮水", "蚊虫"], answer="A", points=2),
            Question(bank=bank, kind=QuestionKind.MULTIPLE, text="有效的防护措施有哪些？",
                     options=["戴口罩", "勤洗手", "聚餐"], answer="AB", points=3),
            Question(bank=bank, kind=QuestionKind.TRUE_FALSE, text="酒精可以灭活病毒。",
                     text_en="Alcohol inactivates the virus.", answer="T", points=1),
            Question(bank=bank, kind=QuestionKind.FILL, text="居家隔离一般为___天。",
                     answer="14|十四", points=4),
        ]
    )  # fmt: skip
    return bank


@pytest.fixture
def quiz(library_a: Library, bank: QuestionBank, now: dt.datetime) -> Quiz:
    return Quiz.objects.create(
        library=library_a,
        bank=bank,
        title="防疫知识竞答",
        title_en="Anti-epidemic knowledge quiz",
        questions=4,
        minutes=10,
        attempts=2,
        opens_at=now - dt.timedelta(hours=1),
        closes_at=now + dt.timedelta(days=1),
    )


@pytest.fixture
def room(library_a: Library) -> Room:
    return Room.objects.create(
        library=library_a,
        name="远程面试录制室",
        name_en="Remote interview recording room",
        slot_minutes=30,
        opens=dt.time(8, 0),
        closes=dt.time(21, 0),
        max_per_week=2,
        days_ahead=7,
    )


def right_answers(quiz_questions: list[Question]) -> dict[int, str | list[str]]:
    out: dict[int, str | list[str]] = {}
    for q in quiz_questions:
        out[q.pk] = q.answer.split("|")[0] if q.kind == QuestionKind.FILL else list(q.answer)
    return out
