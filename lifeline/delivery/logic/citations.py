"""Read a pasted citation into request fields the patron then confirms.

Understood: GB/T 7714 (the Chinese standard, with the type codes [J] [M] [D] [S] [P] [C] [N] [R]),
APA-like "Author (2020). Title. Journal, 12(3), 45–52." and Vancouver/NLM "Author. Title. Journal.
2020;12(3):45-52." Identifiers (DOI, ISBN, ISSN, PMID) are taken from anywhere in the text.
Nothing here guesses silently: what could not be read is reported in `problems`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from lifeline.delivery.choices import DocType
from lifeline.delivery.logic.identifiers import clean, find_identifiers

CJK_RE = re.compile(r"[\u4e00-\u9fff]")
GBT_RE = re.compile(
    r"^(?:(?P<authors>[^\[\]]+?)[.．]\s*)?(?P<title>[^\[\]]+?)\s*\[(?P<code>[A-Z]{1,2})(?:/OL)?\]\s*[.．]?\s*(?P<rest>.*)$"
)
JOURNAL_REST_RE = re.compile(
    r"^(?P<source>[^,，]+)[,，]\s*(?P<year>\d{4})\s*(?:[,，]\s*(?P<volume>[^(（:：]*)\s*(?:[(（](?P<issue>[^)）]+)[)）])?)?"
    r"\s*(?:[:：]\s*(?P<pages>[\d\-–—~+,A-Za-z]+))?"
)
BOOK_REST_RE = re.compile(
    r"(?:(?P<place>[^:：.]+)[:：]\s*)?(?P<publisher>[^,，:：]+)[,，]\s*(?P<year>\d{4})(?:\s*[:：]\s*(?P<pages>[\d\-–]+))?"
)
APA_RE = re.compile(
    r"^(?P<authors>.+?)\s*\((?P<year>\d{4})[a-z]?(?:,[^)]*)?\)\.\s*(?P<title>.+?)[.?!]\s+(?P<source>[^.]+?)"
    r"(?:,\s*(?P<volume>\d+)\s*(?:\((?P<issue>[^)]+)\))?(?:,\s*(?P<pages>[\dA-Za-z]+[–-][\dA-Za-z]+|\d+))?)?\s*(?:\.|$)"
)
VANCOUVER_RE = re.compile(
    r"^(?P<authors>[^.]+)\.\s*(?P<title>.+?)[.?]\s+(?P<source>[A-Z][^.;]*?)\.\s*(?P<year>\d{4})[^;:]*"
    r"(?:;\s*(?P<volume>[^(:;.]+)?(?:\((?P<issue>[^)]+)\))?)?(?::\s*(?P<pages>[\dA-Za-z]+(?:[–-][\dA-Za-z]+)?))?"
)
GBT_TYPES = {
    "J": "article",
    "C": "article",
    "N": "article",
    "M": "book",
    "D": DocType.THESIS,
    "S": DocType.STANDARD,
    "P": DocType.PATENT,
    "R": "article",
}


@dataclass
class ParsedCitation:
    fields: dict[str, object] = field(default_factory=dict)
    style: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.fields.get("title")) or any(
            k in self.fields for k in ("doi", "isbn", "pmid")
        )


def _is_chinese(text: str) -> bool:
    return bool(CJK_RE.search(text))


def _kind_to_type(kind: object, title: str) -> str:
    chinese = _is_chinese(title)
    if kind == "article":
        return DocType.CHINESE_ARTICLE if chinese else DocType.FOREIGN_ARTICLE
    if kind == "book":
        return DocType.CHINESE_BOOK if chinese else DocType.FOREIGN_BOOK
    return str(kind)


def _tidy(value: str | None) -> str:
    return re.sub(r"\s+", " ", (value or "")).strip(" .,;:，。；：")


def _parse_gbt(text: str) -> dict[str, object] | None:
    m = GBT_RE.match(text)
    if not m:
        return None
    code, rest = m.group("code"), m.group("rest")
    if code not in GBT_TYPES:
        return None
    title = _tidy(m.group("title"))
    out: dict[str, object] = {
        "title": title,
        "authors": _tidy(m.group("authors")),
        "doc_type": _kind_to_type(GBT_TYPES[code], title),
    }
    if GBT_TYPES[code] == "article" and (j := JOURNAL_REST_RE.match(rest)):
        out.update(
            source=_tidy(j.group("source")),
            year=int(j.group("year")),
            volume=_tidy(j.group("volume")),
            issue=_tidy(j.group("issue")),
            pages=_tidy(j.group("pages")),
        )
    elif b := BOOK_REST_RE.search(rest):
        out.update(
            source=_tidy(b.group("publisher")),
            year=int(b.group("year")),
            pages=_tidy(b.group("pages")),
        )
    elif y := re.search(r"\b(1[5-9]\d\d|20\d\d)\b", rest):
        out["year"] = int(y.group(1))
    return out


def _from_match(m: re.Match[str], kind: str) -> dict[str, object]:
    title = _tidy(m.group("title"))
    volume = _tidy(m.groupdict().get("volume"))
    out: dict[str, object] = {
        "title": title,
        "authors": _tidy(m.group("authors")),
        "source": _tidy(m.group("source")),
        "year": int(m.group("year")),
        "volume": volume,
        "issue": _tidy(m.groupdict().get("issue")),
        "pages": _tidy(m.groupdict().get("pages")),
    }
    out["doc_type"] = _kind_to_type("article" if volume or out["pages"] else kind, title)
    return out


def parse_citation(raw: str) -> ParsedCitation:
    text = clean(raw).strip()
    result = ParsedCitation()
    if not text:
        result.problems.append(_("The citation is empty."))
        return result
    if len(text) > 4000:
        result.problems.append(
            _(
                "The citation is too long (more than 4,000 characters): "
                "paste one reference at a time."
            )
        )
        return result
    first = text.splitlines()[0].strip()
    first = re.sub(r"^\s*(?:\[\d+\]|\d+[.)、])\s*", "", first)  # a reference-list number
    ids = find_identifiers(text)
    for style, parser in (("GB/T 7714", _parse_gbt),):
        if parsed := parser(first):
            result.fields, result.style = parsed, style
            break
    else:
        if m := APA_RE.match(first):
            result.fields, result.style = _from_match(m, "book"), "APA"
        elif m := VANCOUVER_RE.match(first):
            result.fields, result.style = _from_match(m, "article"), "Vancouver"
    result.fields.update(ids)
    if not result.style:
        if ids:
            result.style = "identifier"
            result.problems.append(_("Only identifiers were recognised: please add the title."))
        else:
            result.problems.append(
                _(
                    "This does not look like a citation: "
                    "no title, DOI, ISBN, ISSN or PMID was found. "
                    "Please fill in the fields yourself."
                )
            )
    if re.search(r"\b10\.\d{4,9}/?$|doi[:：]?\s*$", text, re.IGNORECASE) and "doi" not in ids:
        result.problems.append(_("The DOI is incomplete."))
    bad = re.search(r"\b(?:ISBN|ISSN)\s*[:：]?\s*([\dXx-]{8,17})", text, re.IGNORECASE)
    if bad and not ({"isbn", "issn"} & set(ids)):
        result.problems.append(
            _("“%(value)s” is not a valid ISBN or ISSN (check digit).") % {"value": bad.group(1)}
        )
    return result
