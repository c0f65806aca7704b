"""The title cards of the browse page, written in Python: the patron's busiest page renders 30 of
them, and Django's template engine spent more on their ~40 variables each (resolve, escape,
localise) than the page's queries took (cProfile: 58 % of the page). The markup is the same as the
template's was; every value is escaped here.

Per card the page once spent more on Django's helpers than on its query: `conditional_escape`
(lazy-string checks around the standard library's `html.escape`), `localize` of the year and
price, `ngettext` of the marks. The values here are plain strings and numbers from the database,
so `html.escape` gives the same text; numbers and labels are worked out once per page (see
`_Numbers`)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from django.utils.formats import localize
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext, ngettext

from lifeline.selection.browsing import Card
from lifeline.selection.choices import LINE_STATUS_COLOURS, LineStatus, Reason


@dataclass(frozen=True)
class Labels:
    """The cards' words in one language (escaped or safe): the same for every page, so worked
    out once per language and process (`labels`): ten `gettext` calls and the reasons' options
    cost as much as a tenth of the page."""

    reason_options: str
    reason_label: str
    note_label: str
    note_placeholder: str
    mark_label: str
    marked_label: str
    take_back_label: str
    empty: str


_LABELS: dict[str, Labels] = {}


def labels() -> Labels:
    """The cards' words in the active language."""
    lang = get_language() or ""
    found = _LABELS.get(lang)
    if found is None:
        found = Labels(
            reason_options=format_html_join(
                "", '<option value="{}">{}</option>', ((v, str(lbl)) for v, lbl in Reason.choices)
            ),
            reason_label=_e(gettext("Reason")),
            note_label=_e(gettext("Note")),
            note_placeholder=_e(gettext("Note (optional)")),
            mark_label=_e(gettext("Mark")),
            marked_label=_e(gettext("Marked")),
            take_back_label=_e(gettext("Take back")),
            empty=_e(gettext("No titles match.")),
        )
        _LABELS[lang] = found  # one entry per language of settings.LANGUAGES
    return found


@dataclass(frozen=True)
class CardText:
    """What every card repeats, worked out once per page (already escaped or safe)."""

    open: bool
    mark_url: str
    vote_url: str
    ballot: str
    back: str
    csrf_input: str
    labels: Labels


# What `html.escape` replaces. Most values on a page (Chinese titles, names, ISBNs, prices) hold
# none of these: one regular-expression scan is half the cost of escape's five replaces, and a
# page escapes some 260 values.
_SPECIAL = re.compile("[&<>\"']")


def _e(value: Any) -> str:
    # The cards' values are str, int and Decimal from the database, never SafeStrings (that is
    # what `conditional_escape` would check): the standard library's escape is Django's.
    text = str(value)
    return html.escape(text) if _SPECIAL.search(text) else text


class _Numbers:
    """`localize` of years and prices for one page: the plain text when the active language
    formats numbers plainly (no grouping, "." for decimals: both of Lifeline's languages without
    USE_THOUSAND_SEPARATOR), which two `localize` calls decide once per page; else `localize`."""

    def __init__(self) -> None:
        self.plain = (
            localize(Decimal("-1234567.89")) == "-1234567.89" and localize(1234567) == "1234567"
        )

    def __call__(self, value: int | Decimal) -> str:
        if self.plain:
            if isinstance(value, int):
                return str(value)
            # Django's number format writes the same "{:f}" text below its 200-digit cutoff.
            _sign, digits, exponent = value.as_tuple()
            if isinstance(exponent, int) and abs(exponent) + len(digits) <= 200:
                return f"{value:f}"
        return str(localize(value))


def cards(rows: Iterable[Card], text: CardText) -> SafeString:
    e = _e
    number = _Numbers()
    marks: dict[int, str] = {}  # "3 marks", once per count on the page
    badges: dict[str, str] = {}  # the status badge, once per status
    out: list[str] = []
    words = text.labels
    undo_head = (
        f'<form method="post" action="{e(text.mark_url)}" class="inline">{text.csrf_input}\n'
    )
    mark_head = (
        f'<form method="post" action="{e(text.mark_url)}" class="inline"'
        f' hx-post="{e(text.vote_url)}" hx-vals=\'{{"b": "{e(text.ballot)}"}}\''
        f' hx-target="this" hx-swap="outerHTML">{text.csrf_input}\n'
    )
    back = f'<input type="hidden" name="back" value="{e(text.back)}">\n'
    for t in rows:
        line = e(t.author)
        if t.publisher:
            line += f" · {e(t.publisher)}"
        if t.year:
            line += f" · {e(number(t.year))}"
        facts = "ISBN " + e(t.isbn or t.isbn_raw or "—")
        if t.price is not None:
            facts += f" · ¥{e(number(t.price))}"
        if t.clc:
            facts += f" · {e(t.clc)}"
        n = t.n_votes
        if n not in marks:
            marks[n] = e(ngettext("%(n)s mark", "%(n)s marks", n) % {"n": n})
        facts += f" · {marks[n]}"
        out.append(
            f'<div class="card title-card">\n  <strong>{e(t.title)}</strong>\n'
            f'  <div class="muted">{line}</div>\n  <div class="muted">{facts}</div>\n  '
        )
        if t.status != "new":
            if t.status not in badges:
                status = LineStatus(t.status)
                badges[t.status] = (
                    f'<span class="badge {e(LINE_STATUS_COLOURS.get(status, "grey"))}">'
                    f"{e(status.label)}</span>\n"
                )
            out.append(badges[t.status])
        elif t.marked:
            button = (
                f' <button class="btn outline" type="submit">{words.take_back_label}</button>'
                if text.open
                else ""
            )
            out.append(
                undo_head + f'<input type="hidden" name="title" value="{t.pk}">'
                '<input type="hidden" name="reason" value="other">'
                '<input type="hidden" name="undo" value="1">\n'
                + back
                + f'<span class="badge green">{words.marked_label}</span>{button}\n</form>\n'
            )
        elif text.open:
            out.append(
                mark_head
                + f'<input type="hidden" name="title" value="{t.pk}">\n'
                + back
                + f'<label for="reason-{t.pk}">{words.reason_label}</label>\n'
                f'<select id="reason-{t.pk}" name="reason">{words.reason_options}</select>\n'
                f'<input type="text" name="note" maxlength="300" aria-label="{words.note_label}"'
                f' placeholder="{words.note_placeholder}">\n'
                f'<button class="btn primary" type="submit">{words.mark_label}</button>\n</form>\n'
            )
        out.append("</div>\n")
    if not out:
        out.append(f'<p class="muted">{words.empty}</p>')
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped


def class_links(classes: list[tuple[str, str]], cls: str, q: str) -> SafeString:
    """The 22 class letters of the browse page (the template's loop resolved ~90 variables)."""
    e = _e
    # `quote` leaves only [A-Za-z0-9_.~/-] and %XX: nothing to escape in the links but "&".
    q_part = f"&amp;q={quote(q)}" if q else ""
    links = [
        f'<a href="?cls={e(letter)}{q_part}" title="{e(name)}"'
        + (' class="on"' if letter == cls else "")
        + f">{e(letter)}</a>"
        for letter, name in classes
    ]
    return mark_safe("".join(links))  # noqa: S308 - every value above is escaped
