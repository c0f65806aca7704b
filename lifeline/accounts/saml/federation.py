"""Keeping the federation's IdPs in step with its verified metadata.

A federation's aggregate is fetched (only through `core.outbound`), verified (`trust`), and then
refreshes two things: the IdPs the federation knows (`FederationEntity`: for discovery and for
partner libraries, trusted by nobody), and the IdPs libraries trust (`SamlIdentityProvider`),
which are only ever added one library at a time, by entity ID or scope, never wholesale.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from urllib.parse import quote

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from lifeline.accounts.models import Federation, FederationEntity, SamlIdentityProvider
from lifeline.accounts.saml.metadata import IdpEntry, MetadataError, federation_idps
from lifeline.accounts.saml.trust import MAX_METADATA_BYTES, verify_metadata
from lifeline.core import outbound
from lifeline.core.models import Library
from lifeline.core.notify import notify_email

log = logging.getLogger(__name__)
FETCH_TIMEOUT = 60.0
RETRY_AFTER_FAILURE = dt.timedelta(hours=1)


@dataclass
class FederationResult:
    known: int = 0
    updated: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)


def load_aggregate(
    federation: Federation, xml: bytes, now: dt.datetime | None = None
) -> FederationResult:
    """Verify `xml` with the federation's pinned certificate, then refresh what it describes.

    Raises MetadataError (and changes nothing) when the file is broken, unsigned, wrongly
    signed or expired.
    """
    now = now or timezone.now()
    verified = verify_metadata(xml, federation.signing_cert, federation.cert_sha256, now)
    entries = {e.entity_id: e for e in federation_idps(verified.root, now) if e.entity_id}
    result = FederationResult(known=len(entries))
    with transaction.atomic():
        _refresh_known(federation, entries)
        trusted = SamlIdentityProvider.objects.filter(
            Q(federation=federation) | Q(federation__isnull=True, entity_id__in=list(entries))
        )
        for idp in trusted.select_for_update():
            entry = entries.get(idp.entity_id)
            if entry is None:
                # Gone from the federation: no longer vouched for by it.
                if idp.is_active:
                    idp.is_active = False
                    idp.save()
                    result.deactivated.append(idp.entity_id)
                continue
            idp.metadata_xml = entry.xml
            idp.federation = federation
            if not idp.scopes.strip():
                idp.scopes = "\n".join(entry.scopes)
            idp.save()
            result.updated.append(idp.entity_id)
        federation.metadata_xml = xml.decode("utf-8", errors="replace")
        federation.valid_until = verified.valid_until
        federation.loaded_at = now
        federation.last_attempt_at = now
        federation.failures = 0
        federation.last_error = ""
        federation.save()
    return result


def _refresh_known(federation: Federation, entries: dict[str, IdpEntry]) -> None:
    existing = {e.entity_id: e for e in federation.entities.all()}
    FederationEntity.objects.filter(federation=federation).exclude(
        entity_id__in=list(entries)
    ).delete()
    new = []
    for entity_id, entry in entries.items():
        values = {
            "name": entry.name("zh")[:200],
            "name_en": entry.name("en")[:200],
            "scopes": "\n".join(entry.scopes),
            "metadata_xml": entry.xml,
        }
        record = existing.get(entity_id)
        if record is None:
            new.append(FederationEntity(federation=federation, entity_id=entity_id, **values))
        elif any(getattr(record, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(record, key, value)
            record.save()
    FederationEntity.objects.bulk_create(new, batch_size=500)


def matching_entities(
    federation: Federation, entity_ids: list[str] | None = None, scopes: list[str] | None = None
) -> list[FederationEntity]:
    """The federation's IdPs named by entity ID or whose scopes include one of `scopes`."""
    wanted_ids = {e.strip() for e in entity_ids or [] if e.strip()}
    wanted_scopes = {s.strip().lower() for s in scopes or [] if s.strip()}
    if not wanted_ids and not wanted_scopes:
        return []
    return [
        e
        for e in federation.entities.order_by("entity_id")
        if e.entity_id in wanted_ids or wanted_scopes & set(e.scope_list)
    ]


def trust_for_library(
    library: Library, entities: list[FederationEntity]
) -> tuple[list[str], list[str]]:
    """Make `entities` IdPs of `library` (after the operator confirmed the list).

    Returns (created, already the library's). An IdP another library already trusts is refused:
    a person belongs to one university, and so to one library's patrons.
    """
    created: list[str] = []
    kept: list[str] = []
    with transaction.atomic():
        for entity in entities:
            record = SamlIdentityProvider.objects.filter(entity_id=entity.entity_id).first()
            if record is not None:
                if record.library_id != library.pk:
                    raise MetadataError(
                        _("%(entity)s is already the IdP of another library (%(library)s).")
                        % {"entity": entity.entity_id, "library": record.library.code}
                    )
                kept.append(entity.entity_id)
                continue
            if not entity.scope_list:
                raise MetadataError(
                    _("%(entity)s publishes no scope: its users cannot be checked.")
                    % {"entity": entity.entity_id}
                )
            SamlIdentityProvider.objects.create(
                library=library,
                federation=entity.federation,
                entity_id=entity.entity_id,
                name=entity.name,
                name_en=entity.name_en,
                scopes=entity.scopes,
                metadata_xml=entity.metadata_xml,
            )
            created.append(entity.entity_id)
    return created, kept


def fetch_aggregate(federation: Federation) -> bytes:
    if not federation.metadata_url:
        raise MetadataError(_("The federation has no metadata URL."))
    return _fetch(federation, federation.metadata_url)


def _fetch(federation: Federation, url: str) -> bytes:
    try:
        result = outbound.fetch(
            url,
            headers={"Accept": "application/samlmetadata+xml, application/xml"},
            allow_internal=federation.allow_internal,
            max_bytes=MAX_METADATA_BYTES,
            timeout=FETCH_TIMEOUT,
        )
    except outbound.OutboundError as exc:
        raise MetadataError(
            _("The metadata could not be fetched: %(error)s") % {"error": exc}
        ) from exc
    if result.status != 200:
        raise MetadataError(
            _("The metadata could not be fetched: HTTP %(status)s") % {"status": result.status}
        )
    return result.content


def refresh(federation: Federation, now: dt.datetime | None = None) -> FederationResult | None:
    """Fetch, verify and load; on failure keep the last good copy, count, and alert at N."""
    now = now or timezone.now()
    try:
        return load_aggregate(federation, fetch_aggregate(federation), now)
    except MetadataError as exc:
        _record_failure(federation, str(exc), now)
        return None


def _record_failure(federation: Federation, error: str, now: dt.datetime) -> None:
    failures = federation.failures + 1
    Federation.objects.filter(pk=federation.pk).update(
        failures=failures, last_error=error[:2000], last_attempt_at=now
    )
    federation.failures, federation.last_error, federation.last_attempt_at = failures, error, now
    log.warning("federation %s: refresh %s failed: %s", federation.name, failures, error)
    if failures != max(federation.alert_after, 1):
        return
    # ADMINS: plain addresses since Django 6.0, (name, address) pairs before.
    admins = [a if isinstance(a, str) else str(a[1]) for a in settings.ADMINS]
    recipients = federation.alert_list() or admins
    if not recipients:
        return
    until = (
        timezone.localtime(federation.valid_until).strftime("%Y-%m-%d %H:%M")
        if federation.valid_until
        else "—"
    )
    notify_email(
        None,
        recipients,
        _("CARSI metadata of %(federation)s has not refreshed %(count)s times")
        % {"federation": federation, "count": failures},
        _(
            "Lifeline could not refresh the metadata of %(federation)s %(count)s times in a row. "
            "The last good copy is still used; it is valid until %(until)s, after which "
            "its IdPs can no longer sign anyone in.\n\nLast error: %(error)s"
        )
        % {"federation": federation, "count": failures, "until": until, "error": error},
        kind="accounts.federation_failing",
        dedupe_key=f"federation:{federation.pk}:{federation.loaded_at}:{failures}",
    )


def due(federation: Federation, now: dt.datetime) -> bool:
    if not federation.metadata_url:
        return False
    if federation.last_attempt_at is None:
        return True
    wait = dt.timedelta(hours=max(federation.refresh_hours, 1))
    if federation.failures:
        wait = min(wait, RETRY_AFTER_FAILURE)
    return now - federation.last_attempt_at >= wait


def refresh_due(now: dt.datetime | None = None) -> int:
    """The scheduled step: refresh every federation whose turn it is; how many loaded."""
    now = now or timezone.now()
    loaded = 0
    for federation in Federation.objects.all():
        if due(federation, now) and refresh(federation, now) is not None:
            loaded += 1
    return loaded


def mdq_entity(federation: Federation, entity_id: str, now: dt.datetime | None = None) -> IdpEntry:
    """One IdP's metadata from the federation's MDQ service, signed and verified like the
    aggregate (the MDQ protocol: GET {base}/entities/{url-encoded entity ID})."""
    if not federation.mdq_url:
        raise MetadataError(_("The federation has no MDQ service."))
    url = f"{federation.mdq_url.rstrip('/')}/entities/{quote(entity_id, safe='')}"
    verified = verify_metadata(
        _fetch(federation, url), federation.signing_cert, federation.cert_sha256, now
    )
    entries = [e for e in federation_idps(verified.root, now) if e.entity_id == entity_id]
    if not entries:
        raise MetadataError(
            _("The metadata does not describe the entity %(entity)s.") % {"entity": entity_id}
        )
    return entries[0]


def refresh_idp_by_mdq(idp: SamlIdentityProvider, now: dt.datetime | None = None) -> None:
    """Refresh one trusted IdP from MDQ (when the aggregate is too large to fetch often)."""
    if idp.federation is None:
        raise MetadataError(_("This IdP is not kept by a federation."))
    entry = mdq_entity(idp.federation, idp.entity_id, now)
    idp.metadata_xml = entry.xml
    idp.save()


__all__ = [
    "FederationResult",
    "fetch_aggregate",
    "load_aggregate",
    "matching_entities",
    "mdq_entity",
    "refresh",
    "refresh_due",
    "trust_for_library",
]
