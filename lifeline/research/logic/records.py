"""The common shape of a bibliographic record, whatever export it came from, and the keys that
identify one paper across sources (DOI, WoS UT, Scopus EID, normalised title + year + first author).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field

from charset_normalizer import from_bytes
from django.utils.translation import gettext as _

MAX_BYTES = 200 * 2**20  # a 300 MB export is refused before it is read into memory


class ParseError(ValueError):
    """The file cannot be read as it claims to be; `line` names where (1-based) when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        if self.line is None:
            return self.message
        return _("line %(line)d: %(message)s") % {"line": self.line, "message": self.message}


@dataclass
class Record:
    source: str  # a Database code (choices.Database)
    line: int = 0  # where the record starts in its file
    title: str = ""
    authors: list[str] = field(default_factory=list)
    year: int | None = None
    journal: str = ""
    issn: str = ""
    volume: str = ""
    issue: str = ""
    pages: str = ""
    doi: str = ""
    wos_ut: str = ""
    scopus_eid: str = ""
    doc_type: str = ""
    language: str = ""
    times_cited: int | None = None
    affiliations: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    cited_dois: list[str] = field(default_factory=list)


def decode(data: bytes) -> str:
    """Text of an export: UTF-16 or UTF-8 with a BOM, UTF-8, else GB18030 (a superset of GBK, what
    CNKI and Excel on Chinese Windows write), else what charset-normalizer finds.
    """
    if len(data) > MAX_BYTES:
        raise ParseError(_("The file is larger than %(mb)d MB.") % {"mb": MAX_BYTES // 2**20})
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict")
    if b"\x00" in data[:4096]:
        raise ParseError(_("This is a binary file, not a text export."))
    for codec in ("utf-8", "gb18030"):
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            continue
    best = from_bytes(data[: 2**20]).best()
    if best is None or best.encoding is None:
        raise ParseError(_("The text encoding of the file could not be recognised."))
    return data.decode(best.encoding, errors="strict")


DOI_RE = re.compile(r"10\.\d{4,9}/\S+", re.IGNORECASE)


def normalise_doi(value: str) -> str:
    """A DOI as found in exports and Excel: `'10.1/x`, `="10.1/x"`, `https://doi.org/10.1/x`,
    `DOI: 10.1/x`, with spaces or trailing dots. Lower case (DOIs are case-insensitive); "" when
    Excel turned it into a number or a date.
    """
    value = (value or "").strip().strip("'\"=").strip()
    match = DOI_RE.search(value)
    if not match:
        return ""
    return match.group(0).rstrip(".,;)]").lower()


PARENS_RE = re.compile(r"\(.*?\)")
HAN_RE = re.compile(r"[\u4e00-\u9fff]")
HAN_SPACES_RE = re.compile(r"[\s·.,]")
NAME_PARTS_RE = re.compile(r"[,\s.]+")
NOT_WORD_RE = re.compile(r"[\W_]+")
DIGITS_RE = re.compile(r"\d+")
YEAR_RE = re.compile(r"(1[89]|20)\d\d")


@functools.lru_cache(maxsize=1 << 17)
def normalise_name(name: str) -> str:
    """`Zhang, San`, `ZHANG S`, `Zhang S.` → `zhang s`; Chinese names lose their spaces.

    On the import's hot path (five names a record, five million for a million records): the
    patterns are compiled once, ASCII names skip the Unicode normalisation they cannot need,
    and a name met again (an institution's authors recur from paper to paper) is looked up.
    """
    name = name or ""
    if not name.isascii():
        name = unicodedata.normalize("NFKC", name)
    name = name.strip()
    if "(" in name:
        name = PARENS_RE.sub("", name)  # Scopus IDs in parentheses
    if not name.isascii() and HAN_RE.search(name):
        return HAN_SPACES_RE.sub("", name)
    parts = [p for p in NAME_PARTS_RE.split(name.lower()) if p]
    if not parts:
        return ""
    family, given = parts[0], parts[1:]
    initials = "".join(p[0] for p in given)
    return f"{family} {initials}".strip()


def normalise_title(title: str) -> str:
    title = title or ""
    if not title.isascii():
        title = unicodedata.normalize("NFKC", title)
    return NOT_WORD_RE.sub("", title.casefold())[:300]


def match_key(record: Record) -> str:
    """Normalised title + year + first author: the last resort when no identifier matches."""
    first = normalise_name(record.authors[0]) if record.authors else ""
    if not record.title:
        return ""
    return f"{normalise_title(record.title)}|{record.year or ''}|{first}"


def int_or_none(value: str) -> int | None:
    value = (value or "").strip()
    match = DIGITS_RE.match(value)
    return int(match.group(0)) if match else None


def year_of(value: str) -> int | None:
    match = YEAR_RE.search(value or "")
    return int(match.group(0)) if match else None


def split_names(value: str, separators: str = ";") -> list[str]:
    return [p.strip() for p in re.split(f"[{re.escape(separators)}]", value or "") if p.strip()]


def dois_in(text: str) -> list[str]:
    return [normalise_doi(m.group(0)) for m in DOI_RE.finditer(text or "")]
