"""Issue 21, finding 7: an uploaded screenshot kept the uploader's extension (a GIF-headed SVG
with script was stored as .svg and linked at /media/). Now it is decoded and written anew by
Pillow under the extension of what it is, and served by a view to the library's staff only,
with the sniffed type, nosniff and attachment."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from lifeline.conftest import client_for
from lifeline.health.models import FaultReport
from lifeline.registry.models import AccessRoute, Resource

pytestmark = pytest.mark.django_db
SVG_AS_GIF = (
    b"GIF89a<svg xmlns='http://www.w3.org/2000/svg' onload='alert(document.cookie)'>"
    b"<script>alert(1)</script></svg>"
)


def image(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 6), (10, 120, 200)).save(out, fmt)
    return out.getvalue()


@pytest.fixture
def resource(library_a: Any) -> Resource:
    res = Resource.objects.create(library=library_a, key="cnki", name="CNKI")
    AccessRoute.objects.create(resource=res, url="https://cnki.example.org/")
    return res


def report(client: Client, resource: Resource, upload: SimpleUploadedFile) -> Any:
    return client.post(
        "/status/nefu/report/",
        {"resource": resource.pk, "description": "broken", "screenshot": upload},
    )


def test_a_gif_headed_svg_is_refused(client: Client, resource: Resource) -> None:
    response = report(client, resource, SimpleUploadedFile("x.svg", SVG_AS_GIF, "image/gif"))
    assert response.status_code == 400 and not FaultReport.objects.exists()


@pytest.mark.parametrize(
    ("fmt", "name", "stored"),
    [("GIF", "shot.svg", ".png"), ("PNG", "shot.html", ".png"), ("JPEG", "a.png.exe", ".jpg")],
)
def test_stored_under_the_sniffed_type_re_encoded(
    client: Client, resource: Resource, fmt: str, name: str, stored: str
) -> None:
    response = report(client, resource, SimpleUploadedFile(name, image(fmt), "image/png"))
    assert response.status_code == 200
    saved = FaultReport.objects.get()
    assert saved.screenshot.name.endswith(stored)
    with saved.screenshot.open("rb") as fh:
        Image.open(fh).verify()  # a real image, written by Pillow


def test_served_by_a_view_to_staff_only(
    client: Client, resource: Resource, librarian_a: Any, librarian_b: Any, patron_a: Any
) -> None:
    report(client, resource, SimpleUploadedFile("s.gif", image("GIF"), "image/gif"))
    saved = FaultReport.objects.get()
    url = f"/status/nefu/staff/reports/{saved.pk}/screenshot"
    staff = client_for(librarian_a)
    page = staff.get(f"/status/nefu/staff/incidents/{saved.incident_id}/").content.decode()
    assert url in page and "/media/" not in page  # the link works and is not /media/
    response = staff.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment;")
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    assert client_for(librarian_b).get(url).status_code == 403
    assert client_for(patron_a).get(url).status_code == 403
    assert Client().get(url).status_code == 302  # to sign in
    assert staff.get(f"/status/nefu/staff/reports/{saved.pk + 99}/screenshot").status_code == 404
    assert Client().get(saved.screenshot.url).status_code == 404  # /media/ is not served
