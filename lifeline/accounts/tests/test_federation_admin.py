"""The federation is a superuser's to change; a library admin sets its own ForceAuthn only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from lifeline.accounts.models import Federation, LibrarySignIn
from lifeline.accounts.saml.trust import fingerprint, load_certificate
from lifeline.conftest import client_for


@pytest.mark.django_db
def test_only_superusers_see_and_change_federations(
    admin_a: Any, patron_a: Any, federation: Federation, fed_keys: Path
) -> None:
    for user in (admin_a, patron_a):
        client = client_for(user)
        for url in [
            "/admin/accounts/federation/",
            f"/admin/accounts/federation/{federation.pk}/change/",
            "/admin/accounts/federation/add/",
            "/admin/accounts/federationentity/",
        ]:
            assert client.get(url).status_code in (302, 403), (user, url)
    root = get_user_model().objects.create_superuser("root", "root@example.org", "x")
    client = client_for(root)
    assert client.get("/admin/accounts/federation/").status_code == 200
    pem = (fed_keys / "rogue-fed.crt").read_text()
    form = {
        "name": "other",
        "display_name": "Other",
        "signing_cert": pem,
        "refresh_hours": 6,
        "alert_after": 3,
    }
    wrong = client.post("/admin/accounts/federation/add/", {**form, "cert_sha256": "00" * 32})
    assert wrong.status_code == 200 and not Federation.objects.filter(name="other").exists()
    right = fingerprint(load_certificate(pem)).replace(":", "").upper()
    ok = client.post("/admin/accounts/federation/add/", {**form, "cert_sha256": right})
    assert ok.status_code == 302
    assert Federation.objects.get(name="other").cert_sha256 == fingerprint(load_certificate(pem))


@pytest.mark.django_db
def test_sign_in_policy_is_per_library(admin_a: Any, librarian_b: Any, library_a: Any) -> None:
    policy = LibrarySignIn.objects.create(library=library_a, force_authn=True)
    url = f"/admin/accounts/librarysignin/{policy.pk}/change/"
    assert client_for(admin_a).get(url).status_code == 200
    assert client_for(librarian_b).get(url).status_code in (302, 403, 404)
