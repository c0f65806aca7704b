"""Ed25519 signatures over a receipt's canonical content.

The key pair is derived from the installation's signing secret (`LIFELINE_SIGNING_KEY`, which
defaults to SECRET_KEY: the same seed as `lifeline.core.signing`) with HKDF-SHA256 and a fixed
label, so there is no key file to lose, and rotating SECRET_KEY alone no longer retires the
receipts issued so far. Keys in `LIFELINE_SIGNING_OLD_KEYS` still verify what they signed. The
public key is published at /theses/verify/key/ so anyone can check a receipt offline.
"""

from __future__ import annotations

import base64
import json
from functools import cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

LABEL = b"lifeline theses receipt signing key v1"


@cache
def _private_key(secret: str) -> Ed25519PrivateKey:
    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=LABEL).derive(
        secret.encode("utf-8")
    )
    return Ed25519PrivateKey.from_private_bytes(seed)


def private_key() -> Ed25519PrivateKey:
    return _private_key(str(settings.SIGNING_KEY))


def public_key() -> Ed25519PublicKey:
    return private_key().public_key()


def public_key_pem() -> str:
    return (
        public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def canonical(content: dict[str, Any]) -> str:
    """One text for one content: sorted keys, no spaces, UTF-8 characters kept."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(text: str) -> str:
    return b64(private_key().sign(text.encode("utf-8")))


def verify(text: str, signature: str) -> bool:
    """True when the current key, or an old one kept for verifying, signed `text`."""
    try:
        raw = unb64(signature)
    except (ValueError, TypeError):
        return False
    secrets = [str(settings.SIGNING_KEY), *getattr(settings, "SIGNING_OLD_KEYS", [])]
    for secret in secrets:
        try:
            _private_key(secret).public_key().verify(raw, text.encode("utf-8"))
        except (InvalidSignature, ValueError, TypeError):
            continue
        return True
    return False
