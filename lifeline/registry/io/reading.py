"""Bytes → tables of cells. Detects CSV versus XLSX by content, the text encoding of CSV
(UTF-8 with or without BOM, else GB18030, the superset of GBK), and refuses binary files,
legacy .xls, zip bombs and files above the size limit before reading them whole."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

from lifeline.core.uploads import check_zip

XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls / .doc


class FileRefused(Exception):
    """The whole file cannot be used; the message says why."""


@dataclass
class Row:
    line: int
    cells: list[Any]


@dataclass
class Table:
    source: str
    headers: list[str]
    rows: list[Row] = field(default_factory=list)
    sheet: str = ""
    letters: bool = False  # XLSX columns are named by letter, CSV columns by number
    header_line: int = 1

    def column_name(self, index: int) -> str:
        header = self.headers[index] if index < len(self.headers) else ""
        where = get_column_letter(index + 1) if self.letters else str(index + 1)
        return f"{where} {header}".strip() if header else where


def max_bytes(override: int | None = None) -> int:
    return override if override is not None else int(settings.LIFELINE_MAX_UPLOAD_BYTES)


def human_size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"


def read_limited(stream: IO[bytes], limit: int, size: int | None = None) -> bytes:
    """Read at most `limit` bytes; refuse (without reading on) when the file is bigger."""
    if size is not None and size > limit:
        raise FileRefused(
            _("The file is %(size)s, above the limit of %(limit)s.")
            % {"size": human_size(size), "limit": human_size(limit)}
        )
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise FileRefused(
            _("The file is larger than the limit of %(limit)s.") % {"limit": human_size(limit)}
        )
    return data


def read_path(path: str | Path, limit: int) -> bytes:
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            return read_limited(fh, limit, size)
    except FileNotFoundError as exc:
        raise FileRefused(_("No such file: %(path)s") % {"path": path}) from exc
    except IsADirectoryError as exc:
        raise FileRefused(_("%(path)s is a directory, not a file.") % {"path": path}) from exc


def decode_text(data: bytes) -> tuple[str, str]:
    """(text, encoding name). UTF-8 first: a GBK reading of UTF-8 bytes 'succeeds' as mojibake."""
    if b"\x00" in data[:8192]:
        raise FileRefused(_("This is a binary file, not CSV text or an XLSX workbook."))
    if data.startswith(b"\xef\xbb\xbf"):
        encodings = [("utf-8-sig", "UTF-8 (BOM)")]
    else:
        encodings = [("utf-8", "UTF-8"), ("gb18030", "GB18030/GBK")]
    for codec, name in encodings:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        if _looks_binary(text):
            break
        return text, name
    raise FileRefused(
        _(
            "The file is neither UTF-8 nor GBK/GB18030 text, nor an XLSX workbook: is it the right file?"  # noqa: E501
        )
    )


def _looks_binary(text: str) -> bool:
    sample = text[:8192]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\r\n\t")
    return bool(sample) and controls / len(sample) > 0.01


def csv_tables(text: str, source: str) -> list[Table]:
    sample = text[:4096]
    delimiter = (
        "\t" if sample.split("\n", 1)[0].count("\t") > sample.split("\n", 1)[0].count(",") else ","
    )
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    table: Table | None = None
    start = 1
    try:
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue
            if table is None:
                table = Table(source=source, headers=[c.strip() for c in cells], header_line=line)
            else:
                table.rows.append(Row(line, cells))
    except csv.Error as exc:
        raise FileRefused(
            _("%(source)s:%(line)d: the CSV is malformed (%(error)s).")
            % {"source": source, "line": start, "error": exc}
        ) from exc
    return [table] if table is not None else []


def _xlsx_rows(ws: Any) -> Iterator[tuple[int, list[Any]]]:
    for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
        if any(v not in (None, "") for v in values):
            yield number, list(values)


def xlsx_tables(data: bytes, source: str, zip_checked: bool = False) -> list[Table]:
    """The workbook's sheets as tables. Bytes that did not come through core.uploads.read_upload
    (a command's file, another app's sheet) get its ZIP bomb check here: one rule for all."""
    from openpyxl import load_workbook

    if not zip_checked:
        try:
            check_zip(data, source)
        except ValidationError as exc:
            raise FileRefused(" ".join(exc.messages)) from exc
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken workbook
        raise FileRefused(
            _("The XLSX workbook cannot be read: %(error)s") % {"error": exc}
        ) from exc
    tables = []
    try:
        for ws in wb.worksheets:
            table: Table | None = None
            for number, values in _xlsx_rows(ws):
                if table is None:
                    headers = [("" if v is None else str(v).strip()) for v in values]
                    while headers and not headers[-1]:
                        headers.pop()
                    table = Table(
                        source=f"{source} › {ws.title}",
                        headers=headers,
                        sheet=ws.title,
                        letters=True,
                        header_line=number,
                    )
                else:
                    table.rows.append(Row(number, values))
            if table is not None:
                tables.append(table)
    finally:
        wb.close()
    return tables


def read_tables(data: bytes, source: str, zip_checked: bool = False) -> tuple[list[Table], str]:
    """Tables in the file and a word on its format/encoding for the report."""
    if data.startswith(XLSX_MAGIC):
        return xlsx_tables(data, source, zip_checked), "XLSX"
    if data.startswith(OLE_MAGIC):
        raise FileRefused(
            _("Old Excel .xls files are not supported: save the sheet as .xlsx or CSV.")
        )
    text, encoding = decode_text(data)
    tables = csv_tables(text, source)
    if not tables:
        raise FileRefused(_("The file is empty."))
    return tables, encoding
