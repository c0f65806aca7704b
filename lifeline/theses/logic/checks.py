"""The checks a thesis PDF passes before a librarian sees it.

Run in a background task on the stored file (never in the upload request). PyMuPDF reads the
file from disk page by page, so memory stays bounded by one page, not the whole PDF. Results
are stored as codes and parameters; `explain` renders each failure in the reader's language.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pymupdf
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from lifeline.theses.choices import Check

# Separators and punctuation differ between a typed title and the typeset cover (line breaks,
# full-width colons, spaces between Chinese characters): compare letters and digits only.
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalise(text: str) -> str:
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text)).casefold()


@dataclass(frozen=True)
class RuleSet:
    min_pages: int = 20
    max_pages: int = 600
    max_bytes: int = 100 * 1024 * 1024
    min_text_chars_per_page: int = 100
    cover_pages: int = 3


@dataclass
class Result:
    check: str
    ok: bool
    params: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"check": self.check, "ok": self.ok, "params": self.params}


def run_checks(
    path: str | Path,
    *,
    title: str,
    title_en: str,
    author: str,
    author_en: str,
    rules: RuleSet,
) -> tuple[list[Result], int | None]:
    """Every check on the PDF at `path`; returns the results and the page count (None if it does
    not open). Checks that cannot run (the file did not open) are not reported as passed."""
    results: list[Result] = []
    size = Path(path).stat().st_size
    size_ok = size <= rules.max_bytes
    try:
        doc = pymupdf.open(str(path), filetype="pdf")
    except Exception as exc:  # PyMuPDF raises its own and generic errors for a damaged file
        results.append(Result(Check.OPENS, False, {"error": str(exc)[:200]}))
        results.append(Result(Check.SIZE, size_ok, {"size": size, "max": rules.max_bytes}))
        return results, None
    with doc:
        if doc.needs_pass or doc.is_encrypted:
            results.append(Result(Check.OPENS, True))
            results.append(Result(Check.NOT_ENCRYPTED, False))
            results.append(Result(Check.SIZE, size_ok, {"size": size, "max": rules.max_bytes}))
            return results, None
        pages = doc.page_count
        if pages == 0:
            results.append(Result(Check.OPENS, False, {"error": "no pages"}))
            return results, 0
        results.append(Result(Check.OPENS, True))
        results.append(Result(Check.NOT_ENCRYPTED, True))
        chars = 0
        cover_text: list[str] = []
        fonts_missing: set[str] = set()
        for index, page in enumerate(doc):
            unembedded = set()
            for _xref, ext, ftype, basefont, *_rest in page.get_fonts(full=False):
                # "n/a": the font program is not in the file; the reader's machine substitutes.
                # Type3 glyphs are drawn by the file itself.
                if ext == "n/a" and ftype != "Type3":
                    unembedded.add(basefont.split("+", 1)[-1] or "?")
            if unembedded - fonts_missing:
                # A font may be declared but draw nothing (some writers declare Helvetica on every
                # page): only one that sets text counts, so this page is read span by span (one
                # extraction gives both its text and the fonts of the text).
                text, used = _text_and_fonts(page)
                fonts_missing |= used & unembedded
            else:
                text = page.get_text("text")
            chars += len(text.strip())
            if index < rules.cover_pages:
                cover_text.append(text)
        per_page = chars // pages
        results.append(
            Result(
                Check.TEXT,
                per_page >= rules.min_text_chars_per_page,
                {"per_page": per_page, "min": rules.min_text_chars_per_page},
            )
        )
        results.append(
            Result(
                Check.PAGES,
                rules.min_pages <= pages <= rules.max_pages,
                {"pages": pages, "min": rules.min_pages, "max": rules.max_pages},
            )
        )
        results.append(Result(Check.SIZE, size_ok, {"size": size, "max": rules.max_bytes}))
        cover = normalise("".join(cover_text))
        titles = [t for t in (normalise(title), normalise(title_en)) if t]
        authors = [a for a in (normalise(author), normalise(author_en)) if a]
        results.append(
            Result(
                Check.COVER_TITLE,
                any(t in cover for t in titles),
                {"title": title, "pages": rules.cover_pages},
            )
        )
        results.append(
            Result(
                Check.COVER_AUTHOR,
                any(a in cover for a in authors),
                {"author": author, "pages": rules.cover_pages},
            )
        )
        results.append(
            Result(Check.FONTS, not fonts_missing, {"fonts": sorted(fonts_missing)[:10]})
        )
    return results, pages


def _text_and_fonts(page: Any) -> tuple[str, set[str]]:
    used: set[str] = set()
    lines: list[str] = []
    # TEXTFLAGS_TEXT: spans only; the default "dict" also copies every image's bytes.
    for block in page.get_text("dict", flags=pymupdf.TEXTFLAGS_TEXT).get("blocks", []):
        for line in block.get("lines", []):
            parts = []
            for span in line.get("spans", []):
                text = span.get("text", "")
                parts.append(text)
                if text.strip():
                    used.add(span.get("font", ""))
            lines.append("".join(parts))
    return "\n".join(lines), used


def explain(result: dict[str, Any]) -> str:
    """What a failed check means and what to do, in the active language."""
    p = result.get("params") or {}
    code = result.get("check")
    if code == Check.OPENS:
        return _(
            "The file could not be opened as a PDF: it may be damaged or not a PDF at all. Export "
            "the thesis again from your word processor (File → Save as PDF) and upload that file."
        )
    if code == Check.NOT_ENCRYPTED:
        return _(
            "The PDF is protected by a password or encryption, so the library cannot keep or "
            "index it. Save it again without a password or permissions restrictions."
        )
    if code == Check.TEXT:
        return _(
            "The PDF has almost no text (%(per_page)s characters per page; at least %(min)s are "
            "needed): it looks like scanned images. Upload the PDF exported from your document, "
            "not a scan."
        ) % {"per_page": p.get("per_page", 0), "min": p.get("min", 0)}
    if code == Check.PAGES:
        return _(
            "The PDF has %(pages)s pages; the library accepts between %(min)s and %(max)s. Check "
            "that you uploaded the whole thesis and only the thesis."
        ) % {"pages": p.get("pages", 0), "min": p.get("min", 0), "max": p.get("max", 0)}
    if code == Check.SIZE:
        return _(
            "The PDF is %(size)s; the largest accepted is %(max)s. Compress the images (export "
            "at 300 dpi) and upload it again."
        ) % {"size": filesizeformat(p.get("size", 0)), "max": filesizeformat(p.get("max", 0))}
    if code == Check.COVER_TITLE:
        return _(
            "The title “%(title)s” was not found on the first %(pages)s pages. The cover must "
            "show the same title as the form: correct the form or the cover."
        ) % {"title": p.get("title", ""), "pages": p.get("pages", 0)}
    if code == Check.COVER_AUTHOR:
        return _(
            "The author “%(author)s” was not found on the first %(pages)s pages. Is this your "
            "own thesis? The cover must show your name as on the form."
        ) % {"author": p.get("author", ""), "pages": p.get("pages", 0)}
    if code == Check.FONTS:
        return _(
            "Some fonts are not embedded (%(fonts)s), so the thesis may print with the wrong "
            "characters elsewhere. Export again with “embed all fonts” switched on."
        ) % {"fonts": ", ".join(p.get("fonts") or []) or "?"}
    return _("This check failed.")


def failures(checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The failed checks with their label and explanation in the active language."""
    out = []
    for result in checks:
        if result.get("ok"):
            continue
        try:
            label = str(Check(str(result.get("check"))).label)
        except ValueError:
            label = str(result.get("check"))
        out.append({"check": result.get("check"), "label": label, "text": explain(result)})
    return out
