"""The thin vote path: what the browse page's htmx sends for each mark, one SQL statement each.

When 2,000 patrons mark titles at once, the form path costs a session read, a user read, the
library, the roles, the patron, the campaign and the vote (7 queries), the CSRF check, a flash
message and a redirect to a rendered page. Here the browse page hands the patron a *ballot*,
signed with the site's secret, that says: this campaign (of this library), this user, counted as
this origin and weight, from this college, on this device (a keyed digest of the session cookie
the page was served to). A vote then costs the one `voting.VOTE_SQL` statement, which checks
the title, its status and that the campaign is open today, as the form path does.

What is refused, and where:
- a ballot not signed by us, edited, older than MAX_AGE, or sent with another session cookie
  (copied to another device or browser): `BadBallot` (403);
- a closed campaign, a held title, one outside the campaign or marked already: no row is
  written and `ValidationError` (409) says why (more queries, on the refusal path only).

The ballot is issued only to whom the page lets take part (`services.may_take_part`); it is a
bearer of the session cookie it is bound to, for MAX_AGE at most, exactly as whoever holds the
cookie may mark through the form.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

SALT = "lifeline.selection.ballot"
MAX_AGE = 8 * 3600  # a browsing session; the page gives a fresh one at each load
MAX_TOKEN = 1024


class BadBallot(Exception):
    """The ballot is not one we issued for this device, or it is too old."""


@dataclass(frozen=True)
class Ballot:
    campaign: int
    library: int
    user: int
    origin: str
    weight: int
    college: str


def device_of(session_key: str) -> str:
    """A keyed digest of the session cookie: binds the ballot to the browser it was served to
    without reading the session (the cookie is compared, never looked up)."""
    return salted_hmac(SALT + ".device", session_key or "-", algorithm="sha256").hexdigest()[:32]


def issue(ballot: Ballot, session_key: str) -> str:
    payload = {
        "c": ballot.campaign,
        "l": ballot.library,
        "u": ballot.user,
        "o": ballot.origin,
        "w": ballot.weight,
        "g": ballot.college,
        "d": device_of(session_key),
    }
    return signing.dumps(payload, salt=SALT, compress=True)


def read(token: str, session_key: str) -> Ballot:
    """The ballot a token carries, if we signed it, lately, for the device it comes from."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN:
        raise BadBallot
    try:
        payload = signing.loads(token, salt=SALT, max_age=MAX_AGE)
        device = str(payload["d"])
        ballot = Ballot(
            campaign=int(payload["c"]),
            library=int(payload["l"]),
            user=int(payload["u"]),
            origin=str(payload["o"]),
            weight=int(payload["w"]),
            college=str(payload["g"])[:200],
        )
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise BadBallot from None
    if not constant_time_compare(device, device_of(session_key)):
        raise BadBallot
    return ballot
