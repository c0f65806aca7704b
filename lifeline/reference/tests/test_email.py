"""The inbound mail gateway: new mail → ticket, replies thread, loops and auto-replies never
answered, oversized mail refused, attachments sniffed; and a real SMTP session on loopback."""

from __future__ import annotations

import datetime as dt
import smtplib
import socket
from email.message import EmailMessage
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from lifeline.core import notify
from lifeline.reference import services
from lifeline.reference.channels import gateway
from lifeline.reference.channels.email import handle_message
from lifeline.reference.choices import MessageKind, TicketChannel, TicketState
from lifeline.reference.models import Attachment, Message, Ticket

DESK = "ask@lib.nefu.example.edu"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


def letter(body: str = "校外怎么访问知网？", **headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = headers.pop("From", "王老师 <wang@example.edu>")
    msg["To"] = DESK
    msg["Subject"] = headers.pop("Subject", "知网校外访问")
    msg["Message-ID"] = headers.pop("Message_ID", "<q1@example.edu>")
    for key, value in headers.items():
        msg[key.replace("_", "-")] = value
    msg.set_content(body)
    return msg


def deliver_outbox() -> None:
    notify.send_pending(now=timezone.now() + dt.timedelta(seconds=1))


@pytest.mark.django_db
def test_new_mail_becomes_a_ticket_and_the_answer_threads_back(
    desk_a: Any, reference_a: Any
) -> None:
    out = handle_message(letter().as_bytes(), [DESK])
    assert out.action == "ticket"
    ticket = out.ticket
    assert ticket is not None and ticket.channel == TicketChannel.EMAIL
    assert ticket.contact_email == "wang@example.edu" and ticket.contact_name == "王老师"
    services.answer(ticket, reference_a, "请使用 CARSI 登录知网。")
    deliver_outbox()
    sent = mail.outbox[-1]
    assert sent.to == ["wang@example.edu"]
    assert sent.extra_headers["In-Reply-To"] == "<q1@example.edu>"
    assert "<q1@example.edu>" in sent.extra_headers["References"]
    assert sent.reply_to == [f"ask+{ticket.token}@lib.nefu.example.edu"]
    ours = sent.extra_headers["Message-ID"]
    # The patron answers our answer: the same ticket, reopened.
    reply = letter(
        "还是不行",
        Message_ID="<q2@example.edu>",
        In_Reply_To=ours,
        References=f"<q1@example.edu> {ours}",
    )
    out2 = handle_message(reply.as_bytes(), [DESK])
    assert out2.action == "reply" and out2.ticket is not None and out2.ticket.pk == ticket.pk
    ticket.refresh_from_db()
    assert ticket.state == TicketState.REOPENED
    # The same mail delivered twice is stored once.
    assert handle_message(reply.as_bytes(), [DESK]).action == "ignored"


@pytest.mark.django_db
def test_a_reply_without_headers_finds_its_ticket_by_address_or_subject(desk_a: Any) -> None:
    ticket = handle_message(letter().as_bytes(), [DESK]).ticket
    assert ticket is not None
    by_address = letter("补充", Message_ID="<q3@example.edu>")
    out = handle_message(by_address.as_bytes(), [f"ask+{ticket.token}@lib.nefu.example.edu"])
    assert out.ticket is not None and out.ticket.pk == ticket.pk
    by_subject = letter(
        "再补充", Message_ID="<q4@example.edu>", Subject=f"Re: 知网 [ref:{ticket.token}]"
    )
    out = handle_message(by_subject.as_bytes(), [DESK])
    assert out.ticket is not None and out.ticket.pk == ticket.pk
    assert Ticket.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "headers",
    [
        {"Auto_Submitted": "auto-replied"},
        {"Precedence": "bulk"},
        {"Precedence": "auto_reply"},
        {"X_Autoreply": "yes"},
        {"From": "MAILER-DAEMON@example.edu"},
        {"Message_ID": "<ref-1-abcdef@lib.nefu.example.edu>"},
        {"From": "ask@lib.nefu.example.edu"},
    ],
)
def test_auto_replies_and_loops_are_never_answered(desk_a: Any, headers: dict[str, str]) -> None:
    out = handle_message(letter("我正在休假，自动回复。", **headers).as_bytes(), [DESK])
    assert out.action == "ignored"
    assert not Ticket.objects.exists()
    assert not mail.outbox


@pytest.mark.django_db
def test_unknown_recipient_and_oversized_mail_are_refused(desk_a: Any, settings: Any) -> None:
    assert handle_message(letter().as_bytes(), ["other@example.edu"]).smtp_status.startswith("550")
    settings.REFERENCE_MAIL_MAX_BYTES = 1000
    big = letter("很长的信 " * 500)
    assert handle_message(big.as_bytes(), [DESK]).smtp_status.startswith("552")
    assert not Ticket.objects.exists()


@pytest.mark.django_db
def test_attachments_are_sniffed_and_a_liar_is_left_out(desk_a: Any) -> None:
    msg = letter()
    msg.add_attachment(PDF, maintype="application", subtype="pdf", filename="screenshot.pdf")
    msg.add_attachment(EXE, maintype="application", subtype="pdf", filename="paper.pdf")
    out = handle_message(msg.as_bytes(), [DESK])
    assert out.ticket is not None
    assert [a.name for a in Attachment.objects.all()] == ["screenshot.pdf"]
    assert len(out.refused_attachments) == 1 and "paper.pdf" in out.refused_attachments[0]
    note = Message.objects.get(kind=MessageKind.NOTE)
    assert "paper.pdf" in note.body


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.django_db(transaction=True)
def test_a_real_smtp_session_on_loopback(desk_a: Any, settings: Any) -> None:
    settings.REFERENCE_MAIL_MAX_BYTES = 200_000
    server = gateway.controller("127.0.0.1", free_port())
    server.start()
    try:
        with smtplib.SMTP(server.hostname, server.port, timeout=10) as smtp:
            smtp.send_message(letter(), from_addr="wang@example.edu", to_addrs=[DESK])
            with pytest.raises(smtplib.SMTPRecipientsRefused):
                smtp.send_message(
                    letter(Message_ID="<x@e>"), from_addr="a@e.edu", to_addrs=["nobody@example.org"]
                )
        # Beyond the cap: refused (552) while reading, the data discarded, nothing stored.
        with smtplib.SMTP(server.hostname, server.port, timeout=10) as smtp:
            smtp.ehlo()
            smtp.esmtp_features.pop("size", None)  # a client that does not announce the size
            with pytest.raises(smtplib.SMTPDataError) as refused:
                smtp.sendmail(
                    "big@example.edu",
                    [DESK],
                    b"Subject: big\r\n\r\n"
                    + b"x" * 76
                    + b"\r\n" * 4000
                    + (b"y" * 998 + b"\r\n") * 400,
                )
            assert refused.value.smtp_code == 552
    finally:
        server.stop()
    ticket = Ticket.objects.get()
    assert ticket.channel == TicketChannel.EMAIL and ticket.subject == "知网校外访问"
