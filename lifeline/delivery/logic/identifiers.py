"""DOI, ISBN, ISSN and PMID: find them in pasted text, check their checksums, normalise them.

ISSNs are normalised to `NNNN-NNNX` and ISBNs to ISBN-13, the forms `registry.KbartTitle` stores.
"""

from __future__ import annotations

import re
import unicodedata

from lifeline.registry.io import identifiers as registry_ids

DOI_RE = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>，。；]+)", re.IGNORECASE)
ISSN_RE = re.compile(r"\b(\d{4})\s*[-‐–]?\s*(\d{3}[\dXx])\b")
ISBN_RE = re.compile(r"\b((?:97[89][\s-]?)?\d[\d\s-]{7,15}[\dXx])\b")
PMID_RE = re.compile(r"\bPMID\s*[:：]?\s*(\d{1,9})\b", re.IGNORECASE)


def clean(text: str) -> str:
    """Full-width digits, letters and punctuation (common in Chinese citations) become ASCII."""
    return unicodedata.normalize("NFKC", text or "")


def normalise_doi(value: str) -> str | None:
    value = clean(value).strip()
    value = re.sub(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", "", value, flags=re.IGNORECASE)
    match = re.fullmatch(r"10\.\d{4,9}/\S+", value)
    return match.group(0).rstrip(".,;)").lower() if match else None


def _digits(value: str) -> str:
    return re.sub(r"[^0-9Xx]", "", clean(value)).upper()


def normalise_issn(value: str) -> str | None:
    """Checksum and form shared with the KBART importer: a request and a holding compare equal."""
    return registry_ids.normalise_issn(_digits(value))


def normalise_isbn(value: str) -> str | None:
    """ISBN-10 or ISBN-13 with a valid checksum → ISBN-13 (the registry's form); else None."""
    return registry_ids.normalise_isbn(_digits(value))


def normalise_pmid(value: str) -> str | None:
    value = re.sub(r"^PMID\s*[:：]?\s*", "", clean(value).strip(), flags=re.IGNORECASE)
    return value if value.isdigit() and 1 <= len(value) <= 9 else None


def find_identifiers(text: str) -> dict[str, str]:
    """Every valid identifier in free text (first of each kind). Invalid checksums are skipped."""
    text = clean(text)
    found: dict[str, str] = {}
    if m := DOI_RE.search(text):
        doi = normalise_doi(m.group(1))
        if doi:
            found["doi"] = doi
    if m := PMID_RE.search(text):
        found["pmid"] = m.group(1)
    rest = DOI_RE.sub(" ", text)
    isbn_span = (-1, -1)
    for m in ISBN_RE.finditer(rest):
        isbn = normalise_isbn(m.group(1))
        if isbn:
            found["isbn"], isbn_span = isbn, m.span()
            break
    for m in ISSN_RE.finditer(rest):
        issn = normalise_issn(m.group(1) + m.group(2))
        # Digits inside an ISBN can pass the ISSN checksum by chance: not an ISSN.
        if issn and not (isbn_span[0] <= m.start() < isbn_span[1]):
            found["issn"] = issn
            break
    return found
