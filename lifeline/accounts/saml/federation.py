"""Keeping the IdPs of a library in step with the federation's metadata file."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from lifeline.accounts.models import SamlIdentityProvider
from lifeline.accounts.saml.metadata import federation_idps
from lifeline.core.models import Library


@dataclass
class FederationResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def load_federation(
    xml: str, library: Library, entity_ids: list[str] | None = None, create: bool = False
) -> FederationResult:
    """Refresh the metadata (and empty scopes) of the library's IdPs from a federation file.

    With `create`, IdPs named in `entity_ids` (or, without a list, every IdP of the file) are added
    to the library; otherwise only IdPs already registered are refreshed. All or nothing.
    """
    result = FederationResult()
    wanted = set(entity_ids or [])
    with transaction.atomic():
        for entry in federation_idps(xml):
            record = SamlIdentityProvider.objects.filter(entity_id=entry.entity_id).first()
            if record is None:
                if not create or (wanted and entry.entity_id not in wanted) or not entry.scopes:
                    result.skipped.append(entry.entity_id)
                    continue
                SamlIdentityProvider.objects.create(
                    library=library,
                    entity_id=entry.entity_id,
                    name=entry.name("zh")[:200],
                    name_en=entry.name("en")[:200],
                    scopes="\n".join(entry.scopes),
                    metadata_xml=entry.xml,
                )
                result.created.append(entry.entity_id)
                continue
            if record.library_id != library.pk:
                result.skipped.append(entry.entity_id)
                continue
            record.metadata_xml = entry.xml
            if not record.scopes.strip():
                record.scopes = "\n".join(entry.scopes)
            record.save()
            result.updated.append(entry.entity_id)
    return result
