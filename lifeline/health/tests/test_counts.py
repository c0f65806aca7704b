"""Health's counts for the service report, against its own rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from lifeline.core.models import Library
from lifeline.health.counts import counts
from lifeline.health.models import Incident
from lifeline.registry.models import Resource

pytestmark = pytest.mark.django_db


def test_incidents_in_the_period(library_a: Library, library_b: Library) -> None:
    tz = timezone.get_current_timezone()
    res = Resource.objects.create(library=library_a, key="cnki", name="中国知网")
    other = Resource.objects.create(library=library_b, key="cnki", name="中国知网")
    opened = dt.datetime(2020, 2, 3, 9, 0, tzinfo=tz)
    Incident.objects.create(
        library=library_a,
        resource=res,
        kind="probe",
        opened_at=opened,
        closed_at=opened + dt.timedelta(hours=3),
    )
    Incident.objects.create(
        library=library_b, resource=other, kind="probe", opened_at=opened, closed_at=opened
    )
    got = {
        c.measure: c.figure for c in counts(library_a, dt.date(2020, 2, 1), dt.date(2020, 2, 29))
    }
    assert got == {"incidents": 1, "incident_hours": 3.0}
    got = {
        c.measure: c.figure for c in counts(library_a, dt.date(2020, 3, 1), dt.date(2020, 3, 31))
    }
    assert got["incidents"] == 0
