"""Pages of outreach: events and the public calendar, quizzes, rooms (patrons, usable without
JavaScript on a phone); check-in, question-bank import and the service-report counts (staff).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from lifeline.core.access import PATRON, PUBLIC, library_for
from lifeline.core.params import parse_id
from lifeline.core.permissions import user_can
from lifeline.core.typing import AuthedRequest
from lifeline.core.uploads import check_upload
from lifeline.outreach.choices import ACTIVE_REG, BookingStatus
from lifeline.outreach.forms import FeedbackForm, ImportForm, PeriodForm
from lifeline.outreach.logic import (
    answering,
    bank_import,
    calendar,
    courses,
    events,
    quizzes,
    report,
    rooms,
    stats,
)
from lifeline.outreach.logic.certificate import certificate
from lifeline.outreach.models import (
    Attempt,
    Booking,
    Contest,
    Conversation,
    Enrolment,
    Event,
    Quiz,
    Registration,
    Room,
    Session,
)

CHANGE = "outreach.change"


def _first_error(exc: ValidationError) -> str:
    return str(exc.messages[0]) if exc.messages else _("Not possible.")


# --- events --------------------------------------------------------------------------------


@require_safe
def index(request: HttpRequest, library: str) -> HttpResponse:
    """Public: the library's coming public sessions, open quizzes and rooms."""
    lib = library_for(request, library, PUBLIC)
    now = timezone.now()
    sessions = (
        Session.objects.filter(event__library=lib, event__is_public=True, ends_at__gte=now)
        .select_related("event__series")
        .order_by("starts_at")[:100]
    )
    quizzes_open = Quiz.objects.filter(library=lib, opens_at__lte=now, closes_at__gt=now)
    room_list = Room.objects.filter(library=lib, is_active=True)
    contest_list = Contest.objects.filter(library=lib, voting_close__gt=now)
    return render(
        request,
        "outreach/index.html",
        {
            "library": lib,
            "sessions": sessions,
            "quizzes": quizzes_open,
            "rooms": room_list,
            "contests": contest_list,
        },
    )


def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    event = get_object_or_404(Event.objects.select_related("library", "series"), pk=pk)
    if not event.is_public and not user_can(request.user, event.library):
        raise Http404
    sessions = list(event.sessions.all())
    mine: dict[int, Registration] = {}
    if request.user.is_authenticated:
        for reg in Registration.objects.filter(
            session__event=event, user=request.user, status__in=ACTIVE_REG
        ).select_related("session"):
            mine[reg.session_id] = reg
    rows = []
    for s in sessions:
        held = mine.get(s.pk)
        qr = ""
        if held is not None and held.status == "registered":
            url = request.build_absolute_uri(events.checkin_url(held))
            svg = segno.make(url, error="m").svg_inline(scale=4)
            qr = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
        rows.append({"session": s, "reg": held, "qr": qr})
    return render(
        request,
        "outreach/event.html",
        {"library": event.library, "event": event, "rows": rows, "feedback": FeedbackForm()},
    )


@login_required
@require_POST
def register(request: AuthedRequest, pk: int) -> HttpResponse:
    session = get_object_or_404(Session.objects.select_related("event"), pk=pk)
    if not session.event.is_public and not user_can(request.user, session.event.library_id):
        raise Http404
    try:
        reg = events.register(session, request.user)
    except ValidationError as exc:
        messages.error(request, _first_error(exc))
    else:
        if reg.status == "registered":
            messages.success(request, _("You are registered."))
        else:
            messages.warning(request, _("The session is full: you are on the waiting list."))
    return redirect("outreach:event", pk=session.event_id)


def _own_registration(request: AuthedRequest, pk: int) -> Registration:
    return get_object_or_404(
        Registration.objects.select_related("session__event"), pk=pk, user=request.user
    )


@login_required
@require_POST
def cancel_registration(request: AuthedRequest, pk: int) -> HttpResponse:
    reg = _own_registration(request, pk)
    events.cancel(reg)
    messages.info(request, _("Your registration is cancelled."))
    return redirect("outreach:event", pk=reg.session.event_id)


@login_required
@require_POST
def feedback(request: AuthedRequest, pk: int) -> HttpResponse:
    reg = _own_registration(request, pk)
    form = FeedbackForm(request.POST)
    if form.is_valid():
        try:
            events.give_feedback(reg, form.cleaned_data["rating"], form.cleaned_data["comment"])
        except ValidationError as exc:
            messages.error(request, _first_error(exc))
        else:
            messages.success(request, _("Thank you for your feedback."))
    else:
        messages.error(request, _("Give a rating from 1 to 5."))
    return redirect("outreach:event", pk=reg.session.event_id)


@login_required
def checkin(request: AuthedRequest, token: str) -> HttpResponse:
    """Staff scan the patron's QR code and confirm; a forged token is refused."""
    try:
        reg = events.read_token(token)
    except ValidationError:
        return render(request, "outreach/checkin.html", {"invalid": True}, status=400)
    library = reg.session.event.library
    if not user_can(request.user, library, CHANGE):
        raise PermissionDenied
    done = None
    if request.method == "POST":
        done = events.check_in(reg)
    return render(request, "outreach/checkin.html", {"library": library, "reg": reg, "done": done})


@require_safe
def calendar_feed(request: HttpRequest, library: str) -> HttpResponse:
    """Public: calendar applications subscribe without signing in."""
    lib = library_for(request, library, PUBLIC)
    body = calendar.feed(lib, request.build_absolute_uri("/").rstrip("/"))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{lib.code}-events.ics"'
    return response


# --- quizzes -------------------------------------------------------------------------------


def quiz_detail(request: HttpRequest, pk: int) -> HttpResponse:
    quiz = get_object_or_404(Quiz.objects.select_related("library"), pk=pk)
    attempts = []
    if request.user.is_authenticated:
        attempts = list(Attempt.objects.filter(quiz=quiz, user=request.user).order_by("number"))
    return render(
        request,
        "outreach/quiz.html",
        {
            "library": quiz.library,
            "quiz": quiz,
            "attempts": attempts,
            "board": quizzes.leaderboard(quiz, 20),
            "now": timezone.now(),
        },
    )


@login_required
@require_POST
def quiz_start(request: AuthedRequest, pk: int) -> HttpResponse:
    quiz = get_object_or_404(Quiz, pk=pk)
    try:
        attempt = quizzes.start(quiz, request.user)
    except ValidationError as exc:
        messages.error(request, _first_error(exc))
        return redirect("outreach:quiz", pk=quiz.pk)
    return redirect("outreach:attempt", pk=attempt.pk)


def _answers_from(post: Any, attempt: Attempt) -> dict[int, str | list[str]]:
    out: dict[int, str | list[str]] = {}
    for qid in attempt.question_ids:
        key = f"q{qid}"
        if key in post:
            values = post.getlist(key)
            out[qid] = values if len(values) > 1 else values[0]
    return out


@login_required
def attempt_view(request: AuthedRequest, pk: int) -> HttpResponse:
    # Another patron's paper is not found, not forbidden: its existence is not theirs to know.
    attempt = get_object_or_404(
        Attempt.objects.select_related("quiz__library"), pk=pk, user=request.user
    )
    status = 200
    if request.method == "POST":
        try:
            quizzes.save_answers(attempt, request.user, _answers_from(request.POST, attempt))
        except ValidationError as exc:
            messages.error(request, _first_error(exc))
            status = 409
        if "finish" in request.POST or status == 409:
            attempt = quizzes.submit(attempt, request.user)
            return redirect("outreach:quiz", pk=attempt.quiz_id)
        messages.success(request, _("Your answers are saved."))
        return redirect("outreach:attempt", pk=attempt.pk)
    if attempt.submitted_at is None and timezone.now() >= attempt.deadline:
        attempt = quizzes.submit(attempt, request.user)
    if attempt.submitted_at is not None:
        return redirect("outreach:quiz", pk=attempt.quiz_id)
    left = max(0, int((attempt.deadline - timezone.now()).total_seconds()))
    paper = quizzes.paper(attempt)
    if request.session.session_key is None:
        request.session.save()  # the token is bound to this browser's session cookie
    return render(
        request,
        "outreach/attempt.html",
        {
            "library": attempt.quiz.library,
            "attempt": attempt,
            "paper": paper,
            # Each answer is also sent on its own as the patron gives it (htmx, `answer` below).
            "token": answering.issue(
                attempt, [q for q, _given in paper], request.session.session_key or ""
            ),
            "left_minutes": left // 60,
            "left_seconds": left % 60,
        },
        status=status,
    )


def _answer_request(request: HttpRequest) -> tuple[str, int | None, str | list[str]]:
    """The token, question and value(s) of an answer: the htmx form fields (`t`, `q`, and the
    question's own field `q<id>` as the full form names it) or a JSON body {t, q, v}."""
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return "", None, ""
        value = data.get("v", "")
        if isinstance(value, list):
            value = [str(v) for v in value[:20]]
        return str(data.get("t", "")), parse_id(data.get("q")), value if value else ""
    return answer_fields(request.POST)


def answer_fields(post: QueryDict) -> tuple[str, int | None, str | list[str]]:
    """The token, question and value(s) of an answer sent as htmx sends it (a form post)."""
    qid = parse_id(post.get("q"))
    values = post.getlist(f"q{qid}")[:20] if qid is not None else []
    return post.get("t", ""), qid, values[0] if len(values) == 1 else values


def answer_outcome(
    token: str, qid: int | None, raw: str | list[str], session_key: str, now: dt.datetime
) -> tuple[int, str, str]:
    """(status, error, stored value) of one answer: the view's and the lean path's
    (outreach/lean.py) one decision."""
    try:
        if qid is None:
            raise answering.BadToken
        paper = answering.read(token, session_key)
        value = answering.record(paper, qid, raw, now=now)
    except answering.BadToken:
        return 403, _("This answer cannot be taken from here: reload the quiz page."), ""
    except ValidationError as exc:
        return 409, _first_error(exc), ""
    return 200, "", value


def answer_fragment(error: str, now: dt.datetime) -> str:
    """What htmx swaps into the question's status line (always 2xx: htmx swaps only those)."""
    if error:
        return format_html('<span class="error">{}</span>', error)
    at = timezone.localtime(now).strftime("%H:%M:%S")
    return format_html("{}", _("Saved at %(time)s") % {"time": at})


# No CSRF cookie check and no session read: the signed paper token is the proof (a cross-site
# page cannot read it from the attempt page) and it is bound to this browser's session cookie.
# The session and user lookups, the page render and the flash-message cookie of the form path
# are what made an answer expensive under 10,000 patrons; this costs one SQL statement.
# The htmx form post usually never gets here: lifeline/wsgi.py serves it below the middleware
# (outreach/lean.py) and hands this view only what it does not take itself.
@csrf_exempt
@require_POST
def answer(request: HttpRequest) -> HttpResponse:
    token, qid, raw = _answer_request(request)
    now = timezone.now()
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME, "")
    status, error, value = answer_outcome(token, qid, raw, session_key, now)
    response: HttpResponse
    if request.headers.get("HX-Request") == "true":
        response = HttpResponse(answer_fragment(error, now))
    elif error:
        response = JsonResponse({"saved": False, "error": error}, status=status)
    else:
        response = JsonResponse({"saved": True, "question": qid, "value": value, "at": now})
    # Set here so no middleware reads the session to decide it (SecurityHeadersMiddleware).
    response["Cache-Control"] = "no-store"
    return response


@login_required
def attempt_certificate(request: AuthedRequest, pk: int) -> HttpResponse:
    attempt = get_object_or_404(
        Attempt.objects.select_related("quiz__library"), pk=pk, user=request.user
    )
    if attempt.submitted_at is None:
        raise Http404
    patron = getattr(request.user, "patron", None)
    name = (patron.display_name if patron else "") or request.user.get_username()
    line = _("Score %(score)s of %(max)s") % {"score": attempt.score, "max": attempt.max_score}
    pdf = certificate(attempt.quiz.library.display_name, name, attempt.quiz.display("title"), line)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="certificate-{attempt.pk}.pdf"'
    return response


@login_required
def course_certificate(request: AuthedRequest, pk: int) -> HttpResponse:
    """The completion certificate of one's own completed enrolment (anyone else's: not found)."""
    enrolment = get_object_or_404(
        Enrolment.objects.select_related("course__library"),
        pk=pk,
        user=request.user,
        completed_at__isnull=False,
    )
    course = enrolment.course
    patron = getattr(request.user, "patron", None)
    name = (patron.display_name if patron else "") or request.user.get_username()
    hours = sum(lesson.class_hours for lesson in enrolment.attended.all())
    line = _("Course completed: %(hours)s class hours attended") % {"hours": hours}
    pdf = certificate(course.library.display_name, name, course.display("title"), line)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="course-{enrolment.pk}.pdf"'
    return response


# --- rooms ---------------------------------------------------------------------------------


def room_detail(request: HttpRequest, pk: int) -> HttpResponse:
    room = get_object_or_404(Room.objects.select_related("library"), pk=pk)
    try:
        day = dt.date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        day = timezone.localdate()
    day = min(
        max(day, timezone.localdate()), timezone.localdate() + dt.timedelta(days=room.days_ahead)
    )
    held = rooms.taken(room, day)
    now = timezone.now()
    grid = [{"at": s, "free": s not in held and s > now} for s in rooms.slots(room, day)]
    days = [timezone.localdate() + dt.timedelta(days=i) for i in range(room.days_ahead + 1)]
    return render(
        request,
        "outreach/room.html",
        {"library": room.library, "room": room, "day": day, "grid": grid, "days": days},
    )


@login_required
@require_POST
def room_book(request: AuthedRequest, pk: int) -> HttpResponse:
    room = get_object_or_404(Room, pk=pk)
    try:
        starts_at = dt.datetime.fromisoformat(request.POST.get("starts_at", ""))
        if timezone.is_naive(starts_at):
            starts_at = timezone.make_aware(starts_at)
    except ValueError:
        messages.error(request, _("Choose one of the room's slots."))
        return redirect("outreach:room", pk=room.pk)
    try:
        rooms.book(room, request.user, starts_at)
    except ValidationError as exc:
        messages.error(request, _first_error(exc))
        return redirect("outreach:room", pk=room.pk)
    messages.success(request, _("The room is booked for you."))
    return redirect("outreach:mine", library=room.library.code)


@login_required
@require_POST
def booking_cancel(request: AuthedRequest, pk: int) -> HttpResponse:
    booking = get_object_or_404(
        Booking.objects.select_related("room__library"), pk=pk, user=request.user
    )
    try:
        rooms.cancel_by_patron(booking)
    except ValidationError as exc:
        messages.error(request, _first_error(exc))
    else:
        messages.info(request, _("Your booking is cancelled."))
    return redirect("outreach:mine", library=booking.room.library.code)


@login_required
def mine(request: AuthedRequest, library: str) -> HttpResponse:
    lib = library_for(request, library, PATRON)
    regs = Registration.objects.filter(
        user=request.user, session__event__library=lib, status__in=ACTIVE_REG
    ).select_related("session__event")
    bookings = Booking.objects.filter(
        user=request.user, room__library=lib, status=BookingStatus.BOOKED
    ).select_related("room")
    attempts = Attempt.objects.filter(user=request.user, quiz__library=lib).select_related("quiz")
    courses.link_enrolments(request.user, lib.pk)
    return render(
        request,
        "outreach/mine.html",
        {
            "library": lib,
            "regs": regs,
            "bookings": bookings,
            "attempts": attempts,
            "conversations": Conversation.objects.filter(
                reader=request.user, book__library=lib, starts_at__gt=timezone.now()
            ).select_related("book"),
            "enrolments": Enrolment.objects.filter(
                user=request.user, course__library=lib
            ).select_related("course"),
        },
    )


# --- staff ---------------------------------------------------------------------------------


@login_required
def import_questions(request: AuthedRequest, library: str) -> HttpResponse:
    lib = library_for(request, library, CHANGE)
    form = ImportForm(lib, request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            check_upload(upload, allowed=("xlsx",))
            upload.seek(0)
            n = bank_import.import_bank(form.cleaned_data["bank"], upload.read())
        except ValidationError as exc:
            form.add_error("file", exc)
            status = 400
        else:
            messages.success(request, _("%(n)s questions imported.") % {"n": n})
            return redirect("outreach:import", library=lib.code)
    elif request.method == "POST":
        status = 400
    return render(request, "outreach/import.html", {"library": lib, "form": form}, status=status)


@login_required
def report_view(request: AuthedRequest, library: str) -> HttpResponse:
    lib = library_for(request, library, "view")
    form = PeriodForm(request.GET or None)
    today = timezone.localdate()
    start, end = dt.date(today.year, 1, 1), today
    if form.is_valid():
        start = form.cleaned_data["start"] or start
        end = form.cleaned_data["end"] or end
    figures = report.counts(lib, start, end)
    return render(
        request,
        "outreach/report.html",
        {
            "library": lib,
            "form": form,
            "figures": figures,
            "start": start,
            "end": end,
            "charts": stats.charts(lib, start, end),
        },
    )
