"""What other apps may hear of a patron's account, without reading accounts' tables.

- `mail_verified(sender=PatronMail, user, address)`: the patron's e-mail address is now verified
  (confirmed through the link, or released by the CARSI IdP). Sent inside the transaction that
  records it; a receiver queues its notices through the outbox so they commit with it.
"""

from __future__ import annotations

from django.dispatch import Signal

mail_verified = Signal()
