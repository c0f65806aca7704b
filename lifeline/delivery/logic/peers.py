"""Who is who in ISO 18626: our libraries' agency ids, the peers they know, and how a peer
proves it is the one it says (shared secret in a header, source addresses, mutual TLS)."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Mapping

from django.conf import settings
from django.db import IntegrityError, transaction

from lifeline.core.models import Library
from lifeline.delivery.logic.iso18626 import Iso18626Error, english
from lifeline.delivery.models import AgencyId, Peer

LEGACY_TYPE = "LIFELINE"  # what the first version sent: still read, never written


def local_agency(library: Library | int) -> tuple[str, str]:
    """Our library's agency id; until an administrator sets its ISIL, `ISIL:<CODE>`.
    `library` may be its id (the library row is read only to make the default)."""
    from lifeline.delivery.logic import rawsql

    library_id = library if isinstance(library, int) else library.pk
    _n, rows = rawsql.execute(
        f"SELECT agency_id_type, agency_id_value FROM {rawsql.qn(AgencyId._meta.db_table)}"  # noqa: S608
        " WHERE library_id = %s ORDER BY id LIMIT 1",
        [library_id],
    )
    row = rows[0] if rows else None
    if row is not None:
        return (row[0], row[1])
    if isinstance(library, int):
        library = Library.objects.get(pk=library)
    try:
        with transaction.atomic():
            made = AgencyId.objects.create(
                library=library, agency_id_type="ISIL", agency_id_value=library.code.upper()
            )
    except IntegrityError:
        made = AgencyId.objects.get(library=library)
    return (made.agency_id_type, made.agency_id_value)


def endpoint_peer(ours: tuple[str, str], theirs: str) -> Peer | None:
    """The active peer with a secret whose agency value is `theirs`, of the library whose agency
    id on record is `ours`, with its library: one prepared query (the endpoint's first)."""
    from lifeline.delivery.logic import rawsql

    qn = rawsql.qn
    sql = (
        f"SELECT {rawsql.columns(Peer, 'p')}, {rawsql.columns(Library, 'l')}"  # noqa: S608
        f" FROM {qn(Peer._meta.db_table)} p JOIN {qn(Library._meta.db_table)} l"
        " ON l.id = p.library_id WHERE p.library_id = ("
        f"SELECT a.library_id FROM {qn(AgencyId._meta.db_table)} a"
        " WHERE a.agency_id_type = %s AND a.agency_id_value = %s LIMIT 1)"
        " AND p.agency_id_value = %s AND p.is_active AND p.secret_in <> ''"
        " ORDER BY p.id LIMIT 1"
    )
    rows = rawsql.select(sql, [ours[0], ours[1], theirs], (Peer, Library))
    if not rows:
        return None
    peer, library = rows[0]
    peer.library = library
    return peer


def library_for(agency: tuple[str, str]) -> Library | None:
    kind, value = agency
    if not value:
        return None
    found = AgencyId.objects.filter(agency_id_type=kind, agency_id_value=value).select_related(
        "library"
    )
    hit = next(iter(found), None)
    if hit is not None:
        return hit.library
    if kind in (LEGACY_TYPE, "ISIL"):
        lib = Library.objects.filter(code__iexact=value).first()
        if lib is not None and local_agency(lib) == (kind, value):
            return lib
        if lib is not None and kind == LEGACY_TYPE:
            return lib
    return None


def partner_peer(library: Library, partner: Library) -> Peer:
    """The peer record one of our libraries keeps for another library of this installation."""
    kind, value = local_agency(partner)
    peer = Peer.objects.filter(library=library, partner=partner).first()
    if peer is not None:
        return peer
    try:
        with transaction.atomic():
            return Peer.objects.create(
                library=library,
                partner=partner,
                name=partner.name[:200],
                agency_id_type=kind,
                agency_id_value=value,
                copy=True,
                loan=True,
            )
    except IntegrityError:
        return Peer.objects.get(library=library, agency_id_type=kind, agency_id_value=value)


def find_peer(library: Library, agency: tuple[str, str]) -> Peer:
    """The sender of a message, as `library` knows it; the id type must be the one on record."""
    kind, value = agency
    peers = list(Peer.objects.filter(library=library, agency_id_value=value, is_active=True))
    exact = [p for p in peers if p.agency_id_type == kind]
    if exact:
        return exact[0]
    if peers:
        raise Iso18626Error(
            english(
                "Agency id type “%(got)s” does not match “%(want)s” on record for %(value)s.",
                got=kind,
                want=peers[0].agency_id_type,
                value=value,
            ),
            "UnrecognisedDataValue",
        )
    other = library_for(agency)
    if other is not None and other != library:
        return partner_peer(library, other)
    raise Iso18626Error(
        english("Unknown agency “%(type)s:%(value)s”.", type=kind, value=value),
        "UnrecognisedDataValue",
    )


def check_credentials(peer: Peer, headers: Mapping[str, str], remote_addr: str) -> str:
    """'' when the peer proved itself; else why not (for the log, not for the caller)."""
    if not peer.secret_in:
        return "no shared secret is set for this peer"
    given = headers.get(peer.secret_header, "")
    if not hmac.compare_digest(given.encode(), peer.secret_in.encode()):
        return "wrong or missing shared secret"
    networks = peer.networks()
    if networks:
        try:
            addr = ipaddress.ip_address(remote_addr)
        except ValueError:
            return "unreadable source address"
        if not any(addr in net for net in networks):
            return f"source address {remote_addr} is not allowed"
    if peer.peer_cert_sha256:
        # Mutual TLS ends at the proxy in front of Lifeline; it passes the verified client
        # certificate's fingerprint in this header (and strips any the client sent).
        seen = headers.get(
            getattr(settings, "ISO18626_CLIENT_CERT_HEADER", "X-SSL-Client-SHA256"), ""
        )
        want = peer.peer_cert_sha256.replace(":", "").lower()
        if not hmac.compare_digest(seen.replace(":", "").lower().encode(), want.encode()):
            return "client certificate does not match"
    return ""
