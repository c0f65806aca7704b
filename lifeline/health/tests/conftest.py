from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lifeline.core.choices import Role
from lifeline.health.models import ProbeConfig
from lifeline.health.tests.servers import Hook, Mailbox, Site, make_certificates
from lifeline.registry.choices import RouteKind
from lifeline.registry.models import AccessRoute, Resource, Vendor
from lifeline.settings import smtp_mailer


@pytest.fixture(autouse=True)
def media_in_tmp(settings: Any, tmp_path: Path) -> None:
    """Uploaded screenshots go to a temporary directory, not the working tree."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def site() -> Iterator[Site]:
    s = Site()
    yield s
    s.stop()


@pytest.fixture
def mailbox(settings: Any) -> Iterator[Mailbox]:
    box = Mailbox()
    settings.MAILERS = {"default": smtp_mailer("127.0.0.1", box.port)}
    yield box
    box.stop()


@pytest.fixture
def hook() -> Iterator[Hook]:
    h = Hook()
    yield h
    h.stop()


@pytest.fixture
def certs(tmp_path: Path) -> tuple[Path, Path, Path]:
    return make_certificates(tmp_path)


@pytest.fixture
def vendor_a(library_a: Any) -> Vendor:
    return Vendor.objects.create(
        library=library_a,
        key="cnki",
        name="中国知网",
        name_en="CNKI",
        email="support@cnki.example.com",
        escalation_email="boss@cnki.example.com",
        response_hours=4,
        contact_name="王经理",
    )


@pytest.fixture
def resource_a(library_a: Any, vendor_a: Vendor) -> Resource:
    return Resource.objects.create(
        library=library_a, key="cnki", name="中国知网", name_en="CNKI", vendor=vendor_a
    )


def make_route(
    resource: Resource,
    url: str,
    *,
    admin: Any = None,
    kind: str = RouteKind.OPEN_ACCESS,
    **probe: Any,
) -> AccessRoute:
    """A route with probe settings; `admin` (a library administrator) allows its loopback target."""
    route = AccessRoute.objects.create(resource=resource, kind=kind, url=url)
    config = ProbeConfig.for_route(route)
    if admin is not None:
        config.set_allow_private(True, admin)
    for key, value in {"retries": 0, "timeout_seconds": 5, **probe}.items():
        setattr(config, key, value)
    config.save()
    return route


@pytest.fixture
def make_route_fn() -> Any:
    return make_route


__all__ = ["Role"]
