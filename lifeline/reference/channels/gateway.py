"""The inbound SMTP server (aiosmtpd) around `channels.email.handle_message`.

The size cap is enforced twice: aiosmtpd refuses a `MAIL FROM ... SIZE=` beyond it at once and,
for a client that does not say, discards DATA beyond it while reading (answering 552 at the end),
so memory stays bounded whatever is sent. Unknown recipients are refused at RCPT time (550): we
are no open relay and accept no mail we would have to bounce later.
"""

from __future__ import annotations

import logging
from typing import Any

from aiosmtpd.controller import Controller
from asgiref.sync import sync_to_async
from django.db import close_old_connections, connections

from lifeline.reference.channels import email as mail

log = logging.getLogger(__name__)


def _known(address: str) -> bool:
    close_old_connections()
    try:
        return mail.known_recipient(address)
    finally:
        connections.close_all()


def step(content: bytes, rcpt_tos: list[str]) -> str:
    """Handle one accepted message; the SMTP status to answer."""
    close_old_connections()
    try:
        return mail.handle_message(content, rcpt_tos).smtp_status
    except Exception:  # a bug must not lose the mail: the sender's server retries on 4xx
        log.exception("mail gateway: could not handle a message")
        return "451 4.3.0 Temporary failure, please retry"
    finally:
        # The SMTP server's worker thread holds no connection between messages (a quiet
        # gateway must not pin a database session, nor keep a test database open).
        connections.close_all()


class GatewayHandler:
    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if not await sync_to_async(_known)(address):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.original_content or envelope.content or b""
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        return str(await sync_to_async(step)(bytes(content), list(envelope.rcpt_tos)))


def controller(host: str, port: int) -> Controller:
    return Controller(
        GatewayHandler(),
        hostname=host,
        port=port,
        data_size_limit=mail.max_mail_bytes(),
        # The gateway takes only mail for the desks; it never relays.
        ident="Lifeline reference desk",
    )
