"""Federation aggregates for the tests, signed the way a federation signs them (enveloped
signature first in the root, exclusive c14n, rsa-sha256) by `signxml`, and a loopback HTTP
server that publishes them (and answers MDQ queries) on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from wsgiref.simple_server import WSGIServer, make_server

import httpx
from django.test import Client
from lxml import etree
from signxml import XMLSigner, methods

from lifeline.accounts.tests.idp import PostedAnswer, _QuietHandler, read_form

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
CNKI_SP = f"""<md:EntityDescriptor xmlns:md="{MD}" entityID="https://fsso.cnki.net/shibboleth">
<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
 Location="https://fsso.cnki.net/Shibboleth.sso/SAML2/POST" index="1"/>
</md:SPSSODescriptor></md:EntityDescriptor>"""


def instant(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def aggregate(entities: list[str], valid_until: dt.datetime, name: str = "carsi") -> bytes:
    body = "\n".join([*entities, CNKI_SP])
    return (
        f'<md:EntitiesDescriptor xmlns:md="{MD}" ID="_{secrets.token_hex(12)}" Name="{name}" '
        f'validUntil="{instant(valid_until)}">\n{body}\n</md:EntitiesDescriptor>'
    ).encode()


def sign(xml: bytes, key_file: Path, cert_file: Path) -> bytes:
    """Sign the root (the aggregate, or one EntityDescriptor for MDQ), signature first."""
    root = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False))
    root.insert(0, etree.Element(f"{{{DS}}}Signature", nsmap={"ds": DS}, Id="placeholder"))
    signer = XMLSigner(
        method=methods.enveloped,
        signature_algorithm="rsa-sha256",
        digest_algorithm="sha256",
        c14n_algorithm="http://www.w3.org/2001/10/xml-exc-c14n#",
    )
    signer.namespaces = {"ds": DS}
    if root.get("ID") is None:
        root.set("ID", "_" + secrets.token_hex(12))
    signed = signer.sign(
        root, key=key_file.read_bytes(), cert=cert_file.read_text(), reference_uri=root.get("ID")
    )
    return bytes(etree.tostring(signed, xml_declaration=True, encoding="UTF-8"))


def with_valid_until(entity: str, valid_until: dt.datetime) -> bytes:
    """One EntityDescriptor as MDQ serves it: its own validUntil (and then its own signature)."""
    return entity.replace(
        "<md:EntityDescriptor ", f'<md:EntityDescriptor validUntil="{instant(valid_until)}" ', 1
    ).encode()


@dataclass
class MetadataServer:
    """Serves `files[path]` (bytes) over HTTP on 127.0.0.1; counts what was asked."""

    files: dict[str, bytes] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)
    server: WSGIServer | None = None

    def start(self) -> MetadataServer:
        self.server = make_server("127.0.0.1", 0, self.app, handler_class=_QuietHandler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def app(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        path = unquote(environ["PATH_INFO"])
        self.hits.append(path)
        body = self.files.get(path)
        if body is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        start_response("200 OK", [("Content-Type", "application/samlmetadata+xml")])
        return [body]


def to_idp(client: Client, idp: Any, **params: str) -> PostedAnswer:
    start = client.get("/accounts/saml/login/", {"entityID": idp.entity_id, **params})
    assert start.status_code == 302, start.content.decode()
    assert start["Location"].startswith(idp.base + "/idp/sso?")
    answer = httpx.get(start["Location"], timeout=10)
    assert answer.status_code == 200, answer.text
    return read_form(answer.text)


def post(client: Client, posted: PostedAnswer) -> Any:
    return client.post(
        urlsplit(posted.action).path,
        {"SAMLResponse": posted.saml_response, "RelayState": posted.relay_state},
    )
