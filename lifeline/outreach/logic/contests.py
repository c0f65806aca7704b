"""Contests: an entry per patron (audio or video, its kind sniffed from its bytes and its size
capped through `core.uploads`), public voting with one vote per patron, judges' scores.

What keeps voting honest: only patrons of the contest's library vote (a patron of another
library, or an anonymous visitor, cannot); one vote per patron per contest is a unique index
(two devices at once: one vote, the other told); no vote for one's own entry or a withdrawn
one; only inside the voting period. Each vote keeps a keyed hash of its client address, so staff
see a burst of votes from one place without the database holding addresses.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, Q
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from lifeline.core.permissions import user_can
from lifeline.core.uploads import check_upload
from lifeline.outreach.choices import MEDIA_TYPES, EntryStatus
from lifeline.outreach.logic.events import may_take_part
from lifeline.outreach.models import Contest, Entry, JudgeScore, Vote


def allowed_kinds(contest: Contest) -> tuple[str, ...]:
    return tuple(ext for ext, media in MEDIA_TYPES.items() if media in contest.media)


def submit_entry(
    contest: Contest,
    user: Any,
    upload: Any,
    title: str,
    note: str = "",
    *,
    now: dt.datetime | None = None,
) -> Entry:
    """Store the patron's entry. The file is checked by its content (an MP3 is an MP3 whatever
    its name says; HTML or a script called .mp4 is refused) and held to the contest's limit."""
    now = now or timezone.now()
    if not may_take_part(user, contest.library_id):
        raise PermissionDenied
    if not contest.taking_entries(now):
        raise ValidationError(_("This contest is not taking entries."))
    if Entry.objects.filter(contest=contest, user=user).exists():
        raise ValidationError(_("You have already entered this contest."))
    title = " ".join(title.split())[:200]
    if not title:
        raise ValidationError(_("Give your entry a title."))
    checked = check_upload(upload, allowed_kinds(contest), max_bytes=contest.max_mb * 2**20)
    upload.seek(0)
    entry = Entry(
        contest=contest,
        user=user,
        title=title,
        note=note[:2000],
        kind=MEDIA_TYPES[checked.kind],
        extension=checked.kind,
        mime=checked.mime,
        size=checked.size,
    )
    try:
        with transaction.atomic():
            entry.file.save("entry", upload, save=False)
            entry.save()
    except IntegrityError as exc:
        entry.file.delete(save=False)
        raise ValidationError(_("You have already entered this contest.")) from exc
    return entry


def withdraw(entry: Entry) -> None:
    Entry.objects.filter(pk=entry.pk).update(status=EntryStatus.HIDDEN)


def source_of(address: str | None) -> str:
    return salted_hmac("lifeline.outreach.vote", address or "-", algorithm="sha256").hexdigest()[
        :16
    ]


def vote(
    entry: Entry, user: Any, *, address: str | None = None, now: dt.datetime | None = None
) -> Vote:
    now = now or timezone.now()
    contest = entry.contest
    if not may_take_part(user, contest.library_id):
        raise PermissionDenied
    if not contest.voting(now):
        raise ValidationError(_("Voting is not open."))
    if entry.status != EntryStatus.SUBMITTED:
        raise ValidationError(_("This entry is not in the contest."))
    if entry.user_id == user.pk:
        raise ValidationError(_("You cannot vote for your own entry."))
    try:
        with transaction.atomic():
            return Vote.objects.create(
                contest=contest, entry=entry, user=user, source=source_of(address)
            )
    except IntegrityError as exc:
        raise ValidationError(_("You have already voted in this contest.")) from exc


def judge(entry: Entry, judge_user: Any, score: int, note: str = "") -> JudgeScore:
    if not user_can(judge_user, entry.contest.library_id, "outreach.change"):
        raise PermissionDenied
    if not 0 <= score <= 100:
        raise ValidationError(_("A score is from 0 to 100."))
    row, _created = JudgeScore.objects.update_or_create(
        entry=entry, judge=judge_user, defaults={"score": score, "note": note[:500]}
    )
    return row


@dataclass
class Standing:
    entry: Entry
    votes: int
    judges: int
    average: float | None


def standings(contest: Contest) -> list[Standing]:
    """Entries in the contest: judges' average first (when judged), then votes, then earlier."""
    rows = (
        Entry.objects.filter(contest=contest, status=EntryStatus.SUBMITTED)
        .select_related("user__patron")
        .annotate(
            n_votes=Count("votes", distinct=True),
            n_judges=Count("scores", distinct=True),
            avg=Avg("scores__score"),
        )
    )
    out = [Standing(e, e.n_votes, e.n_judges, e.avg) for e in rows]
    out.sort(key=lambda s: (-(s.average or -1), -s.votes, s.entry.created_at, s.entry.pk))
    return out


def crowded_sources(contest: Contest, at_least: int = 5) -> list[tuple[str, int]]:
    """Client-address hashes that cast `at_least` votes: for staff to look at, not proof."""
    rows = (
        Vote.objects.filter(contest=contest)
        .values("source")
        .annotate(n=Count("pk"))
        .filter(Q(n__gte=at_least))
        .order_by("-n")
    )
    return [(r["source"], r["n"]) for r in rows]
