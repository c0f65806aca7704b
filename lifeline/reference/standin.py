"""A loopback stand-in for WeCom, built from its published protocol (tests, demo, bench).

- `WecomApi`: the server side of `gettoken` and `message/send` (checks the corp ID and secret,
  hands out a token, records each message sent; `expire()` makes the next call answer 42001);
- `signed_callback(...)`: what WeCom's servers POST to our callback for a user's text message.
Loopback only.
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from lifeline.reference.channels.wecom import WecomCrypto, signature


@dataclass
class WecomApi:
    corp_id: str
    secret: str
    sent: list[dict[str, Any]] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)
    token_calls: int = 0
    server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def expire(self) -> None:
        self.tokens.clear()

    def start(self) -> WecomApi:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _answer(self, data: dict[str, Any]) -> None:
                raw = json.dumps(data).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                q = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path != "/cgi-bin/gettoken":
                    self._answer({"errcode": 404, "errmsg": "not found"})
                    return
                api.token_calls += 1
                if q.get("corpid") != api.corp_id or q.get("corpsecret") != api.secret:
                    self._answer({"errcode": 40001, "errmsg": "invalid credential"})
                    return
                token = secrets.token_hex(16)
                api.tokens.add(token)
                self._answer(
                    {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}
                )

            def do_POST(self) -> None:
                url = urlsplit(self.path)
                q = {k: v[0] for k, v in parse_qs(url.query).items()}
                length = min(int(self.headers.get("Content-Length", "0") or 0), 1 << 20)
                body = json.loads(self.rfile.read(length) or b"{}")
                if url.path != "/cgi-bin/message/send":
                    self._answer({"errcode": 404, "errmsg": "not found"})
                    return
                if q.get("access_token") not in api.tokens:
                    self._answer({"errcode": 42001, "errmsg": "access_token expired"})
                    return
                if body.get("msgtype") != "text" or not body.get("touser"):
                    self._answer({"errcode": 40008, "errmsg": "invalid message type"})
                    return
                api.sent.append(body)
                self._answer({"errcode": 0, "errmsg": "ok", "invaliduser": "", "msgid": "m1"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def text_message(corp_id: str, user: str, content: str, agent_id: str, created: int) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName>"
        f"<FromUserName><![CDATA[{user}]]></FromUserName>"
        f"<CreateTime>{created}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{secrets.randbelow(10**16)}</MsgId>"
        f"<AgentID>{agent_id}</AgentID></xml>"
    )


def signed_callback(
    crypto: WecomCrypto, inner_xml: str, timestamp: str, nonce: str, agent_id: str = "1"
) -> tuple[dict[str, str], bytes]:
    """Query parameters and body of a callback POST, as WeCom sends them."""
    encrypt = crypto.encrypt(inner_xml)
    body = (
        f"<xml><ToUserName><![CDATA[{crypto.receive_id}]]></ToUserName>"
        f"<AgentID><![CDATA[{agent_id}]]></AgentID>"
        f"<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    ).encode()
    params = {
        "msg_signature": signature(crypto.token, timestamp, nonce, encrypt),
        "timestamp": timestamp,
        "nonce": nonce,
    }
    return params, body
