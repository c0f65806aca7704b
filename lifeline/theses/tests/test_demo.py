"""The thesis demo: June 2020 at NEFU, the same rows after a second load.

Runs the app's own `load` (the whole `loaddemo` is covered by the core demo test) on the NEFU
persona library with the demo's reviewer and student accounts.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Count
from django.urls import reverse

from lifeline.conftest import client_for, make_staff
from lifeline.core.choices import PatronCategory, Role
from lifeline.core.models import Patron
from lifeline.theses import demo
from lifeline.theses.choices import Status
from lifeline.theses.models import ExpectedStudent, Receipt, Thesis

pytestmark = pytest.mark.django_db


def test_demo_june_2020(library_a: Any) -> None:
    reviewer = make_staff("reference", library_a, Role.REFERENCE)
    student = get_user_model().objects.create_user("student", "s@example.edu", "x" * 12)
    Patron.objects.create(user=student, library=library_a, category=PatronCategory.STUDENT)
    today = dt.date(2026, 3, 4)
    demo.load(library_a, today)
    counts = dict(Thesis.objects.values_list("status").annotate(n=Count("id")))
    assert counts[Status.APPROVED] >= 20
    assert counts[Status.RETURNED] == 3 and counts[Status.CHECKS_FAILED] == 2
    assert counts[Status.WAITING] == 3
    assert Thesis.objects.filter(approved_at__year=2020, approved_at__month=6).exists()
    assert Receipt.objects.count() == counts[Status.APPROVED]
    first = (Thesis.objects.count(), Receipt.objects.count(), ExpectedStudent.objects.count())
    demo.load(library_a, today)
    assert (
        Thesis.objects.count(),
        Receipt.objects.count(),
        ExpectedStudent.objects.count(),
    ) == first
    # The demo student is on the list with nothing submitted: the submit form opens.
    r = client_for(student).get(reverse("theses:submit", args=[library_a.code]))
    assert r.status_code == 200 and 'name="pdf"' in r.content.decode()
    r = client_for(reviewer).get(reverse("theses:queue", args=[library_a.code]))
    assert r.status_code == 200
    r = client_for(reviewer).get(reverse("theses:statistics", args=[library_a.code]) + "?year=2020")
    assert r.status_code == 200 and "<svg" in r.content.decode()
