"""Accounts' remote-access figures for the service report, against its own rows."""

from __future__ import annotations

import datetime as dt

import pytest

from lifeline.accounts.choices import SamlOutcome
from lifeline.accounts.counts import counts
from lifeline.accounts.models import SamlLoginEvent
from lifeline.core.models import Library

pytestmark = pytest.mark.django_db


def test_carsi_sign_ins_and_people_in_the_period(library_a: Library, library_b: Library) -> None:
    feb = dt.datetime(2020, 2, 10, 9, 0, tzinfo=dt.UTC)
    for n, subject in enumerate(["s1@nefu.edu.cn", "s1@nefu.edu.cn", "s2@nefu.edu.cn"]):
        SamlLoginEvent.objects.create(
            library=library_a,
            outcome=SamlOutcome.SIGNED_IN,
            subject=subject,
            at=feb + dt.timedelta(hours=n),
        )
    SamlLoginEvent.objects.create(
        library=library_a, outcome=SamlOutcome.REFUSED, subject="x", at=feb
    )
    SamlLoginEvent.objects.create(
        library=library_b, outcome=SamlOutcome.SIGNED_IN, subject="b", at=feb
    )
    # 2020-12-31 23:30 in Shanghai is still 2020: the end date is included in local time.
    SamlLoginEvent.objects.create(
        library=library_a,
        outcome=SamlOutcome.SIGNED_IN,
        subject="s3@nefu.edu.cn",
        at=dt.datetime(2020, 12, 31, 15, 30, tzinfo=dt.UTC),
    )
    got = {
        c.measure: c.figure for c in counts(library_a, dt.date(2020, 1, 1), dt.date(2020, 12, 31))
    }
    assert got == {"carsi_sign_ins": 4, "carsi_people": 3}
    got = {
        c.measure: c.figure for c in counts(library_a, dt.date(2021, 1, 1), dt.date(2021, 1, 31))
    }
    assert got == {"carsi_sign_ins": 0, "carsi_people": 0}
