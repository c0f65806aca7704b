"""The pysaml2 service-provider configuration, built from settings and the IdPs in the database."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.urls import reverse
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import Config, SPConfig
from saml2.population import Population
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_TRANSIENT
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from lifeline.accounts.saml import logfilter
from lifeline.accounts.saml.keys import sp_key_pair

# Every pysaml2 module the SP uses is imported by now: keep SAML messages out of their logs.
logfilter.install()


def sp_entity_id() -> str:
    return settings.SITE_URL + reverse("accounts:saml_metadata")


def acs_url() -> str:
    return settings.SITE_URL + reverse("accounts:saml_acs")


def sls_url() -> str:
    return settings.SITE_URL + reverse("accounts:saml_sls")


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
        "signing_algorithm": SIG_RSA_SHA256,
        "digest_algorithm": DIGEST_SHA256,
        "allow_unknown_attributes": True,
        "name": "Lifeline",
        "service": {
            "sp": {
                "name": "Lifeline",
                "endpoints": {
                    "assertion_consumer_service": [(acs_url(), BINDING_HTTP_POST)],
                    "single_logout_service": [(sls_url(), BINDING_HTTP_REDIRECT)],
                },
                # Unsigned answers and unsolicited (IdP-initiated) answers are never accepted,
                # so every answer must carry the InResponseTo of a request we made. The
                # signature may be on the assertion or on the whole Response (the SAML profile
                # allows either; `flow` checks one of them is there). The metadata still asks
                # for signed assertions (`sp_metadata`).
                "want_assertions_signed": False,
                "want_response_signed": False,
                "want_assertions_or_response_signed": True,
                "logout_requests_signed": True,
                "logout_responses_signed": True,
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
                    "mail",
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


class _Forgetful(Population):
    """pysaml2 keeps every signed-in person in memory for single logout: with a long-lived
    client that would grow without end. Single logout keeps what it needs in `SamlSession`."""

    def add_information_about_person(self, session_info: Any) -> None:
        return None


_CLIENTS: dict[tuple[Any, ...], Saml2Client] = {}
_CLIENTS_LOCK = threading.Lock()


def client_for(idp: Any) -> Saml2Client:
    """A client trusting only `idp`, reused while neither the IdP record nor our key changes.

    Building one costs ~100 ms (metadata parsing, loading the private key, asking xmlsec1 its
    version): per sign-in that would cap a worker at a few CARSI sign-ins a second.
    """
    key_file, cert_file = sp_key_pair()
    cache_key = (
        idp.pk,
        idp.entity_id,
        idp.updated_at,
        settings.SITE_URL,
        str(key_file),
        key_file.stat().st_mtime_ns,
        str(cert_file),
    )
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(cache_key)
    if client is None:
        client = sp_client([idp.metadata_xml])
        client.users = _Forgetful()
        with _CLIENTS_LOCK:
            if len(_CLIENTS) >= 64:
                _CLIENTS.clear()
            _CLIENTS[cache_key] = client
    return client
