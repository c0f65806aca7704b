"""Header row → columns, and each data row → parsed values, collecting every problem."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from lifeline.registry.io.columns import COLUMNS, Column, describe_columns
from lifeline.registry.io.reading import Table
from lifeline.registry.io.report import Issue
from lifeline.registry.io.values import CellError, as_text, norm


@dataclass
class ParsedRow:
    table: Table
    line: int
    values: dict[str, Any]
    # field → column name as written in the file, for error messages
    columns: dict[str, str] = field(default_factory=dict)

    def issue(self, field_name: str, message: str) -> Issue:
        return Issue(self.table.source, self.line, self.columns.get(field_name, ""), message)


def map_headers(table: Table, kind: str, errors: list[Issue]) -> dict[int, Column] | None:
    """Column index → Column. Unknown, repeated and missing columns are errors."""
    lookup: dict[str, Column] = {}
    for column in COLUMNS[kind]:
        for name in column.matches():
            lookup.setdefault(name, column)
    mapping: dict[int, Column] = {}
    seen: dict[str, int] = {}
    ok = True
    for index, header in enumerate(table.headers):
        where = table.column_name(index)
        if not header:
            errors.append(
                Issue(table.source, table.header_line, where, _("This column has no header."))
            )
            ok = False
            continue
        column = lookup.get(norm(header))  # type: ignore[assignment]
        if column is None:
            errors.append(
                Issue(
                    table.source,
                    table.header_line,
                    where,
                    _("Unknown column “%(header)s”. %(known)s")
                    % {"header": header, "known": describe_columns(kind)},
                )
            )
            ok = False
        elif column.field in seen:
            errors.append(
                Issue(
                    table.source,
                    table.header_line,
                    where,
                    _("Column “%(header)s” repeats column %(other)s.")
                    % {"header": header, "other": table.column_name(seen[column.field])},
                )
            )
            ok = False
        else:
            seen[column.field] = index
            mapping[index] = column
    for column in COLUMNS[kind]:
        if column.required and column.field not in seen:
            errors.append(
                Issue(
                    table.source,
                    table.header_line,
                    "",
                    _("Required column “%(zh)s” / “%(en)s” is missing.")
                    % {"zh": column.zh, "en": column.en},
                )
            )
            ok = False
    return mapping if ok else None


def parse_rows(table: Table, mapping: dict[int, Column], errors: list[Issue]) -> list[ParsedRow]:
    names = {column.field: table.column_name(i) for i, column in mapping.items()}
    parsed = []
    for row in table.rows:
        values: dict[str, Any] = {}
        bad = False
        if len(row.cells) > len(table.headers) and any(
            as_text(c) for c in row.cells[len(table.headers) :]
        ):
            errors.append(
                Issue(
                    table.source,
                    row.line,
                    "",
                    _("The row has more cells than the header has columns."),
                )
            )
            bad = True
        for index, column in mapping.items():
            raw = row.cells[index] if index < len(row.cells) else None
            try:
                value = column.parse(raw)
            except CellError as exc:
                errors.append(Issue(table.source, row.line, names[column.field], str(exc)))
                bad = True
                continue
            if column.required and value in ("", None):
                errors.append(
                    Issue(table.source, row.line, names[column.field], _("This value is required."))
                )
                bad = True
            values[column.field] = value
        if not bad:
            parsed.append(ParsedRow(table, row.line, values, names))
    return parsed
