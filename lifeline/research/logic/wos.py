"""Web of Science exports: "Plain text" (field-tagged) and "Tab-delimited" (Win/Mac, UTF-8/UTF-16).

Hand-written on purpose. The field-tagged format is Clarivate's documented one (two-letter tag,
a space, the value; continuation lines indented three spaces; `ER` ends a record, `EF` the file).
The Python parsers that exist (`wosfile`, `tethne`, `metaknowledge`) are unmaintained for years,
read files from disk rather than bytes, or pull in a whole analysis stack; none reports the line of
a defect, which an all-or-nothing import needs. The format is small enough to read here exactly.
"""

from __future__ import annotations

import csv
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

TAG_RE = re.compile(r"^([A-Z][A-Z0-9]) ?(.*)$")
# Fields whose continuation lines are separate values (one per line); the rest are joined.
LIST_TAGS = {"AU", "AF", "CR", "C1", "C3", "BA", "BF", "ED", "RP", "EM", "WC", "SC"}


def _record(fields: dict[str, list[str]], line: int) -> Record:
    def one(tag: str) -> str:
        # values are stripped as they are read: a single one needs no join (the common case)
        values = fields.get(tag)
        if not values:
            return ""
        return values[0] if len(values) == 1 else " ".join(values).strip()

    authors = fields.get("AF") or fields.get("AU") or []
    refs = fields.get("CR", [])
    ut = one("UT")
    return Record(
        source="wos",
        line=line,
        title=one("TI"),
        authors=[a for a in authors if a],  # values are stripped as they are read
        year=year_of(one("PY")) or year_of(one("EA")),
        journal=one("SO"),
        issn=one("SN") or one("EI"),
        volume=one("VL"),
        issue=one("IS"),
        pages="-".join(p for p in (one("BP"), one("EP")) if p) or one("AR"),
        doi=normalise_doi(one("DI")),
        wos_ut=ut.upper().removeprefix("WOS:").strip() if ut else "",
        doc_type=one("DT"),
        language=one("LA"),
        times_cited=int_or_none(one("TC")),
        affiliations=[a for a in fields.get("C1", ()) if a],
        references=refs,
        # most references name no DOI: look for one only where "10." occurs
        cited_dois=[d for ref in refs if "10." in ref for d in dois_in(ref) if d],
    )


# The fields `_record` reads; the fast path below finds only these.
USED_TAGS = ("TI", "AF", "AU", "CR", "UT", "PY", "EA", "SO", "SN", "EI", "VL", "IS", "BP", "EP",
             "AR", "DI", "DT", "LA", "TC", "C1")  # fmt: skip
USED_FIELD_RE = re.compile(r"\n(" + "|".join(USED_TAGS) + r")([^\n]*(?:\n   [^\n]*)*)")
# a line the line-by-line parser would refuse or treat specially: not a tag, not a
# continuation (three spaces), not empty
ODD_LINE_RE = re.compile(r"\n(?![A-Z][A-Z0-9]|   |\n|$)")
BETWEEN_RE = re.compile(r"(?:\n(?:FN|VR)[^\n]*|\n)*")
CONTINUATION = "\n   "


def parse_plain(text: str) -> Iterator[Record]:
    """Records of a field-tagged export: the fast path for a well-formed file, else the line by
    line parser (which names the line of a defect). Both give the same records (tested)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.lstrip("\ufeff")
    records = _parse_plain_fast(text)
    if records is None:
        return parse_plain_lines(text)
    return iter(records)


def _fields_of(body: str, first: str) -> dict[str, list[str]]:
    """The used fields of one record's text (from its PT line's value on), as the line parser
    would collect them: a value per tag line, continuation lines appended (list tags) or
    joined to it."""
    fields: dict[str, list[str]] = {"PT": [first]}
    for tag, raw in USED_FIELD_RE.findall(body):
        if CONTINUATION in raw:
            head, *rest = raw.split(CONTINUATION)
            more = [v for v in (r.strip() for r in rest) if v]
            value = head.strip()
            if tag in LIST_TAGS:
                values = [value, *more]
            else:
                values = [" ".join([value, *more])] if more else [value]
                if not value and more:
                    values = [" " + " ".join(more)]
        else:
            values = [raw.strip()]
        got = fields.get(tag)
        if got is None:
            fields[tag] = values
        else:
            got.extend(values)
    return fields


def _parse_plain_fast(text: str, first_line: int = 1) -> list[Record] | None:
    """Records of a well-formed export with the scanning done by `re` and `str` methods in C
    (the line loop below costs a Python step per line: 69 lines a record, 69 million for a
    million records). None when anything is unusual (an odd line, a field outside a record,
    a record without ER, a truncated file, FN/VR/EF inside a record): the line parser then
    reads the file and names the defect. `first_line`: the number of the text's first line (a
    piece of a larger export, `wospool`)."""
    text = "\n" + text
    end = text.find("\nEF")
    if end < 0:
        end = len(text)
    # a continuation after a blank line belongs to the field before the blank: the line parser's
    if ODD_LINE_RE.search(text, 0, end) or text.find("\n\n   ", 0, end) >= 0:
        return None
    records: list[Record] = []
    chunks = text[:end].split("\nER")
    tail = chunks.pop()  # after the last ER: only its own line's rest and blank/FN/VR lines
    nl = tail.find("\n")
    if (nl >= 0 and BETWEEN_RE.fullmatch(tail, nl) is None) or (nl < 0 and not chunks):
        return None
    line = first_line  # the "\n" added in front is not a line of the file
    for i, chunk in enumerate(chunks):
        pt = chunk.find("\nPT")
        if pt < 0:
            return None
        lead = 0 if i == 0 else chunk.find("\n")  # the previous ER line's rest
        if lead < 0 or BETWEEN_RE.fullmatch(chunk, lead, pt) is None:
            return None
        body = chunk[pt + 3 :]
        if "\nPT" in body or "\nFN" in body or "\nVR" in body:
            return None
        start = line + chunk.count("\n", 0, pt)
        first, _sep, _rest = body.partition("\n")
        records.append(_record(_fields_of(body, first.strip()), start))
        line += chunk.count("\n") + 1  # and the ER line's own
    return records


def parse_plain_lines(text: str) -> Iterator[Record]:
    """Records of a field-tagged export; a record cut off before its `ER` is an error.

    The loop is the import's hot path (a million records is some 45 million lines): it slices
    the two-letter tag instead of matching a regular expression per line, checks each distinct
    tag's shape once, and strips each line once.
    """
    fields: dict[str, list[str]] | None = None
    start = 0
    tag = ""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.lstrip("\ufeff")
    shapes: dict[str, bool] = {}
    for number, raw in enumerate(text.split("\n"), start=1):
        if not raw:
            continue
        if raw[0] == " ":
            value = raw.strip()
            if not value:
                continue
            if fields is not None and tag and raw.startswith("   "):
                if tag in LIST_TAGS:
                    fields[tag].append(value)
                else:
                    fields[tag][-1] += " " + value
                continue
            raise ParseError(
                _("not a Web of Science field line: %(text)s") % {"text": raw.rstrip()[:60]}, number
            )
        new = raw[:2]
        shape = shapes.get(new)
        if shape is None:
            shape = shapes[new] = TAG_RE.match(new) is not None and len(new) == 2
        if not shape:
            line = raw.rstrip()
            if not line:
                continue
            raise ParseError(
                _("not a Web of Science field line: %(text)s") % {"text": line[:60]}, number
            )
        tag, value = new, raw[2:].strip()
        if tag == "ER":
            if fields is None:
                raise ParseError(_("a field outside any record (no PT line before it)"), number)
            yield _record(fields, start)
            fields, tag = None, ""
        elif tag == "PT":
            if fields is not None:
                raise ParseError(_("the record has no ER line"), start)
            fields, start = {"PT": [value]}, number
        elif tag in ("FN", "VR"):
            continue
        elif tag == "EF":
            if fields is not None:
                raise ParseError(_("the record has no ER line"), start)
            return
        elif fields is None:
            raise ParseError(_("a field outside any record (no PT line before it)"), number)
        elif tag in fields:
            fields[tag].append(value)
        else:
            fields[tag] = [value]
    if fields is not None:
        raise ParseError(_("the file ends inside a record (truncated export?)"), start)


def parse_tab(text: str) -> Iterator[Record]:
    """Tab-delimited export: a header row of field tags, then one record per row. Windows exports
    end every row with a tab, so one empty field more than the header is allowed.
    """
    rows = csv.reader(text.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE)
    header: list[str] = []
    for number, row in enumerate(rows, start=1):
        if not header:
            header = [h.strip().lstrip("\ufeff") for h in row]
            while header and not header[-1]:
                header.pop()
            if "PT" not in header or "TI" not in header:
                raise ParseError(_("the header row has no PT and TI columns"), number)
            continue
        if not any(cell.strip() for cell in row):
            continue
        extra = row[len(header) :]
        if len(row) < len(header) or any(cell.strip() for cell in extra):
            raise ParseError(
                _("%(found)d fields where the header has %(expected)d")
                % {"found": len(row), "expected": len(header)},
                number,
            )
        cells = dict(zip(header, row, strict=False))
        fields = {
            tag: (split_names(value) if tag in LIST_TAGS else [value])
            for tag, value in cells.items()
            if value.strip()
        }
        if "C1" in fields:
            fields["C1"] = [a for a in re.split(r";\s*(?=\[)|;\s*$", cells["C1"]) if a.strip()]
        yield _record(fields, number)
