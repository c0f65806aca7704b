"""The CARSI sign-in report: per library, with a chart, reasons and an XLSX export."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from lifeline.accounts.models import SamlLoginEvent
from lifeline.conftest import client_for


@pytest.fixture
def events(library_a: Any, library_b: Any) -> None:
    now = timezone.now()
    SamlLoginEvent.objects.create(
        library=library_a, outcome="signed_in", subject="alice@nefu.edu.cn", at=now
    )
    SamlLoginEvent.objects.create(
        library=library_a,
        outcome="refused",
        reason="SignatureError: bad",
        at=now - dt.timedelta(days=2),
    )
    SamlLoginEvent.objects.create(
        library=library_a, outcome="refused", reason="=cmd|' /C calc'!A0", at=now
    )
    SamlLoginEvent.objects.create(
        library=library_b, outcome="signed_in", subject="bob@hit.edu.cn", at=now
    )


@pytest.mark.django_db
def test_report_shows_own_library_only_with_charts(
    events: None, librarian_a: Any, patron_a: Any
) -> None:
    client = client_for(librarian_a)
    client.cookies["lifeline_lang"] = "en"
    body = client.get("/accounts/carsi/?days=7").content.decode()
    assert "alice@nefu.edu.cn" in body and "bob@hit.edu.cn" not in body
    assert body.count("<svg") >= 2 and "SignatureError" in body
    assert ">1</span> signed in" in body and ">2</span> refused" in body
    assert client_for(patron_a).get("/accounts/carsi/").status_code == 403


@pytest.mark.django_db
def test_report_exports_xlsx_without_formula_injection(events: None, librarian_a: Any) -> None:
    response = client_for(librarian_a).get("/accounts/carsi/?format=xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 4  # header and library A's three events
    reasons = [r[4] for r in rows[1:]]
    assert not any(str(r).startswith("=") for r in reasons)
