"""Numbers from a query string or a form, parsed by bounded form fields (issue 21, finding 6).

`"²".isdigit()` is true and `int("²")` raises; a 30-digit id overflows the database; "abc" in a
primary-key filter raises in the ORM. Each was an HTTP 500 in a staff page. Views read ids
through these helpers (or through a form with `IdField`), which give `None` (or drop the value)
for anything that is not an integer between 1 and 2**63 - 1.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

MAX_ID = 2**63 - 1
MAX_IDS = 1000  # one batch of a queue page; more is a client's mistake or an attack


class IdField(forms.IntegerField):
    """An id: an integer from 1 to 2**63 - 1, ASCII digits only."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> int | None:
        text = str(value).strip() if value is not None else ""
        if text and not (text.isascii() and text.isdigit()):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        if len(text) > 19:  # longer than any 64-bit id: refuse before int() builds it
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(text)


def parse_id(value: Any) -> int | None:
    """The id in `value`, or None for anything else (absent, empty, "²", "abc", 10**30)."""
    # The common case without building a form field (a quiz answer per request at peak): a
    # string of ASCII digits only, as the field would accept it.
    if isinstance(value, str) and 0 < len(value) <= 19 and value.isascii() and value.isdigit():
        number = int(value)
        return number if 1 <= number <= MAX_ID else None
    try:
        return IdField().clean(value)
    except ValidationError:
        return None


def parse_ids(values: Iterable[Any], limit: int = MAX_IDS) -> list[int]:
    """The valid ids among `values` (at most `limit`), in order, without repeats."""
    seen: dict[int, None] = {}
    for value in values:
        pk = parse_id(value)
        if pk is not None:
            seen[pk] = None
            if len(seen) >= limit:
                break
    return list(seen)
