"""Reading IdP metadata: the single sign-on URL, the scopes, and the IdPs of a federation file."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from defusedxml import ElementTree
from django.utils.translation import gettext as _

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
SHIBMD = "urn:mace:shibboleth:metadata:1.0"
MDUI = "urn:oasis:names:tc:SAML:metadata:ui"
REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"


class MetadataError(ValueError):
    pass


@dataclass
class IdpEntry:
    entity_id: str
    names: dict[str, str] = field(default_factory=dict)
    scopes: list[str] = field(default_factory=list)
    xml: str = ""

    def name(self, lang: str) -> str:
        return (
            self.names.get(lang) or self.names.get("zh") or self.names.get("en") or self.entity_id
        )


def _parse(xml: str | bytes) -> ElementTree.Element:
    try:
        return ElementTree.fromstring(xml.encode() if isinstance(xml, str) else xml)
    except Exception as exc:  # defusedxml raises several types: all mean "not usable metadata"
        raise MetadataError(
            _("The metadata is not well-formed XML: %(error)s") % {"error": exc}
        ) from exc


def idp_sso_url(xml: str, entity_id: str) -> str:
    """The Redirect SSO URL of `entity_id`, or MetadataError saying what is missing."""
    root = _parse(xml)
    entities = (
        [root]
        if root.tag == f"{{{MD}}}EntityDescriptor"
        else root.iter(f"{{{MD}}}EntityDescriptor")
    )
    for entity in entities:
        if entity.get("entityID") != entity_id:
            continue
        for sso in entity.iter(f"{{{MD}}}SingleSignOnService"):
            if sso.get("Binding") == REDIRECT and sso.get("Location"):
                return str(sso.get("Location"))
        raise MetadataError(
            _("The metadata of %(entity)s has no HTTP-Redirect single sign-on service.")
            % {"entity": entity_id}
        )
    raise MetadataError(
        _("The metadata does not describe the entity %(entity)s.") % {"entity": entity_id}
    )


def idp_slo_url(xml: str, entity_id: str) -> str:
    """The HTTP-Redirect single logout URL of the IdP, or '' when it offers none."""
    root = _parse(xml)
    entities = (
        [root]
        if root.tag == f"{{{MD}}}EntityDescriptor"
        else root.iter(f"{{{MD}}}EntityDescriptor")
    )
    for entity in entities:
        if entity.get("entityID") != entity_id:
            continue
        for slo in entity.iter(f"{{{MD}}}SingleLogoutService"):
            if slo.get("Binding") == REDIRECT and slo.get("Location"):
                return str(slo.get("Location"))
    return ""


def _entity(xml: str, entity_id: str) -> Any:
    root = _parse(xml)
    if root.tag == f"{{{MD}}}EntityDescriptor":
        return root if root.get("entityID") == entity_id else None
    for entity in root.iter(f"{{{MD}}}EntityDescriptor"):
        if entity.get("entityID") == entity_id:
            return entity
    return None


def idp_signing_certificates(xml: str, entity_id: str) -> list[str]:
    """The base64 bodies of the IdP's signing certificates (KeyDescriptor use=signing or none)."""
    entity = _entity(xml, entity_id)
    if entity is None:
        return []
    found = []
    for idp in entity.iter(f"{{{MD}}}IDPSSODescriptor"):
        for key in idp.iter(f"{{{MD}}}KeyDescriptor"):
            if key.get("use", "signing") != "signing":
                continue
            for cert in key.iter("{http://www.w3.org/2000/09/xmldsig#}X509Certificate"):
                if cert.text and cert.text.strip():
                    found.append("".join(cert.text.split()))
    return found


def _expired(valid_until: str, now: dt.datetime) -> bool:
    if not valid_until:
        return False
    try:
        when = dt.datetime.fromisoformat(valid_until.strip().replace("Z", "+00:00"))
    except ValueError:
        return True  # an unreadable date is no promise of validity
    return (when if when.tzinfo else when.replace(tzinfo=dt.UTC)) <= now


def federation_idps(xml: str | Any, now: dt.datetime | None = None) -> list[IdpEntry]:
    """Every IdP of a federation metadata file (CARSI publishes one signed aggregate).

    Given text, it is parsed here (for a single IdP's metadata pasted by staff); a federation's
    aggregate comes as the root element `trust.verify_metadata` verified. With `now`, an entity
    whose own `validUntil` has passed is left out.
    """
    from xml.etree.ElementTree import tostring

    root = _parse(xml) if isinstance(xml, (str, bytes)) else xml
    entities = (
        [root]
        if root.tag == f"{{{MD}}}EntityDescriptor"
        else list(root.iter(f"{{{MD}}}EntityDescriptor"))
    )
    found: list[IdpEntry] = []
    for entity in entities:
        idp = entity.find(f"{{{MD}}}IDPSSODescriptor")
        if idp is None or (now is not None and _expired(entity.get("validUntil", ""), now)):
            continue
        entry = IdpEntry(entity_id=str(entity.get("entityID", "")))
        for scope in idp.iter(f"{{{SHIBMD}}}Scope"):
            if scope.text and scope.get("regexp", "false") == "false":
                entry.scopes.append(scope.text.strip().lower())
        for display in entity.iter(f"{{{MDUI}}}DisplayName"):
            lang = (display.get("{http://www.w3.org/XML/1998/namespace}lang") or "en")[:2]
            entry.names.setdefault(lang, (display.text or "").strip())
        for org in entity.iter(f"{{{MD}}}OrganizationDisplayName"):
            lang = (org.get("{http://www.w3.org/XML/1998/namespace}lang") or "en")[:2]
            entry.names.setdefault(lang, (org.text or "").strip())
        entry.xml = tostring(entity, encoding="unicode")
        found.append(entry)
    return found
