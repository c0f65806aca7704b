"""Hostile pass: anonymous visitors, a patron and a librarian of another library, staff without
the review role, malformed input. Every answer is a redirect to sign in, 403, 404 or a clear
message; never a 500, never a file to the wrong person."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from lifeline.conftest import client_for
from lifeline.core.choices import PatronCategory
from lifeline.core.models import Patron
from lifeline.theses import services
from lifeline.theses.models import Thesis
from lifeline.theses.tests.conftest import make_pdf, metadata, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def approved(library_a: Any, student: Any, reference_a: Any) -> Thesis:
    version = services.submit(
        library_a,
        student,
        metadata(confidentiality="secret", release_date=dt.date(2099, 1, 1)),
        upload(make_pdf()),
    )
    services.run_checks(version)
    services.approve(version.thesis, reference_a)
    return Thesis.objects.get()


@pytest.fixture
def patron_b(library_b: Any) -> Any:
    user = get_user_model().objects.create_user("patron_b", "pb@example.edu", "x" * 12)
    Patron.objects.create(user=user, library=library_b, category=PatronCategory.STUDENT)
    return user


def _urls(thesis: Thesis) -> list[str]:
    code = thesis.library.code
    return [
        reverse("theses:detail", args=[thesis.pk]),
        reverse("theses:receipt", args=[thesis.pk]),
        reverse("theses:file", args=[thesis.pk, 1]),
        reverse("theses:queue", args=[code]),
        reverse("theses:import", args=[code]),
        reverse("theses:cleared", args=[code]),
        reverse("theses:calis", args=[code, "csv"]),
        reverse("theses:statistics", args=[code]),
    ]


def test_anonymous_is_sent_to_sign_in(approved: Thesis) -> None:
    client = Client()
    for url in [*_urls(approved), reverse("theses:submit", args=["nefu"])]:
        r = client.get(url)
        assert r.status_code == 302 and "/accounts/login/" in r.url, url
    r = client.post(reverse("theses:act", args=[approved.pk, "approve"]))
    assert r.status_code == 302 and "/accounts/login/" in r.url


def test_other_librarys_patron_and_librarian_see_nothing(
    approved: Thesis, patron_b: Any, librarian_b: Any, stranger: Any
) -> None:
    for user in (patron_b, librarian_b, stranger):
        client = client_for(user)
        for url in _urls(approved):
            r = client.get(url)
            assert r.status_code in (403, 404), (user, url, r.status_code)
        assert (
            client.post(
                reverse("theses:act", args=[approved.pk, "revoke"]), {"reason": "x"}
            ).status_code
            == 404
        )
        r = client.post(reverse("theses:batch_approve", args=["nefu"]), {"ids": [approved.pk]})
        assert r.status_code == 403
    # patron_b may not deposit at library A.
    r = client_for(patron_b).get(reverse("theses:home", args=["nefu"]))
    assert r.status_code == 403
    assert client_for(patron_b).get(reverse("theses:submit", args=["nefu"])).status_code == 403


def test_confidential_file_only_to_the_student_and_reviewers(
    approved: Thesis,
    student: Any,
    reference_a: Any,
    delivery_a: Any,
    tech_a: Any,
    librarian_a: Any,
    patron_a: Any,
) -> None:
    url = reverse("theses:file", args=[approved.pk, 1])
    assert client_for(student).get(url).status_code == 200
    assert client_for(reference_a).get(url).status_code == 200
    for user in (delivery_a, tech_a, librarian_a):
        r = client_for(user).get(url)
        assert r.status_code == 404, user
        page = client_for(user).get(reverse("theses:detail", args=[approved.pk])).content
        assert url.encode() not in page
    # The package of a secret thesis carries no full text.
    _name, data, full = services.build_package(approved)
    assert not full and b"thesis.pdf" not in data


def test_public_file_to_any_staff_of_the_library(
    library_a: Any, student: Any, delivery_a: Any, librarian_b: Any
) -> None:
    version = services.submit(library_a, student, metadata(), upload(make_pdf()))
    url = reverse("theses:file", args=[version.thesis_id, 1])
    assert client_for(delivery_a).get(url).status_code == 200
    assert client_for(librarian_b).get(url).status_code == 404


def test_roles_without_review_cannot_approve(
    library_a: Any, student: Any, librarian_a: Any, delivery_a: Any
) -> None:
    version = services.submit(library_a, student, metadata(), upload(make_pdf()))
    services.run_checks(version)
    for user in (librarian_a, delivery_a, student):
        r = client_for(user).post(reverse("theses:act", args=[version.thesis_id, "approve"]))
        assert r.status_code == 403
    assert Thesis.objects.get().status == "waiting"


def test_reviewer_cannot_revoke_without_manage(approved: Thesis, reference_a: Any) -> None:
    r = client_for(reference_a).post(
        reverse("theses:act", args=[approved.pk, "revoke"]), {"reason": "x"}
    )
    assert r.status_code == 403


def test_malformed_input(approved: Thesis, reference_a: Any, student: Any) -> None:
    public = Client()
    for path in (
        reverse("theses:verify", args=["x" * 300]) + "?s=" + "A" * 5000,
        reverse("theses:verify", args=["NEFU-2020-000001-1"]) + "?s=%00%ff",
        reverse("theses:verify_form") + "?serial=" + "<script>",
        reverse("theses:public_key"),
    ):
        assert public.get(path).status_code in (200, 400), path  # 400: NUL refused by core
    staff = client_for(reference_a)
    assert staff.post(reverse("theses:act", args=[approved.pk, "explode"])).status_code == 404
    assert staff.get(reverse("theses:file", args=[approved.pk, 99])).status_code == 404
    r = staff.post(reverse("theses:batch_approve", args=["nefu"]), {"ids": ["1; DROP", "-1", "x"]})
    assert r.status_code == 302
    r = staff.get(reverse("theses:queue", args=["nefu"]) + "?status=nonsense&college=<b>x")
    assert r.status_code == 200
    r = staff.get(reverse("theses:statistics", args=["nefu"]) + "?year=abc")
    assert r.status_code == 200
    # A return without a reason is refused with a message, not an error.
    r = staff.post(reverse("theses:act", args=[approved.pk, "return"]), {"reasons": ["bogus"]})
    assert r.status_code == 302
    # A verify upload that is not a PDF.
    receipt = services.current_receipt(approved)
    assert receipt is not None
    url = services.verify_path(receipt.serial, receipt.signature)
    r = public.post(url, {"file": upload(b"GIF89a" + b"0" * 50, "r.pdf")})
    assert r.status_code == 200 and 'id="file-result"' not in r.content.decode()


def test_unknown_library(reference_a: Any) -> None:
    client = client_for(reference_a)
    assert client.get(reverse("theses:queue", args=["nowhere"])).status_code == 404
    assert client.get(reverse("theses:home", args=["nowhere"])).status_code == 404


def test_api_scoping_and_actions(
    approved: Thesis,
    student: Any,
    librarian_b: Any,
    reference_a: Any,
    librarian_a: Any,
    patron_b: Any,
) -> None:
    url = "/api/theses/theses/"
    own = client_for(student).get(url).json()
    rows = own["results"] if isinstance(own, dict) else own
    assert [r["id"] for r in rows] == [approved.pk]
    other = client_for(librarian_b).get(url).json()
    assert (other["results"] if isinstance(other, dict) else other) == []
    assert client_for(patron_b).get(f"{url}{approved.pk}/").status_code == 404
    assert Client().get(url).status_code in (401, 403)
    cleared = client_for(reference_a).get("/api/theses/cleared/?library=nefu").json()
    assert cleared["count"] == 1
    assert cleared["results"][0]["student_number"] == approved.student_number
    assert client_for(librarian_b).get("/api/theses/cleared/?library=nefu").status_code == 404
    # A patron is told 403, as by every staff list (issue 21).
    assert client_for(student).get("/api/theses/cleared/?library=nefu").status_code == 403
    receipt = services.current_receipt(approved)
    assert receipt is not None
    r = Client().get(f"/api/theses/verify/{receipt.serial}/?s={receipt.signature}")
    assert r.json()["state"] == "valid"
    r = Client().get(f"/api/theses/verify/{receipt.serial}/?s=forged")
    assert r.json() == {"state": "tampered", "serial": receipt.serial, "content": None}
    # Approving through the API needs theses.review.
    r = client_for(librarian_a).post(f"{url}{approved.pk}/approve/")
    assert r.status_code == 403
    r = client_for(reference_a).post(f"{url}{approved.pk}/approve/")
    assert r.status_code == 400  # already approved: a clear refusal
