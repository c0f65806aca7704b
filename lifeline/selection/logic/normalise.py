"""ISBNs, prices, CLC numbers and the work key that catches one book under two ISBNs.

ISBN checksums come from `lifeline.registry.io.identifiers` (one implementation for the app).
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from lifeline.registry.io.identifiers import clean, normalise_isbn
from lifeline.selection.choices import CLC_LETTERS

# "0553268473 (pbk.) :", "978-7-5086-9965-3", "ISBN 7-301-12345-X": the first run of digits.
_ISBN_TOKEN = re.compile(r"(97[89][\d\- ]{10,16}|[\dXx][\d\-Xx ]{8,15})")
_PRICE = re.compile(r"(\d{1,7}(?:[.,]\d{1,2})?)")
_CLC = re.compile(r"^[A-Z][A-Z0-9.\-/:=+()\"<>]{0,40}$")
# Roles that follow a name in Chinese statements of responsibility (张三 主编, 李四 译).
_ROLES = re.compile(r"(主编|编著|编写|编译|编|著|译|撰|绘|等|副主编|改编|原著|\[?等\]?)+$")
_PUBLISHER_SUFFIX = re.compile(
    r"(出版社有限公司|出版社有限责任公司|出版有限公司|出版集团|出版社|出版公司|"
    r"publishinggroup|publishers?|publishing|press|inc|ltd|co|llc|gmbh)+$"
)


_NOT_ALNUM = re.compile(r"[\W_]+")


class IsbnError(ValueError):
    """The text holds an ISBN whose checksum is wrong."""


def isbn_tokens(text: str) -> list[str]:
    return [clean(m) for m in _ISBN_TOKEN.findall(text or "")]


def parse_isbn(text: str) -> str:
    """ISBN-13 digits, "" when there is none, `IsbnError` when the one given fails its checksum."""
    tokens = [t for t in isbn_tokens(text) if len(t) in (10, 13)]
    if not tokens:
        return ""
    for token in tokens:
        normal = normalise_isbn(token)
        if normal:
            return normal
    raise IsbnError(tokens[0])


def parse_price(value: object) -> Decimal | None:
    """38.00元, CNY45, ￥38, "45", 45.5 → Decimal; None when empty; ValueError when unreadable."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float, Decimal)):
        amount = Decimal(str(value))
    else:
        text = unicodedata.normalize("NFKC", str(value)).strip()
        if not text:
            return None
        match = _PRICE.search(text.replace(" ", ""))
        if match is None:
            raise ValueError(text)
        try:
            amount = Decimal(match.group(1).replace(",", "."))
        except InvalidOperation as exc:
            raise ValueError(text) from exc
    if amount < 0 or amount > Decimal("9999999"):
        raise ValueError(str(value))
    return amount.quantize(Decimal("0.01"))


def clc_class(clc: str) -> str:
    """The top class letter of a CLC number (TP311 → T), "" when it is no CLC number."""
    text = unicodedata.normalize("NFKC", clc or "").strip().upper()
    if not text or not _CLC.match(text) or text[0] not in CLC_LETTERS:
        return ""
    return text[0]


def fold(text: str) -> str:
    """Case, width and punctuation folded away: 'The  Art of  War.' == 'the art of war'."""
    # [\W_] is exactly "not str.isalnum()" (\w is isalnum plus the underscore), in one C pass.
    return _NOT_ALNUM.sub("", unicodedata.normalize("NFKC", text or "").casefold())


def first_author(text: str) -> str:
    name = re.split(r"[,;，；、/]| and | & ", unicodedata.normalize("NFKC", text or ""))[0]
    name = re.sub(r"\[.*?\]|\(.*?\)", "", name).strip()
    return _ROLES.sub("", fold(name))


def work_key(title: str, author: str, publisher: str) -> str:
    """Normalised title + first author + publisher: one work under another ISBN (paperback,
    reprint) has the same key. Empty when there is no title."""
    t = fold(title)
    if not t:
        return ""
    p = _PUBLISHER_SUFFIX.sub("", fold(publisher))
    return f"{t[:120]}|{first_author(author)[:40]}|{p[:60]}"


def year_of(text: object) -> int | None:
    match = re.search(r"(1[5-9]\d\d|20\d\d)", str(text or ""))
    return int(match.group(1)) if match else None


_ISBD_END = re.compile(r"[\s/:;,.=]+$")


_SPACES = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def tidy(text: str, limit: int) -> str:
    """One line, ISBD end punctuation and control characters gone, cut to `limit`."""
    text = _SPACES.sub(" ", text or "").strip()
    return _ISBD_END.sub("", text)[:limit]


# --- search tokens ------------------------------------------------------------------------------
# Chinese has no spaces, and a search word is often two characters (生态, 中国), too short for
# trigram indexes. So titles are indexed by folded tokens: ASCII words as they are, and each run of
# other letters (汉字, kana, accented Latin) as its overlapping character pairs plus its last
# character alone, each character written as 8 hex digits (UTF-32) after an "x" (`中国` →
# `x00004e2d000056fd`). Every token is then [a-z0-9]+, one word to PostgreSQL's text-search parser
# and to SQLite FTS5's tokenizer alike, so both databases index the same thing (a GIN `tsvector`
# index and an FTS5 table). A query's pairs must all be there; a one-character query is a prefix
# (every character starts some token); ASCII words are prefixes too.
# Speed matters: the import computes this for 200,000 lines. The hex comes from one C-level
# encode per run, and a field's tokens are cached (publishers and authors repeat).

_RUNS = re.compile(r"[a-z0-9]+|[^\W_\x00-\x7f]+")


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


@lru_cache(maxsize=65536)
def _part_tokens(part: str) -> tuple[str, ...]:
    tokens: list[str] = []
    for run in _RUNS.findall(_fold(part)):
        if run.isascii():
            tokens.append(run)
            continue
        h = run.encode("utf-32-be").hex()
        end = len(h) - 8
        tokens.extend(["x" + h[i : i + 16] for i in range(0, end, 8)])
        tokens.append("x" + h[end:])
    return tuple(tokens)


def search_text(*parts: str) -> str:
    """The folded tokens of a title's searchable fields, space-separated (stored on the row)."""
    tokens: list[str] = []
    for part in parts:
        if part:
            tokens.extend(_part_tokens(part))
    return " ".join(dict.fromkeys(tokens))


def search_terms(query: str, limit: int = 12) -> list[tuple[str, bool]]:
    """(token, is_prefix) that a row's tokens must all match for `query`; at most `limit` (a
    pasted paragraph must not become a 500-term query)."""
    terms: list[tuple[str, bool]] = []
    lone: list[tuple[str, bool]] = []  # single characters: a prefix over their tokens
    for run in _RUNS.findall(_fold(query[:200])):
        if run.isascii():
            terms.append((run, True))
            continue
        h = run.encode("utf-32-be").hex()
        if len(run) == 1:
            lone.append(("x" + h, True))
        else:
            terms.extend(("x" + h[i : i + 16], False) for i in range(0, len(h) - 8, 8))
    # A lone character beside a longer word (第 and 卷 in "第199999卷") narrows almost nothing
    # and costs the most: its prefix matches nearly every title. The longer words decide.
    if not any(len(t) >= 2 or not prefix for t, prefix in terms):
        terms += lone
    return list(dict.fromkeys(terms))[:limit]
