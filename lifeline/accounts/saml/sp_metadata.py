"""The SP metadata we publish: signed with rsa-sha256, valid for a year (`validUntil`), and
the algorithms we support listed strongest first, without MD5 (pysaml2 lists every algorithm
xmlsec1 knows, MD5 first, and signs with rsa-sha1)."""

from __future__ import annotations

from saml2 import md
from saml2.config import Config
from saml2.extension.algsupport import DigestMethod, SigningMethod
from saml2.metadata import entity_descriptor, metadata_tostring_fix, sign_entity_descriptor
from saml2.sigver import security_context
from saml2.time_util import in_a_while
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from lifeline.accounts.saml.client import sp_config

VALID_HOURS = 24 * 365
ALGSUPPORT = "urn:oasis:names:tc:SAML:metadata:algsupport"
DIGESTS = [
    "http://www.w3.org/2001/04/xmlenc#sha256",
    "http://www.w3.org/2001/04/xmldsig-more#sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512",
    "http://www.w3.org/2000/09/xmldsig#sha1",  # last: still sent by old IdPs
]
SIGNING = [
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
    "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
]


def sp_metadata_xml() -> str:
    config = sp_config()
    descriptor = entity_descriptor(config)
    descriptor.valid_until = in_a_while(hours=VALID_HOURS)
    extensions = descriptor.extensions or md.Extensions()
    extensions.extension_elements = [
        e
        for e in extensions.extension_elements or []
        if not (e.namespace == ALGSUPPORT and e.tag in {"DigestMethod", "SigningMethod"})
    ]
    for algorithm in DIGESTS:
        extensions.add_extension_element(DigestMethod(algorithm=algorithm))
    for algorithm in SIGNING:
        extensions.add_extension_element(SigningMethod(algorithm=algorithm))
    descriptor.extensions = extensions
    # Federations' IdPs read this as "sign the assertion"; we also accept a signed Response.
    for sp in (
        descriptor.spsso_descriptor
        if isinstance(descriptor.spsso_descriptor, list)
        else [descriptor.spsso_descriptor]
    ):
        sp.want_assertions_signed = "true"
    conf = Config()
    conf.key_file, conf.cert_file = config.key_file, config.cert_file
    conf.xmlsec_binary = config.xmlsec_binary
    conf.crypto_backend = config.crypto_backend
    signed, xmldoc = sign_entity_descriptor(
        descriptor, None, security_context(conf), SIG_RSA_SHA256, DIGEST_SHA256
    )
    text = metadata_tostring_fix(signed, {"xs": "http://www.w3.org/2001/XMLSchema"}, xmldoc)
    return text.decode() if isinstance(text, bytes) else str(text)
