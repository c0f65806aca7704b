"""A second, independent SAML 2.0 identity provider for the tests: not pysaml2 (which the SP
uses), but lxml building the messages by hand and `signxml` signing them (exclusive c14n,
rsa-sha256), served over HTTP on 127.0.0.1.

It does what a Shibboleth/CARSI IdP does for Lifeline: checks the SP's signed AuthnRequest
(HTTP-Redirect), answers with a POST form carrying a Response whose assertion, Response or both
are signed, honours ForceAuthn, and speaks single logout both ways (HTTP-Redirect, query
string signed with RSA-SHA256).
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
import threading
import zlib
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote_plus, urlencode
from wsgiref.simple_server import WSGIServer, make_server

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree
from signxml import XMLSigner, methods

from lifeline.accounts.saml.keys import generate_key_pair
from lifeline.accounts.tests.idp import _QuietHandler

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
DS = "http://www.w3.org/2000/09/xmldsig#"
MD = "urn:oasis:names:tc:SAML:2.0:metadata"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
URI_FORMAT = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
OIDS = {
    "eppn": ("urn:oid:1.3.6.1.4.1.5923.1.1.1.6", "eduPersonPrincipalName"),
    "affiliation": ("urn:oid:1.3.6.1.4.1.5923.1.1.1.9", "eduPersonScopedAffiliation"),
    "display_name": ("urn:oid:2.16.840.1.113730.3.1.241", "displayName"),
    "mail": ("urn:oid:0.9.2342.19200300.100.1.3", "mail"),
}


def _instant(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _q(tag: str, ns: str = SAML) -> str:
    return f"{{{ns}}}{tag}"


def cert_body(cert_file: Path) -> str:
    lines = cert_file.read_text().strip().splitlines()
    return "".join(line for line in lines if not line.startswith("-----"))


@dataclass
class SignxmlIdP:
    folder: Path
    scope: str = "nefu.edu.cn"
    name: str = "东北林业大学"
    name_en: str = "Northeast Forestry University"
    sign: str = "assertion"  # assertion | response | both | none
    with_slo: bool = True
    attributes: dict[str, list[str]] = field(default_factory=dict)
    authn_requests: list[Any] = field(default_factory=list)
    logout_requests: list[Any] = field(default_factory=list)
    server: WSGIServer | None = None
    sp_cert: x509.Certificate | None = None
    key_name: str = "signxml-idp"
    sessions: dict[str, str] = field(default_factory=dict)  # session index → name ID
    sp_sls: str = ""

    def start(self) -> SignxmlIdP:
        self.server = make_server("127.0.0.1", 0, self.app, handler_class=_QuietHandler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.entity_id = f"{self.base}/idp/shibboleth"
        self.key_file = self.folder / f"{self.key_name}-{self.scope}.key"
        self.cert_file = self.folder / f"{self.key_name}-{self.scope}.crt"
        if not self.key_file.exists():
            generate_key_pair(self.key_file, self.cert_file, f"idp.{self.scope}")
        self.attributes = self.attributes or self.default_attributes()
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        ).start()
        return self

    def default_attributes(self) -> dict[str, list[str]]:
        return {
            "eppn": [f"wang@{self.scope}"],
            "affiliation": [f"faculty@{self.scope}"],
            "display_name": ["王老师"],
            "mail": [f"wang@{self.scope}"],
        }

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def trust_sp(self, sp_cert_pem: bytes) -> None:
        self.sp_cert = x509.load_pem_x509_certificate(sp_cert_pem)

    # --- metadata ---------------------------------------------------------------------
    def entity_descriptor(self) -> str:
        slo = (
            f'<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"'
            f' Location="{self.base}/idp/slo"/>'
            if self.with_slo
            else ""
        )
        return f"""<md:EntityDescriptor xmlns:md="{MD}" xmlns:ds="{DS}"
 xmlns:shibmd="urn:mace:shibboleth:metadata:1.0" xmlns:mdui="urn:oasis:names:tc:SAML:metadata:ui"
 entityID="{self.entity_id}">
<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<md:Extensions><shibmd:Scope regexp="false">{self.scope}</shibmd:Scope>
<mdui:UIInfo><mdui:DisplayName xml:lang="zh">{escape(self.name)}</mdui:DisplayName>
<mdui:DisplayName xml:lang="en">{escape(self.name_en)}</mdui:DisplayName></mdui:UIInfo>
</md:Extensions>
<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data>
<ds:X509Certificate>{cert_body(self.cert_file)}</ds:X509Certificate>
</ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
{slo}
<md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:transient</md:NameIDFormat>
<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
 Location="{self.base}/idp/sso"/>
</md:IDPSSODescriptor></md:EntityDescriptor>"""

    # --- signing ----------------------------------------------------------------------
    def _sign(self, element: etree._Element, after: etree._Element) -> etree._Element:
        """Enveloped signature placed right after `after` (the Issuer), as SAML's schema wants."""
        placeholder = etree.Element(_q("Signature", DS), nsmap={"ds": DS}, Id="placeholder")
        after.addnext(placeholder)
        signer = XMLSigner(
            method=methods.enveloped,
            signature_algorithm="rsa-sha256",
            digest_algorithm="sha256",
            c14n_algorithm="http://www.w3.org/2001/10/xml-exc-c14n#",
        )
        signer.namespaces = {"ds": DS}
        return signer.sign(
            element,
            key=self.key_file.read_bytes(),
            cert=self.cert_file.read_text(),
            reference_uri=element.get("ID"),
        )

    def _redirect_signed(self, location: str, kind: str, xml: bytes, relay: str) -> str:
        deflated = zlib.compress(xml)[2:-4]
        params = [(kind, base64.b64encode(deflated).decode())]
        if relay:
            params.append(("RelayState", relay))
        params.append(("SigAlg", RSA_SHA256))
        query = urlencode(params, quote_via=quote)
        key = serialization.load_pem_private_key(self.key_file.read_bytes(), password=None)
        signature = key.sign(query.encode(), padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr, call-arg]
        return (
            f"{location}?{query}&Signature={quote(base64.b64encode(signature).decode(), safe='')}"
        )

    def _check_sp_signature(self, raw_query: str, kind: str) -> None:
        raw = dict(part.partition("=")[::2] for part in raw_query.split("&"))
        signed = "&".join(f"{k}={raw[k]}" for k in (kind, "RelayState", "SigAlg") if k in raw)
        if self.sp_cert is None or "Signature" not in raw:
            raise PermissionError("unsigned request")
        if unquote_plus(raw["SigAlg"]) != RSA_SHA256:
            raise PermissionError("unexpected SigAlg")
        self.sp_cert.public_key().verify(  # type: ignore[call-arg]
            base64.b64decode(unquote_plus(raw["Signature"])),
            signed.encode(),
            padding.PKCS1v15(),  # type: ignore[arg-type]
            hashes.SHA256(),  # type: ignore[arg-type]
        )

    @staticmethod
    def _inflate(value: str) -> etree._Element:
        data = zlib.decompress(base64.b64decode(value), -15)
        return etree.fromstring(data, parser=etree.XMLParser(resolve_entities=False))

    # --- the WSGI application ---------------------------------------------------------
    def app(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        raw = environ.get("QUERY_STRING", "")
        query = {k: v[0] for k, v in parse_qs(raw).items()}
        try:
            if environ["PATH_INFO"] == "/idp/sso":
                self._check_sp_signature(raw, "SAMLRequest")
                body = self.answer(query)
                start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
                return [body.encode()]
            if environ["PATH_INFO"] == "/idp/slo":
                location = self.logout(raw, query)
                start_response("302 Found", [("Location", location)])
                return [b""]
        except Exception as exc:  # a real IdP's error page
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [f"{type(exc).__name__}: {exc}".encode()]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]

    def answer(self, query: dict[str, str]) -> str:
        request = self._inflate(query["SAMLRequest"])
        self.authn_requests.append(request)
        acs = request.get("AssertionConsumerServiceURL", "")
        sp = request.findtext(_q("Issuer")) or ""
        xml = self.response_xml(request.get("ID", ""), acs, sp)
        encoded = base64.b64encode(xml).decode()
        relay = escape(query.get("RelayState", ""))
        return (
            f'<html><body><form method="post" action="{escape(acs)}">'
            f'<input type="hidden" name="SAMLResponse" value="{encoded}"/>'
            f'<input type="hidden" name="RelayState" value="{relay}"/>'
            "</form></body></html>"
        )

    def response_xml(
        self, in_response_to: str, acs: str, audience: str, now: dt.datetime | None = None
    ) -> bytes:
        now = now or dt.datetime.now(dt.UTC)
        later = _instant(now + dt.timedelta(minutes=5))
        name_id_value = "_" + secrets.token_hex(16)
        session_index = "_" + secrets.token_hex(8)
        self.sessions[session_index] = name_id_value
        assertion = etree.Element(
            _q("Assertion"),
            nsmap={"saml": SAML},
            ID="_a" + secrets.token_hex(16),
            Version="2.0",
            IssueInstant=_instant(now),
        )
        issuer = etree.SubElement(assertion, _q("Issuer"))
        issuer.text = self.entity_id
        subject = etree.SubElement(assertion, _q("Subject"))
        name_id = etree.SubElement(
            subject,
            _q("NameID"),
            Format="urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
            NameQualifier=self.entity_id,
            SPNameQualifier=audience,
        )
        name_id.text = name_id_value
        confirmation = etree.SubElement(
            subject, _q("SubjectConfirmation"), Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"
        )
        etree.SubElement(
            confirmation,
            _q("SubjectConfirmationData"),
            InResponseTo=in_response_to,
            NotOnOrAfter=later,
            Recipient=acs,
        )
        conditions = etree.SubElement(
            assertion,
            _q("Conditions"),
            NotBefore=_instant(now - dt.timedelta(seconds=30)),
            NotOnOrAfter=later,
        )
        restriction = etree.SubElement(conditions, _q("AudienceRestriction"))
        etree.SubElement(restriction, _q("Audience")).text = audience
        statement = etree.SubElement(
            assertion, _q("AuthnStatement"), AuthnInstant=_instant(now), SessionIndex=session_index
        )
        context = etree.SubElement(statement, _q("AuthnContext"))
        etree.SubElement(
            context, _q("AuthnContextClassRef")
        ).text = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
        attributes = etree.SubElement(assertion, _q("AttributeStatement"))
        for key, values in self.attributes.items():
            oid, friendly = OIDS[key]
            attribute = etree.SubElement(
                attributes, _q("Attribute"), Name=oid, NameFormat=URI_FORMAT, FriendlyName=friendly
            )
            for value in values:
                etree.SubElement(attribute, _q("AttributeValue")).text = value
        if self.sign in {"assertion", "both"}:
            assertion = self._sign(assertion, issuer)
        response = etree.Element(
            _q("Response", SAMLP),
            nsmap={"samlp": SAMLP, "saml": SAML},
            ID="_r" + secrets.token_hex(16),
            Version="2.0",
            IssueInstant=_instant(now),
            Destination=acs,
            InResponseTo=in_response_to,
        )
        response_issuer = etree.SubElement(response, _q("Issuer"))
        response_issuer.text = self.entity_id
        status = etree.SubElement(response, _q("Status", SAMLP))
        etree.SubElement(
            status, _q("StatusCode", SAMLP), Value="urn:oasis:names:tc:SAML:2.0:status:Success"
        )
        response.append(assertion)
        if self.sign in {"response", "both"}:
            response = self._sign(response, response_issuer)
        return bytes(etree.tostring(response))

    # --- single logout ----------------------------------------------------------------
    def logout(self, raw_query: str, query: dict[str, str]) -> str:
        """The SP's LogoutRequest: end the session, answer with a signed LogoutResponse."""
        self._check_sp_signature(raw_query, "SAMLRequest")
        request = self._inflate(query["SAMLRequest"])
        self.logout_requests.append(request)
        for index in request.findall(_q("SessionIndex", SAMLP)):
            self.sessions.pop(index.text or "", None)
        response = etree.Element(
            _q("LogoutResponse", SAMLP),
            nsmap={"samlp": SAMLP, "saml": SAML},
            ID="_l" + secrets.token_hex(16),
            Version="2.0",
            IssueInstant=_instant(dt.datetime.now(dt.UTC)),
            Destination=self.sp_sls,
            InResponseTo=request.get("ID", ""),
        )
        etree.SubElement(response, _q("Issuer")).text = self.entity_id
        status = etree.SubElement(response, _q("Status", SAMLP))
        etree.SubElement(
            status, _q("StatusCode", SAMLP), Value="urn:oasis:names:tc:SAML:2.0:status:Success"
        )
        return self._redirect_signed(
            self.sp_sls, "SAMLResponse", etree.tostring(response), query.get("RelayState", "")
        )

    def logout_request_url(self, session_index: str, sp_entity_id: str) -> str:
        """An IdP-initiated logout: the URL the IdP sends the browser to (our SLS)."""
        request = etree.Element(
            _q("LogoutRequest", SAMLP),
            nsmap={"samlp": SAMLP, "saml": SAML},
            ID="_q" + secrets.token_hex(16),
            Version="2.0",
            IssueInstant=_instant(dt.datetime.now(dt.UTC)),
            Destination=self.sp_sls,
        )
        etree.SubElement(request, _q("Issuer")).text = self.entity_id
        name_id = etree.SubElement(
            request,
            _q("NameID"),
            Format="urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
            NameQualifier=self.entity_id,
            SPNameQualifier=sp_entity_id,
        )
        name_id.text = self.sessions[session_index]
        etree.SubElement(request, _q("SessionIndex", SAMLP)).text = session_index
        return self._redirect_signed(
            self.sp_sls, "SAMLRequest", etree.tostring(request), "idp-relay"
        )
