"""Which export a file is (by its content, not its name) and the records in it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from django.utils.translation import gettext as _

from lifeline.research.logic import chinese, ris, scopus, wos
from lifeline.research.logic.records import ParseError, Record, decode

Parser = Callable[[str], Iterator[Record]]

PARSERS: dict[str, Parser] = {
    "wos": wos.parse_plain,
    "wos_tab": wos.parse_tab,
    "scopus_csv": scopus.parse,
    "ris": ris.parse,
    "refworks": chinese.parse_refworks,
    "endnote": chinese.parse_endnote,
    "noteexpress": chinese.parse_noteexpress,
    "estudy": chinese.parse_estudy,
    "cssci": chinese.parse_cssci,
}


def detect(text: str) -> str:
    lines = [ln.strip("\ufeff \r") for ln in text[:20000].splitlines() if ln.strip("\ufeff \r")]
    head = lines[0] if lines else ""
    if head.startswith(("FN ", "VR ")) or (head.startswith("PT ") and "\nER" in text):
        return "wos"
    if head.startswith("PT\t"):
        return "wos_tab"
    if head.startswith("TY  - ") or any(ln.startswith("TY  - ") for ln in lines[:10]):
        return "ris"
    if head.startswith("RT "):
        return "refworks"
    if head.startswith("%0"):
        return "endnote"
    if head.startswith("{Reference Type}"):
        return "noteexpress"
    if head.startswith("DataType"):
        return "estudy"
    if any(ln.startswith("【来源篇名】") for ln in lines[:50]):
        return "cssci"
    if "Title" in head and ("Source title" in head or "EID" in head or "Link" in head):
        return "scopus_csv"
    if head.startswith("@"):
        raise ParseError(_("BibTeX exports are not read: export RIS or CSV instead."), 1)
    raise ParseError(_("This is not an export format Lifeline reads."), 1)


def parse_bytes(data: bytes, fmt: str = "") -> tuple[str, list[Record]]:
    """(format, records) of a whole file; ParseError on the first defect (all or nothing)."""
    return parse_text(decode(data), fmt)


def parse_text(text: str, fmt: str = "") -> tuple[str, list[Record]]:
    """(format, records) of a whole decoded file; ParseError on the first defect."""
    fmt = fmt or detect(text)
    if fmt not in PARSERS:
        raise ParseError(_("Unknown export format."))
    records = list(PARSERS[fmt](text))
    if not records:
        raise ParseError(_("The file holds no records."))
    return fmt, records
