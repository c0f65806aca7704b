"""Exports to XLSX and CSV that are safe to open in Excel or WPS.

A cell that starts with = + - @ (or a tab / carriage return) is run as a formula by
spreadsheet programs ("=cmd|' /C calc'!A0"); OWASP's advice is to prefix such text
with a single quote. Numbers are left alone.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def xlsx_bytes(sheets: Mapping[str, tuple[Sequence[str], Iterable[Sequence[Any]]]]) -> bytes:
    """Sheets by name: (header, rows). Header bold and frozen, columns sized to their content."""
    wb = Workbook(write_only=False)
    wb.remove(wb.active)
    for name, (header, rows) in sheets.items():
        ws = wb.create_sheet(title=name[:31])
        ws.append([safe_cell(h) for h in header])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        widths = [len(str(h)) for h in header]
        for row in rows:
            values = [safe_cell(v) for v in row]
            ws.append(values)
            for i, v in enumerate(values[: len(widths)]):
                widths[i] = max(widths[i], min(60, len(str(v)) if v is not None else 0))
        for i, w in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = max(8, w + 2)
        ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """CSV with a UTF-8 BOM so that Excel on Chinese Windows opens it without mojibake."""
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.writer(buf)
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell("" if v is None else v) for v in row])
    return buf.getvalue()
