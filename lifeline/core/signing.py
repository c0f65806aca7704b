"""Ed25519 signatures over canonical content, for documents anyone may verify (reports, receipts).

    signer = Signer(f"research.report:{library.code}")
    code = signer.sign(content)            # URL-safe base64 of the 64-byte signature
    signer.verify(content, code)           # True only for this content under this label

The private key is derived with HKDF-SHA256 from a settings secret (`LIFELINE_SIGNING_KEY`, else
`SECRET_KEY`) and the label, so each label (e.g. each library) has its own key: a document signed
under one library's label never verifies under another's. The signature is over
`canonical(content)`: JSON with sorted keys, no insignificant spaces, UTF-8; any edit to any value
changes it.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


def canonical(content: Any) -> bytes:
    """The bytes that are signed: the same for equal content whatever the key order."""
    return json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode("utf-8")


def _secret() -> bytes:
    secret = getattr(settings, "SIGNING_KEY", "") or settings.SECRET_KEY
    return str(secret).encode("utf-8")


class Signer:
    def __init__(self, label: str, *, secret: str | None = None) -> None:
        seed = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=b"lifeline-signing-v1", info=label.encode()
        ).derive(secret.encode("utf-8") if secret is not None else _secret())
        self.label = label
        self._key = Ed25519PrivateKey.from_private_bytes(seed)

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self._key.public_key()

    def public_key_b64(self) -> str:
        raw = self.public_key.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def sign(self, content: Any) -> str:
        signature = self._key.sign(canonical(content))
        return base64.urlsafe_b64encode(signature).decode().rstrip("=")

    def verify(self, content: Any, code: str) -> bool:
        """True when `code` is this label's signature of `content` under the current signing
        secret or one of `LIFELINE_SIGNING_OLD_KEYS`; False for anything else."""
        if self._verify(content, code):
            return True
        return any(
            Signer(self.label, secret=old)._verify(content, code)
            for old in getattr(settings, "SIGNING_OLD_KEYS", [])
        )

    def _verify(self, content: Any, code: str) -> bool:
        if not isinstance(code, str) or not 80 <= len(code) <= 90:
            return False
        try:
            signature = base64.urlsafe_b64decode(code + "=" * (-len(code) % 4))
        except (binascii.Error, ValueError):
            return False
        if len(signature) != 64:
            return False
        try:
            self.public_key.verify(signature, canonical(content))
        except InvalidSignature:
            return False
        return True
