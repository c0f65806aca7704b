"""MARC catalogues and holdings: MARC 21 and UNIMARC/CNMARC, ISO 2709 and MARCXML, via pymarc.

All or nothing: a record pymarc cannot read, a record without a title or a vendor ISBN that fails
its checksum stops the whole file, and the message names the record (its number in the file and
its byte offset for ISO 2709). Encodings: UTF-8 when the bytes are UTF-8; otherwise MARC-8 for
MARC 21 (pymarc's decoder) and GB18030 (the superset of GBK) for CNMARC, whose records carry
their character set in 100$a rather than in the leader.
"""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

import pymarc
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from lifeline.selection.choices import MarcFlavour
from lifeline.selection.logic.normalise import (
    IsbnError,
    parse_isbn,
    parse_price,
    tidy,
    year_of,
)

# Stop after this many problems: the message stays readable, the file is refused either way.
MAX_PROBLEMS = 20


class ImportRefused(Exception):
    """The file is refused as a whole; `problems` name the records or lines."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(slots=True)
class Line:
    """One title read from a catalogue or a holdings file."""

    where: object  # "line 5", or a MARC record's `Where` (put into words when shown)
    title: str
    isbn: str = ""
    isbn_raw: str = ""
    author: str = ""
    publisher: str = ""
    year: int | None = None
    price: Decimal | None = None
    clc: str = ""
    extra: dict[str, str] = field(default_factory=dict)


# Marked with gettext_noop so that makemessages finds them; translated when shown.
_READ_ERRORS = {
    "RecordLengthInvalid": gettext_noop("the record length in the leader is not a number"),
    "RecordLeaderInvalid": gettext_noop("the leader is not 24 characters"),
    "BaseAddressNotFound": gettext_noop("the leader has no base address of the data"),
    "BaseAddressInvalid": gettext_noop("the base address in the leader points past the record"),
    "RecordDirectoryInvalid": gettext_noop("the directory does not match the fields"),
    "NoFieldsFound": gettext_noop("the record has no fields"),
    "TruncatedRecord": gettext_noop("the file ends in the middle of the record (truncated)"),
    "EndOfRecordNotFound": gettext_noop("the record is not where its leader's length says it ends"),
    "UnicodeDecodeError": gettext_noop("the text is not in the encoding the record declares"),
    "ValueError": gettext_noop("a length or offset is not a number"),
}


def _describe(exc: BaseException | None) -> str:
    name = type(exc).__name__ if exc is not None else "unknown"
    reason = _READ_ERRORS.get(name)
    return _(reason) if reason else _("unreadable (%(error)s)") % {"error": name}


def is_xml(data: bytes) -> bool:
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"<")


def looks_iso2709(head: bytes) -> bool:
    """A MARC leader: record length and base address of the data as digits."""
    return len(head) >= 24 and head[:5].isdigit() and head[12:17].isdigit()


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class Where:
    """A record's place in the file, put into words only when a message needs it: formatting
    a translated string for each of 200,000 good records cost more than reading their ISBNs."""

    __slots__ = ("number", "offset")

    def __init__(self, number: int, offset: int | None = None) -> None:
        self.number = number
        self.offset = offset

    def __str__(self) -> str:
        if self.offset is None:
            return _("record %(n)d") % {"n": self.number}
        return _("record %(n)d (byte %(offset)d)") % {"n": self.number, "offset": self.offset}


def read_records(data: bytes, flavour: str) -> list[tuple[Where, pymarc.Record]]:
    """(where, record) for each record, or `ImportRefused`."""
    return list(iter_records(data, flavour))


Progress = Callable[[int, int], None]  # (bytes read, bytes in all)
PROGRESS_EVERY = 5000  # records


def iter_records(
    data: bytes, flavour: str, progress: Progress | None = None
) -> Iterator[tuple[Where, pymarc.Record]]:
    """(where, record) one at a time (a 200,000-record file is never held as records), then
    `ImportRefused` at the end if any record was unreadable."""
    if is_xml(data):
        yield from _read_xml(data)
    else:
        yield from _read_iso(data, flavour, progress)


def _read_iso(
    data: bytes, flavour: str, progress: Progress | None = None
) -> Iterator[tuple[Where, pymarc.Record]]:
    # Exports often end in a newline or blank padding after the last record terminator.
    data = data.rstrip(b"\r\n \x00\x1a")
    if not data:
        raise ImportRefused([_("The file is empty.")])
    if not looks_iso2709(data):
        raise ImportRefused(
            [_("Record 1 (byte 0): the file does not start with a MARC leader (ISO 2709).")]
        )
    options: dict[str, object] = {"to_unicode": True, "hide_utf8_warnings": True}
    if flavour == MarcFlavour.AUTO:
        flavour = _guess_flavour(data)
    if _is_utf8(data):
        options["force_utf8"] = True
    elif flavour == MarcFlavour.UNIMARC:
        options["file_encoding"] = "gb18030"
    reader = pymarc.MARCReader(io.BytesIO(data), **options)  # type: ignore[arg-type]
    problems: list[str] = []
    offset = 0
    number = 0
    logging.getLogger("pymarc").disabled = True  # it logs every odd indicator
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for record in reader:
            number += 1
            chunk = reader.current_chunk or b""
            if record is None:
                problems.append(
                    _("Record %(n)d (byte %(offset)d): %(reason)s.")
                    % {"n": number, "offset": offset, "reason": _describe(reader.current_exception)}
                )
                if len(problems) >= MAX_PROBLEMS or not chunk:
                    break
            elif not problems:
                yield Where(number, offset), record
            offset += len(chunk)
            if progress is not None and number % PROGRESS_EVERY == 0:
                progress(offset, len(data))
    if problems:
        raise ImportRefused(problems)
    if not number:
        raise ImportRefused([_("The file holds no MARC records.")])


def _guess_flavour(data: bytes) -> str:
    """From the first record's directory (tags only, no decoding): a title in 245 is MARC 21,
    in 200 UNIMARC. Decides the encoding of a file that is not UTF-8 (MARC-8 or GB18030)."""
    try:
        base = int(data[12:17])
    except ValueError:
        return MarcFlavour.MARC21
    directory = data[24 : max(24, base - 1)]
    tags = {directory[i : i + 3] for i in range(0, len(directory) - 11, 12)}
    return MarcFlavour.UNIMARC if b"200" in tags and b"245" not in tags else MarcFlavour.MARC21


def _read_xml(data: bytes) -> list[tuple[Where, pymarc.Record]]:
    head = data[:4096].upper()
    # No document type, no entities: nothing in a MARCXML file needs them, and they are the way
    # an XML file makes a parser read local files or expand itself a billion times.
    if b"<!DOCTYPE" in head or b"<!ENTITY" in data.upper():
        raise ImportRefused([_("The XML declares a document type or entities: refused.")])
    try:
        records = pymarc.parse_xml_to_array(io.BytesIO(data), strict=False)
    except Exception as exc:  # SAXParseException, RecordLeaderInvalid, ...
        line = exc.getLineNumber() if hasattr(exc, "getLineNumber") else None
        if line:
            error = exc.getMessage() if hasattr(exc, "getMessage") else str(exc)
            message = _("Line %(line)d of the XML: %(error)s.") % {"line": line, "error": error}
        else:
            message = _("The XML is not MARCXML: %(error)s.") % {"error": _describe(exc)}
        raise ImportRefused([message]) from exc
    out = [(Where(i), r) for i, r in enumerate(records, start=1) if r is not None]
    if not out:
        raise ImportRefused([_("The file holds no MARC records.")])
    return out


Fields = dict[str, list[pymarc.Field]]


def index(record: pymarc.Record) -> Fields:
    """Tag → fields, built once per record: pymarc's `get_fields` walks every field for each
    tag asked, and a line asks for a dozen."""
    out: Fields = {}
    for f in record.fields:
        out.setdefault(f.tag, []).append(f)
    return out


def flavour_of(record: pymarc.Record, fields: Fields | None = None) -> str:
    """The title field decides (MARC 21 245, UNIMARC 200); without one, the other tags vote."""
    tags = fields if fields is not None else index(record)
    if "245" in tags:
        return MarcFlavour.MARC21
    if "200" in tags:
        return MarcFlavour.UNIMARC
    marc21 = sum(t in tags for t in ("020", "100", "260", "264", "300"))
    unimarc = sum(t in tags for t in ("010", "101", "210", "215", "690", "701"))
    if marc21 == unimarc:
        return ""
    return MarcFlavour.MARC21 if marc21 > unimarc else MarcFlavour.UNIMARC


def _first(fields: Fields, tag: str, code: str) -> str:
    for f in fields.get(tag, ()):
        for sub in f.subfields:
            if sub.code == code and sub.value and not sub.value.isspace():
                return str(sub.value)
    return ""


def _all(fields: Fields, tag: str, code: str) -> list[str]:
    return [
        str(sub.value)
        for f in fields.get(tag, ())
        for sub in f.subfields
        if sub.code == code and sub.value
    ]


def _isbn(where: object, values: list[str], strict: bool) -> tuple[str, str]:
    """(ISBN-13, raw) from the candidate subfields; a bad checksum refuses when `strict`."""
    bad = ""
    for raw in values:
        try:
            normal = parse_isbn(raw)
        except IsbnError as exc:
            bad = bad or str(exc)
            continue
        if normal:
            return normal, raw.strip()
    if bad and strict:
        raise ValueError(
            _("%(where)s: the ISBN %(isbn)s fails its checksum.") % {"where": where, "isbn": bad}
        )
    return "", (values[0].strip() if values else "")


def _price(where: object, values: list[str]) -> Decimal | None:
    for raw in values:
        try:
            price = parse_price(raw)
        except ValueError:
            continue  # "CNY赠90.00" reads, "赠送" is no price: the price may be set later
        if price is not None:
            return price
    return None


def line_of(
    where: Where | str,
    record: pymarc.Record,
    flavour: str,
    strict: bool,
    fields: Fields | None = None,
) -> Line:
    fields = fields if fields is not None else index(record)
    if flavour == MarcFlavour.UNIMARC:
        title = " : ".join(
            x
            for x in (tidy(_first(fields, "200", "a"), 500), tidy(_first(fields, "200", "e"), 300))
            if x
        )
        isbn, raw = _isbn(where, _all(fields, "010", "a"), strict)
        author = (
            _first(fields, "200", "f") or _first(fields, "700", "a") or _first(fields, "701", "a")
        )
        publisher = _first(fields, "210", "c") or _first(fields, "214", "c")
        year = year_of(_first(fields, "210", "d") or _first(fields, "214", "d"))
        price = _price(where, _all(fields, "010", "d"))
        clc = _first(fields, "690", "a")
    else:
        title = " : ".join(
            x
            for x in (tidy(_first(fields, "245", "a"), 500), tidy(_first(fields, "245", "b"), 300))
            if x
        )
        isbn, raw = _isbn(where, _all(fields, "020", "a"), strict)
        author = (
            _first(fields, "100", "a") or _first(fields, "110", "a") or _first(fields, "245", "c")
        )
        publisher = _first(fields, "264", "b") or _first(fields, "260", "b")
        year = year_of(_first(fields, "264", "c") or _first(fields, "260", "c"))
        price = _price(
            where, _all(fields, "020", "c") + _all(fields, "365", "b") + _all(fields, "970", "p")
        )
        clc = ""
        for f in fields.get("084", ()):
            if "clc" in (f.get_subfields("2") or [""])[0].lower():
                clc = (f.get_subfields("a") or [""])[0]
                break
        clc = clc or _first(fields, "093", "a")
    if not title:
        raise ValueError(_("%(where)s: the record has no title.") % {"where": where})
    return Line(
        where=where,
        title=title,
        isbn=isbn,
        isbn_raw=raw[:40],
        author=tidy(author, 300),
        publisher=tidy(publisher, 200),
        year=year,
        price=price,
        clc=tidy(clc, 40),
    )


class MarcLines:
    """The lines of a MARC file, one record at a time: an import writes each line as it is read
    (no list of 200,000 lines, and PostgreSQL stores one while the next is parsed). Recognised
    per record when `flavour` is AUTO (library systems' exports do mix them); a record in the
    other flavour than the one declared refuses the file. Iterating raises `ImportRefused` at
    the end when any record was refused (up to MAX_PROBLEMS named), after yielding the lines
    before the first problem only: the caller's transaction is then rolled back.
    `flavour` (that of most records) is known once the iteration is over."""

    def __init__(
        self,
        data: bytes,
        flavour: str = MarcFlavour.AUTO,
        *,
        strict_isbn: bool = True,
        progress: Progress | None = None,
    ) -> None:
        self.data = data
        self.declared = flavour
        self.strict_isbn = strict_isbn
        self.progress = progress
        self.counts = {MarcFlavour.MARC21: 0, MarcFlavour.UNIMARC: 0}

    @property
    def flavour(self) -> str:
        return str(max(self.counts, key=lambda k: self.counts[k]))

    def __iter__(self) -> Iterator[Line]:
        problems: list[str] = []
        counts = self.counts
        flavour = self.declared
        auto = flavour == MarcFlavour.AUTO
        strict = self.strict_isbn
        try:
            for where, record in iter_records(self.data, flavour, self.progress):
                fields = index(record)
                found = flavour_of(record, fields) or (flavour if not auto else MarcFlavour.MARC21)
                counts[MarcFlavour(found)] += 1
                try:
                    if not auto and found != flavour:
                        raise ValueError(_mixed(where, found, flavour))
                    line = line_of(where, record, found, strict, fields)
                except ValueError as exc:
                    problems.append(str(exc)[:1].upper() + str(exc)[1:])
                    if len(problems) >= MAX_PROBLEMS:
                        break
                    continue
                if not problems:
                    yield line
        except ImportRefused as refused:
            # Records pymarc could not read, after the problems of those before them.
            raise ImportRefused((problems + refused.problems)[:MAX_PROBLEMS]) from None
        if problems:
            raise ImportRefused(problems)


def _mixed(where: object, found: str, declared: str) -> str:
    return _(
        "%(where)s looks like %(found)s (fields %(tags)s) but the file was sent as %(declared)s."
    ) % {
        "where": where,
        "found": MarcFlavour(found).label,
        "tags": "010/200/210" if found == MarcFlavour.UNIMARC else "020/245/260",
        "declared": MarcFlavour(declared).label,
    }


def read_marc(
    data: bytes,
    flavour: str = MarcFlavour.AUTO,
    *,
    strict_isbn: bool = True,
    progress: Progress | None = None,
) -> tuple[list[Line], str]:
    """(lines, flavour of most records), all read (holdings, tests); see `MarcLines`."""
    reader = MarcLines(data, flavour, strict_isbn=strict_isbn, progress=progress)
    lines = list(reader)
    return lines, reader.flavour
