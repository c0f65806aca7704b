"""Trusting a federation's metadata: the aggregate's XML signature, by the federation's pinned
certificate, is verified before a single entity is read, and `validUntil` is enforced.

This is what Shibboleth's SP does with a `SignatureMetadataFilter` and a `RequiredValidUntil`
filter (and pysaml2's `MetaDataExtern` with a `cert`): an aggregate whose IdP certificate was
swapped after signing, an unsigned one, one signed by another key, or one past its `validUntil`
is refused as a whole, and nothing of it is used.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import tempfile
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from defusedxml import ElementTree
from django.conf import settings
from django.utils.translation import gettext as _
from saml2.sigver import CryptoBackendXmlSec1, SignatureError, XmlsecError

from lifeline.accounts.saml.metadata import MD, MetadataError

DS = "http://www.w3.org/2000/09/xmldsig#"
ROOTS = {f"{{{MD}}}EntitiesDescriptor", f"{{{MD}}}EntityDescriptor"}
# Transforms a metadata signature may use: anything else (XPath, XSLT) is how signatures
# are made to cover less than they seem to.
ALLOWED_TRANSFORMS = {
    "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
    "http://www.w3.org/2001/10/xml-exc-c14n#",
    "http://www.w3.org/2001/10/xml-exc-c14n#WithComments",
}
WEAK_DIGESTS = {
    "http://www.w3.org/2000/09/xmldsig#sha1",
    "http://www.w3.org/2001/04/xmldsig-more#md5",
}
MAX_METADATA_BYTES = 64 * 2**20  # CARSI's aggregate is a few MB; eduGAIN's about 80 MB


def normalise_fingerprint(text: str) -> str:
    """'AB:CD:…' or 'abcd…' (SHA-256, 64 hex digits) → 'ab:cd:…'; '' when it is not one."""
    digits = re.sub(r"[^0-9a-fA-F]", "", text or "").lower()
    if len(digits) != 64:
        return ""
    return ":".join(digits[i : i + 2] for i in range(0, 64, 2))


def load_certificate(pem: str) -> x509.Certificate:
    text = (pem or "").strip()
    if "-----BEGIN" not in text:
        # The base64 body alone, as metadata and federations often publish it.
        body = re.sub(r"\s+", "", text)
        text = "-----BEGIN CERTIFICATE-----\n" + body + "\n-----END CERTIFICATE-----\n"
    try:
        return x509.load_pem_x509_certificate(text.encode())
    except ValueError as exc:
        raise MetadataError(_("The signing certificate is not a PEM certificate.")) from exc


def fingerprint(cert: x509.Certificate) -> str:
    digest = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
    return normalise_fingerprint(digest)


def pinned_certificate(pem: str, pinned: str) -> x509.Certificate:
    """The federation's certificate, refused unless its SHA-256 fingerprint is the pinned one."""
    cert = load_certificate(pem)
    want = normalise_fingerprint(pinned)
    if not want or fingerprint(cert) != want:
        raise MetadataError(
            _(
                "The federation's signing certificate does not have the pinned SHA-256 "
                "fingerprint: check it with the federation before trusting it."
            )
        )
    return cert


def parse_instant(text: str) -> dt.datetime | None:
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


@dataclass
class VerifiedMetadata:
    root: Any  # the verified root element (EntitiesDescriptor or EntityDescriptor)
    valid_until: dt.datetime
    xml: bytes


def _signature_shape(root: Any) -> None:
    """The one signature must sit on the root and cover the root: no wrapping, no XPath."""
    signatures = list(root.iter(f"{{{DS}}}Signature"))
    own = [s for s in root.findall(f"{{{DS}}}Signature")]
    if not own:
        raise MetadataError(_("The metadata is not signed."))
    if len(own) != 1 or signatures[0] is not own[0]:
        raise MetadataError(_("The metadata's signature is not the signature of the whole file."))
    references = own[0].findall(f"{{{DS}}}SignedInfo/{{{DS}}}Reference")
    root_id = root.get("ID", "")
    if len(references) != 1 or references[0].get("URI", "") not in {"", f"#{root_id}"}:
        raise MetadataError(_("The metadata's signature is not the signature of the whole file."))
    for transform in references[0].iter(f"{{{DS}}}Transform"):
        if transform.get("Algorithm") not in ALLOWED_TRANSFORMS:
            raise MetadataError(_("The metadata's signature uses a transform that is not allowed."))
    digest = references[0].find(f"{{{DS}}}DigestMethod")
    method = own[0].find(f"{{{DS}}}SignedInfo/{{{DS}}}SignatureMethod")
    weak = {
        digest.get("Algorithm", "") if digest is not None else "",
        method.get("Algorithm", "") if method is not None else "",
    } & (WEAK_DIGESTS | {"http://www.w3.org/2001/04/xmldsig-more#rsa-md5"})
    if weak:
        raise MetadataError(_("The metadata is signed with a broken algorithm (MD5 or SHA-1)."))


def _xmlsec_verify(xml: bytes, cert: x509.Certificate, root: Any) -> None:
    backend = CryptoBackendXmlSec1(settings.SAML_XMLSEC_BINARY)
    node_name = root.tag.strip("{").replace("}", ":")
    with tempfile.NamedTemporaryFile(suffix=".pem") as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
        handle.flush()
        try:
            ok = backend.validate_signature(
                xml, handle.name, "pem", node_name, root.get("ID") or None
            )
        except (SignatureError, XmlsecError, Exception) as exc:  # xmlsec1's refusals vary
            raise MetadataError(
                _(
                    "The metadata's signature does not verify with the federation's "
                    "certificate: it was altered after signing or signed by another key."
                )
            ) from exc
    if not ok:
        raise MetadataError(
            _(
                "The metadata's signature does not verify with the federation's "
                "certificate: it was altered after signing or signed by another key."
            )
        )


def verify_metadata(
    xml: bytes, cert_pem: str, pinned_sha256: str, now: dt.datetime | None = None
) -> VerifiedMetadata:
    """Verify a signed aggregate (or one signed EntityDescriptor, as MDQ serves) and return it.

    Order matters: the certificate is checked against its pin, the shape and signature of the
    document are checked, and only then is anything in it (validUntil, entities) looked at.
    """
    now = now or dt.datetime.now(dt.UTC)
    if not xml or not xml.strip():
        raise MetadataError(_("The metadata file is empty."))
    if len(xml) > MAX_METADATA_BYTES:
        raise MetadataError(_("The metadata file is too large."))
    cert = pinned_certificate(cert_pem, pinned_sha256)
    try:
        root = ElementTree.fromstring(xml)
    except Exception as exc:  # defusedxml raises several types: all mean "not usable metadata"
        raise MetadataError(
            _("The metadata is not well-formed XML: %(error)s") % {"error": exc}
        ) from exc
    if root.tag not in ROOTS:
        raise MetadataError(_("The file is not SAML metadata."))
    _signature_shape(root)
    _xmlsec_verify(xml, cert, root)
    valid_until = parse_instant(root.get("validUntil", ""))
    if valid_until is None:
        raise MetadataError(_("The metadata has no validUntil date: it could be replayed forever."))
    if valid_until <= now:
        raise MetadataError(
            _("The metadata expired on %(date)s: the federation has not refreshed it.")
            % {"date": valid_until.strftime("%Y-%m-%d %H:%M UTC")}
        )
    return VerifiedMetadata(root=root, valid_until=valid_until, xml=xml)
