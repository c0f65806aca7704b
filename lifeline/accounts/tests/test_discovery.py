"""SP metadata, the where-are-you-from page, home IdPs and the federation metadata command."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from defusedxml import ElementTree
from django.core.exceptions import ValidationError
from django.test import Client

from lifeline.accounts.models import SamlIdentityProvider, SamlRequest
from lifeline.accounts.tests.world import IDP_METADATA

MD = "{urn:oasis:names:tc:SAML:2.0:metadata}"

FEDERATION = """<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"
 xmlns:shibmd="urn:mace:shibboleth:metadata:1.0"
 xmlns:mdui="urn:oasis:names:tc:SAML:metadata:ui" Name="carsi">
<md:EntityDescriptor entityID="https://idp.nefu.edu.cn/idp/shibboleth">
<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<md:Extensions><shibmd:Scope regexp="false">nefu.edu.cn</shibmd:Scope>
<mdui:UIInfo><mdui:DisplayName xml:lang="zh">东北林业大学</mdui:DisplayName>
<mdui:DisplayName xml:lang="en">Northeast Forestry University</mdui:DisplayName>
</mdui:UIInfo></md:Extensions>
<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.nefu.edu.cn/sso"/>
</md:IDPSSODescriptor></md:EntityDescriptor>
<md:EntityDescriptor entityID="https://idp.hit.edu.cn/idp/shibboleth">
<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<md:Extensions><shibmd:Scope regexp="false">hit.edu.cn</shibmd:Scope></md:Extensions>
<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.hit.edu.cn/sso"/>
</md:IDPSSODescriptor></md:EntityDescriptor>
<md:EntityDescriptor entityID="https://fsso.cnki.net/shibboleth">
<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/>
</md:EntityDescriptor>
</md:EntitiesDescriptor>"""


def make_idp(library: Any, **extra: Any) -> SamlIdentityProvider:
    values = {
        "entity_id": "https://idp.nefu.edu.cn/idp/shibboleth",
        "name": "东北林业大学",
        "name_en": "NEFU",
        "scopes": "nefu.edu.cn",
        "metadata_xml": IDP_METADATA,
    }
    values.update(extra)
    return SamlIdentityProvider.objects.create(library=library, **values)


@pytest.mark.django_db
def test_sp_metadata_names_acs_certificate_and_attributes(client: Client) -> None:
    response = client.get("/accounts/saml/metadata/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/samlmetadata+xml"
    root = ElementTree.fromstring(response.content)
    assert root.get("entityID").endswith("/accounts/saml/metadata/")
    acs = root.find(f".//{MD}AssertionConsumerService")
    assert acs.get("Location").endswith("/accounts/saml/acs/")
    assert acs.get("Binding").endswith("HTTP-POST")
    sp = root.find(f"{MD}SPSSODescriptor")
    assert sp.get("AuthnRequestsSigned") == "true" and sp.get("WantAssertionsSigned") == "true"
    assert root.find(".//{http://www.w3.org/2000/09/xmldsig#}X509Certificate") is not None
    assert (
        b"urn:oid:1.3.6.1.4.1.5923.1.1.1.6" in response.content
    )  # eduPersonPrincipalName requested
    assert b"PRIVATE KEY" not in response.content


@pytest.mark.django_db
def test_discovery_lists_and_filters_idps(english: Client, library_a: Any, library_b: Any) -> None:
    make_idp(library_a)
    make_idp(
        library_b,
        entity_id="https://idp.hit.edu.cn/idp/shibboleth",
        name="哈工大",
        name_en="HIT",
        scopes="hit.edu.cn",
    )
    body = english.get("/accounts/saml/login/").content.decode()
    assert "NEFU" in body and "HIT" in body
    body = english.get("/accounts/saml/login/", {"q": "hit.edu"}).content.decode()
    assert "HIT" in body and "NEFU" not in body
    body = english.get("/accounts/saml/login/", {"library": "nefu"}).content.decode()
    assert "NEFU" in body and "HIT" not in body
    assert (
        english.get("/accounts/saml/login/", {"idp": "https://unknown.example/idp"}).status_code
        == 404
    )


@pytest.mark.django_db
def test_home_idp_skips_the_list_and_keeps_a_safe_next(client: Client, library_a: Any) -> None:
    make_idp(library_a, is_home=True)
    response = client.get("/accounts/saml/login/", {"library": "nefu", "next": "/lib/nefu/"})
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert target.netloc == "idp.nefu.edu.cn"
    query = parse_qs(target.query)
    assert {"SAMLRequest", "RelayState", "SigAlg", "Signature"} <= set(query)
    request = SamlRequest.objects.get()
    assert request.next_url == "/lib/nefu/"
    client.get("/accounts/saml/login/", {"library": "nefu", "next": "https://evil.example/"})
    assert SamlRequest.objects.order_by("-id").first().next_url == ""


@pytest.mark.django_db
def test_login_page_offers_carsi_when_idps_exist(english: Client, library_a: Any) -> None:
    assert "CARSI" not in english.get("/accounts/login/").content.decode()
    make_idp(library_a)
    assert "/accounts/saml/login/" in english.get("/accounts/login/").content.decode()


@pytest.mark.django_db
def test_idp_record_is_validated(library_a: Any) -> None:
    idp = SamlIdentityProvider(
        library=library_a,
        entity_id="https://other/idp",
        name="x",
        scopes="nefu.edu.cn",
        metadata_xml=IDP_METADATA,
    )
    with pytest.raises(ValidationError, match="does not describe the entity"):
        idp.full_clean()
    idp = SamlIdentityProvider(
        library=library_a, entity_id="x", name="x", scopes="bob@nefu", metadata_xml="<broken"
    )
    with pytest.raises(ValidationError) as caught:
        idp.full_clean()
    assert "scopes" in caught.value.message_dict and "metadata_xml" in caught.value.message_dict
