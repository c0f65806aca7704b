"""Scopus CSV export, read with the standard `csv` module (RFC 4180 with quoted newlines).

Column names changed over the years (`Source title`, `Author full names`, `Authors ID`); they are
looked up by name, never by position. A row whose field count differs from the header is refused
with its line: that is what two exports pasted into one file look like.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

from django.utils.translation import gettext as _

from lifeline.research.logic.records import (
    ParseError,
    Record,
    dois_in,
    int_or_none,
    normalise_doi,
    split_names,
    year_of,
)


def parse(text: str) -> Iterator[Record]:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    header: list[str] = []
    for row in reader:
        line = reader.line_num
        if not header:
            header = [h.strip().lstrip("\ufeff") for h in row]
            if "Title" not in header:
                raise ParseError(_("the header row has no Title column"), line)
            continue
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise ParseError(
                _("%(found)d fields where the header has %(expected)d")
                % {"found": len(row), "expected": len(header)},
                line,
            )
        cells = dict(zip(header, row, strict=True))
        link = cells.get("Link", "")
        eid = cells.get("EID", "").strip() or (
            m.group(1) if (m := re.search(r"eid=(2-s2\.0-\d+)", link)) else ""
        )
        refs = split_names(cells.get("References", ""))
        full = [
            re.sub(r"\s*\(\d+\)$", "", a) for a in split_names(cells.get("Author full names", ""))
        ]
        short = cells.get("Authors", "")
        authors = full or (
            split_names(short)
            if ";" in short
            else [a.strip() for a in re.split(r"(?<=\.),\s*", short) if a.strip()]
        )
        yield Record(
            source="scopus",
            line=line,
            title=cells.get("Title", "").strip(),
            authors=authors,
            year=year_of(cells.get("Year", "")),
            journal=cells.get("Source title", "").strip(),
            issn=cells.get("ISSN", "").strip(),
            volume=cells.get("Volume", "").strip(),
            issue=cells.get("Issue", "").strip(),
            pages="-".join(
                p for p in (cells.get("Page start", ""), cells.get("Page end", "")) if p.strip()
            ),
            doi=normalise_doi(cells.get("DOI", "")),
            scopus_eid=eid,
            doc_type=cells.get("Document Type", "").strip(),
            language=cells.get("Language of Original Document", "").strip(),
            times_cited=int_or_none(cells.get("Cited by", "")),
            affiliations=split_names(cells.get("Affiliations", "")),
            references=refs,
            cited_dois=[d for r in refs for d in dois_in(r) if d],
        )
