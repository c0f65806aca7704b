from __future__ import annotations

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
