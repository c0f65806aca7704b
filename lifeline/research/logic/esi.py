"""Import of Essential Science Indicators exports (the CSV files ESI's pages download).

No ESI export could be found among public samples, so the reader follows the layout ESI's
downloads are documented and known to have: a few title lines before the table (the report name,
"Data from ... - ...", filters), one header row, the rows, then footer lines (a copyright line, a
blank line). Quoted cells, thousands separators ("1,234"), field names in capitals. The parser
finds the header row by its column names and stops at the first line that is not a data row
after the table. Three exports are read:

- Citation thresholds ("ESI Thresholds"): Research Fields, Author, Institution, Journal,
  Country/Territory: the institution column is the top-1% line an institution must reach.
- Baselines, percentiles: Research Fields, Percentage (0.01 %, 0.10 %, 1.00 %, 10.00 % ...) and
  one column per year: citations a paper needs to be in that top share.
- The master journal list: Full title, Title29, Title20, ISSN, EISSN, Category name: a journal's
  field (ESI assigns each journal to one of its 22 fields).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from lifeline.core import audit
from lifeline.core.choices import AuditAction
from lifeline.core.models import Library
from lifeline.research.logic.analysis import ESI_FIELDS
from lifeline.research.logic.records import ParseError, decode, normalise_title
from lifeline.research.models import EsiBaseline, EsiJournal, EsiThreshold

FIELD_KEYS = {re.sub(r"[^a-z]", "", f.casefold()): f for f in ESI_FIELDS}
FIELD_KEYS["environmentecology"] = "Environment/Ecology"
FIELD_KEYS["socialsciences"] = "Social Sciences, General"


def field_name(text: str) -> str | None:
    """ESI's field whatever its case ("AGRICULTURAL SCIENCES", "Plant & Animal Science")."""
    key = re.sub(r"[^a-z]", "", (text or "").casefold())
    return FIELD_KEYS.get(key) or FIELD_KEYS.get(key.removesuffix("general"))


def _number(text: str, line: int) -> int:
    clean = (text or "").replace(",", "").replace(" ", "").strip()
    if not re.fullmatch(r"\d+(\.\d+)?", clean):
        raise ParseError(_("not a number: %(text)s") % {"text": (text or "")[:20]}, line)
    return int(Decimal(clean))


def _key(cell: str) -> str:
    return re.sub(r"[^a-z0-9]", "", (cell or "").casefold())


@dataclass
class Table:
    kind: str  # "thresholds", "baselines", "journals"
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (line, cells)


def read_table(data: bytes) -> Table:
    """Find the header row, read rows until the footer. Raises ParseError naming the line."""
    rows = list(csv.reader(decode(data).splitlines()))
    for number, row in enumerate(rows, start=1):
        keys = [_key(c) for c in row]
        if "researchfields" in keys and "institution" in keys:
            kind = "thresholds"
        elif "researchfields" in keys and ("percentage" in keys or "percentile" in keys):
            kind = "baselines"
        elif "fulltitle" in keys and "categoryname" in keys:
            kind = "journals"
        else:
            continue
        body: list[tuple[int, list[str]]] = []
        for line, cells in enumerate(rows[number:], start=number + 1):
            if not any(c.strip() for c in cells):
                continue
            if len([c for c in cells if c.strip()]) == 1 and len(row) > 2:
                # a footer or note line ("Copyright © 2020 Clarivate", "Data from ...")
                continue
            body.append((line, cells))
        return Table(kind, [_key(c) for c in row], body)
    raise ParseError(
        _("no ESI table found: the file has no header row with Research Fields or Full title")
    )


def _cell(table: Table, cells: list[str], *names: str) -> str:
    for name in names:
        if name in table.header:
            i = table.header.index(name)
            return cells[i].strip() if i < len(cells) else ""
    return ""


@transaction.atomic
def import_esi(library: Library, edition: str, data: bytes) -> tuple[str, int]:
    """Replace the edition's thresholds or baselines, or the journal list; (kind, rows)."""
    edition = (edition or "").strip()[:40]
    table = read_table(data)
    if table.kind == "journals":
        journals = []
        for line, cells in table.rows:
            title = _cell(table, cells, "fulltitle")
            field = field_name(_cell(table, cells, "categoryname"))
            if not title:
                continue
            if field is None:
                raise ParseError(
                    _("not an ESI field: %(text)s")
                    % {"text": _cell(table, cells, "categoryname")[:60]},
                    line,
                )
            issn = _cell(table, cells, "issn", "eissn").upper()[:9]
            journals.append(
                EsiJournal(
                    library=library,
                    title=title[:500],
                    title_key=normalise_title(title),
                    issn=issn,
                    field=field,
                )
            )
        EsiJournal.objects.filter(library=library).delete()
        EsiJournal.objects.bulk_create(journals, batch_size=2000)
        count = len(journals)
    else:
        if not edition:
            raise ParseError(_("Please name the ESI edition (e.g. 2020-11)."))
        count = (
            _thresholds(library, edition, table)
            if table.kind == "thresholds"
            else _baselines(library, edition, table)
        )
    from lifeline.research.logic import subject

    subject.data_changed(library)
    audit.write(
        AuditAction.IMPORT,
        model="research.esi",
        library_id=library.pk,
        after={"kind": table.kind, "edition": edition, "rows": count},
    )
    return table.kind, count


def _field_of(table: Table, cells: list[str], line: int) -> str | None:
    text = _cell(table, cells, "researchfields")
    if _key(text) in ("allfields", ""):
        return None  # ESI's total row
    field = field_name(text)
    if field is None:
        raise ParseError(_("not an ESI field: %(text)s") % {"text": text[:60]}, line)
    return field


def _thresholds(library: Library, edition: str, table: Table) -> int:
    rows = []
    for line, cells in table.rows:
        field = _field_of(table, cells, line)
        if field is None:
            continue
        author = _cell(table, cells, "author")
        rows.append(
            EsiThreshold(
                library=library,
                edition=edition,
                field=field,
                institution=_number(_cell(table, cells, "institution"), line),
                author=_number(author, line) if author else None,
            )
        )
    if not rows:
        raise ParseError(_("The file holds no records."))
    EsiThreshold.objects.filter(library=library, edition=edition).delete()
    EsiThreshold.objects.bulk_create(rows)
    return len(rows)


def _baselines(library: Library, edition: str, table: Table) -> int:
    years = [(i, int(h)) for i, h in enumerate(table.header) if re.fullmatch(r"(19|20)\d\d", h)]
    if not years:
        raise ParseError(_("the header row names no year columns"), 1)
    rows = []
    for line, cells in table.rows:
        field = _field_of(table, cells, line)
        if field is None:
            continue
        text = _cell(table, cells, "percentage", "percentile").rstrip("%").strip()
        try:
            percent = Decimal(text)
        except InvalidOperation as exc:
            raise ParseError(_("not a number: %(text)s") % {"text": text[:20]}, line) from exc
        for i, year in years:
            if i < len(cells) and cells[i].strip():
                rows.append(
                    EsiBaseline(
                        library=library,
                        edition=edition,
                        field=field,
                        year=year,
                        percent=percent,
                        citations=_number(cells[i], line),
                    )
                )
    if not rows:
        raise ParseError(_("The file holds no records."))
    EsiBaseline.objects.filter(library=library, edition=edition).delete()
    EsiBaseline.objects.bulk_create(rows)
    return len(rows)
