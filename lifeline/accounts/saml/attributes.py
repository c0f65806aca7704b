"""From a verified SAML assertion to the facts Lifeline needs about a patron."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lifeline.core.choices import PatronCategory

# Attribute names as CARSI (and every eduGAIN federation) sends them, with friendly aliases
# for IdPs that send those instead.
NAMES = {
    "urn:oid:1.3.6.1.4.1.5923.1.1.1.6": "eppn",
    "eduPersonPrincipalName": "eppn",
    "urn:oid:1.3.6.1.4.1.5923.1.1.1.9": "affiliation",
    "eduPersonScopedAffiliation": "affiliation",
    "urn:oid:1.3.6.1.4.1.5923.1.1.1.10": "targeted_id",
    "eduPersonTargetedID": "targeted_id",
    "urn:oasis:names:tc:SAML:attribute:pairwise-id": "pairwise_id",
    "pairwise-id": "pairwise_id",
    "urn:oid:2.16.840.1.113730.3.1.241": "display_name",
    "displayName": "display_name",
    "urn:oid:0.9.2342.19200300.100.1.3": "mail",
    "mail": "mail",
}

# Which affiliation makes which patron category; the first found in this order wins.
CATEGORY_BY_AFFILIATION = [
    ("faculty", PatronCategory.TEACHER),
    ("student", PatronCategory.STUDENT),
    ("staff", PatronCategory.STAFF),
    ("employee", PatronCategory.STAFF),
    ("member", PatronCategory.OTHER),
]
# Affiliations that make someone a patron at all: alumni and walk-ins are not licensed users.
PATRON_AFFILIATIONS = {a for a, _ in CATEGORY_BY_AFFILIATION}


@dataclass
class Released:
    values: dict[str, list[str]] = field(default_factory=dict)

    def first(self, key: str) -> str:
        return next(iter(self.values.get(key, [])), "")


def _text(value: Any) -> str:
    """An attribute value's text; eduPersonTargetedID carries a NameID element instead."""
    if value.text and value.text.strip():
        return str(value.text).strip()
    for ext in getattr(value, "extension_elements", None) or []:
        if ext.text and ext.text.strip():
            return str(ext.text).strip()
    return ""


def released_attributes(assertion: Any) -> Released:
    released = Released()
    for statement in assertion.attribute_statement or []:
        for attribute in statement.attribute or []:
            key = NAMES.get(attribute.name) or NAMES.get(attribute.friendly_name or "")
            if key is None:
                continue
            texts = [t for t in (_text(v) for v in attribute.attribute_value or []) if t]
            released.values.setdefault(key, []).extend(texts)
    return released


def split_scoped(value: str) -> tuple[str, str]:
    """'student@nefu.edu.cn' → ('student', 'nefu.edu.cn'); no scope → (value, '')."""
    local, _, scope = value.rpartition("@")
    return (local, scope.lower()) if local else (value, "")


def category_for(affiliations: list[str]) -> PatronCategory:
    have = {a.lower() for a in affiliations}
    for affiliation, category in CATEGORY_BY_AFFILIATION:
        if affiliation in have:
            return category
    return PatronCategory.OTHER
