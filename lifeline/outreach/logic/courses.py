"""Literacy courses: enrolment, attendance per lesson, completion and its certificate."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from lifeline.outreach.logic.events import may_take_part
from lifeline.outreach.models import Course, Enrolment, Lesson

# Present at four lessons in five: the usual bar for a course certificate.
COMPLETION_SHARE = 0.8


def enrol(course: Course, user: Any) -> Enrolment:
    if not may_take_part(user, course.library_id):
        raise PermissionDenied
    enrolment, _created = Enrolment.objects.get_or_create(course=course, user=user)
    return enrolment


def mark_attended(enrolment: Enrolment, lesson: Lesson) -> None:
    if lesson.course_id != enrolment.course_id:
        raise ValidationError(_("This lesson belongs to another course."))
    enrolment.attended.add(lesson)


def complete(enrolment: Enrolment, *, now: dt.datetime | None = None) -> bool:
    """Mark the course complete when the patron attended enough lessons; False otherwise."""
    total = Lesson.objects.filter(course_id=enrolment.course_id).count()
    present = enrolment.attended.count()
    if not total or present < COMPLETION_SHARE * total:
        return False
    if enrolment.completed_at is None:
        enrolment.completed_at = now or timezone.now()
        enrolment.save(update_fields=["completed_at"])
    return True
