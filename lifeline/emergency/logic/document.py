"""The plan document: YAML in and out, validated, with errors that name the line.

The validated, normalised dictionary is what `PlanVersion.document` stores, what the
YAML export writes and what activation reads, so there is one shape for all three.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.utils.translation import gettext as _

from lifeline.core.choices import WebhookFormat
from lifeline.emergency.choices import ROMAN, EventCategory

MAX_BYTES = 512 * 1024
MAX_DUE_HOURS = 24 * 180  # half a year: beyond that it is a project, not an emergency task
ROMAN_TO_INT = {v: k for k, v in ROMAN.items()}
KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class PlanDocumentError(ValueError):
    """A refused plan document. `line` is 1-based when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        if self.line:
            return _("Line %(line)s: %(message)s") % {"line": self.line, "message": self.message}
        return self.message


class _Locator:
    """The line of a path such as ("teams", 2, "tasks", 0, "due_hours") in the composed YAML."""

    def __init__(self, node: yaml.Node | None) -> None:
        self.node = node

    def line(self, *path: str | int) -> int | None:
        node = self.node
        best = node.start_mark.line + 1 if node is not None else None
        for part in path:
            if isinstance(node, yaml.MappingNode) and isinstance(part, str):
                node = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
            elif (
                isinstance(node, yaml.SequenceNode)
                and isinstance(part, int)
                and part < len(node.value)
            ):
                node = node.value[part]
            else:
                node = None
            if node is None:
                break
            best = node.start_mark.line + 1
        return best


def parse_yaml(text: str | bytes) -> tuple[Any, _Locator]:
    if isinstance(text, bytes):
        if len(text) > MAX_BYTES:
            raise PlanDocumentError(_("The file is larger than 512 KB."))
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise PlanDocumentError(_("The file is not UTF-8 text.")) from exc
    if len(text) > MAX_BYTES:
        raise PlanDocumentError(_("The file is larger than 512 KB."))
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise PlanDocumentError(
            _("This is not valid YAML (%(problem)s).") % {"problem": problem},
            mark.line + 1 if mark is not None else None,
        ) from exc
    except (ValueError, OverflowError, RecursionError) as exc:
        # A date YAML recognises by its shape but that does not exist ("2020-13-45"), or a
        # nesting deep enough to exhaust the stack: bad input, not a server error (issue 21).
        raise PlanDocumentError(
            _("This is not valid YAML (%(problem)s).") % {"problem": exc.__class__.__name__}
        ) from exc
    return data, _Locator(node)


def load_yaml(text: str | bytes, library: Any = None) -> dict[str, Any]:
    data, locator = parse_yaml(text)
    return validate(data, locator, library)


def dump_yaml(document: dict[str, Any]) -> str:
    header = (
        "# Lifeline emergency plan. Levels: I (gravest) to IV; "
        "due_hours: deadline after activation.\n"
    )
    return header + yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100)


def parse_level(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and 1 <= value <= 4:
        return value
    if isinstance(value, str):
        text = value.strip().upper().removeprefix("LEVEL").strip()
        if text in ROMAN_TO_INT:
            return ROMAN_TO_INT[text]
        if text.isdigit() and 1 <= int(text) <= 4:
            return int(text)
    return None


def _text(
    raw: dict[str, Any],
    key: str,
    loc: _Locator,
    path: tuple[Any, ...],
    *,
    required: bool = False,
    max_length: int = 500,
) -> str:
    value = raw.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise PlanDocumentError(
            _("“%(field)s” must be text.") % {"field": key}, loc.line(*path, key)
        )
    value = str(value).strip()
    if required and not value:
        raise PlanDocumentError(_("“%(field)s” is required.") % {"field": key}, loc.line(*path))
    if len(value) > max_length:
        raise PlanDocumentError(
            _("“%(field)s” is longer than %(max)s characters.") % {"field": key, "max": max_length},
            loc.line(*path, key),
        )
    return value


def _mapping(value: Any, loc: _Locator, path: tuple[Any, ...], what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PlanDocumentError(
            _("%(what)s must be a mapping of fields.") % {"what": what}, loc.line(*path)
        )
    return value


def _list(value: Any, loc: _Locator, path: tuple[Any, ...], what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise PlanDocumentError(_("%(what)s must be a list.") % {"what": what}, loc.line(*path))
    return value


def _key(raw: dict[str, Any], loc: _Locator, path: tuple[Any, ...], fallback: str) -> str:
    key = str(raw.get("key") or fallback).strip().lower()
    if not KEY_RE.match(key):
        raise PlanDocumentError(
            _("The key “%(key)s” may hold only lower-case letters, digits, “-” and “_”.")
            % {"key": key},
            loc.line(*path, "key"),
        )
    return key


def _webhook(raw: Any, loc: _Locator, path: tuple[Any, ...]) -> dict[str, str]:
    hook = _mapping(raw, loc, path, _("A webhook"))
    url = _text(hook, "url", loc, path, required=True, max_length=1000)
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError as exc:
        raise PlanDocumentError(
            _("“%(url)s” is not a web address.") % {"url": url}, loc.line(*path, "url")
        ) from exc
    fmt = _text(hook, "format", loc, path) or WebhookFormat.JSON
    if fmt not in WebhookFormat.values:
        raise PlanDocumentError(
            _("Unknown webhook format “%(fmt)s”; use one of %(choices)s.")
            % {"fmt": fmt, "choices": ", ".join(WebhookFormat.values)},
            loc.line(*path, "format"),
        )
    return {"url": url, "format": fmt}


def _member(
    raw: Any, loc: _Locator, path: tuple[Any, ...], usernames: set[str] | None, order: int
) -> dict[str, Any]:
    m = _mapping(raw, loc, path, _("A member"))
    member = {
        "name": _text(m, "name", loc, path, required=True, max_length=120),
        "name_en": _text(m, "name_en", loc, path, max_length=120),
        "role": _text(m, "role", loc, path, max_length=120),
        "role_en": _text(m, "role_en", loc, path, max_length=120),
        "user": _text(m, "user", loc, path, max_length=150),
        "phone": _text(m, "phone", loc, path, max_length=60),
        "email": _text(m, "email", loc, path, max_length=254),
        "wechat": _text(m, "wechat", loc, path, max_length=120),
        "deputy": bool(m.get("deputy", False)),
        "call_order": m.get("call_order", order),
    }
    if member["email"]:
        try:
            validate_email(member["email"])
        except ValidationError as exc:
            raise PlanDocumentError(
                _("“%(email)s” is not an e-mail address.") % {"email": member["email"]},
                loc.line(*path, "email"),
            ) from exc
    if (
        not isinstance(member["call_order"], int)
        or isinstance(member["call_order"], bool)
        or member["call_order"] < 1
    ):
        raise PlanDocumentError(
            _("“call_order” must be a whole number from 1."), loc.line(*path, "call_order")
        )
    if member["user"] and usernames is not None and member["user"] not in usernames:
        raise PlanDocumentError(
            _("No staff user “%(user)s” in this library.") % {"user": member["user"]},
            loc.line(*path, "user"),
        )
    return member


def _task(raw: Any, loc: _Locator, path: tuple[Any, ...], index: int) -> dict[str, Any]:
    t = _mapping(raw, loc, path, _("A task"))
    level = parse_level(t.get("level"))
    if level is None:
        raise PlanDocumentError(
            _("“level” must be I, II, III or IV."), loc.line(*path, "level") or loc.line(*path)
        )
    due = t.get("due_hours")
    if isinstance(due, bool) or not isinstance(due, int | float):
        raise PlanDocumentError(
            _("“due_hours” must be a number of hours after activation."),
            loc.line(*path, "due_hours"),
        )
    if due <= 0:
        raise PlanDocumentError(
            _("The deadline (%(hours)s h) falls before activation: it must be after it.")
            % {"hours": due},
            loc.line(*path, "due_hours"),
        )
    if due > MAX_DUE_HOURS:
        raise PlanDocumentError(
            _("The deadline is more than %(max)s hours after activation.") % {"max": MAX_DUE_HOURS},
            loc.line(*path, "due_hours"),
        )
    return {
        "key": _key(t, loc, path, f"task-{index + 1}"),
        "title": _text(t, "title", loc, path, required=True),
        "title_en": _text(t, "title_en", loc, path),
        "section": _text(t, "section", loc, path, max_length=20),
        "level": level,
        "due_hours": float(due) if isinstance(due, float) and not due.is_integer() else int(due),
        "assign": _text(t, "assign", loc, path, max_length=120),
    }


def _staff_usernames(library: Any) -> set[str] | None:
    if library is None:
        return None
    return set(
        get_user_model()
        .objects.filter(memberships__library=library, memberships__is_active=True)
        .values_list("username", flat=True)
    )


def validate(data: Any, loc: _Locator | None = None, library: Any = None) -> dict[str, Any]:
    """Check a plan document and return its normalised form, or raise PlanDocumentError."""
    loc = loc or _Locator(None)
    doc = _mapping(data, loc, (), _("The plan"))
    usernames = _staff_usernames(library)
    categories = _list(
        doc.get("categories") or list(EventCategory.values), loc, ("categories",), "categories"
    )
    for i, cat in enumerate(categories):
        if cat not in EventCategory.values:
            raise PlanDocumentError(
                _("Unknown event category “%(cat)s”; use %(choices)s.")
                % {"cat": cat, "choices": ", ".join(EventCategory.values)},
                loc.line("categories", i),
            )
    services = _mapping(doc.get("services") or {}, loc, ("services",), "services")
    result: dict[str, Any] = {
        "name": _text(doc, "name", loc, (), required=True, max_length=200),
        "name_en": _text(doc, "name_en", loc, (), max_length=200),
        "description": _text(doc, "description", loc, (), max_length=5000),
        "description_en": _text(doc, "description_en", loc, (), max_length=5000),
        "categories": list(dict.fromkeys(categories)),
        "services": {
            key: _text(services, key, loc, ("services",), max_length=2000)
            for key in (
                "reference_hours",
                "reference_hours_en",
                "delivery",
                "delivery_en",
                "notice",
                "notice_en",
            )
        },
        "webhooks": [
            _webhook(h, loc, ("webhooks", i))
            for i, h in enumerate(_list(doc.get("webhooks"), loc, ("webhooks",), "webhooks"))
        ],
        "teams": [],
    }
    teams = _list(doc.get("teams"), loc, ("teams",), "teams")
    if not teams:
        raise PlanDocumentError(_("The plan has no teams."), loc.line("teams") or loc.line())
    seen: set[str] = set()
    for ti, raw in enumerate(teams):
        path: tuple[Any, ...] = ("teams", ti)
        t = _mapping(raw, loc, path, _("A team"))
        team: dict[str, Any] = {
            "key": _key(t, loc, path, f"team-{ti + 1}"),
            "name": _text(t, "name", loc, path, required=True, max_length=200),
            "name_en": _text(t, "name_en", loc, path, max_length=200),
            "section": _text(t, "section", loc, path, max_length=20),
            "leadership": bool(t.get("leadership", False)),
            "duty": _text(t, "duty", loc, path, max_length=2000),
            "duty_en": _text(t, "duty_en", loc, path, max_length=2000),
            "webhooks": [
                _webhook(h, loc, (*path, "webhooks", i))
                for i, h in enumerate(
                    _list(t.get("webhooks"), loc, (*path, "webhooks"), "webhooks")
                )
            ],
        }
        if team["key"] in seen:
            raise PlanDocumentError(
                _("Two teams share the key “%(key)s”.") % {"key": team["key"]},
                loc.line(*path, "key"),
            )
        seen.add(team["key"])
        members = _list(t.get("members"), loc, (*path, "members"), "members")
        if not members:
            raise PlanDocumentError(
                _("The team “%(team)s” has no members.") % {"team": team["name"]},
                loc.line(*path, "members") or loc.line(*path),
            )
        team["members"] = sorted(
            (
                _member(m, loc, (*path, "members", mi), usernames, mi + 1)
                for mi, m in enumerate(members)
            ),
            key=lambda m: (m["deputy"], m["call_order"]),
        )
        tasks = [
            _task(x, loc, (*path, "tasks", xi), xi)
            for xi, x in enumerate(_list(t.get("tasks"), loc, (*path, "tasks"), "tasks"))
        ]
        keys = [x["key"] for x in tasks]
        dup = next((k for k in keys if keys.count(k) > 1), None)
        if dup:
            raise PlanDocumentError(
                _("Two tasks of “%(team)s” share the key “%(key)s”.")
                % {"team": team["name"], "key": dup},
                loc.line(*path, "tasks"),
            )
        names = {m["name"] for m in team["members"]}
        for xi, x in enumerate(tasks):
            if x["assign"] and x["assign"] not in names:
                raise PlanDocumentError(
                    _(
                        "The task “%(task)s” is assigned to “%(who)s”, "
                        "who is not a member of the team."
                    )
                    % {"task": x["title"], "who": x["assign"]},
                    loc.line(*path, "tasks", xi, "assign"),
                )
        team["tasks"] = tasks
        result["teams"].append(team)
    if not any(team["leadership"] for team in result["teams"]):
        result["teams"][0]["leadership"] = True  # the first team leads when none says so
    return result
