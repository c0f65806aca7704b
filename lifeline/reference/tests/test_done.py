"""Issue 11's "done when", the reference-desk side: a question by web chat, one by e-mail to the
loopback gateway and one by a signed WeCom callback land in one queue; one is answered from a
suggested article, one is transferred to a partner library, one becomes a delivery request; each
patron gets the answer on the channel used; both languages."""

from __future__ import annotations

import smtplib
import time
from email.message import EmailMessage
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from lifeline.conftest import client_for, make_staff
from lifeline.core.choices import Role
from lifeline.delivery.choices import SupplierKind
from lifeline.delivery.models import DeliveryRequest, Supplier
from lifeline.knowledge import services as knowledge
from lifeline.reference.channels import gateway
from lifeline.reference.choices import CloseReason, TicketChannel, TicketState
from lifeline.reference.models import Ticket
from lifeline.reference.standin import signed_callback, text_message
from lifeline.reference.tests.conftest import CORP
from lifeline.reference.tests.test_email import DESK, free_port


@pytest.mark.django_db(transaction=True)
def test_three_channels_one_queue_each_answered_where_asked(
    library_a: Any,
    library_b: Any,
    desk_a: Any,
    crypto: Any,
    wecom_api: Any,
    reference_a: Any,
    settings: Any,
) -> None:
    article = knowledge.create_article(
        library_a,
        title="校外访问中国知网（CNKI）",
        body="<p>在校外访问中国知网，请在知网首页选择“机构登录”，用 CARSI 统一身份认证登录。</p>",
        tags="知网, CNKI, 校外访问",
    )
    Supplier.objects.create(
        library=library_a, name="哈工大图书馆", kind=SupplierKind.PARTNER, partner=library_b
    )
    ref_b = make_staff("ref_b", library_b, Role.REFERENCE)

    # 1. Web chat, anonymous.
    patron = Client()
    started = patron.post(
        f"/lib/{library_a.code}/ask/", {"question": "在家里怎么登录知网 CNKI？", "mode": "chat"}
    )
    chat_url = started["Location"]
    assert article.title in patron.get(chat_url).content.decode()  # offered before a human answers

    # 2. E-mail through the SMTP gateway on loopback.
    server = gateway.controller("127.0.0.1", free_port())
    server.start()
    try:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = "李老师 <li@example.edu>", DESK, "馆际借书"
        msg["Message-ID"] = "<done-1@example.edu>"
        msg.set_content("想借哈工大图书馆的《材料力学》，可以吗？")
        with smtplib.SMTP(server.hostname, server.port, timeout=10) as smtp:
            smtp.send_message(msg)
    finally:
        server.stop()

    # 3. WeCom, a signed and encrypted callback.
    ts = str(int(time.time()))
    params, body = signed_callback(
        crypto,
        text_message(
            CORP, "wangwu", "请帮我找这篇：LeCun Y. Deep learning. Nature, 2015", "1000002", int(ts)
        ),
        ts,
        "done-n",
    )
    query = "&".join(f"{k}={v}" for k, v in params.items())
    assert (
        Client()
        .post(f"/reference/{library_a.code}/wecom/?{query}", body, content_type="text/xml")
        .status_code
        == 200
    )

    # One queue.
    staff = client_for(reference_a)
    queue = staff.get(f"/reference/{library_a.code}/").content.decode()
    chat, email, wecom = (
        Ticket.objects.get(channel=c)
        for c in (TicketChannel.CHAT, TicketChannel.EMAIL, TicketChannel.WECOM)
    )
    for t in (chat, email, wecom):
        assert f"/reference/{library_a.code}/t/{t.pk}/" in queue

    # The chat is answered from the suggested article, shown to staff on the ticket.
    page = staff.get(f"/reference/{library_a.code}/t/{chat.pk}/").content.decode()
    assert article.title in page
    suggestion = knowledge.suggest(library_a, "在家里怎么登录知网 CNKI？", staff=True)[0]
    assert suggestion.id == article.pk
    staff.post(
        f"/reference/{library_a.code}/t/{chat.pk}/answer/",
        {"body": f"{suggestion.title}\n{suggestion.passage}\n{suggestion.url}"},
    )
    assert "CARSI" in patron.get(f"{chat_url}messages/").content.decode()

    # The e-mail goes to the partner library, which answers; the patron gets an e-mail reply.
    staff.post(f"/reference/{library_a.code}/t/{email.pk}/transfer/", {"partner": library_b.pk})
    partner = client_for(ref_b)
    assert f"/t/{email.pk}/" in partner.get(f"/reference/{library_b.code}/").content.decode()
    partner.post(
        f"/reference/{library_b.code}/t/{email.pk}/answer/",
        {"body": "可以，我馆通过馆际互借寄出。"},
    )
    sent = [m for m in mail.outbox if m.to == ["li@example.edu"]]
    assert len(sent) == 1 and sent[0].extra_headers["In-Reply-To"] == "<done-1@example.edu>"
    assert "馆际互借" in sent[0].body

    # The WeCom question becomes a delivery request; the patron is told on WeCom.
    staff.post(
        f"/reference/{library_a.code}/t/{wecom.pk}/delivery/",
        {
            "title": "Deep learning",
            "citation": "LeCun Y. Deep learning. Nature, 2015",
            "doi": "10.1038/nature14539",
        },
    )
    req = DeliveryRequest.objects.get()
    assert req.channel == "reference" and req.doi == "10.1038/nature14539"
    assert [m["touser"] for m in wecom_api.sent] == ["wangwu"]
    assert str(req.pk) in wecom_api.sent[0]["text"]["content"]

    for t, state in (
        (chat, TicketState.ANSWERED),
        (email, TicketState.ANSWERED),
        (wecom, TicketState.CLOSED),
    ):
        t.refresh_from_db()
        assert t.state == state and t.first_response_at is not None
    assert wecom.close_reason == CloseReason.DELIVERY and email.handling_library == library_b

    # Both languages.
    assert "参考咨询台" in staff.get(f"/reference/{library_a.code}/").content.decode()
    staff.cookies["lifeline_lang"] = "en"
    assert "Reference desk" in staff.get(f"/reference/{library_a.code}/").content.decode()


@pytest.mark.django_db
def test_did_this_solve_it_closes_as_deflected_and_is_counted(library_a: Any) -> None:
    from lifeline.knowledge.models import Deflection

    article = knowledge.create_article(
        library_a,
        title="VPN 使用指南",
        body="<p>校外访问请先登录学校 VPN，再打开数据库。</p>",
        tags="VPN",
    )
    patron = Client()
    url = patron.post(f"/lib/{library_a.code}/ask/", {"question": "VPN 怎么用？", "mode": "chat"})[
        "Location"
    ]
    assert article.title in patron.get(url).content.decode()
    patron.post(f"{url}solved/", {"kind": "article", "id": str(article.pk)})
    ticket = Ticket.objects.get()
    assert ticket.state == TicketState.CLOSED and ticket.close_reason == CloseReason.DEFLECTED
    assert Deflection.objects.filter(solved=True, object_id=article.pk).count() == 1
    # An id that was not offered is refused.
    assert patron.post(f"{url}solved/", {"kind": "article", "id": "999999"}).status_code == 404
