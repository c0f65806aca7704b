"""Request types for the type checker: what middleware and `login_required` promise."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxRequest(HttpRequest):
    htmx: HtmxDetails  # set by django_htmx's middleware on every request


class AuthedRequest(HtmxRequest):
    """A request behind `login_required`: its user is a signed-in `User`, never anonymous."""

    user: User
