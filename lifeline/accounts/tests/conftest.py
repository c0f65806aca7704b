from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lifeline.accounts.saml.keys import generate_key_pair


@pytest.fixture
def sp_keys(_session_sp_keys: tuple[Path, Path], settings: Any) -> tuple[Path, Path]:
    """Throwaway SP keys (one pair per session): the data dir is neither read nor written."""
    settings.SAML_KEY_FILE, settings.SAML_CERT_FILE = (str(p) for p in _session_sp_keys)
    return _session_sp_keys


@pytest.fixture(scope="session")
def _idp_keys(tmp_path_factory: Any) -> Path:
    folder = tmp_path_factory.mktemp("idp-keys")
    for name in ("idp", "rogue"):
        generate_key_pair(folder / f"{name}.key", folder / f"{name}.crt", f"{name}.nefu.edu.cn")
    return folder


@pytest.fixture(scope="session")
def _idp_server(_idp_keys: Path, _session_sp_keys: tuple[Path, Path]) -> Iterator[Any]:
    """One IdP server per test session: it trusts the SP metadata fetched from our own endpoint."""
    from django.test import Client, override_settings

    from lifeline.accounts.tests.idp import LoopbackIdP

    key, cert = _session_sp_keys
    idp = LoopbackIdP(_idp_keys).start()
    try:
        with override_settings(SAML_KEY_FILE=str(key), SAML_CERT_FILE=str(cert)):
            idp.trust_sp(Client().get("/accounts/saml/metadata/").content.decode())
        idp.default_identity = dict(idp.identity)
        idp.idp_metadata = idp.metadata_xml()
        yield idp
    finally:
        idp.stop()


@pytest.fixture
def loopback_idp(_idp_server: Any, sp_keys: Any, library_a: Any) -> Any:
    """The loopback IdP, well-behaved again, registered for library A with its metadata."""
    from lifeline.accounts.models import SamlIdentityProvider

    _idp_server.mode = "ok"
    _idp_server.identity = dict(_idp_server.default_identity)
    _idp_server.record = SamlIdentityProvider.objects.create(
        library=library_a,
        entity_id=_idp_server.entity_id,
        name="东北林业大学",
        name_en="Northeast Forestry University",
        scopes="nefu.edu.cn",
        metadata_xml=_idp_server.idp_metadata,
    )
    return _idp_server


@pytest.fixture(scope="session")
def _session_sp_keys(tmp_path_factory: Any) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("sp-keys")
    key, cert = folder / "sp.key", folder / "sp.crt"
    generate_key_pair(key, cert, "sp.test")
    return key, cert


@pytest.fixture(autouse=True)
def _no_keys_in_data_dir(_session_sp_keys: tuple[Path, Path], settings: Any) -> None:
    """Pages that need the SP key (metadata) use a throwaway one, never the data dir's."""
    if not settings.SAML_KEY_FILE:
        settings.SAML_KEY_FILE, settings.SAML_CERT_FILE = (str(p) for p in _session_sp_keys)


@pytest.fixture(autouse=True)
def _english_outside_requests() -> Iterator[None]:
    """Messages built outside a request (validation, commands) are asserted in English;
    pages choose their own language through the middleware, and test_i18n checks Chinese."""
    from django.utils import translation

    with translation.override("en"):
        yield


# --- the federation: signed aggregates, a second SAML implementation's IdPs --------------


@pytest.fixture(scope="session")
def fed_keys(tmp_path_factory: Any) -> Path:
    """The federation's signing key, and a rogue one (signs, but is not the pinned key)."""
    folder = tmp_path_factory.mktemp("federation-keys")
    for name in ("fed", "rogue-fed"):
        generate_key_pair(folder / f"{name}.key", folder / f"{name}.crt", f"{name}.carsi.edu.cn")
    return folder


@pytest.fixture(scope="session")
def _signxml_idps(_idp_keys: Path, _session_sp_keys: tuple[Path, Path]) -> Iterator[Any]:
    """Two universities' IdPs built on signxml (not pysaml2): NEFU and HIT."""
    from lifeline.accounts.tests.signxml_idp import SignxmlIdP

    nefu = SignxmlIdP(_idp_keys, scope="nefu.edu.cn").start()
    hit = SignxmlIdP(
        _idp_keys,
        scope="hit.edu.cn",
        name="哈尔滨工业大学",
        name_en="Harbin Institute of Technology",
    ).start()
    for idp in (nefu, hit):
        idp.trust_sp(_session_sp_keys[1].read_bytes())
    try:
        yield nefu, hit
    finally:
        nefu.stop()
        hit.stop()


@pytest.fixture
def signxml_idps(_signxml_idps: Any, sp_keys: Any, settings: Any) -> Any:
    nefu, hit = _signxml_idps
    for idp in (nefu, hit):
        idp.sign, idp.with_slo = "assertion", True
        idp.attributes = idp.default_attributes()
        idp.authn_requests.clear()
        idp.logout_requests.clear()
        idp.sp_sls = settings.SITE_URL + "/accounts/saml/sls/"
    return nefu, hit


@pytest.fixture
def federation(fed_keys: Path, db: Any) -> Any:
    from lifeline.accounts.models import Federation
    from lifeline.accounts.saml.trust import fingerprint, load_certificate

    pem = (fed_keys / "fed.crt").read_text()
    return Federation.objects.create(
        name="carsi",
        display_name="CARSI",
        signing_cert=pem,
        cert_sha256=fingerprint(load_certificate(pem)).upper(),
    )


@pytest.fixture
def metadata_server(settings: Any) -> Iterator[Any]:
    from lifeline.accounts.tests.federation_kit import MetadataServer

    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8", "::1/128"]
    server = MetadataServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def trusted(
    federation: Any, fed_keys: Path, signxml_idps: Any, library_a: Any, library_b: Any
) -> Any:
    """The federation knows NEFU's and HIT's IdPs; library A (nefu) trusts NEFU's only."""
    from lifeline.accounts.saml import federation as fed
    from lifeline.accounts.tests.federation_kit import aggregate, sign

    xml = aggregate(
        [i.entity_descriptor() for i in signxml_idps],
        dt.datetime.now(dt.UTC) + dt.timedelta(days=7),
    )
    fed.load_aggregate(federation, sign(xml, fed_keys / "fed.key", fed_keys / "fed.crt"))
    fed.trust_for_library(library_a, fed.matching_entities(federation, scopes=["nefu.edu.cn"]))
    return signxml_idps
