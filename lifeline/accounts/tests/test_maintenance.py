"""The hourly purge of SAML state and old sign-in events, run through the scheduler."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from lifeline.accounts.models import SamlLoginEvent, SamlRequest, SamlSession, SeenAssertion
from lifeline.accounts.tests.test_discovery import make_idp
from lifeline.core.schedule import all_jobs, run_due


@pytest.mark.django_db
def test_scheduler_purges_expired_state_and_keeps_the_rest(library_a: Any) -> None:
    idp = make_idp(library_a)
    now = timezone.now()
    SamlRequest.objects.create(request_id="old", idp=idp, created_at=now - dt.timedelta(hours=1))
    SamlRequest.objects.create(request_id="fresh", idp=idp, created_at=now)
    SeenAssertion.objects.create(assertion_id="gone", expires_at=now - dt.timedelta(minutes=1))
    SeenAssertion.objects.create(assertion_id="kept", expires_at=now + dt.timedelta(hours=1))
    SamlLoginEvent.objects.create(outcome="refused", at=now - dt.timedelta(days=200))
    SamlLoginEvent.objects.create(outcome="signed_in", at=now - dt.timedelta(days=1))
    for key, age in (("old-session", dt.timedelta(days=2)), ("live", dt.timedelta(minutes=5))):
        SamlSession.objects.create(
            session_key=key,
            idp=idp,
            user=get_user_model().objects.create_user(key),
            name_id="<n/>",
            name_id_value=key,
            created_at=now - age,
        )
    job = next(j for j in all_jobs() if j.name == "accounts.purge_saml_state")
    assert run_due(now=now, jobs=[job]) == ["accounts.purge_saml_state"]
    assert list(SamlRequest.objects.values_list("request_id", flat=True)) == ["fresh"]
    assert list(SeenAssertion.objects.values_list("assertion_id", flat=True)) == ["kept"]
    assert list(SamlLoginEvent.objects.values_list("outcome", flat=True)) == ["signed_in"]
    assert list(SamlSession.objects.values_list("session_key", flat=True)) == ["live"]
