"""CARSI sign-in (issue 7): what one SAML answer costs the service provider.

    .venv/bin/python -m bench saml [--signins=30]

In-process through Django's test client on a fresh SQLite database under bench/tmp/saml/. A real
pysaml2 IdP (lifeline/accounts/tests/idp.py) answers N AuthnRequests beforehand; the timed part
is only our ACS: signature check (xmlsec1), conditions, replay cache, patron mapping, login.
The reference is /healthz, timed in the same run.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bench._common import option, scratch_django

ROOT = Path(__file__).resolve().parent.parent
TMP = ROOT / "bench" / "tmp" / "saml"


def answers(n: int) -> list[Any]:
    """N signed answers from the loopback IdP, each to its own request (no replays)."""
    from django.test import Client

    from lifeline.accounts.models import SamlIdentityProvider
    from lifeline.accounts.tests.idp import LoopbackIdP, read_form
    from lifeline.core.models import Library

    folder = TMP / "idp"
    folder.mkdir()
    idp = LoopbackIdP(folder).start()
    idp.trust_sp(Client().get("/accounts/saml/metadata/").content.decode())
    library = Library.objects.create(code="bench", name="Bench")
    SamlIdentityProvider.objects.create(
        library=library,
        entity_id=idp.entity_id,
        name="Bench IdP",
        scopes="nefu.edu.cn",
        metadata_xml=idp.metadata_xml(),
    )
    forms = []
    for _ in range(n):
        location = Client().get("/accounts/saml/login/", {"idp": idp.entity_id})["Location"]
        query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        forms.append(read_form(idp.answer(query)))
    idp.stop()
    return forms


def main(argv: list[str]) -> int:
    scratch_django("saml")
    from django.test import Client

    n = option(argv, "signins", 30)
    forms = answers(n)
    client = Client()
    for _ in range(3):
        client.get("/healthz")
    start = time.perf_counter()
    for _ in range(200):
        client.get("/healthz")
    healthz_ms = (time.perf_counter() - start) / 200 * 1000
    times = []
    for form in forms:
        client.cookies.clear()  # a new browser each time, on the same (warm) handler
        start = time.perf_counter()
        response = client.post(
            urlsplit(form.action).path,
            {"SAMLResponse": form.saml_response, "RelayState": form.relay_state},
        )
        times.append((time.perf_counter() - start) * 1000)
        if response.status_code != 302:
            print(f"sign-in refused: {response.status_code}")
            return 1
    times.sort()
    median, p90 = times[len(times) // 2], times[int(len(times) * 0.9)]
    load = os.getloadavg()[0]
    print(f"load average {load:.1f}; /healthz {healthz_ms:.2f} ms per call")
    print(f"CARSI sign-in (ACS) over {n}: median {median:.1f} ms, p90 {p90:.1f} ms")
    print(
        f"ratio sign-in / healthz: {median / healthz_ms:.0f}; "
        f"~{1000 / median:.1f} sign-ins/s per core"
    )
    return 0
