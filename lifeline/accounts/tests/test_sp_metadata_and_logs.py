"""What we publish (SP metadata: validUntil, rsa-sha256, sha256 first, no MD5, single logout)
and what we log (a response's ID, issuer and the reason, never the response)."""

from __future__ import annotations

import base64
import datetime as dt
import logging
from pathlib import Path
from typing import Any

import pytest
from defusedxml import ElementTree
from django.test import Client

from lifeline.accounts.models import SamlLoginEvent
from lifeline.accounts.saml.logfilter import RedactSamlFilter
from lifeline.accounts.saml.trust import (
    fingerprint,
    load_certificate,
    parse_instant,
    verify_metadata,
)
from lifeline.accounts.tests.federation_kit import post, to_idp
from lifeline.accounts.tests.idp import PostedAnswer

MD = "{urn:oasis:names:tc:SAML:2.0:metadata}"
DS = "{http://www.w3.org/2000/09/xmldsig#}"
ALG = "{urn:oasis:names:tc:SAML:metadata:algsupport}"


@pytest.mark.django_db
def test_sp_metadata_is_signed_sha256_valid_for_a_year_without_md5(
    client: Client, sp_keys: tuple[Path, Path]
) -> None:
    response = client.get("/accounts/saml/metadata/")
    assert response.status_code == 200
    body = response.content
    root = ElementTree.fromstring(body)
    until = parse_instant(root.get("validUntil", ""))
    assert until is not None
    days = (until - dt.datetime.now(dt.UTC)).days
    assert 360 <= days <= 366
    assert (
        root.find(f"{DS}Signature/{DS}SignedInfo/{DS}SignatureMethod")
        .get("Algorithm")
        .endswith("rsa-sha256")
    )
    assert root.find(f".//{DS}Reference/{DS}DigestMethod").get("Algorithm").endswith("sha256")
    assert b"md5" not in body.lower()
    digests = [e.get("Algorithm") for e in root.iter(f"{ALG}DigestMethod")]
    signing = [e.get("Algorithm") for e in root.iter(f"{ALG}SigningMethod")]
    assert digests[0].endswith("sha256") and signing[0].endswith("rsa-sha256")
    slo = root.find(f".//{MD}SingleLogoutService")
    assert slo is not None and slo.get("Location").endswith("/accounts/saml/sls/")
    assert b"urn:oid:0.9.2342.19200300.100.1.3" in body  # mail requested
    sp = root.find(f"{MD}SPSSODescriptor")
    assert sp.get("WantAssertionsSigned") == "true"
    # The signature verifies (xmlsec1) with our certificate, as a federation checks it.
    pem = sp_keys[1].read_text()
    verify_metadata(body, pem, fingerprint(load_certificate(pem)))


@pytest.mark.django_db
def test_log_names_the_response_not_its_content(
    english: Client, trusted: Any, caplog: pytest.LogCaptureFixture
) -> None:
    nefu, _hit = trusted
    secret = ["wang@nefu.edu.cn", "王老师", "faculty@nefu.edu.cn"]
    caplog.set_level(logging.DEBUG)  # even when someone turns pysaml2's debug log on
    assert post(english, to_idp(english, nefu)).status_code == 302
    posted = to_idp(english, nefu)
    xml = base64.b64decode(posted.saml_response).decode()
    forged = PostedAnswer(
        posted.action,
        base64.b64encode(xml.replace("faculty@", "staff@").encode()).decode(),
        posted.relay_state,
    )
    assert post(english, forged).status_code == 403
    # The test IdP (signxml, in this process) logs what it signs: it is not the SP.
    messages = [r.getMessage() for r in caplog.records if not r.name.startswith("signxml")]
    assert any("CARSI sign-in refused: response _r" in m and nefu.entity_id in m for m in messages)
    for message in messages:
        assert "<saml" not in message and "<ns0:" not in message, message
        assert not any(s in message for s in secret), message
        assert forged.saml_response[:40] not in message
    refused = SamlLoginEvent.objects.get(outcome="refused")
    assert "<" not in refused.reason and len(refused.reason) < 300


def test_filter_cuts_xml_and_tracebacks_of_saml2_records() -> None:
    record = logging.LogRecord(
        "saml2.response", logging.ERROR, __file__, 1, "XML parse error: %s", ("<x>eppn</x>",), None
    )
    try:
        raise ValueError("<Assertion>alice@nefu.edu.cn</Assertion>")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    RedactSamlFilter().filter(record)
    assert "eppn" not in record.getMessage() and record.exc_info is None
    assert "ValueError" in record.getMessage()
    other = logging.LogRecord("lifeline", logging.INFO, __file__, 1, "<kept>", (), None)
    RedactSamlFilter().filter(other)
    assert other.getMessage() == "<kept>"
