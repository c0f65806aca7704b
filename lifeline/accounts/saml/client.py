"""The pysaml2 service-provider configuration, built from settings and the IdPs in the database."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.urls import reverse
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import Config, SPConfig
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_TRANSIENT
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from lifeline.accounts.saml.keys import sp_key_pair


def sp_entity_id() -> str:
    return settings.SITE_URL + reverse("accounts:saml_metadata")


def acs_url() -> str:
    return settings.SITE_URL + reverse("accounts:saml_acs")


PAIRWISE_ID = "urn:oasis:names:tc:SAML:attribute:pairwise-id"
SUBJECT_ID = "urn:oasis:names:tc:SAML:attribute:subject-id"


def teach_pairwise_id(config: Config) -> Config:
    """pysaml2's attribute maps predate the SAML subject-id profile: teach its URI converter
    pairwise-id and subject-id, so the SP can request them in metadata and read them back."""
    for converter in config.attribute_converters:
        if converter.name_format == NAME_FORMAT_URI and converter._to is not None:
            for uri, friendly in ((PAIRWISE_ID, "pairwise-id"), (SUBJECT_ID, "subject-id")):
                converter._fro[uri.lower()] = friendly
                converter._to[friendly.lower()] = uri
    return config


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
                # Unsigned assertions and unsolicited (IdP-initiated) answers are never accepted,
                # so every answer must carry the InResponseTo of a request we made.
                "want_assertions_signed": True,
                "want_response_signed": False,
                "authn_requests_signed": True,
                "allow_unsolicited": False,
                "name_id_format": [NAMEID_FORMAT_TRANSIENT],
                # Published in the metadata as an AttributeConsumingService, as CARSI asks SPs to.
                "required_attributes": ["eduPersonScopedAffiliation"],
                "optional_attributes": [
                    "eduPersonPrincipalName",
                    "eduPersonTargetedID",
                    "pairwise-id",
                    "displayName",
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
    return teach_pairwise_id(config)


def sp_client(idp_metadata: Iterable[str] = ()) -> Saml2Client:
    return Saml2Client(config=sp_config(idp_metadata))


REDIRECT = BINDING_HTTP_REDIRECT
POST = BINDING_HTTP_POST
