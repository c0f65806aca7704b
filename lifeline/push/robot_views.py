"""Staff pages for a library's group robots: list, add, edit, disable, test-send.

Only staff holding `push.robots` in that library see or change them (the list shows each
address masked: the webhook URL is the robot's credential). Another library's robot is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from lifeline.core.access import library_for
from lifeline.push.forms import RobotForm
from lifeline.push.logic import robots
from lifeline.push.models import Robot

MANAGE = "push.robots"


@require_safe
def robot_list(request: HttpRequest, code: str) -> HttpResponse:
    lib = library_for(request, code, MANAGE)
    rows = [(r, robots.masked(r.url)) for r in Robot.objects.filter(library=lib)]
    return render(request, "push/robots.html", {"library": lib, "rows": rows})


@require_http_methods(["GET", "HEAD", "POST"])
def robot_edit(request: HttpRequest, code: str, pk: int | None = None) -> HttpResponse:
    lib = library_for(request, code, MANAGE)
    robot = get_object_or_404(Robot, pk=pk, library=lib) if pk else Robot(library=lib)
    form = RobotForm(request.POST or None, instance=robot)
    if request.method == "POST" and form.is_valid():
        robot = form.save(commit=False)
        robot.library = lib
        robot.save()
        messages.success(request, _("Saved."))
        return redirect("push:robots", lib.code)
    return render(request, "push/robot_edit.html", {"library": lib, "form": form, "robot": robot})


@require_POST
def robot_action(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    lib = library_for(request, code, MANAGE)
    robot = get_object_or_404(Robot, pk=pk, library=lib)
    action = request.POST.get("action", "")
    if action == "test":
        sent, said = robots.test_send(robot, request.user.get_username())
        (messages.success if sent else messages.error)(request, said)
    elif action in ("disable", "enable"):
        robot.is_active = action == "enable"
        robot.save(update_fields=["is_active"])
        messages.success(request, _("Saved."))
    else:
        messages.error(request, _("Unknown action."))
    return redirect("push:robots", lib.code)
