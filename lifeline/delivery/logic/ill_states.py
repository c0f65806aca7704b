"""The ISO 18626 v1.2 state machine as tables: which supplier status may follow which, and
which requester action each status allows (used by `ill.py` on receipt and `ill_send.py` when
our staff act)."""

from __future__ import annotations

import datetime as dt

from lifeline.delivery.choices import IsoStatus
from lifeline.delivery.models import DeliveryRequest, Peer, RequestEvent

S = IsoStatus
OPEN = frozenset({"", S.REQUEST_RECEIVED, S.EXPECT_TO_SUPPLY, S.WILL_SUPPLY, S.RETRY_POSSIBLE})
ON_LOAN = frozenset({S.LOANED, S.OVERDUE, S.RECALLED})
# The supplier's statuses that may follow each (requester side checks what arrives; supplier
# side checks what staff send).
NEXT: dict[str, frozenset[str]] = {
    **{
        s: frozenset(
            {
                S.REQUEST_RECEIVED,
                S.EXPECT_TO_SUPPLY,
                S.WILL_SUPPLY,
                S.LOANED,
                S.RETRY_POSSIBLE,
                S.UNFILLED,
                S.COPY_COMPLETED,
                S.CANCELLED,
            }
        )
        for s in OPEN
    },
    S.LOANED: frozenset(
        {S.LOANED, S.OVERDUE, S.RECALLED, S.LOAN_COMPLETED, S.COMPLETED_WITHOUT_RETURN}
    ),
    S.OVERDUE: frozenset(
        {S.LOANED, S.OVERDUE, S.RECALLED, S.LOAN_COMPLETED, S.COMPLETED_WITHOUT_RETURN}
    ),
    S.RECALLED: frozenset({S.OVERDUE, S.RECALLED, S.LOAN_COMPLETED, S.COMPLETED_WITHOUT_RETURN}),
}
LOAN_ONLY = frozenset(
    {S.LOANED, S.OVERDUE, S.RECALLED, S.LOAN_COMPLETED, S.COMPLETED_WITHOUT_RETURN}
)
# The requester's actions each supplier status allows.
ACTIONS: dict[str, frozenset[str]] = {
    **{s: frozenset({"StatusRequest", "Cancel", "Notification"}) for s in OPEN},
    S.LOANED: frozenset(
        {"StatusRequest", "Received", "Renew", "ShippedReturn", "ShippedForward", "Notification"}
    ),
    S.OVERDUE: frozenset(
        {"StatusRequest", "Received", "Renew", "ShippedReturn", "ShippedForward", "Notification"}
    ),
    S.RECALLED: frozenset(
        {"StatusRequest", "Received", "ShippedReturn", "ShippedForward", "Notification"}
    ),
    S.COPY_COMPLETED: frozenset({"StatusRequest", "Received", "Notification"}),
}
FINAL_ACTIONS = frozenset({"StatusRequest", "Notification", "Cancel"})
RENEW_DAYS = 28


def _who(peer: Peer) -> str:
    return f"ISO 18626 {peer.agency_id_type}:{peer.agency_id_value}"[:150]


def note(req: DeliveryRequest, text: str, *, by: str, now: dt.datetime) -> None:
    """A history row without a change of status (the ISO side moved, the request did not)."""
    from lifeline.delivery.logic import rawsql

    # Nobody reads the row's id: inside `rawsql.combined()` it goes with the next statement.
    rawsql.insert_later(
        RequestEvent(
            request=req,
            at=now,
            actor_name=by[:150],
            from_status=req.status,
            to_status=req.status,
            note=text[:2000],
        )
    )
