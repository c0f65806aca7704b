"""WeCom (企业微信) application callbacks and answers, to WeCom's published protocol.

Callback (the "接收消息服务器" of a self-built application):
- GET `?msg_signature&timestamp&nonce&echostr`: verify the URL by decrypting `echostr`;
- POST `?msg_signature&timestamp&nonce` with `<xml><ToUserName/><AgentID/><Encrypt/></xml>`.
`msg_signature = sha1(sorted(token, timestamp, nonce, encrypt) joined)`; the AES key is
base64(EncodingAESKey + "=") (32 bytes, AES-256-CBC, IV = its first 16 bytes); the plain text is
random(16) + length(4, network order) + message + receive_id (the corp ID), PKCS#7-padded to a
multiple of 32. A forged signature, a corp ID that is not ours, a timestamp outside the window
or a nonce seen before (a replay) is refused.

Answers go through the application's send-message API: `GET /cgi-bin/gettoken?corpid&corpsecret`
then `POST /cgi-bin/message/send?access_token` with a text message to the user — from the
outbox (`notify_app(..., "lifeline.reference.channels.wecom.send")`), through `core.outbound`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import struct
import time
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from defusedxml import ElementTree
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from lifeline.core import outbound
from lifeline.core.models import Library, Notification
from lifeline.reference import services
from lifeline.reference.choices import TicketChannel, TicketState
from lifeline.reference.models import DeskSettings, Ticket, WecomNonce

BLOCK = 32
MAX_BODY = 64 * 1024
API_ANSWER_BYTES = 64 * 1024
# Errors after which a cached access token is dropped (invalid or expired token).
TOKEN_ERRORS = {40014, 42001}


class WecomError(Exception):
    """A callback we refuse; `str()` says why (logged, never shown to the caller)."""


def window_seconds() -> int:
    return int(getattr(settings, "REFERENCE_WECOM_WINDOW", 300))


def signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypt])).encode()).hexdigest()  # noqa: S324 - WeCom's protocol


@dataclass
class WecomCrypto:
    token: str
    encoding_aes_key: str
    receive_id: str

    @property
    def key(self) -> bytes:
        try:
            key = base64.b64decode(self.encoding_aes_key + "=", validate=True)
        except ValueError as exc:
            raise WecomError("EncodingAESKey is not base64") from exc
        if len(key) != 32:
            raise WecomError("EncodingAESKey must decode to 32 bytes")
        return key

    def encrypt(self, text: str, random16: bytes | None = None) -> str:
        raw = text.encode()
        plain = (random16 or os.urandom(16)) + struct.pack("!I", len(raw)) + raw
        plain += self.receive_id.encode()
        pad = BLOCK - len(plain) % BLOCK
        plain += bytes([pad]) * pad
        key = self.key
        enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
        return base64.b64encode(enc.update(plain) + enc.finalize()).decode()

    def decrypt(self, encrypted: str) -> str:
        try:
            data = base64.b64decode(encrypted, validate=True)
        except ValueError as exc:
            raise WecomError("not base64") from exc
        if not data or len(data) % 16:
            raise WecomError("bad cipher text length")
        key = self.key
        dec = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
        plain = dec.update(data) + dec.finalize()
        pad = plain[-1]
        if not 1 <= pad <= BLOCK or len(plain) < 20 + pad:
            raise WecomError("bad padding")
        plain = plain[:-pad]
        (length,) = struct.unpack("!I", plain[16:20])
        if 20 + length > len(plain):
            raise WecomError("bad length")
        message, receive_id = plain[20 : 20 + length], plain[20 + length :]
        if not hmac.compare_digest(receive_id, self.receive_id.encode()):
            raise WecomError("not for this corp")
        try:
            return message.decode()
        except UnicodeDecodeError as exc:
            raise WecomError("not UTF-8") from exc

    def check(self, msg_signature: str, timestamp: str, nonce: str, encrypt: str) -> None:
        expected = signature(self.token, timestamp, nonce, encrypt)
        if not hmac.compare_digest(expected, msg_signature or ""):
            raise WecomError("bad signature")


def crypto_for(desk: DeskSettings) -> WecomCrypto:
    if not (desk.wecom_token and desk.wecom_aes_key and desk.wecom_corp_id):
        raise WecomError("WeCom is not set up for this library")
    return WecomCrypto(desk.wecom_token, desk.wecom_aes_key, desk.wecom_corp_id)


def _fresh(library: Library, timestamp: str, nonce: str, now: dt.datetime) -> None:
    """Refuse a callback outside the time window or one whose nonce we have seen (a replay)."""
    try:
        ts = int(timestamp)
    except ValueError as exc:
        raise WecomError("bad timestamp") from exc
    if abs(now.timestamp() - ts) > window_seconds():
        raise WecomError("timestamp outside the window")
    if not nonce or len(nonce) > 64:
        raise WecomError("bad nonce")
    try:
        with transaction.atomic():
            WecomNonce.objects.create(library=library, nonce=nonce, timestamp=ts, seen_at=now)
    except IntegrityError as exc:
        raise WecomError("replayed") from exc


def forget_nonces(now: dt.datetime | None = None) -> int:
    """Nonces older than twice the window can no longer pass the timestamp test."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=2 * window_seconds())
    deleted, _ = WecomNonce.objects.filter(seen_at__lt=cutoff).delete()
    return deleted


def verify_url(library: Library, params: dict[str, str], now: dt.datetime | None = None) -> str:
    """The GET check when the callback URL is saved in WeCom's console: the decrypted echostr."""
    crypto = crypto_for(DeskSettings.for_library(library))
    echostr = params.get("echostr", "")
    crypto.check(
        params.get("msg_signature", ""),
        params.get("timestamp", ""),
        params.get("nonce", ""),
        echostr,
    )
    now = now or timezone.now()
    try:
        ts = int(params.get("timestamp", ""))
    except ValueError as exc:
        raise WecomError("bad timestamp") from exc
    if abs(now.timestamp() - ts) > window_seconds():
        raise WecomError("timestamp outside the window")
    return crypto.decrypt(echostr)


def _xml(text: str | bytes) -> dict[str, str]:
    try:
        root = ElementTree.fromstring(text)
    except Exception as exc:  # defusedxml's refusals and expat's errors alike
        raise WecomError("bad XML") from exc
    return {child.tag: (child.text or "") for child in root}


def handle_callback(
    library: Library, params: dict[str, str], body: bytes, *, now: dt.datetime | None = None
) -> Ticket | None:
    """One POSTed message: check, decrypt, and file it (a text message from a user). Returns
    the ticket, or None for events we do not answer (subscribe, enter_agent, ...)."""
    now = now or timezone.now()
    if len(body) > MAX_BODY:
        raise WecomError("too large")
    desk = DeskSettings.for_library(library)
    crypto = crypto_for(desk)
    outer = _xml(body)
    encrypt = outer.get("Encrypt", "")
    crypto.check(
        params.get("msg_signature", ""),
        params.get("timestamp", ""),
        params.get("nonce", ""),
        encrypt,
    )
    _fresh(library, params.get("timestamp", ""), params.get("nonce", ""), now)
    inner = _xml(crypto.decrypt(encrypt))
    if inner.get("MsgType") != "text":
        return None
    user = inner.get("FromUserName", "")[:64]
    content = inner.get("Content", "")
    if not user or not content.strip():
        return None
    with transaction.atomic():
        # The same user writing again while a question is open is the same conversation.
        ticket = (
            Ticket.objects.filter(
                library=library,
                channel=TicketChannel.WECOM,
                wecom_user=user,
            )
            .exclude(state=TicketState.CLOSED)
            .order_by("-created_at")
            .first()
        )
        if ticket is not None:
            services.patron_says(ticket, content, channel=TicketChannel.WECOM, now=now)
            return ticket
        return services.open_ticket(
            library, channel=TicketChannel.WECOM, body=content, wecom_user=user, now=now
        )


# --- answers: the outbox calls `send` -------------------------------------------------------


def _api(desk: DeskSettings, path: str) -> str:
    base = (desk.wecom_api_base or "https://qyapi.weixin.qq.com").rstrip("/")
    return f"{base}{path}"


def _json(result: outbound.FetchResult) -> dict[str, Any]:
    if result.status >= 300:
        raise RuntimeError(f"WeCom answered HTTP {result.status}")
    try:
        data = json.loads(result.content)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RuntimeError("WeCom answered something that is not JSON") from exc
    if not isinstance(data, dict):
        raise RuntimeError("WeCom answered something that is not an object")
    return data


def access_token(desk: DeskSettings, *, refresh: bool = False) -> str:
    """The application's access token (cached until shortly before it expires)."""
    key = f"reference:wecom-token:{desk.library_id}:{desk.wecom_corp_id}"
    token = None if refresh else cache.get(key)
    if token:
        return str(token)
    if not (desk.wecom_corp_id and desk.wecom_secret):
        raise RuntimeError("WeCom corp ID or secret missing")
    data = _json(
        outbound.fetch(
            _api(desk, "/cgi-bin/gettoken"),
            params={"corpid": desk.wecom_corp_id, "corpsecret": desk.wecom_secret},
            max_bytes=API_ANSWER_BYTES,
            timeout=10.0,
            follow_redirects=False,
        )
    )
    if data.get("errcode", 0) != 0 or not data.get("access_token"):
        raise RuntimeError(f"gettoken: errcode={data.get('errcode')} {data.get('errmsg', '')}")
    ttl = max(60, int(data.get("expires_in", 7200)) - 300)
    cache.set(key, data["access_token"], timeout=ttl)
    return str(data["access_token"])


def send(n: Notification) -> None:
    """The outbox's sender for WeCom answers: one text message to the patron. Raises on failure
    (the outbox retries with back-off)."""
    if n.library is None or not n.recipients:
        raise ValueError("a WeCom answer needs a library and a user")
    desk = DeskSettings.for_library(n.library)
    body = {
        "touser": "|".join(n.recipients),
        "msgtype": "text",
        "agentid": int(desk.wecom_agent_id or 0),
        "text": {"content": n.body[:2000]},
        "safe": 0,
    }
    for attempt in range(2):
        token = access_token(desk, refresh=attempt > 0)
        data = _json(
            outbound.fetch(
                _api(desk, "/cgi-bin/message/send"),
                method="POST",
                params={"access_token": token},
                headers={"Content-Type": "application/json"},
                content=json.dumps(body, ensure_ascii=False).encode(),
                max_bytes=API_ANSWER_BYTES,
                timeout=10.0,
                follow_redirects=False,
            )
        )
        code = int(data.get("errcode", 0) or 0)
        if code == 0:
            if data.get("invaliduser"):
                raise RuntimeError(f"WeCom did not know the user: {data['invaliduser']}")
            return
        if code not in TOKEN_ERRORS:
            break
    raise RuntimeError(f"message/send: errcode={data.get('errcode')} {data.get('errmsg', '')}")


def now_timestamp() -> str:
    return str(int(time.time()))
