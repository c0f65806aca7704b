"""Domain functions of cloud book selection: catalogues and holdings imports, line marking,
campaigns and votes, verdicts, and the selection (the order). Views, API and tasks call these.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from lifeline.core import audit
from lifeline.core.access import patron_record
from lifeline.core.choices import AuditAction, PatronCategory
from lifeline.core.models import Library, Patron
from lifeline.core.permissions import user_can
from lifeline.registry.io.reading import human_size
from lifeline.selection.choices import (
    BudgetKind,
    Decision,
    LineStatus,
    MarcFlavour,
    Method,
    Origin,
    SourceFormat,
)
from lifeline.selection.logic import knapsack
from lifeline.selection.logic.ballot import Ballot
from lifeline.selection.logic.marc import (
    ImportRefused,
    Line,
    MarcLines,
    Progress,
    is_xml,
    read_marc,
)
from lifeline.selection.logic.normalise import (
    IsbnError,
    clc_class,
    parse_isbn,
    search_text,
    work_key,
)
from lifeline.selection.logic.sheets import read_sheet
from lifeline.selection.models import (
    Campaign,
    Catalogue,
    Holding,
    Selection,
    SelectionLine,
    Title,
    Verdict,
    Vote,
)
from lifeline.selection.voting import cast

MANAGE = "selection.manage"
BATCH = 2000
# A teacher's mark counts double: teaching collections come first (the seed's campaigns invited
# teachers to choose for their courses).
WEIGHTS = {PatronCategory.TEACHER: 2}


def max_catalogue_bytes() -> int:
    return int(getattr(settings, "SELECTION_MAX_FILE_BYTES", settings.LIFELINE_MAX_UPLOAD_BYTES))


def check_size(size: int) -> None:
    limit = max_catalogue_bytes()
    if size > limit:
        raise ImportRefused(
            [
                _("The file is %(size)s, above the limit of %(limit)s: split it into parts.")
                % {"size": human_size(size), "limit": human_size(limit)}
            ]
        )


def sniff(data: bytes) -> str:
    if data[:4] == b"PK\x03\x04" or data[:4] == b"\xd0\xcf\x11\xe0":
        return SourceFormat.SHEET
    if is_xml(data):
        return SourceFormat.MARCXML
    # A leader's length digits and MARC's field/record terminators (no text file has them).
    if data[:5].isdigit() and (b"\x1e" in data[:100_000] or b"\x1d" in data[:100_000]):
        return SourceFormat.ISO2709
    return SourceFormat.SHEET


def read_lines(
    data: bytes,
    file_name: str,
    flavour: str = MarcFlavour.AUTO,
    *,
    holdings: bool = False,
    progress: Progress | None = None,
) -> tuple[list[Line], str, str]:
    """(lines, source format, MARC flavour or encoding)."""
    check_size(len(data))
    fmt = sniff(data)
    if fmt == SourceFormat.SHEET:
        lines, encoding = read_sheet(
            data, file_name or "file", isbn_only=holdings and not _has_title_header(data)
        )
        return lines, SourceFormat.ISBN_LIST if holdings else fmt, encoding
    lines, found = read_marc(data, flavour, strict_isbn=not holdings, progress=progress)
    return lines, fmt, found


def _has_title_header(data: bytes) -> bool:
    head = data[:4096]
    for token in (b"\xe9\xa2\x98\xe5\x90\x8d", b"\xcc\xe2\xc3\xfb", b"title", b"Title", b"TITLE"):
        if token in head:  # 题名 in UTF-8 and GBK
            return True
    return data[:4] == b"PK\x03\x04"


def import_catalogue(
    library: Library,
    data: bytes,
    *,
    name: str,
    file_name: str = "",
    vendor: str = "",
    flavour: str = MarcFlavour.AUTO,
    user: Any = None,
    progress: Progress | None = None,
) -> Catalogue:
    """Read and write in one pass, in one transaction: the catalogue is there whole or not at
    all. A MARC file is streamed (each record read, turned into a row and written at once; on
    PostgreSQL the server stores the rows while the next are parsed); a refused record raises
    `ImportRefused` and the transaction is rolled back."""
    check_size(len(data))
    fmt = sniff(data)
    source: Iterable[Line]
    if fmt == SourceFormat.SHEET:
        source, found = read_sheet(data, file_name or "file")
    else:
        source = reader = MarcLines(data, flavour, strict_isbn=True, progress=progress)
    with transaction.atomic():
        catalogue = Catalogue.objects.create(
            library=library,
            name=name[:200] or file_name[:200] or _("Vendor catalogue"),
            vendor=vendor[:200],
            source_format=fmt,
            file_name=file_name[:255],
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        # Held / on order decided here, from the keys gathered once, rather than by reading the
        # lines back and updating them (a second pass over 200,000 rows).
        held, ordered = status_keys(library)
        count = insert_titles(_title_rows(library, catalogue, source, held, ordered), catalogue)
        if fmt != SourceFormat.SHEET:
            found = reader.flavour
        catalogue.lines = count
        catalogue.flavour = found if fmt != SourceFormat.SHEET else ""
        Catalogue.objects.filter(pk=catalogue.pk).update(
            lines=catalogue.lines, flavour=catalogue.flavour
        )
        audit.write(
            AuditAction.IMPORT,
            catalogue,
            after={"titles": count, "format": fmt, "flavour": found, "file": file_name},
        )
    return catalogue


def _title_rows(
    library: Library,
    catalogue: Catalogue,
    lines: Iterable[Line],
    held: set[str],
    ordered: set[str],
) -> Iterator[tuple[Any, ...]]:
    library_id, catalogue_id = library.pk, catalogue.pk
    for i, line in enumerate(lines):
        key = work_key(line.title, line.author, line.publisher)
        title = line.title[:800]
        yield (
            library_id,
            catalogue_id,
            i,
            line.isbn,
            line.isbn_raw,
            title,
            line.author,
            line.publisher,
            line.year if line.year and line.year < 32767 else None,
            str(line.price) if line.price is not None else None,
            line.clc,
            clc_class(line.clc),
            key,
            status_of(line.isbn, key, held, ordered),
            search_text(title, line.author, line.publisher, line.isbn),
        )


TITLE_COLUMNS = (
    "library_id",
    "catalogue_id",
    "position",
    "isbn",
    "isbn_raw",
    "title",
    "author",
    "publisher",
    "year",
    "price",
    "clc",
    "clc_class",
    "work_key",
    "status",
    "search",
)
# SQLite's FTS5 index of the titles (migration 0003) is kept by this trigger, one row at a time.
# Each row's insert then flushed a segment of the index: 200,000 rows cost more than reading the
# MARC. An import drops it inside its transaction, fills the index for its catalogue in one
# statement and puts the trigger back (the same text as migration 0003's): all or nothing, as
# DDL is transactional in SQLite, and no other writer runs meanwhile (SQLite has one writer).
FTS_INSERT_TRIGGER = (
    "CREATE TRIGGER selection_title_fts_ai AFTER INSERT ON selection_title BEGIN"
    " INSERT INTO selection_title_fts(rowid, search) VALUES (new.id, new.search); END"
)


def insert_titles(rows: Iterable[tuple[Any, ...]], catalogue: Catalogue) -> int:
    """Raw INSERT (COPY on PostgreSQL) of prepared tuples of one catalogue, as the KBART import
    does: Django's bulk_create spent more time building SQL than reading the MARC. Returns the
    number written. Call inside a transaction."""
    table = connection.ops.quote_name(Title._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in TITLE_COLUMNS)
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            return count
        marks = ", ".join(["%s"] * len(TITLE_COLUMNS))
        sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608 - our own names
        cursor.execute("DROP TRIGGER IF EXISTS selection_title_fts_ai")
        batch: list[tuple[Any, ...]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= BATCH:
                cursor.executemany(sql, batch)
                count += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
        cursor.execute(
            "INSERT INTO selection_title_fts(rowid, search)"
            " SELECT id, search FROM selection_title WHERE catalogue_id = %s",
            [catalogue.pk],
        )
        cursor.execute(FTS_INSERT_TRIGGER)
    return count


def _bulk(model: Any, rows: Any) -> int:
    batch: list[Any] = []
    count = 0
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            model.objects.bulk_create(batch)
            count += len(batch)
            batch = []
    if batch:
        model.objects.bulk_create(batch)
        count += len(batch)
    return count


def import_holdings(
    library: Library,
    data: bytes,
    *,
    file_name: str = "",
    replace: bool = True,
    progress: Progress | None = None,
) -> dict[str, int]:
    """The library's print holdings from its system's MARC export or an ISBN list. Replaces the
    previous set (an export is the whole collection) unless `replace` is False."""
    lines, fmt, _found = read_lines(data, file_name, holdings=True, progress=progress)
    with transaction.atomic():
        if replace:
            Holding.objects.filter(library=library).delete()
        written = _bulk(
            Holding,
            (
                Holding(
                    library=library,
                    isbn=line.isbn,
                    work_key=work_key(line.title, line.author, line.publisher),
                    title=line.title[:800],
                    author=line.author,
                    publisher=line.publisher,
                )
                for line in lines
            ),
        )
        counts = mark_titles(library)
        audit.write(
            AuditAction.IMPORT,
            model="selection.Holding",
            library_id=library.pk,
            after={"holdings": written, "format": fmt, "file": file_name, **counts},
        )
    return {"holdings": written, **counts}


def ordered_titles(library: Library) -> Any:
    """Titles in the adopted orders of the library's campaigns."""
    return SelectionLine.objects.filter(
        selection__campaign__library=library,
        selection__campaign__order_id=F("selection_id"),
    )


def status_keys(library: Library) -> tuple[set[str], set[str]]:
    """(ISBNs and work keys held, those in adopted orders)."""
    held: set[str] = set()
    for isbn, key in Holding.objects.filter(library=library).values_list("isbn", "work_key"):
        held.update(x for x in (isbn, key) if x)
    ordered: set[str] = set()
    for isbn, key in ordered_titles(library).values_list("title__isbn", "title__work_key"):
        ordered.update(x for x in (isbn, key) if x)
    return held, ordered


def status_of(isbn: str, key: str, held: set[str], ordered: set[str]) -> str:
    if (isbn and isbn in held) or (key and key in held):
        return LineStatus.HELD
    if (isbn and isbn in ordered) or (key and key in ordered):
        return LineStatus.ON_ORDER
    return LineStatus.NEW


def mark_titles(library: Library, titles: Any = None) -> dict[str, int]:
    """Every catalogue line held (same ISBN, or the same work under another ISBN), on order (in
    an adopted order) or new.

    The keys are gathered once and the lines compared in Python: correlated EXISTS with an OR
    over ISBN and work key made SQLite scan the order lines once per catalogue line.
    """
    titles = titles if titles is not None else Title.objects.filter(library=library)
    held, ordered = status_keys(library)
    changes: dict[str, list[int]] = defaultdict(list)
    counts = dict.fromkeys(LineStatus.values, 0)
    for pk, isbn, key, status in titles.values_list("pk", "isbn", "work_key", "status").iterator(
        chunk_size=5000
    ):
        new = status_of(isbn, key, held, ordered)
        counts[new] += 1
        if new != status:
            changes[new].append(pk)
    for status, pks in changes.items():
        for start in range(0, len(pks), 900):  # SQLite's bound-parameter limit
            Title.objects.filter(pk__in=pks[start : start + 900]).update(status=status)
    return counts


# --- campaigns ----------------------------------------------------------------------------------


def move_campaign(campaign: Campaign, new: str) -> Campaign:
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        locked.move(new)
        locked.save()
    return locked


def patron_of(user: Any, library: Library) -> Patron | None:
    patron = patron_record(user)  # read once per request, shared with `library_for`
    return patron if patron is not None and patron.library_id == library.pk else None


def may_take_part(user: Any, campaign: Campaign) -> bool:
    """A patron of the campaign's library in an invited category and college, or its staff."""
    if user_can(user, campaign.library_id):
        return True
    patron = patron_of(user, campaign.library)
    if patron is None:
        return False
    if campaign.invited_categories and patron.category not in campaign.invited_categories:
        return False
    return not campaign.invited_colleges or patron.department in campaign.invited_colleges


def isbn_or_blank(text: str) -> str:
    try:
        return parse_isbn(text)
    except IsbnError:
        return ""


def campaign_titles(campaign: Campaign) -> Any:
    # The catalogue ids as a list, not a join through the campaign: with the join PostgreSQL
    # sorted every title of a class (9,500 of 200,000) for each page of 30; with `catalogue_id IN
    # (…)` it walks the (catalogue, class, id) index and stops after the page.
    ids = list(campaign.catalogues.values_list("id", flat=True))
    return Title.objects.filter(catalogue_id__in=ids, library_id=campaign.library_id)


def vote(
    campaign: Campaign,
    user: Any,
    title_id: int,
    reason: str,
    note: str = "",
    *,
    now: dt.datetime | None = None,
) -> Vote:
    """One mark per person and title; refused after closing, outside the window, for a title
    that is held or not in the campaign, and for anyone not invited."""
    now = now or timezone.now()
    if not may_take_part(user, campaign):
        raise PermissionDenied
    if not campaign.is_open_on(timezone.localdate(now)):
        raise ValidationError(_("This campaign is not open for marking."), code="closed")
    return cast(ballot_for(campaign, user), title_id, reason, note, now=now)


def ballot_for(campaign: Campaign, user: Any) -> Ballot:
    """How the user's marks count in the campaign (call after `may_take_part`)."""
    patron = patron_of(user, campaign.library)
    return Ballot(
        campaign=campaign.pk,
        library=campaign.library_id,
        user=user.pk,
        origin=Origin.STAFF if patron is None else Origin.PATRON,
        weight=1 if patron is None else WEIGHTS.get(PatronCategory(patron.category), 1),
        college=(patron.department if patron else "")[:200],
    )


def unvote(campaign: Campaign, user: Any, title_id: int, *, now: dt.datetime | None = None) -> int:
    if not campaign.is_open_on(timezone.localdate(now or timezone.now())):
        raise ValidationError(_("This campaign is not open for marking."), code="closed")
    deleted, _detail = Vote.objects.filter(campaign=campaign, user=user, title_id=title_id).delete()
    return deleted


def decide(campaign: Campaign, title_id: int, decision: str, user: Any) -> Verdict:
    if decision not in Decision.values:
        raise ValidationError(_("Unknown decision."))
    if not campaign_titles(campaign).filter(pk=title_id).exists():
        raise ValidationError(_("This title is not in the campaign's lists."), code="title")
    verdict, _created = Verdict.objects.update_or_create(
        campaign=campaign,
        title_id=title_id,
        defaults={"decision": decision, "decided_by": user, "decided_at": timezone.now()},
    )
    return verdict


# --- selection ----------------------------------------------------------------------------------


@dataclass
class Candidate:
    title: Title
    weight: int
    copies: int
    origin: str
    college: str
    forced: bool


def candidates(campaign: Campaign) -> list[Candidate]:
    """Marked titles, not rejected, not held or on order, one per work (the cheapest line)."""
    per_title: dict[int, dict[str, Any]] = {}
    for title_id, weight, origin, college in Vote.objects.filter(campaign=campaign).values_list(
        "title_id", "weight", "origin", "college"
    ):
        entry = per_title.setdefault(
            title_id, {"weight": 0, "votes": 0, "patron": False, "colleges": defaultdict(int)}
        )
        entry["weight"] += weight
        entry["votes"] += 1
        entry["patron"] |= origin == Origin.PATRON
        if college:
            entry["colleges"][college] += weight
    verdicts = dict(Verdict.objects.filter(campaign=campaign).values_list("title_id", "decision"))
    titles = Title.objects.filter(pk__in=per_title.keys(), status=LineStatus.NEW).only(
        "id", "isbn", "work_key", "price", "clc_class", "title", "library_id"
    )
    by_work: dict[str, Candidate] = {}
    for title in titles:
        if verdicts.get(title.pk) == Decision.REJECTED or title.price is None:
            continue
        entry = per_title[title.pk]
        colleges = entry["colleges"]
        cand = Candidate(
            title=title,
            weight=entry["weight"],
            copies=max(1, min(campaign.max_copies, entry["votes"])),
            origin=Origin.PATRON if entry["patron"] else Origin.STAFF,
            college=max(colleges, key=colleges.get) if colleges else "",
            forced=verdicts.get(title.pk) == Decision.ACCEPTED,
        )
        key = title.dedupe_key
        other = by_work.get(key)
        if other is None:
            by_work[key] = cand
            continue
        # The same work in two vendor lists: one line, the demand of both, the cheaper price.
        merged_weight = other.weight + cand.weight
        keep = cand if (cand.title.price or 0) < (other.title.price or 0) else other
        keep.weight = merged_weight
        keep.copies = min(campaign.max_copies, other.copies + cand.copies)
        keep.forced = other.forced or cand.forced
        keep.origin = Origin.PATRON if Origin.PATRON in (other.origin, cand.origin) else keep.origin
        by_work[key] = keep
    return sorted(by_work.values(), key=lambda c: c.title.pk)


def problem(
    campaign: Campaign, cands: list[Candidate]
) -> tuple[list[knapsack.Item], list[knapsack.Limit]]:
    items = [
        knapsack.Item(
            key=c.title.dedupe_key,
            cost=float((c.title.price or Decimal(0)) * c.copies),
            weight=c.weight,
            forced=c.forced,
            ref=c,
        )
        for c in cands
    ]
    limits = [knapsack.Limit(_("Campaign budget"), float(campaign.budget))]
    # One pass over the candidates, not one per budget (30 budgets × 200,000 titles).
    by_class: dict[str, list[int]] = defaultdict(list)
    by_college: dict[str, list[int]] = defaultdict(list)
    for i, c in enumerate(cands):
        by_class[c.title.clc_class].append(i)
        by_college[c.college].append(i)
    for budget in campaign.budgets.all():
        groups = by_class if budget.kind == BudgetKind.CLC else by_college
        members = groups.get(budget.key, [])
        if members:
            limits.append(knapsack.Limit(budget.key, float(budget.amount), members))
    return items, limits


def run_selection(
    campaign: Campaign, method: str = Method.EXACT, user: Any = None, *, time_limit: float = 30.0
) -> Selection:
    cands = candidates(campaign)
    items, limits = problem(campaign, cands)
    started = time.perf_counter()
    if method == Method.EXACT:
        chosen, status = knapsack.solve(items, limits, time_limit=time_limit)
    else:
        chosen, status = knapsack.greedy(items, limits), "greedy"
    seconds = time.perf_counter() - started
    with transaction.atomic():
        selection = Selection.objects.create(
            campaign=campaign,
            method=method,
            solver_status=status[:20],
            seconds=seconds,
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        lines = [
            SelectionLine(
                selection=selection,
                title=c.title,
                copies=c.copies,
                price=c.title.price or Decimal(0),
                weight=c.weight,
                origin=c.origin,
                college=c.college[:200],
                clc_class=c.title.clc_class,
            )
            for c, keep in zip(cands, chosen, strict=True)
            if keep
        ]
        _bulk(SelectionLine, lines)
        selection.titles = len(lines)
        selection.copies = sum(line.copies for line in lines)
        selection.spend = sum((line.price * line.copies for line in lines), Decimal(0))
        selection.demand = sum(line.weight for line in lines)
        selection.save()
    return selection


def adopt(selection: Selection) -> Campaign:
    """The selection becomes the campaign's order; its titles are on order everywhere else."""
    campaign = selection.campaign
    with transaction.atomic():
        campaign.order = selection
        campaign.save(update_fields=["order"])
        mark_titles(campaign.library)
    return campaign
