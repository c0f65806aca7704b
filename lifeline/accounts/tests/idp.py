"""A real SAML 2.0 identity provider (pysaml2's `saml2.server.Server`) served over HTTP on
127.0.0.1 for the CARSI tests. It signs with its own throwaway key; `mode` makes it misbehave
the ways an attacker or a broken IdP would."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_TRANSIENT
from saml2.server import Server

from lifeline.accounts.saml.client import teach_pairwise_id
from lifeline.accounts.saml.keys import generate_key_pair

XMLSEC = "/usr/bin/xmlsec1"
OTHER_SP = "https://other-sp.example.org/shibboleth"


def other_sp(sp_metadata: str) -> str:
    return re.sub(r'entityID="[^"]+"', f'entityID="{OTHER_SP}"', sp_metadata, count=1)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class PostedAnswer:
    """The auto-submitting form the IdP returns to the browser."""

    action: str
    saml_response: str
    relay_state: str


@dataclass
class LoopbackIdP:
    folder: Path
    scope: str = "nefu.edu.cn"
    mode: str = "ok"  # ok | expired | wrong_audience | rogue_key
    identity: dict[str, list[str]] = field(default_factory=dict)
    server: WSGIServer | None = None
    requests_seen: list[Any] = field(default_factory=list)

    def start(self) -> LoopbackIdP:
        self.server = make_server("127.0.0.1", 0, self.app, handler_class=_QuietHandler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.entity_id = f"{self.base}/idp/shibboleth"
        for name in ("idp", "rogue"):
            if not (self.folder / f"{name}.key").exists():
                generate_key_pair(
                    self.folder / f"{name}.key", self.folder / f"{name}.crt", f"{name}.{self.scope}"
                )
        self.identity = self.identity or {
            "eduPersonPrincipalName": [f"alice@{self.scope}"],
            "eduPersonScopedAffiliation": [f"student@{self.scope}", f"member@{self.scope}"],
            "displayName": ["李爱丽"],
            "mail": [f"alice@{self.scope}"],
        }
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def config(self, sp_metadata: str, key: str = "idp", lifetime_minutes: int = 5) -> IdPConfig:
        conf = {
            "entityid": self.entity_id,
            "xmlsec_binary": XMLSEC,
            "key_file": str(self.folder / f"{key}.key"),
            "cert_file": str(self.folder / f"{key}.crt"),
            "service": {
                "idp": {
                    "name": "Loopback IdP",
                    "endpoints": {
                        "single_sign_on_service": [(f"{self.base}/idp/sso", BINDING_HTTP_REDIRECT)]
                    },
                    "policy": {
                        "default": {
                            "lifetime": {"minutes": lifetime_minutes},
                            "name_form": NAME_FORMAT_URI,
                        }
                    },
                    "name_id_format": [NAMEID_FORMAT_TRANSIENT],
                    "want_authn_requests_signed": True,
                }
            },
            # Another SP (same keys, other entity ID) lets the IdP answer for the wrong audience.
            "metadata": {"inline": [sp_metadata, other_sp(sp_metadata)]} if sp_metadata else {},
        }
        config = IdPConfig()
        config.load(conf)
        return teach_pairwise_id(config)

    def metadata_xml(self) -> str:
        return create_metadata_string(None, config=self.config(""), valid=24).decode()

    def trust_sp(self, sp_metadata: str) -> None:
        self.sp_metadata = sp_metadata
        self.idp = Server(config=self.config(sp_metadata))
        self.rogue = Server(config=self.config(sp_metadata, key="rogue"))
        self.expired = Server(config=self.config(sp_metadata, lifetime_minutes=-10))

    # --- the WSGI application: one endpoint, the HTTP-Redirect SSO service --------------
    def app(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ["PATH_INFO"] != "/idp/sso":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        try:
            body = self.answer(query)
        except Exception as exc:  # shown to the test as a 400, like a real IdP's error page
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [f"{type(exc).__name__}: {exc}".encode()]
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [body.encode()]

    def answer(self, query: dict[str, str]) -> str:
        # want_authn_requests_signed: pysaml2 checks the redirect signature with the SP's key.
        parsed = self.idp.parse_authn_request(
            query["SAMLRequest"],
            BINDING_HTTP_REDIRECT,
            relay_state=query.get("RelayState"),
            sigalg=query.get("SigAlg"),
            signature=query.get("Signature"),
        )
        request = parsed.message
        self.requests_seen.append(request)
        server = {"rogue_key": self.rogue, "expired": self.expired}.get(self.mode, self.idp)
        audience = OTHER_SP if self.mode == "wrong_audience" else request.issuer.text
        response = server.create_authn_response(
            self.identity,
            in_response_to=request.id,
            destination=request.assertion_consumer_service_url,
            sp_entity_id=audience,
            name_id_policy=request.name_id_policy,
            userid="alice",
            authn={
                "class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
            },
            sign_assertion=True,
            sign_response=True,
        )
        info = server.apply_binding(
            BINDING_HTTP_POST,
            str(response),
            request.assertion_consumer_service_url,
            query.get("RelayState", ""),
            response=True,
        )
        return str(info["data"])


def read_form(html: str) -> PostedAnswer:
    action = unescape(re.search(r'<form[^>]*action="([^"]+)"', html).group(1))  # type: ignore[union-attr]
    fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html))
    return PostedAnswer(
        action, unescape(fields.get("SAMLResponse", "")), unescape(fields.get("RelayState", ""))
    )
