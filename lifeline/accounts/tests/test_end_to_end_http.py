"""End to end over real HTTP on 127.0.0.1: the federation's aggregate fetched (core.outbound)
from a loopback server and verified, the library's own IdP chosen by scope, and a patron signed
in and out by a browser (httpx) talking to Lifeline's live server and to an IdP built on a
second SAML implementation (signxml), then a delivery notice sent to the released address."""

from __future__ import annotations

import datetime as dt
import re
from io import StringIO
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.core.management import call_command

from lifeline.accounts.models import SamlIdentityProvider
from lifeline.accounts.tests.federation_kit import aggregate, sign
from lifeline.accounts.tests.idp import read_form
from lifeline.core.models import Patron


@pytest.mark.django_db(transaction=True)
def test_patron_signs_in_and_out_over_http_through_a_verified_federation(
    live_server: Any,
    settings: Any,
    federation: Any,
    fed_keys: Path,
    signxml_idps: Any,
    metadata_server: Any,
    library_a: Any,
) -> None:
    nefu, hit = signxml_idps
    settings.SITE_URL = live_server.url
    nefu.sp_sls = f"{live_server.url}/accounts/saml/sls/"
    xml = aggregate(
        [nefu.entity_descriptor(), hit.entity_descriptor()],
        dt.datetime.now(dt.UTC) + dt.timedelta(days=7),
    )
    metadata_server.files["/carsi-metadata.xml"] = sign(
        xml, fed_keys / "fed.key", fed_keys / "fed.crt"
    )
    federation.metadata_url = metadata_server.base + "/carsi-metadata.xml"
    federation.save()
    out = StringIO()
    call_command(
        "load_federation_metadata",
        "--library",
        "nefu",
        "--create",
        "--scope",
        "nefu.edu.cn",
        "--yes",
        stdout=out,
    )
    assert "1 added" in out.getvalue()
    assert list(SamlIdentityProvider.objects.values_list("entity_id", flat=True)) == [
        nefu.entity_id
    ]

    with httpx.Client(base_url=live_server.url, timeout=10) as browser:
        start = browser.get(
            "/accounts/saml/login/", params={"entityID": nefu.entity_id, "target": "/lib/nefu/"}
        )
        assert start.status_code == 302
        at_idp = browser.get(start.headers["location"])  # the IdP, its own host and port
        assert at_idp.status_code == 200, at_idp.text
        form = read_form(at_idp.text)
        assert form.action == f"{live_server.url}/accounts/saml/acs/"
        signed_in = browser.post(
            form.action, data={"SAMLResponse": form.saml_response, "RelayState": form.relay_state}
        )
        assert signed_in.status_code == 302, signed_in.text
        assert signed_in.headers["location"] == "/lib/nefu/"
        page = browser.get("/lib/nefu/")
        assert page.status_code == 200
        patron = Patron.objects.get()
        assert (patron.library, patron.eppn, patron.user.email) == (
            library_a,
            "wang@nefu.edu.cn",
            "wang@nefu.edu.cn",
        )
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert token is not None
        bye = browser.post("/accounts/logout/", data={"csrfmiddlewaretoken": token.group(1)})
        assert bye.status_code == 302 and bye.headers["location"].startswith(nefu.base)
        back = browser.get(bye.headers["location"])  # the IdP ends its session, sends us back
        assert back.status_code == 302 and back.headers["location"].startswith(live_server.url)
        done = browser.get(back.headers["location"])
        assert done.headers["location"].endswith("?via=slo")
        assert (
            browser.get("/accounts/mail/").headers["location"].startswith("/accounts/saml/login/")
        )  # signed out
    assert hit.authn_requests == []
