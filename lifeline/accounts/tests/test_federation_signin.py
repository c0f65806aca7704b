"""CARSI sign-in against IdPs built on a second SAML implementation (signxml, not pysaml2),
trusted through a verified federation aggregate: one library trusts its own IdP only, either
signature level is accepted, ForceAuthn, Shibboleth-style login links, mail, and logout."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.test import Client
from django.utils import timezone

from lifeline.accounts.models import (
    Federation,
    LibrarySignIn,
    SamlIdentityProvider,
    SamlLoginEvent,
    SamlSession,
)
from lifeline.accounts.tests.federation_kit import post, to_idp
from lifeline.accounts.tests.idp import PostedAnswer
from lifeline.core.models import Patron


@pytest.mark.django_db
def test_library_trusts_its_own_idp_and_refuses_a_second_university(
    english: Client, trusted: Any, library_a: Any
) -> None:
    nefu, hit = trusted
    assert list(SamlIdentityProvider.objects.values_list("entity_id", flat=True)) == [
        nefu.entity_id
    ]
    response = post(english, to_idp(english, nefu, target="/lib/nefu/"))
    assert response.status_code == 302 and response["Location"] == "/lib/nefu/"
    assert Patron.objects.get().library == library_a
    # HIT is in the federation, but no library here trusts it: the sign-in does not start ...
    other = Client()
    other.cookies["lifeline_lang"] = "en"
    refused = other.get("/accounts/saml/login/", {"entityID": hit.entity_id})
    assert refused.status_code == 403
    assert "no library here has chosen to trust it" in refused.content.decode()
    # ... and an answer HIT's IdP makes anyway is refused.
    xml = hit.response_xml("_forged", "http://testserver/accounts/saml/acs/", "sp")
    forged = other.post("/accounts/saml/acs/", {"SAMLResponse": base64.b64encode(xml).decode()})
    assert forged.status_code == 403
    assert "does not trust" in forged.content.decode()
    assert "_auth_user_id" not in other.session
    assert Patron.objects.count() == 1
    # An unknown entity is simply not found.
    assert other.get("/accounts/saml/login/", {"entityID": "https://x.example/"}).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("level", ["assertion", "response", "both"])
def test_either_signature_level_is_accepted(client: Client, trusted: Any, level: str) -> None:
    nefu, _hit = trusted
    nefu.sign = level
    response = post(client, to_idp(client, nefu))
    assert response.status_code == 302, response.content.decode()
    assert Patron.objects.get().eppn == "wang@nefu.edu.cn"


@pytest.mark.django_db
def test_unsigned_answer_is_refused(english: Client, trusted: Any) -> None:
    nefu, _hit = trusted
    nefu.sign = "none"
    response = post(english, to_idp(english, nefu))
    assert response.status_code == 403
    assert "does not verify" in response.content.decode()
    assert not Patron.objects.exists()


@pytest.mark.django_db
def test_response_level_signature_does_not_cover_a_swapped_assertion(
    english: Client, trusted: Any
) -> None:
    nefu, _hit = trusted
    nefu.sign = "response"
    posted = to_idp(english, nefu)
    xml = base64.b64decode(posted.saml_response).decode()
    forged = PostedAnswer(
        posted.action,
        base64.b64encode(xml.replace("wang@nefu.edu.cn", "dean@nefu.edu.cn").encode()).decode(),
        posted.relay_state,
    )
    assert post(english, forged).status_code == 403
    assert not Patron.objects.exists()


@pytest.mark.django_db
def test_expired_federation_metadata_stops_sign_in(english: Client, trusted: Any) -> None:
    nefu, _hit = trusted
    Federation.objects.update(valid_until=timezone.now() - dt.timedelta(minutes=1))
    response = post(english, to_idp(english, nefu))
    assert response.status_code == 403
    assert "metadata expired" in SamlLoginEvent.objects.get().reason


@pytest.mark.django_db
def test_force_authn_per_library(client: Client, trusted: Any, library_a: Any) -> None:
    nefu, _hit = trusted
    to_idp(client, nefu)
    assert nefu.authn_requests[-1].get("ForceAuthn") in (None, "false")
    LibrarySignIn.objects.create(library=library_a, force_authn=True)
    to_idp(client, nefu)
    assert nefu.authn_requests[-1].get("ForceAuthn") == "true"


@pytest.mark.django_db
def test_shibboleth_style_login_link_skips_discovery_and_keeps_target(
    client: Client, trusted: Any
) -> None:
    nefu, _hit = trusted
    response = post(client, to_idp(client, nefu, target="/lib/nefu/az/"))
    assert response["Location"] == "/lib/nefu/az/"
    evil = client.get(
        "/accounts/saml/login/", {"entityID": nefu.entity_id, "target": "https://evil.example/"}
    )
    assert evil.status_code == 302  # goes to the IdP, but the target is dropped
    from lifeline.accounts.models import SamlRequest

    assert SamlRequest.objects.order_by("-id").first().next_url == ""  # type: ignore[union-attr]


# --- logout -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_single_logout_started_here_ends_the_idp_session(english: Client, trusted: Any) -> None:
    nefu, _hit = trusted
    assert post(english, to_idp(english, nefu)).status_code == 302
    session = SamlSession.objects.get()
    assert session.session_index in nefu.sessions
    out = english.post("/accounts/logout/")
    assert out.status_code == 302 and out["Location"].startswith(nefu.base + "/idp/slo?")
    assert "_auth_user_id" not in english.session
    back = httpx.get(out["Location"], timeout=10, follow_redirects=False)
    assert back.status_code == 302, back.text
    assert session.session_index not in nefu.sessions  # the IdP ended its session
    assert (
        nefu.logout_requests[-1].findtext("{urn:oasis:names:tc:SAML:2.0:assertion}NameID")
        == session.name_id_value
    )
    landing = english.get(back.headers["Location"].replace("http://testserver", ""))
    assert landing.status_code == 302 and landing["Location"].endswith("?via=slo")
    page = english.get(landing["Location"]).content.decode()
    assert "ended your session too" in page
    # The same LogoutResponse again matches no request: refused, and says close the browser.
    again = english.get(back.headers["Location"].replace("http://testserver", ""))
    assert again["Location"].endswith("?via=slo-failed")
    assert "Close the browser" in english.get(again["Location"]).content.decode()


@pytest.mark.django_db
def test_without_single_logout_the_page_says_close_the_browser(
    client: Client, trusted: Any
) -> None:
    nefu, _hit = trusted
    nefu.with_slo = False
    SamlIdentityProvider.objects.update(metadata_xml=nefu.entity_descriptor())
    assert post(client, to_idp(client, nefu)).status_code == 302
    out = client.post("/accounts/logout/")
    assert out["Location"] == "/accounts/signed-out/?via=carsi"
    chinese = client.get(out["Location"]).content.decode()
    assert "关闭浏览器" in chinese
    client.cookies["lifeline_lang"] = "en"
    assert "Close the browser now" in client.get(out["Location"]).content.decode()


@pytest.mark.django_db
def test_staff_sign_out_needs_no_warning(english: Client, librarian_a: Any) -> None:
    english.force_login(librarian_a)
    out = english.post("/accounts/logout/")
    assert out["Location"] == "/accounts/signed-out/"
    assert "Close the browser" not in english.get(out["Location"]).content.decode()


@pytest.mark.django_db
def test_logout_started_by_the_idp_ends_the_session_here(trusted: Any) -> None:
    nefu, _hit = trusted
    patron_pc, other_pc = Client(), Client()
    assert post(patron_pc, to_idp(patron_pc, nefu)).status_code == 302
    assert "_auth_user_id" in patron_pc.session
    index = SamlSession.objects.get().session_index
    url = nefu.logout_request_url(index, "http://testserver/accounts/saml/metadata/")
    # The IdP's request reaches us in whatever browser: the patron's session ends everywhere.
    answer = other_pc.get(url.replace("http://testserver", ""))
    assert answer.status_code == 302 and answer["Location"].startswith(nefu.base + "/idp/slo?")
    assert "SAMLResponse=" in answer["Location"] and "Signature=" in answer["Location"]
    assert parse_qs(urlsplit(answer["Location"]).query)["RelayState"] == ["idp-relay"]
    assert "_auth_user_id" not in patron_pc.session
    assert patron_pc.get("/accounts/two-factor/").status_code == 302  # signed out
    assert not SamlSession.objects.exists()


@pytest.mark.django_db
def test_forged_or_broken_logout_messages_change_nothing(client: Client, trusted: Any) -> None:
    nefu, hit = trusted
    assert post(client, to_idp(client, nefu)).status_code == 302
    index = SamlSession.objects.get().session_index
    url = nefu.logout_request_url(index, "sp").replace("http://testserver", "")
    unsigned = url.split("&SigAlg=")[0]
    for bad in [
        unsigned,
        url.replace("Signature=", "Signature=AAAA"),
        "/accounts/saml/sls/?SAMLRequest=%%%",
        "/accounts/saml/sls/?SAMLResponse=bm90IGRlZmxhdGVk",
        "/accounts/saml/sls/",
    ]:
        response = Client().get(bad)
        assert response.status_code == 302 and response["Location"].endswith("slo-failed"), bad
    assert "_auth_user_id" in client.session and SamlSession.objects.count() == 1
    assert Client().get("/accounts/saml/sls/?SAMLRequest=" + "A" * 600_000).status_code == 400
    assert Client().post("/accounts/saml/sls/").status_code == 405
    # A LogoutRequest from HIT's IdP (trusted by no library) for NEFU's patron: nothing ends.
    hit.sessions[index] = nefu.sessions[index]
    forged = hit.logout_request_url(index, "sp").replace("http://testserver", "")
    assert Client().get(forged)["Location"].endswith("slo-failed")
    assert "_auth_user_id" in client.session and SamlSession.objects.count() == 1
    for junk in ["x" * 5000, "<script>", ""]:
        page = Client().get("/accounts/signed-out/", {"via": junk})
        assert page.status_code == 200 and "<script>" not in page.content.decode()
