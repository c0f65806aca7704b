"""A vote in one statement (`cast`), shared by the form path (`services.vote`) and the thin,
signed path (`logic.ballot`, `views.vote`)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from lifeline.selection.choices import CampaignStatus, LineStatus, Reason
from lifeline.selection.logic.ballot import Ballot
from lifeline.selection.models import Campaign, Vote

# The vote in one statement: the title must be in one of the campaign's lists, of its library,
# new (not held, not on order), and the campaign open today; the unique (campaign, title, user)
# makes a second mark a no-op. No row back means one of these failed, and only then is it worked
# out which (`_why_not`), so a vote costs one query, and no read-then-write race is left.
VOTE_SQL = """
INSERT INTO selection_vote
    (campaign_id, title_id, user_id, origin, weight, reason, note, college, created_at)
SELECT %s, t.id, %s, %s, %s, %s, %s, %s, %s
FROM selection_title t
WHERE t.id = %s AND t.library_id = %s AND t.status = %s
  AND t.catalogue_id IN (SELECT catalogue_id FROM selection_campaign_catalogues cc
                         WHERE cc.campaign_id = %s)
  AND EXISTS (SELECT 1 FROM selection_campaign c
              WHERE c.id = %s AND c.status = %s AND c.starts_on <= %s AND c.ends_on >= %s)
ON CONFLICT (campaign_id, title_id, user_id) DO NOTHING
RETURNING id
"""


def cast(
    ballot: Ballot, title_id: int, reason: str, note: str = "", *, now: dt.datetime | None = None
) -> Vote:
    """The vote of a ballot (the form path's, or the signed one of the thin path): one
    statement; only a refusal costs more queries, to say why."""
    now = now or timezone.now()
    if reason not in Reason.values:
        raise ValidationError(_("Choose a reason from the list."), code="reason")
    today = timezone.localdate(now)
    made = Vote(
        campaign_id=ballot.campaign,
        title_id=title_id,
        user_id=ballot.user,
        origin=ballot.origin,
        weight=ballot.weight,
        reason=reason,
        note=note.strip()[:300],
        college=ballot.college,
        created_at=now,
    )
    ops = connection.ops
    with connection.cursor() as cursor:
        cursor.execute(
            VOTE_SQL,
            [
                ballot.campaign, ballot.user, made.origin, made.weight, made.reason, made.note,
                made.college, ops.adapt_datetimefield_value(now), title_id,
                ballot.library, LineStatus.NEW, ballot.campaign, ballot.campaign,
                CampaignStatus.OPEN, ops.adapt_datefield_value(today),
                ops.adapt_datefield_value(today),
            ],
        )  # fmt: skip
        row = cursor.fetchone()
    if row is None:
        raise _why_not(ballot, title_id, today)
    made.pk = row[0]
    return made


def _why_not(ballot: Ballot, title_id: int, today: dt.date) -> ValidationError:
    """Why the one-statement vote stored nothing (a refusal is rare: its cost does not matter)."""
    campaign = Campaign.objects.filter(pk=ballot.campaign, library_id=ballot.library).first()
    if campaign is None or not campaign.is_open_on(today):
        return ValidationError(_("This campaign is not open for marking."), code="closed")
    from lifeline.selection.services import campaign_titles  # services imports this module

    title = campaign_titles(campaign).filter(pk=title_id).first()
    if title is None:
        return ValidationError(_("This title is not in the campaign's lists."), code="title")
    if title.status != LineStatus.NEW:
        return ValidationError(
            _("The library already has this title (%(status)s).")
            % {"status": title.get_status_display()},
            code="held",
        )
    if Vote.objects.filter(campaign=campaign, title_id=title_id, user_id=ballot.user).exists():
        return ValidationError(_("You have already marked this title."), code="twice")
    # The campaign was closed between loading it and the vote.
    return ValidationError(_("This campaign is not open for marking."), code="closed")
