"""The pysaml2 service-provider configuration, built from settings and the IdPs in the database."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.urls import reverse
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.saml import NAMEID_FORMAT_TRANSIENT
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from lifeline.accounts.saml.keys import sp_key_pair


def sp_entity_id() -> str:
    return settings.SITE_URL + reverse("accounts:saml_metadata")


def acs_url() -> str:
    return settings.SITE_URL + reverse("accounts:saml_acs")


def sp_config(idp_metadata: Iterable[str] = ()) -> SPConfig:
    key_file, cert_file = sp_key_pair()
    conf = {
        "entityid": sp_entity_id(),
        "xmlsec_binary": settings.SAML_XMLSEC_BINARY,
        "key_file": str(key_file),
        "cert_file": str(cert_file),
        "encryption_keypairs": [{"key_file": str(key_file), "cert_file": str(cert_file)}],
        "accepted_time_diff": settings.SAML_CLOCK_SKEW,
        "allow_unknown_attributes": True,
        "name": "Lifeline",
        "service": {
            "sp": {
                "name": "Lifeline",
                "endpoints": {"assertion_consumer_service": [(acs_url(), BINDING_HTTP_POST)]},
                # An unsigned assertion is never accepted; unsolicited (IdP-initiated) answers neither,
                # so every answer must carry the InResponseTo of a request we made.
                "want_assertions_signed": True,
                "want_response_signed": False,
                "authn_requests_signed": True,
                "allow_unsolicited": False,
                "name_id_format": [NAMEID_FORMAT_TRANSIENT],
                "requested_attributes": [
                    {"name": "urn:oid:1.3.6.1.4.1.5923.1.1.1.6", "friendly_name": "eduPersonPrincipalName", "required": False},
                    {"name": "urn:oid:1.3.6.1.4.1.5923.1.1.1.9", "friendly_name": "eduPersonScopedAffiliation", "required": True},
                    {"name": "urn:oid:1.3.6.1.4.1.5923.1.1.1.10", "friendly_name": "eduPersonTargetedID", "required": False},
                    {"name": "urn:oasis:names:tc:SAML:attribute:pairwise-id", "required": False},
                ],
                "signing_algorithm": SIG_RSA_SHA256,
                "digest_algorithm": DIGEST_SHA256,
            }
        },
        "metadata": {"inline": list(idp_metadata)},
        "organization": {"name": "Lifeline", "display_name": "Lifeline", "url": settings.SITE_URL},
    }
    config = SPConfig()
    config.load(conf)
    return config


def sp_client(idp_metadata: Iterable[str] = ()) -> Saml2Client:
    return Saml2Client(config=sp_config(idp_metadata))


REDIRECT = BINDING_HTTP_REDIRECT
POST = BINDING_HTTP_POST
