"""Models of outreach: events in series with sessions and registrations, quizzes drawn from
question banks, literacy courses with class hours, bookable rooms.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from lifeline.core.models import Library
from lifeline.core.querysets import RestrictedQuerySet
from lifeline.outreach.choices import (
    BOOKING_COLOURS,
    REG_COLOURS,
    Audience,
    BookingStatus,
    EventKind,
    MaterialKind,
    QuestionKind,
    RegStatus,
)
from lifeline.registry.models import Bilingual


class Series(Bilingual, models.Model):
    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(_("title"), max_length=200)
    title_en = models.CharField(_("English title"), max_length=200, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("series")
        verbose_name_plural = _("series")

    def __str__(self) -> str:
        return self.display("title")


class Event(Bilingual, models.Model):
    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="+")
    series = models.ForeignKey(
        Series, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=EventKind.choices)
    title = models.CharField(_("title"), max_length=200)
    title_en = models.CharField(_("English title"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    description_en = models.TextField(_("English description"), blank=True)
    online = models.BooleanField(_("online"), default=True)
    is_public = models.BooleanField(_("public"), default=True)
    materials_url = models.URLField(_("recording or materials"), blank=True)

    objects = RestrictedQuerySet.as_manager()
    audited = True

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = pgettext_lazy("outreach", "events")

    def __str__(self) -> str:
        return self.display("title")

    @property
    def display_title(self) -> str:
        return self.display("title")


class Session(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="sessions")
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    location = models.CharField(_("place or link"), max_length=300, blank=True)
    capacity = models.PositiveIntegerField(_("capacity"), default=0, help_text=_("0: no limit"))
    # Kept equal to the number of REGISTERED rows, under the session's row lock.
    registered = models.PositiveIntegerField(default=0, editable=False)
    reminded_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "event__library"

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("event session")
        verbose_name_plural = _("event sessions")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="outreach_session_ends_after"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def is_full(self) -> bool:
        return bool(self.capacity) and self.registered >= self.capacity


class Registration(models.Model):
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="registrations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(_("status"), max_length=12, choices=RegStatus.choices)
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    feedback = models.TextField(_("feedback"), blank=True)

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "session__event__library"

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        constraints = [
            models.UniqueConstraint(
                fields=["session", "user"],
                condition=~Q(status=RegStatus.CANCELLED),
                name="outreach_one_active_registration",
            )
        ]

    def __str__(self) -> str:
        return f"{self.session} · {self.user_id}"

    @property
    def status_colour(self) -> str:
        return REG_COLOURS.get(self.status, "grey")


class QuestionBank(models.Model):
    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=200)

    objects = RestrictedQuerySet.as_manager()
    audited = True

    class Meta:
        verbose_name = _("question bank")
        verbose_name_plural = _("question banks")

    def __str__(self) -> str:
        return self.name


class Question(Bilingual, models.Model):
    bank = models.ForeignKey(QuestionBank, on_delete=models.CASCADE, related_name="questions")
    kind = models.CharField(_("kind"), max_length=12, choices=QuestionKind.choices)
    text = models.TextField(_("question"))
    text_en = models.TextField(_("English question"), blank=True)
    # Options as a list of strings (Chinese), options_en the same in English (may be empty).
    options = models.JSONField(_("options"), default=list, blank=True)
    options_en = models.JSONField(_("English options"), default=list, blank=True)
    # Choice kinds: sorted option letters ("A", "AC"); true/false: "T" or "F"; fill-in: the
    # accepted answers separated by "|".
    answer = models.CharField(_("answer key"), max_length=500)
    points = models.PositiveSmallIntegerField(_("points"), default=1)

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "bank__library"

    class Meta:
        ordering = ["pk"]
        verbose_name = _("question")
        verbose_name_plural = _("questions")

    def __str__(self) -> str:
        return self.text[:60]

    @property
    def display_text(self) -> str:
        return self.display("text")

    @property
    def lettered(self) -> list[tuple[str, str]]:
        """Options with their letters, in English when the question is shown in English."""
        english = bool(self.text_en) and self.display("text") == self.text_en
        opts = self.options_en if english and self.options_en else self.options
        return list(zip("ABCDEFGHIJ", (str(o) for o in opts), strict=False))


class Quiz(Bilingual, models.Model):
    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(
        Event, null=True, blank=True, on_delete=models.SET_NULL, related_name="quizzes"
    )
    # A course's assessment is a quiz like any other (random paper, deadline, exact score).
    course = models.ForeignKey(
        "outreach.Course",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assessments",
        verbose_name=_("course"),
    )
    bank = models.ForeignKey(QuestionBank, on_delete=models.PROTECT, related_name="quizzes")
    title = models.CharField(_("title"), max_length=200)
    title_en = models.CharField(_("English title"), max_length=200, blank=True)
    questions = models.PositiveSmallIntegerField(_("questions per paper"), default=10)
    minutes = models.PositiveSmallIntegerField(_("time allowed (minutes)"), default=20)
    attempts = models.PositiveSmallIntegerField(_("attempts per patron"), default=1)
    opens_at = models.DateTimeField(_("opens at"))
    closes_at = models.DateTimeField(_("closes at"))

    objects = RestrictedQuerySet.as_manager()
    audited = True

    class Meta:
        verbose_name = _("quiz")
        verbose_name_plural = _("quizzes")

    def __str__(self) -> str:
        return self.display("title")


class Attempt(models.Model):
    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="attempt_set")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    number = models.PositiveSmallIntegerField(default=1)
    question_ids = models.JSONField(default=list)
    started_at = models.DateTimeField()
    deadline = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    score = models.PositiveIntegerField(null=True, blank=True)
    max_score = models.PositiveIntegerField(default=0)

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "quiz__library"

    class Meta:
        verbose_name = _("quiz attempt")
        verbose_name_plural = _("quiz attempts")
        constraints = [
            models.UniqueConstraint(
                fields=["quiz", "user", "number"], name="outreach_attempt_unique_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.quiz_id} · {self.user_id} · {self.number}"

    @property
    def finished_at(self) -> dt.datetime:
        return min(self.submitted_at or self.deadline, self.deadline)

    @property
    def duration(self) -> dt.timedelta:
        return self.finished_at - self.started_at


class Answer(models.Model):
    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="+")
    value = models.CharField(max_length=500, blank=True)
    answered_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["attempt", "question"], name="outreach_answer_one_per_question"
            )
        ]

    def __str__(self) -> str:
        return f"{self.attempt_id} · {self.question_id}"


class Course(Bilingual, models.Model):
    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(_("title"), max_length=200)
    title_en = models.CharField(_("English title"), max_length=200, blank=True)
    audience = models.CharField(_("audience"), max_length=16, choices=Audience.choices)
    term = models.CharField(_("term"), max_length=20, blank=True)

    objects = RestrictedQuerySet.as_manager()
    audited = True

    class Meta:
        verbose_name = _("course")
        verbose_name_plural = _("courses")

    def __str__(self) -> str:
        return self.display("title")


class Lesson(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="lessons")
    held_on = models.DateField(_("date"))
    class_hours = models.DecimalField(_("class hours"), max_digits=5, decimal_places=1)
    online = models.BooleanField(_("online"), default=True)
    participants = models.PositiveIntegerField(_("participants"), default=0)

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "course__library"

    class Meta:
        ordering = ["held_on", "pk"]
        verbose_name = _("lesson")
        verbose_name_plural = _("lessons")

    def __str__(self) -> str:
        return f"{self.course_id} {self.held_on}"


class Enrolment(models.Model):
    """A patron on a course; complete when present at enough of its lessons. A class-list
    import names students by number: one who has not signed in yet has no user until they do."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="enrolments")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    student_no = models.CharField(_("student number"), max_length=40, blank=True)
    name = models.CharField(_("name"), max_length=120, blank=True)
    attended = models.ManyToManyField(Lesson, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "course__library"

    class Meta:
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        constraints = [
            models.UniqueConstraint(fields=["course", "user"], name="outreach_enrolment_once"),
            models.UniqueConstraint(
                fields=["course", "student_no"],
                condition=~Q(student_no=""),
                name="outreach_enrolment_number_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.course_id} · {self.user_id}"


class Room(Bilingual, models.Model):
    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    slot_minutes = models.PositiveSmallIntegerField(_("slot length (minutes)"), default=30)
    opens = models.TimeField(_("opens"), default=dt.time(8, 0))
    closes = models.TimeField(_("closes"), default=dt.time(21, 0))
    max_per_week = models.PositiveSmallIntegerField(_("bookings per patron per week"), default=2)
    days_ahead = models.PositiveSmallIntegerField(_("bookable days ahead"), default=7)
    cancel_before = models.PositiveSmallIntegerField(
        _("cancellation cut-off (minutes before the slot)"), default=60
    )
    max_no_shows = models.PositiveSmallIntegerField(
        _("no-shows in 30 days before booking is refused"), default=3
    )
    other_libraries = models.BooleanField(_("patrons of other libraries may book"), default=False)
    is_active = models.BooleanField(_("bookable"), default=True)

    objects = RestrictedQuerySet.as_manager()
    audited = True

    class Meta:
        verbose_name = _("room")
        verbose_name_plural = _("rooms")

    def __str__(self) -> str:
        return self.display("name")


class Booking(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="bookings")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    status = models.CharField(
        _("status"), max_length=12, choices=BookingStatus.choices, default=BookingStatus.BOOKED
    )
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # Shown to the patron, typed or scanned at the room's desk.
    code = models.CharField(_("check-in code"), max_length=8, blank=True)
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "room__library"

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        constraints = [
            # Slots are fixed (the room's grid), so "no double booking" is one unique index
            # that holds on SQLite and PostgreSQL alike, whatever the requests race.
            models.UniqueConstraint(
                fields=["room", "starts_at"],
                condition=Q(status=BookingStatus.BOOKED),
                name="outreach_booking_one_per_slot",
            )
        ]

    def __str__(self) -> str:
        return f"{self.room_id} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def status_colour(self) -> str:
        return BOOKING_COLOURS.get(self.status, "grey")

    def as_dict(self) -> dict[str, Any]:
        return {"room": str(self.room), "starts_at": self.starts_at.isoformat()}


class RoomBlock(models.Model):
    """The room is out of use (maintenance): no booking inside; those already made are cancelled."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="blocks")
    starts_at = models.DateTimeField(_("closed from"))
    ends_at = models.DateTimeField(_("closed until"))
    reason = models.CharField(_("reason"), max_length=300)

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "room__library"
    audited = True

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("room closure")
        verbose_name_plural = _("room closures")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="outreach_block_ends_after"
            )
        ]

    def __str__(self) -> str:
        return f"{self.room} {self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%H:%M}"


def _material_to(instance: Any, filename: str) -> str:
    # The stored name is ours: a patron's or librarian's file name never becomes a path.
    ext = filename.rsplit(".", 1)[-1].lower()[:8] if "." in filename else "bin"
    return f"outreach/materials/{instance.course_id}/{uuid.uuid4().hex}.{ext}"


class CourseMaterial(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="materials")
    kind = models.CharField(_("kind"), max_length=12, choices=MaterialKind.choices)
    title = models.CharField(_("title"), max_length=200)
    url = models.URLField(_("link"), blank=True)
    file = models.FileField(_("file"), upload_to=_material_to, blank=True, max_length=200)
    mime = models.CharField(max_length=100, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "course__library"

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("course material")
        verbose_name_plural = _("course materials")

    def __str__(self) -> str:
        return self.title


class HumanBook(Bilingual, models.Model):
    """A "book" of the human library (真人图书馆): a person readers talk with for 30 minutes."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=120)
    title = models.CharField(_("book title"), max_length=200)
    title_en = models.CharField(_("English book title"), max_length=200, blank=True)
    profile = models.TextField(_("profile"), blank=True)
    profile_en = models.TextField(_("English profile"), blank=True)
    topics = models.CharField(_("topics"), max_length=300, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    is_active = models.BooleanField(_("open for conversations"), default=True)

    objects = RestrictedQuerySet.as_manager()
    audited = True

    class Meta:
        verbose_name = _("human book")
        verbose_name_plural = _("human books")

    def __str__(self) -> str:
        return self.display("title")

    @property
    def display_profile(self) -> str:
        return self.display("profile")

    @property
    def topic_list(self) -> list[str]:
        return [t.strip() for t in self.topics.replace("，", ",").split(",") if t.strip()]


class Conversation(models.Model):
    """A 30-minute slot with a human book: free while `reader` is empty. Taken by one
    conditional UPDATE (reader IS NULL), so of two readers asking at once exactly one wins."""

    book = models.ForeignKey(HumanBook, on_delete=models.CASCADE, related_name="slots")
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    online = models.BooleanField(_("online"), default=True)
    place = models.CharField(_("meeting link or room"), max_length=300)
    reader = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    booked_at = models.DateTimeField(null=True, blank=True, editable=False)
    reminded_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = RestrictedQuerySet.as_manager()
    library_lookup = "book__library"

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("conversation slot")
        verbose_name_plural = _("conversation slots")
        constraints = [
            models.UniqueConstraint(fields=["book", "starts_at"], name="outreach_conv_one_slot"),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="outreach_conv_ends_after"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.book} {self.starts_at:%Y-%m-%d %H:%M}"


# Contests live in their own module (this one would pass 600 lines); imported here so that
# `lifeline.outreach.models` names every model of the app.
from lifeline.outreach.models_contests import Contest as Contest  # noqa: E402
from lifeline.outreach.models_contests import Entry as Entry  # noqa: E402
from lifeline.outreach.models_contests import JudgeScore as JudgeScore  # noqa: E402
from lifeline.outreach.models_contests import Vote as Vote  # noqa: E402
