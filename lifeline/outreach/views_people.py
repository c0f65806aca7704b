"""Patron pages of contests, the human library and courses (server-rendered, usable without
JavaScript on a phone). Staff pages are in `views_staff.py`."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST, require_safe

from lifeline.core.access import PUBLIC, library_for
from lifeline.core.clientip import client_ip
from lifeline.core.permissions import user_can
from lifeline.core.typing import AuthedRequest
from lifeline.outreach.choices import EntryStatus
from lifeline.outreach.forms import EntryForm
from lifeline.outreach.logic import contests, courses, humanlib
from lifeline.outreach.logic.events import may_take_part
from lifeline.outreach.models import (
    Contest,
    Conversation,
    Course,
    CourseMaterial,
    Enrolment,
    Entry,
    HumanBook,
    Lesson,
    Vote,
)


def _first_error(exc: ValidationError) -> str:
    return str(exc.messages[0]) if exc.messages else _("Not possible.")


def _file_response(handle: Any, mime: str, name: str, *, inline: bool) -> FileResponse:
    """A stored file from its own view, never /media/: the type is the one sniffed when it was
    stored, the browser may not guess another, and nothing in it may run in our origin."""
    response = FileResponse(handle, content_type=mime, as_attachment=not inline, filename=name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# --- contests ------------------------------------------------------------------------------


class _CapHandler(FileUploadHandler):
    def __init__(self, request: HttpRequest, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.seen = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.seen += len(raw_data)
        if self.seen > self.limit:
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def refuse_oversized(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """An entry larger than the contest allows is refused from its Content-Length, before a byte
    of a 2 GB video is read or spooled to disk (CSRF is checked after, on a body we accept)."""
    protected = csrf_protect(view)

    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, pk: int) -> HttpResponse:
        contest = get_object_or_404(Contest, pk=pk)
        limit = contest.max_mb * 2**20 + 64 * 1024  # the form's other fields and boundaries
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if request.method == "POST" and length > limit:
            messages.error(
                request,
                _("The upload is %(size)s; the largest accepted is %(max)s.")
                % {"size": filesizeformat(length), "max": filesizeformat(contest.max_mb * 2**20)},
            )
            response = redirect("outreach:contest", pk=contest.pk)
            response["Connection"] = "close"  # do not read the rest of the body
            return response
        # A body without a Content-Length (chunked) is counted as it streams in and cut off at
        # the limit, rather than spooled whole to disk and refused after.
        request.upload_handlers.insert(0, _CapHandler(request, limit))
        return protected(request, pk)

    return wrapper


@require_safe
def contest_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contest = get_object_or_404(Contest.objects.select_related("library"), pk=pk)
    now = timezone.now()
    user = request.user
    mine = (
        Entry.objects.filter(contest=contest, user=user).first() if user.is_authenticated else None
    )
    voted = (
        Vote.objects.filter(contest=contest, user=user).select_related("entry").first()
        if user.is_authenticated
        else None
    )
    return render(
        request,
        "outreach/contest.html",
        {
            "library": contest.library,
            "contest": contest,
            "standings": contests.standings(contest),
            "mine": mine,
            "voted": voted,
            "taking": contest.taking_entries(now),
            "voting": contest.voting(now),
            "form": EntryForm(),
            "accept": ",".join(f".{k}" for k in contests.allowed_kinds(contest)),
        },
    )


@refuse_oversized
@login_required
@require_POST
def contest_enter(request: AuthedRequest, pk: int) -> HttpResponse:
    contest = get_object_or_404(Contest, pk=pk)
    form = EntryForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Give a title and choose a file."))
        return redirect("outreach:contest", pk=pk)
    try:
        contests.submit_entry(
            contest,
            request.user,
            form.cleaned_data["file"],
            form.cleaned_data["title"],
            form.cleaned_data["note"],
        )
    except ValidationError as exc:
        messages.error(request, _first_error(exc))
    else:
        messages.success(request, _("Your entry is in the contest."))
    return redirect("outreach:contest", pk=pk)


@require_safe
def entry_media(request: HttpRequest, pk: int) -> HttpResponseBase:
    entry = get_object_or_404(Entry.objects.select_related("contest"), pk=pk)
    visible = entry.status == EntryStatus.SUBMITTED or (
        request.user.is_authenticated
        and (
            entry.user_id == request.user.pk
            or user_can(request.user, entry.contest.library_id, "outreach.change")
        )
    )
    if not visible:
        raise Http404
    try:
        handle = entry.file.open("rb")
    except OSError as exc:
        raise Http404 from exc
    return _file_response(handle, entry.mime, f"entry-{entry.pk}.{entry.extension}", inline=True)


@login_required
@require_POST
def entry_vote(request: AuthedRequest, pk: int) -> HttpResponse:
    entry = get_object_or_404(Entry.objects.select_related("contest"), pk=pk)
    try:
        contests.vote(entry, request.user, address=client_ip(request))
    except ValidationError as exc:
        messages.error(request, _first_error(exc))
    else:
        messages.success(request, _("Your vote is counted."))
    return redirect("outreach:contest", pk=entry.contest_id)


# --- human library -------------------------------------------------------------------------


@require_safe
def humans(request: HttpRequest, library: str) -> HttpResponse:
    """Public: the library's human books and their free slots."""
    lib = library_for(request, library, PUBLIC)
    books = HumanBook.objects.filter(library=lib, is_active=True).order_by("title")
    return render(request, "outreach/humans.html", {"library": lib, "books": books})


@require_safe
def human_book(request: HttpRequest, pk: int) -> HttpResponse:
    book = get_object_or_404(HumanBook.objects.select_related("library"), pk=pk, is_active=True)
    now = timezone.now()
    slots = list(Conversation.objects.filter(book=book, starts_at__gt=now)[:200])
    return render(
        request,
        "outreach/human_book.html",
        {"library": book.library, "book": book, "slots": slots},
    )


@login_required
@require_POST
def conversation_book(request: AuthedRequest, pk: int) -> HttpResponse:
    slot = get_object_or_404(Conversation.objects.select_related("book"), pk=pk)
    try:
        humanlib.book_slot(slot, request.user)
    except ValidationError as exc:
        messages.error(request, _first_error(exc))
    else:
        messages.success(request, _("The conversation is booked; both of you will be told."))
    return redirect("outreach:human_book", pk=slot.book_id)


@login_required
@require_POST
def conversation_cancel(request: AuthedRequest, pk: int) -> HttpResponse:
    # Another reader's slot is not found: whether it is booked is not theirs to know.
    slot = get_object_or_404(
        Conversation.objects.select_related("book"), pk=pk, reader=request.user
    )
    if humanlib.cancel_slot(slot, request.user):
        messages.info(request, _("Your conversation is cancelled."))
    else:
        messages.error(request, _("This conversation can no longer be cancelled."))
    return redirect("outreach:human_book", pk=slot.book_id)


# --- courses -------------------------------------------------------------------------------


def _course_for(request: AuthedRequest, pk: int) -> tuple[Course, bool]:
    course = get_object_or_404(Course.objects.select_related("library"), pk=pk)
    staff = user_can(request.user, course.library_id, "view")
    if not staff and not may_take_part(request.user, course.library_id):
        raise PermissionDenied
    return course, staff


@login_required
@require_safe
def course_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    course, staff = _course_for(request, pk)
    courses.link_enrolments(request.user, course.library_id)
    enrolment = Enrolment.objects.filter(course=course, user=request.user).first()
    lessons = list(Lesson.objects.filter(course=course))
    attended = set(enrolment.attended.values_list("pk", flat=True)) if enrolment else set()
    return render(
        request,
        "outreach/course.html",
        {
            "library": course.library,
            "course": course,
            "staff": staff,
            "enrolment": enrolment,
            "lessons": [(lesson, lesson.pk in attended) for lesson in lessons],
            "hours": sum(lesson.class_hours for lesson in lessons),
            "materials": CourseMaterial.objects.filter(course=course),
            "assessments": course.assessments.all(),
        },
    )


@login_required
@require_safe
def material(request: AuthedRequest, pk: int) -> HttpResponseBase:
    item = get_object_or_404(CourseMaterial.objects.select_related("course"), pk=pk)
    _course_for(request, item.course_id)
    if item.url:
        return redirect(item.url)
    if not item.file:
        raise Http404
    try:
        handle = item.file.open("rb")
    except OSError as exc:
        raise Http404 from exc
    ext = (item.file.name or "").rsplit(".", 1)[-1]
    inline = item.mime.startswith(("video/", "audio/")) or item.mime == "application/pdf"
    return _file_response(handle, item.mime, f"material-{item.pk}.{ext}", inline=inline)
