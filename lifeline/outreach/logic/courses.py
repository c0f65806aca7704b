"""Literacy courses: enrolment, attendance per lesson, completion and its certificate."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from lifeline.core import audit
from lifeline.core.choices import AuditAction
from lifeline.core.models import Patron
from lifeline.core.uploads import check_upload
from lifeline.outreach.logic.events import may_take_part
from lifeline.outreach.models import Course, CourseMaterial, Enrolment, Lesson

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


# --- class lists ---------------------------------------------------------------------------

MAX_CLASS = 5000
# A student or staff number as campus systems issue them (also a local user name).
STUDENT_NO = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,39}")
CLASS_HEADERS = {
    "学号": "student_no", "student number": "student_no", "student_no": "student_no",
    "工号": "student_no", "id": "student_no",
    "姓名": "name", "name": "name",
}  # fmt: skip


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM) first; else GB18030, the superset of GBK that Excel on a
    Chinese Windows writes. A file that is neither is refused, not guessed at."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationError(_("The file is neither UTF-8 nor GBK text."))


def _rows(kind: str, data: bytes) -> list[list[str]]:
    if kind == "xlsx":
        from lifeline.core.uploads import check_zip

        check_zip(data)
        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
            raise ValidationError(_("This is not an XLSX workbook.")) from exc
        rows = [
            ["" if v is None else str(v).strip() for v in row]
            for row in book.worksheets[0].iter_rows(values_only=True, max_row=MAX_CLASS + 2)
        ]
        book.close()
        return rows
    text = _decode(data)
    dialect = csv.excel_tab if text.split("\n", 1)[0].count("\t") else csv.excel
    return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text), dialect)]


def import_class_list(course: Course, kind: str, data: bytes) -> tuple[int, int]:
    """Enrol every student of a class list (学号, 姓名). All rows or none: the first bad line is
    named. A student already on the course is left as is. Returns (added, linked to accounts)."""
    rows = _rows(kind, data)
    if not rows:
        raise ValidationError(_("The file is empty."))
    header = [CLASS_HEADERS.get(h.strip().lower(), "") for h in rows[0]]
    if "student_no" not in header:
        raise ValidationError(_("Line 1: the header needs a column 学号 (student number)."))
    seen: dict[str, int] = {}
    found: list[tuple[str, str]] = []
    for line, row in enumerate(rows[1:], start=2):
        values = {k: v for k, v in zip(header, row, strict=False) if k}
        number, name = values.get("student_no", ""), values.get("name", "")
        if not number and not name:
            continue
        if len(found) >= MAX_CLASS:
            raise ValidationError(_("At most %(n)s students per file.") % {"n": MAX_CLASS})
        if not STUDENT_NO.fullmatch(number):
            raise ValidationError(
                _("Line %(line)s: “%(value)s” is not a student number.")
                % {"line": line, "value": number[:40]}
            )
        if number in seen:
            raise ValidationError(
                _("Line %(line)s: student %(no)s is already on line %(first)s.")
                % {"line": line, "no": number, "first": seen[number]}
            )
        seen[number] = line
        found.append((number, name[:120]))
    if not found:
        raise ValidationError(_("The file names no students."))
    users = {
        p.user.get_username(): p.user
        for p in Patron.objects.filter(
            library_id=course.library_id, user__username__in=[n for n, _name in found]
        ).select_related("user")
    }
    on_course = Enrolment.objects.filter(course=course)
    have = set(on_course.values_list("student_no", flat=True)) | set(
        on_course.filter(user__isnull=False).values_list("user__username", flat=True)
    )
    new = [
        Enrolment(course=course, student_no=n, name=name, user=users.get(n))
        for n, name in found
        if n not in have
    ]
    with transaction.atomic():
        Enrolment.objects.bulk_create(new)
        audit.write(
            AuditAction.IMPORT,
            course,
            after={"class_list": len(found), "added": len(new)},
            message="class list",
        )
    return len(new), sum(1 for e in new if e.user is not None)


def link_enrolments(user: Any, library_id: int) -> int:
    """A student signed in: the class-list rows with their number become theirs."""
    return (
        Enrolment.objects.filter(
            course__library_id=library_id, user__isnull=True, student_no=user.get_username()
        )
        .exclude(course__enrolments__user=user)
        .update(user=user)
    )


def add_material(
    course: Course, kind: str, title: str, *, url: str = "", upload: Any = None
) -> CourseMaterial:
    """Slides, a video or a document: a link, or a file checked by its content."""
    material = CourseMaterial(course=course, kind=kind, title=title[:200], url=url)
    if upload is not None:
        checked = check_upload(upload, MATERIAL_KINDS)
        upload.seek(0)
        material.mime = checked.mime
        material.file.save(f"m.{checked.kind}", upload, save=False)
    elif not url:
        raise ValidationError(_("Give a link or a file."))
    material.save()
    return material


# Slides and documents as PDF or Office files, video as MP4/WebM: what a browser shows.
MATERIAL_KINDS = ("pdf", "pptx", "docx", "xlsx", "mp4", "webm", "mp3", "m4a")
