"""Federation metadata (issue 23): what verifying and loading an aggregate costs.

    .venv/bin/python -m bench federation [--idps=800]

Two aggregates: the real SWITCHaai test aggregate in lifeline/accounts/tests/data/ (2.4 MB,
35 IdPs, logos inline) verified with its real signer, and a synthetic CARSI-sized one (`--idps`
IdPs, signed here by signxml). Timed: the verification alone (pin, shape, xmlsec1, validUntil),
and the whole load (verification + entities into the database, first load and a refresh).
Reference in the same run: parsing the same bytes with defusedxml (what reading costs without
any check).
"""

from __future__ import annotations

import datetime as dt
import gzip
import os
import time
from pathlib import Path

from bench._common import option, scratch_django

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "lifeline" / "accounts" / "tests" / "data"
SWITCH_PIN = (
    "8c:30:ca:78:a9:1f:2f:4b:45:2f:ef:fc:99:26:6a:ad:"
    "2f:44:c8:80:ae:c4:17:0d:8f:0e:29:de:eb:2b:9c:6e"
)


def timed(fn: object, runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        best = min(best, (time.perf_counter() - start) * 1000)
    return best


def synthetic(tmp: Path, idps: int) -> tuple[bytes, str]:
    from lifeline.accounts.saml.keys import generate_key_pair
    from lifeline.accounts.tests.federation_kit import aggregate, sign

    generate_key_pair(tmp / "fed.key", tmp / "fed.crt", "fed.bench")
    generate_key_pair(tmp / "idp.key", tmp / "idp.crt", "idp.bench")
    body = "".join((tmp / "idp.crt").read_text().splitlines()[1:-1])
    entities = [
        f"""<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"
 xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:shibmd="urn:mace:shibboleth:metadata:1.0"
 entityID="https://idp{i}.edu.cn/idp/shibboleth"><md:IDPSSODescriptor
 protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:Extensions>
<shibmd:Scope regexp="false">u{i}.edu.cn</shibmd:Scope></md:Extensions>
<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{body}
</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
 Location="https://idp{i}.edu.cn/idp/profile/SAML2/Redirect/SSO"/>
</md:IDPSSODescriptor></md:EntityDescriptor>"""
        for i in range(idps)
    ]
    xml = aggregate(entities, dt.datetime.now(dt.UTC) + dt.timedelta(days=7))
    return sign(xml, tmp / "fed.key", tmp / "fed.crt"), (tmp / "fed.crt").read_text()


def measure(name: str, xml: bytes, pem: str, pin: str, now: dt.datetime) -> None:
    from defusedxml import ElementTree

    from lifeline.accounts.models import Federation
    from lifeline.accounts.saml import federation as fed
    from lifeline.accounts.saml.trust import verify_metadata

    parse = timed(lambda: ElementTree.fromstring(xml))
    verify = timed(lambda: verify_metadata(xml, pem, pin, now))
    federation = Federation.objects.create(name=name, signing_cert=pem, cert_sha256=pin)
    start = time.perf_counter()
    result = fed.load_aggregate(federation, xml, now)
    first = (time.perf_counter() - start) * 1000
    refresh = timed(lambda: fed.load_aggregate(federation, xml, now))
    print(
        f"{name}: {len(xml) / 2**20:.1f} MB, {result.known} IdPs; parse {parse:.0f} ms; "
        f"verify {verify:.0f} ms ({verify / parse:.0f}× parse); first load {first:.0f} ms; "
        f"refresh {refresh:.0f} ms ({refresh / parse:.0f}× parse)"
    )


def main(argv: list[str]) -> int:
    tmp = scratch_django("federation")
    from lifeline.accounts.saml.trust import fingerprint, load_certificate

    print(f"load average {os.getloadavg()[0]:.1f}")
    switch = gzip.decompress((DATA / "switch-aaitest-2019-11-27.xml.gz").read_bytes())
    measure(
        "switch-aaitest",
        switch,
        (DATA / "switchaai-metadata-signer-2018.pem").read_text(),
        SWITCH_PIN,
        dt.datetime(2019, 11, 28, 12, tzinfo=dt.UTC),
    )
    xml, pem = synthetic(tmp, option(argv, "idps", 800))
    measure(
        "synthetic",
        xml,
        pem,
        fingerprint(load_certificate(pem)),
        dt.datetime.now(dt.UTC),
    )
    return 0
