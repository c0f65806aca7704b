"""CARSI sign-in, end to end against a real pysaml2 IdP served on loopback."""

from __future__ import annotations

import base64
import re
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from django.test import Client

from lifeline.accounts.models import FederatedIdentity, SamlLoginEvent, SamlRequest
from lifeline.accounts.tests.idp import LoopbackIdP, PostedAnswer, read_form
from lifeline.core.models import Patron


def go_to_idp(client: Client, idp: LoopbackIdP, next_url: str = "") -> PostedAnswer:
    """The browser's part: follow our redirect to the IdP, get the auto-posting form back."""
    query = {"idp": idp.entity_id, **({"next": next_url} if next_url else {})}
    start = client.get("/accounts/saml/login/", query)
    assert start.status_code == 302
    location = start["Location"]
    assert location.startswith(idp.base + "/idp/sso?SAMLRequest=")
    answer = httpx.get(location, timeout=10)
    assert answer.status_code == 200, answer.text
    return read_form(answer.text)


def post_answer(client: Client, posted: PostedAnswer) -> Any:
    path = urlsplit(posted.action).path
    return client.post(
        path, {"SAMLResponse": posted.saml_response, "RelayState": posted.relay_state}
    )


@pytest.mark.django_db
def test_patron_signs_in_through_loopback_idp(
    client: Client, loopback_idp: LoopbackIdP, library_a: Any
) -> None:
    posted = go_to_idp(client, loopback_idp, next_url="/lib/nefu/")
    assert posted.action.endswith("/accounts/saml/acs/")
    response = post_answer(client, posted)
    assert response.status_code == 302, response.content.decode()
    assert response["Location"] == "/lib/nefu/"
    patron = Patron.objects.get(eppn="alice@nefu.edu.cn")
    assert patron.library == library_a
    assert patron.category == "student"
    assert patron.display_name == "李爱丽"
    assert client.session["_auth_user_id"] == str(patron.user.pk)
    assert SamlLoginEvent.objects.get().outcome == "signed_in"


def assert_refused(client: Client, response: Any, words: str) -> None:
    body = response.content.decode()
    assert response.status_code == 403, body
    assert words in body, body
    assert "_auth_user_id" not in client.session
    assert not Patron.objects.exists()
    assert SamlLoginEvent.objects.filter(outcome="refused").exists()


def tamper(posted: PostedAnswer, old: str, new: str) -> PostedAnswer:
    xml = base64.b64decode(posted.saml_response).decode()
    assert old in xml
    return PostedAnswer(
        posted.action, base64.b64encode(xml.replace(old, new).encode()).decode(), posted.relay_state
    )


@pytest.mark.django_db
def test_altered_assertion_is_refused(english: Client, loopback_idp: LoopbackIdP) -> None:
    posted = tamper(go_to_idp(english, loopback_idp), "alice@nefu.edu.cn", "admin@nefu.edu.cn")
    assert_refused(
        english,
        post_answer(english, posted),
        "signature on the sign-in answer is missing or does not verify",
    )


@pytest.mark.django_db
def test_assertion_signed_by_unknown_key_is_refused(
    english: Client, loopback_idp: LoopbackIdP
) -> None:
    loopback_idp.mode = "rogue_key"
    assert_refused(
        english, post_answer(english, go_to_idp(english, loopback_idp)), "does not verify"
    )


@pytest.mark.django_db
def test_unsigned_assertion_is_refused(english: Client, loopback_idp: LoopbackIdP) -> None:
    posted = go_to_idp(english, loopback_idp)
    xml = base64.b64decode(posted.saml_response).decode()
    stripped = re.sub(r"<(\w+:)?Signature\b.*?</(\w+:)?Signature>", "", xml, flags=re.S)
    assert stripped != xml
    posted = PostedAnswer(
        posted.action, base64.b64encode(stripped.encode()).decode(), posted.relay_state
    )
    assert_refused(english, post_answer(english, posted), "does not verify")


@pytest.mark.django_db
def test_expired_assertion_is_refused(english: Client, loopback_idp: LoopbackIdP) -> None:
    loopback_idp.mode = "expired"
    assert_refused(
        english,
        post_answer(english, go_to_idp(english, loopback_idp)),
        "has expired or is not valid yet",
    )


@pytest.mark.django_db
def test_wrong_audience_is_refused(english: Client, loopback_idp: LoopbackIdP) -> None:
    loopback_idp.mode = "wrong_audience"
    assert_refused(
        english,
        post_answer(english, go_to_idp(english, loopback_idp)),
        "issued for another service",
    )


@pytest.mark.django_db
def test_replayed_assertion_is_refused(english: Client, loopback_idp: LoopbackIdP) -> None:
    posted = go_to_idp(english, loopback_idp)
    assert post_answer(english, posted).status_code == 302
    thief = Client()
    thief.cookies["lifeline_lang"] = "en"
    response = post_answer(thief, posted)
    assert response.status_code == 403
    assert "already been used" in response.content.decode()
    assert "_auth_user_id" not in thief.session
    assert Patron.objects.count() == 1


@pytest.mark.django_db
def test_answer_to_a_request_never_made_is_refused(
    english: Client, loopback_idp: LoopbackIdP
) -> None:
    posted = go_to_idp(english, loopback_idp)
    SamlRequest.objects.all().delete()  # as if the request had expired or was made elsewhere
    assert_refused(english, post_answer(english, posted), "does not match a sign-in started here")


@pytest.mark.django_db
def test_idp_may_not_vouch_outside_its_scope(english: Client, loopback_idp: LoopbackIdP) -> None:
    loopback_idp.identity = {
        "eduPersonPrincipalName": ["bob@hit.edu.cn"],
        "eduPersonScopedAffiliation": ["faculty@hit.edu.cn"],
    }
    assert_refused(
        english, post_answer(english, go_to_idp(english, loopback_idp)), "may not vouch for"
    )


@pytest.mark.django_db
def test_alumni_are_not_patrons(english: Client, loopback_idp: LoopbackIdP) -> None:
    loopback_idp.identity = {
        "eduPersonPrincipalName": ["old@nefu.edu.cn"],
        "eduPersonScopedAffiliation": ["alum@nefu.edu.cn"],
    }
    assert_refused(
        english,
        post_answer(english, go_to_idp(english, loopback_idp)),
        "current student or member of staff",
    )


@pytest.mark.django_db
def test_unknown_issuer_and_garbage_are_refused(english: Client, loopback_idp: LoopbackIdP) -> None:
    posted = go_to_idp(english, loopback_idp)
    loopback_idp.record.delete()
    assert_refused(english, post_answer(english, posted), "does not trust")
    for junk in ["", "not base64 !!", base64.b64encode(b"<not-xml").decode()]:
        response = english.post("/accounts/saml/acs/", {"SAMLResponse": junk})
        assert response.status_code == 403


@pytest.mark.django_db
def test_pairwise_id_is_the_subject_and_survives_a_new_eppn(
    client: Client, loopback_idp: LoopbackIdP
) -> None:
    loopback_idp.identity = {
        "eduPersonPrincipalName": ["t.wang@nefu.edu.cn"],
        "eduPersonScopedAffiliation": ["faculty@nefu.edu.cn"],
        "pairwise-id": ["QX7Z2@nefu.edu.cn"],
    }
    assert post_answer(client, go_to_idp(client, loopback_idp)).status_code == 302
    first = Patron.objects.get()
    assert first.category == "teacher"
    assert FederatedIdentity.objects.get().subject == "QX7Z2@nefu.edu.cn"
    # The university renames the account: the same pairwise-id is the same patron.
    loopback_idp.identity["eduPersonPrincipalName"] = ["wang.t@nefu.edu.cn"]
    other = Client()
    assert post_answer(other, go_to_idp(other, loopback_idp)).status_code == 302
    assert Patron.objects.get().pk == first.pk
    assert Patron.objects.get().eppn == "wang.t@nefu.edu.cn"


@pytest.mark.django_db
def test_targeted_id_alone_identifies_the_patron(client: Client, loopback_idp: LoopbackIdP) -> None:
    """Some IdPs release only eduPersonTargetedID (privacy-preserving): still a patron."""
    loopback_idp.identity = {
        "eduPersonTargetedID": ["a1b2c3d4e5"],
        "eduPersonScopedAffiliation": ["staff@nefu.edu.cn"],
    }
    assert post_answer(client, go_to_idp(client, loopback_idp)).status_code == 302
    patron = Patron.objects.get()
    assert patron.eppn == "" and patron.category == "staff"
    assert FederatedIdentity.objects.get().subject == "eptid:a1b2c3d4e5"
