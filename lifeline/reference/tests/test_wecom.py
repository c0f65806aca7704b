"""WeCom callbacks to the published protocol: a known-answer vector, URL verification, signed
messages in, forged and replayed ones refused; answers out through the send-message API of a
loopback stand-in, via the outbox."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from lifeline.core import notify
from lifeline.core.models import Notification
from lifeline.reference import services
from lifeline.reference.channels.wecom import WecomCrypto, WecomError, forget_nonces, signature
from lifeline.reference.choices import TicketChannel
from lifeline.reference.models import Ticket, WecomNonce
from lifeline.reference.standin import signed_callback, text_message
from lifeline.reference.tests.conftest import CORP

# Tencent's published sample for the message crypto (WXBizMsgCrypt; the same vector appears in
# its ports, e.g. github.com/fotock/WXbizMsgCrypt-Node README): token, key, receive id, the
# signed and encrypted message, and what it decrypts to.
VECTOR = {
    "token": "spamtest",
    "key": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    "receive_id": "wx2c2769f8efd9abc2",
    "timestamp": "1409735669",
    "nonce": "1320562132",
    "signature": "5d197aaffba7e9b25a30732f161a50dee96bd5fa",
    "encrypt": (
        "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8P"
        "GHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa"
        "+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X"
        "8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9F"
        "yJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE="
    ),
}


def test_the_published_vector_checks_and_decrypts() -> None:
    v = VECTOR
    assert signature(v["token"], v["timestamp"], v["nonce"], v["encrypt"]) == v["signature"]
    crypto = WecomCrypto(v["token"], v["key"], v["receive_id"])
    crypto.check(v["signature"], v["timestamp"], v["nonce"], v["encrypt"])
    plain = crypto.decrypt(v["encrypt"])
    assert "<Content><![CDATA[abcdteT]]></Content>" in plain
    with pytest.raises(WecomError):
        WecomCrypto(v["token"], v["key"], "another-corp").decrypt(v["encrypt"])
    with pytest.raises(WecomError):
        crypto.check("0" * 40, v["timestamp"], v["nonce"], v["encrypt"])


def test_round_trip_pads_to_32_bytes(crypto: WecomCrypto) -> None:
    for text in ["", "a", "中" * 11, "x" * 32, "长" * 1000]:
        enc = crypto.encrypt(text)
        import base64

        assert len(base64.b64decode(enc)) % 32 == 0
        assert crypto.decrypt(enc) == text


def url(library: Any) -> str:
    return f"/reference/{library.code}/wecom/"


@pytest.mark.django_db
def test_echostr_verification(client: Client, desk_a: Any, crypto: WecomCrypto) -> None:
    ts, nonce = str(int(time.time())), "n1"
    echo = crypto.encrypt("echo-1234567890")
    good = {
        "msg_signature": signature(crypto.token, ts, nonce, echo),
        "timestamp": ts,
        "nonce": nonce,
        "echostr": echo,
    }
    response = client.get(url(desk_a.library), good)
    assert response.status_code == 200 and response.content == b"echo-1234567890"
    assert client.get(url(desk_a.library), {**good, "msg_signature": "f" * 40}).status_code == 403


@pytest.mark.django_db
def test_a_signed_message_becomes_a_ticket_and_forgery_and_replay_are_refused(
    client: Client, desk_a: Any, crypto: WecomCrypto
) -> None:
    ts = str(int(time.time()))
    inner = text_message(
        CORP, "zhangsan", "<script>alert(1)</script>VPN 连不上", "1000002", int(ts)
    )
    params, body = signed_callback(crypto, inner, ts, "nonce-1")
    qs = "&".join(f"{k}={v}" for k, v in params.items())
    post = lambda p, b: client.post(f"{url(desk_a.library)}?{p}", b, content_type="text/xml")  # noqa: E731
    assert post(qs, body).status_code == 200
    ticket = Ticket.objects.get()
    assert ticket.channel == TicketChannel.WECOM and ticket.wecom_user == "zhangsan"
    assert post(qs, body).status_code == 403  # the same callback again: a replay
    forged = qs.replace(params["msg_signature"], "0" * 40)
    _params2, body2 = signed_callback(crypto, inner, ts, "nonce-2")
    assert post(forged.replace("nonce-1", "nonce-2"), body2).status_code == 403
    # Signed with another token (someone who does not hold ours).
    other = WecomCrypto("not-our-token", crypto.encoding_aes_key, CORP)
    p3, b3 = signed_callback(other, inner, ts, "nonce-3")
    assert post("&".join(f"{k}={v}" for k, v in p3.items()), b3).status_code == 403
    # Too old.
    old = str(int(time.time()) - 3600)
    p4, b4 = signed_callback(crypto, inner, old, "nonce-4")
    assert post("&".join(f"{k}={v}" for k, v in p4.items()), b4).status_code == 403
    assert Ticket.objects.count() == 1
    kept = WecomNonce.objects.count()
    assert forget_nonces(timezone.now() + dt.timedelta(hours=1)) == kept
    assert not WecomNonce.objects.exists()


@pytest.mark.django_db
def test_the_answer_goes_out_through_the_send_message_api(
    desk_a: Any, crypto: WecomCrypto, wecom_api: Any, reference_a: Any, client: Client
) -> None:
    ts = str(int(time.time()))
    params, body = signed_callback(
        crypto, text_message(CORP, "lisi", "如何打印学位论文回执？", "1", int(ts)), ts, "n-9"
    )
    qs = "&".join(f"{k}={v}" for k, v in params.items())
    assert (
        client.post(f"{url(desk_a.library)}?{qs}", body, content_type="text/xml").status_code == 200
    )
    ticket = Ticket.objects.get()
    services.answer(ticket, reference_a, "请登录学位论文系统打印回执。")
    notify.send_pending(now=timezone.now() + dt.timedelta(seconds=1))
    assert wecom_api.sent == [
        {
            "touser": "lisi",
            "msgtype": "text",
            "agentid": 1000002,
            "text": {"content": "请登录学位论文系统打印回执。"},
            "safe": 0,
        }
    ]
    # An expired token is fetched again once, not failed.
    wecom_api.expire()
    services.answer(ticket, reference_a, "补充说明")
    notify.send_pending(now=timezone.now() + dt.timedelta(seconds=1))
    assert len(wecom_api.sent) == 2 and wecom_api.token_calls == 2
    assert Notification.objects.filter(status="sent").count() == 2
