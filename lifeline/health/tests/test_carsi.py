"""A CARSI route probed end to end (WAYFless URL → SP → IdP → back at the resource) against the
accounts tests' real pysaml2 IdP on loopback, with Lifeline's own SP standing in for the
vendor's; each broken leg is named."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client

from lifeline.accounts.models import SamlIdentityProvider
from lifeline.accounts.saml.keys import generate_key_pair
from lifeline.accounts.tests.idp import LoopbackIdP
from lifeline.health.choices import FailureKind, HealthState
from lifeline.health.logic.carsi import auto_post_form
from lifeline.health.logic.probe import ProbeOutcome, Probers, probe
from lifeline.health.logic.worker import spec_for
from lifeline.health.models import ProbeConfig
from lifeline.health.tests.servers import Page, Site
from lifeline.registry.choices import RouteKind
from lifeline.registry.models import AccessRoute, Resource


def run(config: ProbeConfig) -> ProbeOutcome:
    spec = spec_for(
        ProbeConfig.objects.select_related("route__resource__library").get(pk=config.pk)
    )
    assert spec.carsi

    async def go() -> ProbeOutcome:
        p = Probers.open()
        try:
            return await probe(spec, p)
        finally:
            await p.aclose()

    return asyncio.run(go())


def carsi_route(resource: Resource, admin: Any, sp_login_url: str, idp: str) -> ProbeConfig:
    route = AccessRoute.objects.create(
        resource=resource, kind=RouteKind.CARSI, sp_login_url=sp_login_url, idp_entity_id=idp
    )
    config = ProbeConfig.for_route(route)
    config.set_allow_private(True, admin)
    config.retries, config.timeout_seconds, config.must_not_contain = 0, 10, ""
    config.save()
    return config


@pytest.fixture
def idp(settings: Any, tmp_path: Path, live_server: Any, library_a: Any) -> Any:
    """A fresh loopback IdP trusting Lifeline's SP as served by the live server."""
    settings.SITE_URL = live_server.url
    key, cert = tmp_path / "sp.key", tmp_path / "sp.crt"
    generate_key_pair(key, cert, "sp.test")
    settings.SAML_KEY_FILE, settings.SAML_CERT_FILE = str(key), str(cert)
    (tmp_path / "idp").mkdir()
    server = LoopbackIdP(tmp_path / "idp").start()
    server.trust_sp(Client().get("/accounts/saml/metadata/").content.decode())
    SamlIdentityProvider.objects.create(
        library=library_a,
        entity_id=server.entity_id,
        name="东北林业大学",
        scopes="nefu.edu.cn",
        metadata_xml=server.metadata_xml(),
    )
    yield server
    server.stop()


def wayfless(live_server: Any, idp: Any, code: str) -> str:
    # Lifeline's SP takes `idp` and `next`; the route adds the Shibboleth-style entityID.
    return f"{live_server.url}/accounts/saml/login/?idp={quote(idp.entity_id)}&next=/lib/{code}/"


@pytest.mark.django_db(transaction=True)
def test_the_whole_route_and_each_broken_leg(
    idp: Any, live_server: Any, library_a: Any, admin_a: Any, resource_a: Resource
) -> None:
    config = carsi_route(
        resource_a, admin_a, wayfless(live_server, idp, library_a.code), idp.entity_id
    )
    out = run(config)
    assert (out.state, out.failure, out.status_code) == (HealthState.UP, "", 200)
    assert out.notes[-1] == "carsi leg return"
    assert out.final_url.endswith(f"/lib/{library_a.code}/")

    # Return leg: the IdP's answer has expired, the SP refuses it.
    idp.mode = "expired"
    out = run(config)
    assert out.state == HealthState.DOWN
    assert out.error.startswith("CARSI return to the resource: the consumer service answered")

    # IdP leg: the IdP is gone.
    idp.mode = "ok"
    idp.stop()
    out = run(config)
    assert (out.state, out.failure) == (HealthState.DOWN, FailureKind.REFUSED)
    assert out.error.startswith("CARSI identity provider:")


@pytest.mark.django_db
def test_sp_error_page_and_idp_sign_in_page(
    site: Site, library_a: Any, admin_a: Any, resource_a: Resource
) -> None:
    sample = Path(__file__).resolve().parents[1] / "signatures" / "samples" / "shibboleth"
    site.pages["/Shibboleth.sso/Login"] = Page(body=(sample / "sp-error.html").read_bytes())
    config = carsi_route(
        resource_a, admin_a, site.url("/Shibboleth.sso/Login"), "https://idp.nefu.edu.cn/idp"
    )
    out = run(config)
    assert (out.state, out.failure) == (HealthState.DOWN, FailureKind.KEYWORD_FORBIDDEN)
    assert out.error.startswith("CARSI service provider:") and "shibboleth/sp-error" in out.error

    # An SP that sends the browser on, and an IdP that asks for a password: as far as a probe
    # can go without an account, and the route works that far.
    idp_site = Site()
    try:
        idp_site.pages["/idp/sso"] = Page(
            body=b'<form method="post" action="/idp/login"><input name="j_username">'
            b'<input type="password" name="j_password"></form>'
        )
        site.pages["/Shibboleth.sso/Login"] = Page(
            status=302, body=b"", headers={"Location": idp_site.url("/idp/sso?SAMLRequest=x")}
        )
        out = run(config)
        assert (out.state, out.failure) == (HealthState.UP, "")
        assert out.notes[-1] == "carsi stopped at the IdP sign-in page"
        # An IdP error page fails the IdP leg.
        idp_site.pages["/idp/sso"] = Page(
            body=(sample / "idp-error.html").read_bytes(),
        )
        out = run(config)
        assert out.error.startswith("CARSI identity provider:") and "idp-error" in out.error
    finally:
        idp_site.stop()


def test_auto_post_form_is_read() -> None:
    html = (
        '<form method="post" action="https://sp.example.org/Shibboleth.sso/SAML2/POST">'
        '<input type="hidden" name="RelayState" value="ss:mem:1&amp;2"/>'
        '<input type="hidden" name="SAMLResponse" value="PHNhbWw+"/></form>'
    )
    assert auto_post_form(html) == (
        "https://sp.example.org/Shibboleth.sso/SAML2/POST",
        {"RelayState": "ss:mem:1&2", "SAMLResponse": "PHNhbWw+"},
    )
    assert auto_post_form("<form action='/x'><input name='q'></form>") is None
