"""Cell values → Python values. Each parser raises `CellError` with a message a librarian
can act on; the caller adds the file, line and column."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email, validate_slug
from django.db import models
from django.utils.translation import gettext as _

from lifeline.core.models import parse_ip_ranges

Parser = Callable[[Any], Any]


class CellError(ValueError):
    """A value that cannot be used; the message says why."""


def norm(text: str) -> str:
    """Header and choice matching ignores width, case, spaces, '_' and '-'."""
    text = unicodedata.normalize("NFKC", str(text)).casefold()
    return re.sub(r"[\s_\-()]+", "", text)


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        # XLSX stores a phone number typed as digits as a float: 84561234.0
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    # Our own exports prefix formula-like text with a quote (see core.spreadsheets); take it
    # back off so that exporting and re-importing a file changes nothing.
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@":
        text = text[1:]
    return text


def text(value: Any) -> str:
    return as_text(value)


def slug(value: Any) -> str:
    result = as_text(value)
    try:
        validate_slug(result)
    except ValidationError as exc:
        raise CellError(
            _("“%(value)s” is not a valid key: use letters, digits, '-' and '_' only.")
            % {"value": result}
        ) from exc
    return result


_URL = URLValidator(schemes=["http", "https"])


def url(value: Any) -> str:
    result = as_text(value)
    if not result:
        return ""
    try:
        _URL(result)
    except ValidationError as exc:
        raise CellError(
            _("“%(value)s” is not a web address (http:// or https://).") % {"value": result}
        ) from exc
    return result


def email(value: Any) -> str:
    result = as_text(value)
    if not result:
        return ""
    try:
        validate_email(result)
    except ValidationError as exc:
        raise CellError(_("“%(value)s” is not an e-mail address.") % {"value": result}) from exc
    return result


def ip_ranges(value: Any) -> str:
    result = as_text(value)
    try:
        parse_ip_ranges(result)
    except ValidationError as exc:
        raise CellError(exc.messages[0]) from exc
    # One range a line, whatever separators the file used.
    return "\n".join(p.strip() for p in re.split(r"[\n,;，；]+", result) if p.strip())


_DATE_PATTERNS = [
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
]


def date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    result = unicodedata.normalize("NFKC", as_text(value))
    if not result:
        return None
    for pattern in _DATE_PATTERNS:
        match = pattern.match(result)
        if match:
            try:
                return dt.date(*(int(g) for g in match.groups()))
            except ValueError:
                break
    raise CellError(_("“%(value)s” is not a date: write it as YYYY-MM-DD.") % {"value": result})


def integer(value: Any) -> int | None:
    result = as_text(value).replace(",", "")
    if not result:
        return None
    if not result.isdigit():
        raise CellError(_("“%(value)s” is not a whole number of zero or more.") % {"value": result})
    return int(result)


def decimal(value: Any) -> Decimal | None:
    result = as_text(value).replace(",", "").replace("，", "").replace(" ", "")
    if not result:
        return None
    try:
        number = Decimal(result)
    except InvalidOperation as exc:
        raise CellError(_("“%(value)s” is not a number.") % {"value": result}) from exc
    if not number.is_finite() or number < 0:
        raise CellError(_("“%(value)s” must be a number of zero or more.") % {"value": result})
    return number.quantize(Decimal("0.01"))


_TRUE = {"1", "true", "yes", "y", "是", "对", "允许", "√", "✓", "t"}
_FALSE = {"0", "false", "no", "n", "否", "不", "不允许", "×", "✗", "f"}


def boolean(default: bool) -> Parser:
    def parse(value: Any) -> bool:
        if isinstance(value, bool):
            return value
        result = norm(as_text(value))
        if not result:
            return default
        if result in _TRUE:
            return True
        if result in _FALSE:
            return False
        raise CellError(_("“%(value)s” is not yes or no (是/否).") % {"value": as_text(value)})

    return parse


def choice(
    choices: type[models.TextChoices], aliases: dict[str, str], default: str | None = None
) -> Parser:
    """A code, its English label, its Chinese label or one of `aliases` (alias → code)."""
    from lifeline.registry.io.labels import choice_lookup

    def parse(value: Any) -> str:
        result = as_text(value)
        if not result:
            if default is None:
                raise CellError(_("This value is required."))
            return default
        code = choice_lookup(choices, aliases).get(norm(result))
        if code is None:
            allowed = ", ".join(choices.values)
            raise CellError(
                _("“%(value)s” is not one of the allowed values: %(allowed)s.")
                % {"value": result, "allowed": allowed}
            )
        return code

    return parse


def many_choices(choices: type[models.TextChoices], aliases: dict[str, str]) -> Parser:
    single = choice(choices, aliases)

    def parse(value: Any) -> list[str]:
        parts = [p for p in re.split(r"[,;，；、/|\n]+", as_text(value)) if p.strip()]
        return sorted({single(p) for p in parts})

    return parse


_VENDOR_LANGUAGES = {
    "zhhans": "zh-hans",
    "zh": "zh-hans",
    "中文": "zh-hans",
    "chinese": "zh-hans",
    "汉语": "zh-hans",
    "en": "en",
    "english": "en",
    "英文": "en",
    "英语": "en",
}


def vendor_language(value: Any) -> str:
    result = as_text(value)
    if not result:
        return "zh-hans"
    code = _VENDOR_LANGUAGES.get(norm(result))
    if code is None:
        raise CellError(
            _("“%(value)s” is not a language we write in: 中文 or English.") % {"value": result}
        )
    return code
