"""RIS (Scopus, IEEE Xplore, EBSCOhost, CNKI, most databases) read with `rispy`, the maintained
RIS library on PyPI. Mixed line endings (IEEE writes lone CRs) are made LF first.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import rispy
from django.utils.translation import gettext as _

from lifeline.research.logic.records import (
    ParseError,
    Record,
    int_or_none,
    normalise_doi,
    year_of,
)

SOURCE_HINTS = (("scopus", "scopus"), ("ieee", "other"), ("cnki", "cnki"), ("wanfang", "wanfang"))


def _first(entry: dict[str, Any], *keys: str) -> str:
    for key in keys:
        value = entry.get(key)
        if isinstance(value, list):
            value = value[0] if value else ""
        if value:
            return str(value).strip()
    return ""


def parse(text: str) -> Iterator[Record]:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    starts = [m.start() for m in re.finditer(r"(?m)^TY  - ", text)]
    if not starts:
        raise ParseError(_("no RIS record (TY line) found"), 1)
    if not re.search(r"(?m)^ER  -", text[starts[-1] :]):
        line = text.count("\n", 0, starts[-1]) + 1
        raise ParseError(_("the file ends inside a record (truncated export?)"), line)
    try:
        entries = rispy.loads(text, skip_unknown_tags=True)
    except Exception as exc:  # rispy raises plain IOError/ValueError/KeyError on defects
        raise ParseError(
            _("not a readable RIS file: %(error)s") % {"error": str(exc)[:200]}
        ) from exc
    lower = text[:4000].lower()
    source = next((code for hint, code in SOURCE_HINTS if hint in lower), "other")
    for entry, start in zip(entries, starts, strict=False):
        notes = " ".join(entry.get("notes", []) or [])
        cited = re.search(r"Cited By\s*:?\s*(\d+)", notes, re.IGNORECASE)
        url = " ".join(entry.get("urls", []) or [])
        eid = re.search(r"eid=(2-s2\.0-\d+)", url)
        authors = entry.get("authors") or entry.get("first_authors") or []
        if len(authors) == 1 and ";" in authors[0]:
            authors = [a.strip() for a in authors[0].split(";") if a.strip()]
        yield Record(
            source="scopus" if eid else source,
            line=text.count("\n", 0, start) + 1,
            title=_first(entry, "title", "primary_title", "translated_title"),
            authors=list(dict.fromkeys(a.strip() for a in authors if a.strip())),
            year=year_of(_first(entry, "year", "publication_year", "date")),
            journal=_first(entry, "journal_name", "secondary_title", "alternate_title3"),
            issn=_first(entry, "issn"),
            volume=_first(entry, "volume"),
            issue=_first(entry, "number"),
            pages="-".join(
                p for p in (_first(entry, "start_page"), _first(entry, "end_page")) if p
            ),
            doi=normalise_doi(_first(entry, "doi")),
            scopus_eid=eid.group(1) if eid else "",
            doc_type=_first(entry, "type_of_reference"),
            language=_first(entry, "language"),
            times_cited=int_or_none(cited.group(1)) if cited else None,
        )
