"""Federation metadata is trusted only when verified: a good, a tampered, an unsigned, a wrongly
signed and an expired aggregate (only the good one loads), refresh on a schedule, MDQ, and a
library that trusts its own IdP only."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone

from lifeline.accounts.models import Federation, FederationEntity, SamlIdentityProvider
from lifeline.accounts.saml import federation as fed
from lifeline.accounts.saml.metadata import MetadataError
from lifeline.accounts.saml.trust import verify_metadata
from lifeline.accounts.tests.federation_kit import aggregate, sign, with_valid_until
from lifeline.accounts.tests.signxml_idp import cert_body
from lifeline.core.models import Notification

NOW = timezone.now()


def good(fed_keys: Path, idps: Any, valid: dt.timedelta = dt.timedelta(days=14)) -> bytes:
    xml = aggregate([i.entity_descriptor() for i in idps], NOW + valid)
    return sign(xml, fed_keys / "fed.key", fed_keys / "fed.crt")


def tampered(fed_keys: Path, idps: Any, rogue_cert: Path) -> bytes:
    """The NEFU IdP's certificate swapped for an impostor's after the federation signed."""
    signed = good(fed_keys, idps)
    body = cert_body(idps[0].cert_file).encode()
    assert body in signed
    return signed.replace(body, cert_body(rogue_cert).encode())


def state(federation: Federation) -> tuple[Any, ...]:
    federation.refresh_from_db()
    return (
        federation.metadata_xml,
        federation.valid_until,
        sorted(FederationEntity.objects.values_list("entity_id", flat=True)),
        sorted(SamlIdentityProvider.objects.values_list("entity_id", "metadata_xml")),
    )


@pytest.mark.django_db
def test_only_the_good_aggregate_loads(
    federation: Federation, fed_keys: Path, signxml_idps: Any, _idp_keys: Path
) -> None:
    bad = {
        "tampered": tampered(fed_keys, signxml_idps, _idp_keys / "rogue.crt"),
        "unsigned": aggregate([i.entity_descriptor() for i in signxml_idps], NOW + dt.timedelta(1)),
        "expired": good(fed_keys, signxml_idps, valid=-dt.timedelta(days=1)),
        "wrong key": sign(
            aggregate([i.entity_descriptor() for i in signxml_idps], NOW + dt.timedelta(1)),
            fed_keys / "rogue-fed.key",
            fed_keys / "rogue-fed.crt",
        ),
        "broken": b"<md:EntitiesDescriptor",
        "empty": b"",
    }
    words = {
        "tampered": "altered after signing",
        "unsigned": "not signed",
        "expired": "expired",
        "wrong key": "signed by another key",
        "broken": "not well-formed",
        "empty": "empty",
    }

    def refused_all() -> None:
        before = state(federation)
        for name, xml in bad.items():
            with pytest.raises(MetadataError, match=words[name]):
                fed.load_aggregate(federation, xml)
            assert state(federation) == before, name

    refused_all()
    assert not FederationEntity.objects.exists()
    result = fed.load_aggregate(federation, good(fed_keys, signxml_idps))
    assert result.known == 2  # the CNKI SP in the file is not an IdP
    assert set(FederationEntity.objects.values_list("scopes", flat=True)) == {
        "nefu.edu.cn",
        "hit.edu.cn",
    }
    # Known IdPs are trusted by no library until one says so.
    assert not SamlIdentityProvider.objects.exists()
    assert federation.valid_until is not None and federation.valid_until > NOW
    refused_all()  # and the last good copy stays


@pytest.mark.django_db
def test_signature_must_cover_the_whole_file(
    federation: Federation, fed_keys: Path, signxml_idps: Any
) -> None:
    nefu, hit = signxml_idps
    # A signed NEFU entity wrapped in an unsigned aggregate that adds HIT: refused.
    entity = sign(
        with_valid_until(nefu.entity_descriptor(), NOW + dt.timedelta(1)),
        fed_keys / "fed.key",
        fed_keys / "fed.crt",
    ).split(b"?>", 1)[1]
    wrapper = aggregate([entity.decode(), hit.entity_descriptor()], NOW + dt.timedelta(1))
    with pytest.raises(MetadataError, match=r"whole file|not signed"):
        fed.load_aggregate(federation, wrapper)
    # An entity added after signing: the digest no longer matches.
    signed = good(fed_keys, [nefu])
    added = signed.replace(
        b"</md:EntitiesDescriptor>", hit.entity_descriptor().encode() + b"</md:EntitiesDescriptor>"
    )
    with pytest.raises(MetadataError, match="altered after signing"):
        fed.load_aggregate(federation, added)
    assert not FederationEntity.objects.exists()


@pytest.mark.django_db
def test_certificate_must_match_its_pin(federation: Federation, fed_keys: Path) -> None:
    federation.cert_sha256 = "AB" * 32
    with pytest.raises(ValidationError) as caught:
        federation.full_clean()
    assert "cert_sha256" in caught.value.message_dict
    with pytest.raises(MetadataError, match="pinned SHA-256"):
        verify_metadata(b"<x/>", federation.signing_cert, federation.cert_sha256)
    federation.cert_sha256 = ""
    with pytest.raises(ValidationError):
        federation.full_clean()


@pytest.mark.django_db
def test_command_adds_only_the_named_idps_after_showing_them(
    federation: Federation,
    fed_keys: Path,
    signxml_idps: Any,
    tmp_path: Path,
    library_a: Any,
    library_b: Any,
    monkeypatch: Any,
) -> None:
    nefu, hit = signxml_idps
    path = tmp_path / "carsi.xml"
    path.write_bytes(good(fed_keys, signxml_idps))
    # --create without naming the library's IdP: refused, nothing added.
    with pytest.raises(CommandError, match="own IdP"):
        call_command("load_federation_metadata", str(path), "--library", "nefu", "--create")
    assert not SamlIdentityProvider.objects.exists()
    # The operator sees the list and says no.
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    out = StringIO()
    call_command(
        "load_federation_metadata",
        str(path),
        "--library",
        "nefu",
        "--create",
        "--scope",
        "nefu.edu.cn",
        stdout=out,
    )
    assert nefu.entity_id in out.getvalue() and hit.entity_id not in out.getvalue()
    assert "Nothing added" in out.getvalue()
    assert not SamlIdentityProvider.objects.exists()
    call_command(
        "load_federation_metadata",
        str(path),
        "--library",
        "nefu",
        "--create",
        "--scope",
        "nefu.edu.cn",
        "--yes",
        stdout=out,
    )
    idp = SamlIdentityProvider.objects.get()
    assert (idp.entity_id, idp.library, idp.federation) == (nefu.entity_id, library_a, federation)
    # Another library may not take NEFU's IdP; an unknown entity ID is named.
    with pytest.raises(CommandError, match="another library"):
        call_command(
            "load_federation_metadata",
            "--library",
            "hit",
            "--create",
            "--idp",
            nefu.entity_id,
            "--yes",
            str(path),
        )
    with pytest.raises(CommandError, match="Not in the federation"):
        call_command(
            "load_federation_metadata",
            str(path),
            "--library",
            "hit",
            "--create",
            "--idp",
            "https://nowhere.example/idp",
            "--yes",
        )
    assert SamlIdentityProvider.objects.count() == 1
    # A refused file is refused by the command too.
    path.write_bytes(aggregate([nefu.entity_descriptor()], NOW + dt.timedelta(1)))
    with pytest.raises(CommandError, match="not signed"):
        call_command("load_federation_metadata", str(path))


@pytest.mark.django_db
def test_refresh_keeps_the_last_good_copy_and_alerts_after_n_failures(
    federation: Federation,
    fed_keys: Path,
    signxml_idps: Any,
    metadata_server: Any,
    _idp_keys: Path,
    library_a: Any,
) -> None:
    from lifeline.accounts.schedule import JOBS

    assert "accounts.refresh_federations" in {job.name for job in JOBS}
    federation.metadata_url = metadata_server.base + "/carsi.xml"
    federation.alert_emails = "carsi-admin@nefu.edu.cn"
    federation.alert_after = 3
    federation.save()
    metadata_server.files["/carsi.xml"] = good(fed_keys, signxml_idps)
    assert fed.refresh_due(now=NOW) == 1
    assert fed.refresh_due(now=NOW + dt.timedelta(minutes=5)) == 0  # not due yet
    fed.trust_for_library(library_a, list(FederationEntity.objects.filter(scopes="nefu.edu.cn")))
    good_copy = state(federation)
    metadata_server.files["/carsi.xml"] = tampered(fed_keys, signxml_idps, _idp_keys / "rogue.crt")
    when = NOW + dt.timedelta(hours=7)
    for attempt in range(1, 6):
        assert fed.refresh_due(now=when) == 0
        federation.refresh_from_db()
        assert federation.failures == attempt
        assert "altered after signing" in federation.last_error
        assert state(federation) == good_copy
        when += dt.timedelta(hours=1)  # retried hourly after a failure
    alerts = Notification.objects.filter(kind="accounts.federation_failing")
    assert alerts.count() == 1
    assert alerts.get().recipients == ["carsi-admin@nefu.edu.cn"]
    # The server is gone: also a failure, also kept.
    metadata_server.files.clear()
    assert fed.refresh(federation, now=when) is None
    assert "HTTP 404" in Federation.objects.get().last_error
    metadata_server.files["/carsi.xml"] = good(fed_keys, signxml_idps)
    assert fed.refresh(federation, now=when) is not None
    assert Federation.objects.get().failures == 0


@pytest.mark.django_db
def test_metadata_url_on_loopback_is_refused_unless_allowed(
    federation: Federation, settings: Any
) -> None:
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    federation.metadata_url = "http://127.0.0.1:9/carsi.xml"
    federation.save()
    assert fed.refresh(federation) is None
    assert federation.failures == 1 and federation.last_error


@pytest.mark.django_db
def test_mdq_lookup_refreshes_one_idp(
    federation: Federation,
    fed_keys: Path,
    signxml_idps: Any,
    metadata_server: Any,
    library_a: Any,
) -> None:
    nefu, _hit = signxml_idps
    fed.load_aggregate(federation, good(fed_keys, signxml_idps))
    fed.trust_for_library(library_a, fed.matching_entities(federation, [nefu.entity_id]))
    federation.mdq_url = metadata_server.base + "/"
    federation.save()
    entity = (
        nefu.entity_descriptor()
        .replace("王", "王")
        .replace("Northeast Forestry University", "NEFU via MDQ")
    )
    path = f"/entities/{nefu.entity_id}"
    metadata_server.files[path] = with_valid_until(entity, NOW + dt.timedelta(hours=1))
    with pytest.raises(MetadataError, match="not signed"):
        fed.refresh_idp_by_mdq(SamlIdentityProvider.objects.get())
    metadata_server.files[path] = sign(
        with_valid_until(entity, NOW + dt.timedelta(hours=1)),
        fed_keys / "fed.key",
        fed_keys / "fed.crt",
    )
    out = StringIO()
    call_command("load_federation_metadata", "--mdq", "--library", "nefu", stdout=out)
    assert "1 IdPs refreshed from MDQ" in out.getvalue()
    assert "NEFU via MDQ" in SamlIdentityProvider.objects.get().metadata_xml
    assert any(hit.startswith("/entities/") for hit in metadata_server.hits)


@pytest.mark.django_db
def test_an_entity_past_its_own_valid_until_is_left_out(
    federation: Federation, fed_keys: Path, signxml_idps: Any
) -> None:
    nefu, hit = signxml_idps
    stale = with_valid_until(hit.entity_descriptor(), NOW - dt.timedelta(hours=1)).decode()
    xml = aggregate([nefu.entity_descriptor(), stale], NOW + dt.timedelta(days=1))
    result = fed.load_aggregate(federation, sign(xml, fed_keys / "fed.key", fed_keys / "fed.crt"))
    assert result.known == 1
    assert list(FederationEntity.objects.values_list("entity_id", flat=True)) == [nefu.entity_id]
