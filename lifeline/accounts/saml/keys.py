"""The service provider's signing/encryption key pair: from the environment, or generated once
into the data directory. Never committed: a checkout holds no private key."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.conf import settings


def generate_key_pair(key_file: Path, cert_file: Path, common_name: str, years: int = 10) -> None:
    """Write a fresh RSA-2048 key (mode 0600) and a self-signed certificate for it.

    SAML federations trust the certificate in metadata, not a CA, so self-signed is the norm.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365 * years))
        .sign(key, hashes.SHA256())
    )
    key_file.parent.mkdir(parents=True, exist_ok=True)
    cert_file.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def sp_key_pair() -> tuple[Path, Path]:
    """Paths of the SP key and certificate, generating them at first use when not configured."""
    if settings.SAML_KEY_FILE and settings.SAML_CERT_FILE:
        return Path(settings.SAML_KEY_FILE), Path(settings.SAML_CERT_FILE)
    folder = Path(settings.DATA_DIR) / "saml"
    key_file, cert_file = folder / "sp-key.pem", folder / "sp-cert.pem"
    if not (key_file.exists() and cert_file.exists()):
        generate_key_pair(key_file, cert_file, settings.SITE_URL.split("://", 1)[-1])
    return key_file, cert_file


def certificate_body(cert_file: Path) -> str:
    """The base64 body of a PEM certificate, as metadata's <ds:X509Certificate> wants it."""
    lines = cert_file.read_text().strip().splitlines()
    return "".join(line for line in lines if not line.startswith("-----"))
