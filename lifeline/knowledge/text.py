"""From text to search tokens, the same way for articles and questions.

1. NFKC + casefold (full-width letters become ASCII); multi-word names ("web of science") become
   one synonym key first.
2. jieba (search mode: "学位论文" also yields "学位" and "论文") segments Chinese; Latin words and
   numbers are kept whole. Stop words go.
3. Every token that names a vendor or service by one of its nicknames (知网, 中国知网, CNKI,
   zhiwang) is replaced by the group's key (`cnki`), so any nickname finds any other.
4. Documents also carry the toneless pinyin of their Chinese words ("dayin" for 打印), so a
   question typed in pinyin finds them; a question's Latin words that are not known are corrected
   to the nearest word of a small vocabulary (edit distance 1, 2 for long words).

`encode` turns a token into what the database indexes: ASCII [a-z0-9] stays, anything else
becomes "z" + its code points in hex. Both SQLite's unicode61 tokenizer and PostgreSQL's
'simple' configuration then see one plain word per token, whatever the database's locale.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable

import jieba
from pypinyin import Style, lazy_pinyin

from lifeline.knowledge.vocabulary import DOMAIN_WORDS, EXTRA_WORDS, PHRASES, STOP_WORDS, SYNONYMS

jieba.setLogLevel(logging.WARNING)

TOKEN = re.compile(r"[0-9a-z]+|[\u3400-\u4dbf\u4e00-\u9fff]+")
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
MAX_QUERY_CHARS = 500
MAX_QUERY_TOKENS = 24

# nickname → group key, for single tokens (after normalisation)
_NICK: dict[str, str] = {}
for _key, _names in SYNONYMS.items():
    for _name in (_key, *_names):
        _NICK[unicodedata.normalize("NFKC", _name).casefold().replace(" ", "")] = _key
        if HAN.search(_name):
            _NICK["".join(lazy_pinyin(_name, errors="ignore"))] = _key


# functools.cache does not stop several threads from building the same table at once: on a
# server's first questions each of a worker's threads loaded jieba's dictionary side by side.
_LOADING = threading.Lock()


def _once[T](build: Callable[[], T]) -> Callable[[], T]:
    """`build()` run once per process, whichever thread asks first; the others wait for it."""
    done: list[T] = []

    @functools.wraps(build)
    def get() -> T:
        if not done:
            with _LOADING:
                if not done:
                    done.append(build())
        return done[0]

    return get


@_once
def tokenizer() -> jieba.Tokenizer:
    """One jieba tokenizer for the process, with the library words it would otherwise split."""
    tk = jieba.Tokenizer()
    tk.initialize()
    for word in EXTRA_WORDS:
        tk.add_word(word, freq=200000)
    for names in SYNONYMS.values():
        for name in names:
            if HAN.search(name):
                tk.add_word(name, freq=200000)
    return tk


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text.replace("\x00", " ")).casefold()
    for phrase, key in PHRASES:
        if phrase in text:
            text = text.replace(phrase, f" {key} ")
    return text


def _raw_tokens(text: str) -> list[str]:
    out: list[str] = []
    for match in TOKEN.finditer(normalise(text)):
        piece = match.group()
        if HAN.match(piece):
            out.extend(w for w in tokenizer().lcut_for_search(piece) if HAN.match(w))
        else:
            out.append(piece)
    return out


def canonical(token: str) -> str:
    found = _NICK.get(token)
    if found:
        return found
    # Light English stemming (plural "s" only): "loans" meets "loan", "access" stays.
    if token.isascii() and len(token) > 4 and token.endswith("s") and token[-2] not in "siu":
        return _NICK.get(token[:-1], token[:-1])
    return token


def tokens(text: str) -> list[str]:
    """Words of a text: segmented, stop words removed, nicknames replaced by their group key."""
    return [canonical(t) for t in _raw_tokens(text) if t not in STOP_WORDS]


@functools.lru_cache(maxsize=20000)
def surface_forms(term: str) -> tuple[str, ...]:
    """How a search term can be written in a text: a group key as any of its names."""
    names = SYNONYMS.get(term)
    if names:
        return tuple(unicodedata.normalize("NFKC", n).casefold() for n in names)
    return (term,)


@functools.lru_cache(maxsize=20000)
def pinyin(word: str) -> str:
    return "".join(lazy_pinyin(word, style=Style.NORMAL, errors="ignore"))


def document_tokens(*parts: str) -> list[str]:
    """A document's tokens: its words, plus the pinyin of each Chinese word of two or more
    characters (one-character pinyin would match too much)."""
    words = tokens(" ".join(parts))
    extra = [pinyin(w) for w in words if len(w) >= 2 and HAN.match(w)]
    return words + [p for p in extra if p]


def encode(token: str) -> str:
    if token.isascii():
        return token
    return "z" + "".join(f"{ord(c):x}" for c in token)


def encode_all(words: Iterable[str]) -> str:
    return " ".join(encode(w) for w in words)


def _distance(a: str, b: str, limit: int) -> int:
    """Damerau–Levenshtein (optimal string alignment) distance, giving up above `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def correct(word: str, vocabulary: frozenset[str]) -> str | None:
    """The nearest vocabulary word to an unknown Latin word, or None. Short words (≤ 3 letters)
    are never corrected: too many neighbours."""
    if len(word) <= 3 or not word.isalpha() or word in vocabulary:
        return None
    limit = 1 if len(word) <= 7 else 2
    best: tuple[int, str] | None = None
    for cand in vocabulary:
        if abs(len(cand) - len(word)) > limit or len(cand) <= 3:
            continue
        d = _distance(word, cand, limit)
        if d <= limit and (best is None or (d, cand) < best):
            best = (d, cand)
    return best[1] if best else None


# Pinyin typed with spaces ("da yin") is joined pairwise so it meets the documents' "dayin".
SYLLABLE = re.compile(r"^[a-z]{1,6}$")


@_once
def _syllables() -> frozenset[str]:
    from pypinyin.constants import PINYIN_DICT

    out: set[str] = set()
    for value in PINYIN_DICT.values():
        for reading in value.split(","):
            plain = unicodedata.normalize("NFKD", reading)
            plain = "".join(c for c in plain if c.isascii()).replace("v", "u")
            if plain:
                out.add(plain)
    return frozenset(out)


LATIN_WORD = re.compile(r"[a-z]{4,}")


def corrected(text: str, vocabulary: frozenset[str]) -> str:
    """The text with each unknown Latin word replaced by its nearest vocabulary word, before
    names of several words are recognised ("documnet delivery" → "document delivery")."""
    return LATIN_WORD.sub(lambda m: correct(m.group(), vocabulary) or m.group(), text)


def query_terms(text: str, vocabulary: frozenset[str] = frozenset()) -> list[str]:
    """A question's search terms, deduplicated in order (bounded in number)."""
    raw = unicodedata.normalize("NFKC", text[:MAX_QUERY_CHARS].replace("\x00", " ")).casefold()
    words = tokens(raw)
    fixed = corrected(raw, vocabulary | DOMAIN_WORDS)
    if fixed != raw:
        words += tokens(fixed)
    out: list[str] = []
    syl = _syllables()
    for i, w in enumerate(words):
        out.append(w)
        if w.isascii() and w.isalpha() and i + 1 < len(words) and w in syl and words[i + 1] in syl:
            out.append(canonical(w + words[i + 1]))
    seen: dict[str, None] = {}
    for w in out:
        if w not in seen and w not in STOP_WORDS:
            seen[w] = None
    return list(seen)[:MAX_QUERY_TOKENS]


def warm() -> None:
    """Load jieba's dictionary and the pinyin syllables now. Done by each web worker as it
    starts (lifeline/wsgi.py): a worker's first question otherwise spent 1.7 s of CPU on them
    while holding the GIL, and every request of that worker waited (the 4 s tail of the
    500-chat run: each chat page offers suggestions)."""
    query_terms("图书馆 library da yin")
