"""A real federation aggregate: SWITCHaai's signed test-federation metadata (35 IdPs, 2.4 MB),
verified with its real signing certificate pinned by fingerprint (see data/README.md)."""

from __future__ import annotations

import datetime as dt
import gzip
import re
from pathlib import Path
from typing import Any

import pytest

from lifeline.accounts.models import Federation, FederationEntity
from lifeline.accounts.saml import federation as fed
from lifeline.accounts.saml.metadata import MetadataError
from lifeline.accounts.saml.trust import verify_metadata

DATA = Path(__file__).parent / "data"
PIN = (
    "8C:30:CA:78:A9:1F:2F:4B:45:2F:EF:FC:99:26:6A:AD:"
    "2F:44:C8:80:AE:C4:17:0D:8F:0E:29:DE:EB:2B:9C:6E"
)
# While the file was current (its validUntil is 2019-12-02T16:01:44Z).
THEN = dt.datetime(2019, 11, 28, 12, tzinfo=dt.UTC)
DEMO_IDP = "https://aai-demo-idp.switch.ch/idp/shibboleth"


@pytest.fixture(scope="module")
def real_xml() -> bytes:
    return gzip.decompress((DATA / "switch-aaitest-2019-11-27.xml.gz").read_bytes())


@pytest.fixture
def switch(db: Any) -> Federation:
    return Federation.objects.create(
        name="switch-aaitest",
        signing_cert=(DATA / "switchaai-metadata-signer-2018.pem").read_text(),
        cert_sha256=PIN,
    )


@pytest.mark.django_db
def test_real_signed_aggregate_loads_while_valid(switch: Federation, real_xml: bytes) -> None:
    result = fed.load_aggregate(switch, real_xml, now=THEN)
    assert result.known == 35
    demo = FederationEntity.objects.get(entity_id=DEMO_IDP)
    assert demo.scope_list == ["aai-demo-idp.switch.ch"]
    assert demo.name_en == "AAI Demo Home Organisation"
    assert switch.valid_until == dt.datetime(2019, 12, 2, 16, 1, 44, tzinfo=dt.UTC)


@pytest.mark.django_db
def test_real_aggregate_refused_when_expired_tampered_unsigned_or_pinned_wrong(
    switch: Federation, real_xml: bytes, _idp_keys: Path
) -> None:
    with pytest.raises(MetadataError, match="expired on 2019-12-02"):
        fed.load_aggregate(switch, real_xml)  # today
    # The demo IdP's certificate swapped for an impostor's after SWITCH signed.
    start = real_xml.index(DEMO_IDP.encode())
    cert = re.compile(rb"<ds:X509Certificate>(.*?)</ds:X509Certificate>", re.S)
    found = cert.search(real_xml, start)
    assert found is not None
    rogue = "".join((_idp_keys / "rogue.crt").read_text().splitlines()[1:-1]).encode()
    tampered = real_xml[: found.start(1)] + rogue + real_xml[found.end(1) :]
    with pytest.raises(MetadataError, match="altered after signing"):
        fed.load_aggregate(switch, tampered, now=THEN)
    # What a later copy of the file did: signature stripped, validUntil pushed to 3001.
    unsigned = re.sub(rb"<ds:Signature>.*?</ds:Signature>", b"", real_xml, count=1, flags=re.S)
    unsigned = unsigned.replace(
        b'validUntil="2019-12-02T16:01:44Z"', b'validUntil="3001-01-01T00:00:00Z"'
    )
    with pytest.raises(MetadataError, match="not signed"):
        fed.load_aggregate(switch, unsigned, now=THEN)
    assert not FederationEntity.objects.exists()
    # Pinning the wrong certificate (SWITCH's root CA, also in the file): refused.
    root_ca = cert.findall(real_xml.split(b"</ds:Signature>")[0])[2].decode()
    with pytest.raises(MetadataError):
        verify_metadata(real_xml, root_ca, PIN, now=THEN)
