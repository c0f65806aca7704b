"""Issue 21, finding 1: a SUSHI account was a port scanner (loopback, link-local, redirects).

The base URL is checked when staff save it (a clear message at once) and again at every harvest
through `core.outbound` (pinned address, every redirect hop checked); only an administrator's
`allow_internal` on the account, or `LIFELINE_OUTBOUND_ALLOW`, lets an internal target through.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from lifeline.analytics.choices import HarvestStatus
from lifeline.analytics.models import SushiCredential, SushiHarvest
from lifeline.analytics.sushi import run_harvest, start_harvest
from lifeline.analytics.tests.sushi_server import LoopbackSushi
from lifeline.conftest import client_for

pytestmark = pytest.mark.django_db
INTERNAL = [
    "http://127.0.0.1:8000/r51",
    "http://[::1]:8000/r51",
    "http://localhost:8000/r51",
    "http://169.254.169.254/latest/meta-data?x=",
    "http://10.0.0.5/r51",
    "http://[::ffff:127.0.0.1]/r51",
    "http://0.0.0.0:22/",
]


def form(base_url: str) -> dict[str, Any]:
    return {
        "name": "Probe",
        "base_url": base_url,
        "release": "5.1",
        "customer_id": "c",
        "reports": "TR",
        "timeout_seconds": 5,
    }


@pytest.mark.parametrize("url", INTERNAL)
def test_the_form_refuses_internal_base_urls(librarian_a: Any, url: str) -> None:
    response = client_for(librarian_a).post(reverse("analytics:sushi_new"), form(url))
    assert response.status_code == 400
    assert not SushiCredential.objects.exists()
    assert "base_url" in response.context["form"].errors


def test_a_harvest_never_reaches_an_internal_server(
    library_a: Any, counter_data: Path, settings: Any
) -> None:
    """An account saved before the check (or whose name now resolves inside) is refused at the
    fetch: the loopback server sees no request and the log says why, without retrying."""
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    with LoopbackSushi(counter_data) as server:
        cred = SushiCredential.objects.create(
            library=library_a,
            name="old",
            base_url=server.base_url(),
            customer_id=server.customer_id,
            requestor_id=server.requestor_id,
            api_key=server.api_key,
            reports="TR_J1",
        )
        done = run_harvest(start_harvest(cred, "TR_J1", dt.date(2022, 1, 1), dt.date(2022, 1, 31)))
        assert server.requests == []
    assert done.status == HarvestStatus.INVALID
    assert done.retry_at is None and done.http_status is None and not done.raw
    assert "127.0.0.1" in done.message


def test_an_administrator_may_allow_an_internal_service(
    library_a: Any, counter_data: Path, settings: Any
) -> None:
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    with LoopbackSushi(counter_data) as server:
        cred = SushiCredential.objects.create(
            library=library_a,
            name="campus mirror",
            base_url=server.base_url(),
            customer_id=server.customer_id,
            requestor_id=server.requestor_id,
            api_key=server.api_key,
            reports="TR_J1",
            allow_internal=True,
        )
        done = run_harvest(start_harvest(cred, "TR_J1", dt.date(2022, 1, 1), dt.date(2022, 12, 31)))
    assert done.status == HarvestStatus.SUCCESS, done.message


def test_only_a_library_administrator_sets_the_allowance(
    library_a: Any, librarian_a: Any, admin_a: Any
) -> None:
    """Not in the staff form; read-only in the admin for anyone but a library administrator."""
    from django.contrib import admin as django_admin
    from django.test import RequestFactory

    assert (
        "allow_internal"
        not in client_for(librarian_a).get(reverse("analytics:sushi_new")).context["form"].fields
    )
    cred = SushiCredential.objects.create(
        library=library_a, name="x", base_url="https://sushi.example.org/r51", customer_id="c"
    )
    model_admin = django_admin.site._registry[SushiCredential]
    request = RequestFactory().get("/")
    request.user = librarian_a
    assert "allow_internal" in model_admin.get_readonly_fields(request, cred)
    request.user = admin_a
    assert "allow_internal" not in model_admin.get_readonly_fields(request, cred)
    assert SushiHarvest.objects.count() == 0
