"""Staff pages of outreach: the overview, contest judging, course management (class-list import,
attendance, materials), the room desk (check-in by code, closures) and statistics (XLSX,
charts). Every page resolves its library through `library_for`; objects are looked up within it."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from lifeline.core.access import library_for
from lifeline.core.params import parse_id, parse_ids
from lifeline.core.typing import AuthedRequest
from lifeline.core.uploads import read_upload
from lifeline.outreach.choices import BookingStatus
from lifeline.outreach.forms import (
    BlockForm,
    CheckinForm,
    ClassListForm,
    MaterialForm,
    PeriodForm,
    ScoreForm,
)
from lifeline.outreach.logic import contests, courses, rooms, stats
from lifeline.outreach.models import (
    Booking,
    Contest,
    Conversation,
    Course,
    Enrolment,
    Entry,
    HumanBook,
    JudgeScore,
    Lesson,
    Room,
    RoomBlock,
)

VIEW, CHANGE = "view", "outreach.change"


def _first_error(exc: ValidationError) -> str:
    return str(exc.messages[0]) if exc.messages else _("Not possible.")


@login_required
def staff_home(request: AuthedRequest, library: str) -> HttpResponse:
    lib = library_for(request, library, VIEW)
    now = timezone.now()
    upcoming = (
        Conversation.objects.filter(book__library=lib, reader__isnull=False, starts_at__gt=now)
        .select_related("book", "reader__patron")
        .order_by("starts_at")[:50]
    )
    return render(
        request,
        "outreach/staff.html",
        {
            "library": lib,
            "contests": Contest.objects.filter(library=lib).order_by("-entries_open")[:50],
            "books": HumanBook.objects.filter(library=lib).order_by("title"),
            "conversations": upcoming,
            "courses": Course.objects.filter(library=lib).order_by("-term", "title")[:100],
            "rooms": Room.objects.filter(library=lib).order_by("name"),
        },
    )


@login_required
def contest_judge(request: AuthedRequest, library: str, pk: int) -> HttpResponse:
    lib = library_for(request, library, VIEW, write=CHANGE)
    contest = get_object_or_404(Contest, pk=pk, library=lib)
    form = ScoreForm(request.POST or None)
    if request.method == "POST":
        entry_id = parse_id(request.POST.get("entry"))
        entry = get_object_or_404(Entry, pk=entry_id or 0, contest=contest)
        if request.POST.get("action") == "withdraw":
            contests.withdraw(entry)
            messages.info(request, _("The entry is withdrawn from the contest."))
            return redirect("outreach:contest_judge", library=lib.code, pk=contest.pk)
        if form.is_valid():
            contests.judge(
                entry, request.user, form.cleaned_data["score"], form.cleaned_data["note"]
            )
            messages.success(request, _("Your score is saved."))
            return redirect("outreach:contest_judge", library=lib.code, pk=contest.pk)
        messages.error(request, _("A score is from 0 to 100."))
    mine = dict(
        JudgeScore.objects.filter(entry__contest=contest, judge=request.user).values_list(
            "entry_id", "score"
        )
    )
    return render(
        request,
        "outreach/contest_judge.html",
        {
            "library": lib,
            "contest": contest,
            "standings": [(s, mine.get(s.entry.pk)) for s in contests.standings(contest)],
            "crowded": contests.crowded_sources(contest),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
def course_manage(request: AuthedRequest, library: str, pk: int) -> HttpResponse:
    lib = library_for(request, library, VIEW, write=CHANGE)
    course = get_object_or_404(Course, pk=pk, library=lib)
    lessons = list(Lesson.objects.filter(course=course))
    status = 200
    action = request.POST.get("action", "")
    if request.method == "POST" and action == "class_list":
        form = ClassListForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                checked, data = read_upload(form.cleaned_data["file"], ("xlsx", "csv"))
                added, linked = courses.import_class_list(course, checked.kind, data)
            except ValidationError as exc:
                messages.error(request, _first_error(exc))
                status = 400
            else:
                messages.success(
                    request,
                    _("%(n)s students added (%(k)s with an account).") % {"n": added, "k": linked},
                )
                return redirect("outreach:course_manage", library=lib.code, pk=course.pk)
        else:
            status = 400
    elif request.method == "POST" and action == "attendance":
        lesson = get_object_or_404(
            Lesson, pk=parse_id(request.POST.get("lesson")) or 0, course=course
        )
        present = set(parse_ids(request.POST.getlist("present"), limit=10_000))
        for enrolment in Enrolment.objects.filter(course=course, pk__in=present):
            courses.mark_attended(enrolment, lesson)
        done = sum(
            courses.complete(e) for e in Enrolment.objects.filter(course=course, user__isnull=False)
        )
        messages.success(
            request,
            _("Attendance saved; %(n)s students have completed the course.") % {"n": done},
        )
        return redirect("outreach:course_manage", library=lib.code, pk=course.pk)
    elif request.method == "POST" and action == "material":
        mform = MaterialForm(request.POST, request.FILES)
        if mform.is_valid():
            try:
                courses.add_material(
                    course,
                    mform.cleaned_data["kind"],
                    mform.cleaned_data["title"],
                    url=mform.cleaned_data["url"] or "",
                    upload=mform.cleaned_data["file"],
                )
            except ValidationError as exc:
                messages.error(request, _first_error(exc))
                status = 400
            else:
                messages.success(request, _("The material is added."))
                return redirect("outreach:course_manage", library=lib.code, pk=course.pk)
        else:
            status = 400
    elif request.method == "POST":
        status = 400
    enrolments = (
        Enrolment.objects.filter(course=course).select_related("user").order_by("student_no", "pk")
    )
    return render(
        request,
        "outreach/course_manage.html",
        {
            "library": lib,
            "course": course,
            "lessons": lessons,
            "hours": sum(lesson.class_hours for lesson in lessons),
            "enrolments": enrolments[:2000],
            "class_form": ClassListForm(),
            "material_form": MaterialForm(),
        },
        status=status,
    )


@login_required
def room_desk(request: AuthedRequest, library: str, pk: int) -> HttpResponse:
    lib = library_for(request, library, VIEW, write=CHANGE)
    room = get_object_or_404(Room, pk=pk, library=lib)
    status = 200
    checkin, block = CheckinForm(), BlockForm()
    if request.method == "POST" and request.POST.get("action") == "block":
        block = BlockForm(request.POST)
        if block.is_valid():
            try:
                _closure, n = rooms.block(
                    room,
                    block.cleaned_data["starts_at"],
                    block.cleaned_data["ends_at"],
                    block.cleaned_data["reason"],
                )
            except ValidationError as exc:
                messages.error(request, _first_error(exc))
                status = 400
            else:
                messages.success(
                    request, _("The room is closed; %(n)s bookings cancelled.") % {"n": n}
                )
                return redirect("outreach:room_desk", library=lib.code, pk=room.pk)
        else:
            status = 400
    elif request.method == "POST":
        checkin = CheckinForm(request.POST)
        if checkin.is_valid():
            try:
                booking = rooms.check_in(room, checkin.cleaned_data["code"])
            except ValidationError as exc:
                messages.error(request, _first_error(exc))
                status = 400
            else:
                messages.success(
                    request,
                    _("Checked in: %(who)s, %(when)s")
                    % {
                        "who": booking.user.get_username(),
                        "when": timezone.localtime(booking.starts_at).strftime("%H:%M"),
                    },
                )
                return redirect("outreach:room_desk", library=lib.code, pk=room.pk)
        else:
            status = 400
    today = timezone.localdate()
    tz = timezone.get_current_timezone()
    day = (
        Booking.objects.filter(
            room=room,
            starts_at__gte=dt.datetime.combine(today, dt.time(), tzinfo=tz),
            starts_at__lt=dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), tzinfo=tz),
        )
        .exclude(status=BookingStatus.CANCELLED)
        .select_related("user__patron")
    )
    return render(
        request,
        "outreach/room_desk.html",
        {
            "library": lib,
            "room": room,
            "bookings": day,
            "blocks": RoomBlock.objects.filter(room=room, ends_at__gt=timezone.now())[:50],
            "checkin": checkin,
            "block": block,
        },
        status=status,
    )


def _period(request: AuthedRequest) -> tuple[PeriodForm, dt.date, dt.date]:
    form = PeriodForm(request.GET or None)
    today = timezone.localdate()
    start, end = dt.date(today.year, 1, 1), today
    if form.is_valid():
        start = form.cleaned_data["start"] or start
        end = form.cleaned_data["end"] or end
    return form, start, end


@login_required
def report_xlsx(request: AuthedRequest, library: str) -> HttpResponse:
    lib = library_for(request, library, VIEW)
    _form, start, end = _period(request)
    response = HttpResponse(
        stats.workbook(lib, start, end),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="outreach-{lib.code}-{start:%Y%m%d}-{end:%Y%m%d}.xlsx"'
    )
    return response
