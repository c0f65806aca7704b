"""SAML single logout (HTTP-Redirect binding), both ways.

- SP-initiated: signing out of Lifeline sends a signed LogoutRequest to the IdP when its
  metadata names a SingleLogoutService; the IdP answers with a LogoutResponse to our SLS.
- IdP-initiated: a signed LogoutRequest from the IdP ends every Lifeline session of that
  person at that IdP and is answered with a signed LogoutResponse.

Query-string signatures are verified here over the raw, as-sent query string (re-encoding the
values, as some libraries do, breaks on harmless differences in percent-encoding).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import logging
import secrets
import zlib
from dataclasses import dataclass
from importlib import import_module
from typing import Any
from urllib.parse import unquote_plus

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from defusedxml import ElementTree
from django.conf import settings
from django.utils import timezone
from saml2 import saml
from saml2.samlp import STATUS_SUCCESS
from saml2.xmldsig import SIG_RSA_SHA256

from lifeline.accounts.models import SamlIdentityProvider, SamlRequest, SamlSession
from lifeline.accounts.saml.client import REDIRECT, client_for
from lifeline.accounts.saml.metadata import idp_signing_certificates, idp_slo_url
from lifeline.accounts.saml.trust import load_certificate

log = logging.getLogger(__name__)
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
HASHES: dict[str, hashes.HashAlgorithm] = {
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256": hashes.SHA256(),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384": hashes.SHA384(),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": hashes.SHA512(),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256": hashes.SHA256(),
}


class LogoutError(Exception):
    """A logout message we will not act on; `str()` is the technical reason for the log."""


def remember(
    session_key: str, idp: SamlIdentityProvider, user: Any, name_id: Any, index: str
) -> None:
    """After a CARSI sign-in: what a later LogoutRequest (either way) needs."""
    SamlSession.objects.create(
        session_key=session_key,
        idp=idp,
        user=user,
        name_id=str(name_id) if name_id is not None else "",
        name_id_value=(getattr(name_id, "text", "") or "")[:500],
        session_index=(index or "")[:200],
    )


def start(session_key: str | None) -> tuple[str, bool]:
    """Before the local sign-out: (the IdP URL that ends the IdP session too, or '' when the
    IdP offers no single logout; whether this was a CARSI session at all)."""
    if not session_key:
        return "", False
    row = SamlSession.objects.select_related("idp").filter(session_key=session_key).first()
    if row is None:
        return "", False
    SamlSession.objects.filter(session_key=session_key).delete()
    try:
        return _logout_request(row), True
    except Exception as exc:  # broken IdP metadata must not keep anyone signed in here
        log.warning(
            "single logout could not start for %s: %s", row.idp.entity_id, type(exc).__name__
        )
        return "", True


def _logout_request(row: SamlSession) -> str:
    idp = row.idp
    destination = idp_slo_url(idp.metadata_xml, idp.entity_id)
    if not destination or not row.name_id:
        return ""
    client = client_for(idp)
    request_id, request = client.create_logout_request(
        destination,
        idp.entity_id,
        name_id=saml.name_id_from_string(row.name_id),
        session_indexes=[row.session_index] if row.session_index else None,
        expire=(timezone.now() + dt.timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        sign=False,  # the Redirect binding signs the query string instead
    )
    SamlRequest.objects.create(request_id=request_id, idp=idp, is_logout=True)
    info = client.apply_binding(
        REDIRECT,
        str(request),
        destination,
        relay_state=secrets.token_urlsafe(12),
        sign=True,
        sigalg=SIG_RSA_SHA256,
    )
    return str(dict(info["headers"])["Location"])


def _raw_params(query_string: str) -> dict[str, str]:
    raw: dict[str, str] = {}
    for part in query_string.split("&"):
        key, _sep, value = part.partition("=")
        if key in {"SAMLRequest", "SAMLResponse", "RelayState", "SigAlg", "Signature"}:
            raw.setdefault(key, value)
    return raw


def _verify_query(query_string: str, kind: str, idp: SamlIdentityProvider) -> None:
    raw = _raw_params(query_string)
    if "Signature" not in raw or "SigAlg" not in raw:
        raise LogoutError("unsigned logout message")
    algorithm = unquote_plus(raw["SigAlg"])
    digest = HASHES.get(algorithm)
    if digest is None:
        raise LogoutError(f"signature algorithm not accepted: {algorithm[:100]}")
    signed = "&".join(
        f"{key}={raw[key]}" for key in (kind, "RelayState", "SigAlg") if key in raw
    ).encode()
    try:
        signature = base64.b64decode(unquote_plus(raw["Signature"]), validate=False)
    except (binascii.Error, ValueError) as exc:
        raise LogoutError("undecodable signature") from exc
    for body in idp_signing_certificates(idp.metadata_xml, idp.entity_id):
        key = load_certificate(body).public_key()
        try:
            if isinstance(key, rsa.RSAPublicKey):
                key.verify(signature, signed, padding.PKCS1v15(), digest)
            elif isinstance(key, ec.EllipticCurvePublicKey):
                key.verify(signature, signed, ec.ECDSA(digest))
            else:
                continue
            return
        except InvalidSignature:
            continue
    raise LogoutError("the logout message's signature does not verify")


MAX_INFLATED = 256 * 1024


def _decode(value: str) -> Any:
    try:
        # Raw DEFLATE from a query string: inflated with a cap, or a few KB of it could
        # inflate to gigabytes (issue 21's class of decompression bombs).
        inflater = zlib.decompressobj(-15)
        data = inflater.decompress(base64.b64decode(value), MAX_INFLATED)
    except (binascii.Error, ValueError, zlib.error) as exc:
        raise LogoutError("undecodable logout message") from exc
    if inflater.unconsumed_tail:
        raise LogoutError(f"logout message larger than {MAX_INFLATED} bytes")
    try:
        return ElementTree.fromstring(data), data.decode("utf-8", errors="replace")
    except Exception as exc:  # defusedxml: several types, all "not a message"
        raise LogoutError("logout message is not XML") from exc


def _idp_of(root: Any) -> SamlIdentityProvider:
    issuer = root.find(f"{{{SAML_NS}}}Issuer")
    entity_id = (issuer.text or "").strip() if issuer is not None else ""
    idp = SamlIdentityProvider.objects.filter(entity_id=entity_id).first()
    if idp is None:
        raise LogoutError(f"logout message from an unknown issuer {entity_id[:200]!r}")
    return idp


@dataclass
class Handled:
    redirect: str  # where the browser goes next ('' → our signed-out page)
    idp_confirmed: bool  # the IdP said its session is over too
    sessions_ended: int = 0


def handle(query_string: str, params: dict[str, str]) -> Handled:
    """The SLS endpoint: a LogoutResponse to our request, or an IdP's LogoutRequest."""
    if params.get("SAMLResponse"):
        return _response(query_string, params["SAMLResponse"])
    if params.get("SAMLRequest"):
        return _request(query_string, params["SAMLRequest"], params.get("RelayState", ""))
    raise LogoutError("no logout message")


def _response(query_string: str, value: str) -> Handled:
    root, _xml = _decode(value)
    if root.tag != f"{{{SAMLP}}}LogoutResponse":
        raise LogoutError("not a LogoutResponse")
    idp = _idp_of(root)
    _verify_query(query_string, "SAMLResponse", idp)
    in_response_to = root.get("InResponseTo", "")
    pending = SamlRequest.objects.filter(
        request_id=in_response_to,
        idp=idp,
        is_logout=True,
        created_at__gte=timezone.now() - SamlRequest.LIFETIME,
    )
    if not in_response_to or not pending.delete()[0]:
        raise LogoutError("LogoutResponse to no request of ours")
    code = root.find(f"{{{SAMLP}}}Status/{{{SAMLP}}}StatusCode")
    ok = code is not None and code.get("Value") == STATUS_SUCCESS
    return Handled(redirect="", idp_confirmed=ok)


def end_sessions(idp: SamlIdentityProvider, name_id: str, indexes: list[str]) -> int:
    """Delete the Lifeline sessions of `name_id` at `idp` (those with a listed SessionIndex)."""
    rows = SamlSession.objects.filter(idp=idp, name_id_value=name_id[:500])
    if indexes:
        rows = rows.filter(session_index__in=indexes)
    store = import_module(settings.SESSION_ENGINE).SessionStore
    keys = list(rows.values_list("session_key", flat=True))
    for key in keys:
        store(session_key=key).delete()
    rows.delete()
    return len(keys)


def _request(query_string: str, value: str, relay_state: str) -> Handled:
    root, xml = _decode(value)
    if root.tag != f"{{{SAMLP}}}LogoutRequest":
        raise LogoutError("not a LogoutRequest")
    idp = _idp_of(root)
    _verify_query(query_string, "SAMLRequest", idp)
    name_id = root.find(f"{{{SAML_NS}}}NameID")
    indexes = [(i.text or "").strip() for i in root.findall(f"{{{SAMLP}}}SessionIndex")]
    ended = end_sessions(idp, (name_id.text or "").strip() if name_id is not None else "", indexes)
    del xml
    try:
        client = client_for(idp)
        request = client.parse_logout_request(value, REDIRECT)
        destination = idp_slo_url(idp.metadata_xml, idp.entity_id)
        response = client.create_logout_response(request.message, [REDIRECT], sign=False)
        info = client.apply_binding(
            REDIRECT,
            str(response),
            destination,
            relay_state=relay_state,
            response=True,
            sign=True,
            sigalg=SIG_RSA_SHA256,
        )
    except Exception as exc:  # the sessions are ended; only the answer to the IdP failed
        raise LogoutError(f"could not answer the LogoutRequest: {type(exc).__name__}") from exc
    return Handled(
        redirect=str(dict(info["headers"])["Location"]), idp_confirmed=True, sessions_ended=ended
    )
