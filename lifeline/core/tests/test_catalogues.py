"""Every app's Chinese catalogue agrees with the others on each (msgctxt, msgid).

Django merges all catalogues of a language into one at run time, so when two apps translate
the same msgid differently only one translation wins, and the other app's pages show a word
meant for somewhere else (the renewal page's "Plan" button once read 预案, an emergency plan).
A msgid that means different things in two apps needs a context (pgettext / `context "..."`),
not a second translation. The .po files are read directly: they are what people edit, and the
.mo files are build output (`make messages`).
"""

from __future__ import annotations

import ast
import gettext
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import django
import pytest
from django.apps import apps

import lifeline

PACKAGE = Path(lifeline.__file__).resolve().parent
Key = tuple[str | None, str]  # (msgctxt, msgid), as gettext looks a message up


@dataclass
class Entry:
    """One message of a .po file (obsolete `#~` entries are not kept)."""

    line: int
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)


def _unquote(text: str, path: Path, number: int) -> str:
    # A PO string is a double-quoted C string; its escapes (\n, \t, \", \\) are Python's too.
    text = text.strip()
    if not (text.startswith('"') and text.endswith('"')):
        raise ValueError(f"{path}:{number}: expected a quoted string, got {text!r}")
    value = ast.literal_eval(text)
    assert isinstance(value, str)
    return value


def parse_po(path: Path) -> list[Entry]:
    """The entries of a gettext .po file, enough of the format for Django's catalogues."""
    entries: list[Entry] = []
    current: Entry | None = None
    # The keyword the last string belongs to: ("msgid", None), ("msgstr", 2), ...
    target: tuple[str, int | None] | None = None
    pending_flags: set[str] = set()

    def finish() -> None:
        nonlocal current, target
        if current is not None:
            entries.append(current)
        current, target = None, None

    def store(entry: Entry, key: tuple[str, int | None], value: str) -> None:
        name, index = key
        if name == "msgctxt":
            entry.msgctxt = (entry.msgctxt or "") + value
        elif name == "msgid":
            entry.msgid += value
        elif name == "msgid_plural":
            entry.msgid_plural = (entry.msgid_plural or "") + value
        else:
            slot = index or 0
            entry.msgstr[slot] = entry.msgstr.get(slot, "") + value

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            # A comment after a msgstr starts the next entry.
            if current is not None and current.msgstr:
                finish()
            if line.startswith("#,"):
                pending_flags |= {flag.strip() for flag in line[2:].split(",") if flag.strip()}
            continue
        if line.startswith('"'):
            if current is None or target is None:
                raise ValueError(f"{path}:{number}: a string outside an entry")
            store(current, target, _unquote(line, path, number))
            continue
        keyword, _, rest = line.partition(" ")
        if keyword in ("msgctxt", "msgid") and (
            current is None or current.msgstr or (keyword == "msgctxt" and current.msgid)
        ):
            finish()
        if current is None:
            current = Entry(line=number, flags=pending_flags)
            pending_flags = set()
        if keyword.startswith("msgstr[") and keyword.endswith("]"):
            target = ("msgstr", int(keyword[len("msgstr[") : -1]))
        elif keyword in ("msgctxt", "msgid", "msgid_plural", "msgstr"):
            target = (keyword, None)
        else:
            raise ValueError(f"{path}:{number}: unknown keyword {keyword!r}")
        store(current, target, _unquote(rest, path, number))
    finish()
    return entries


def catalogues() -> dict[str, list[Path]]:
    """Every catalogue under the package, by language directory (zh_Hans, ...)."""
    found: dict[str, list[Path]] = defaultdict(list)
    for path in sorted(PACKAGE.rglob("locale/*/LC_MESSAGES/django.po")):
        found[path.parents[1].name].append(path)
    return found


def label(path: Path) -> str:
    return str(path.relative_to(PACKAGE.parent))


def owner(path: Path) -> str:
    """The package a catalogue belongs to: lifeline/health, lifeline (templates), ..."""
    return label(path).split("/locale/")[0]


def translation(entry: Entry) -> tuple[str, ...]:
    return tuple(entry.msgstr[index] for index in sorted(entry.msgstr))


def test_every_app_has_a_chinese_catalogue() -> None:
    apps = {owner(path) for path in catalogues()["zh_Hans"]}
    expected = {
        "lifeline",
        "lifeline/core",
        "lifeline/registry",
        "lifeline/health",
        "lifeline/emergency",
        "lifeline/delivery",
        "lifeline/analytics",
        "lifeline/accounts",
    }
    assert expected <= apps, f"missing catalogues: {sorted(expected - apps)}"


def test_parser_reads_contexts_plurals_flags_and_continuations(tmp_path: Path) -> None:
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: zh_Hans\\n"\n\n'
        '#: a.py:1\n#, fuzzy, python-format\nmsgctxt "incident"\nmsgid "Open"\nmsgstr "未解决"\n\n'
        'msgid "one %(n)s"\nmsgid_plural "many %(n)s"\nmsgstr[0] "%(n)s 个"\n\n'
        'msgid ""\n"long "\n"text"\nmsgstr "长"\n"文本"\n\n'
        '#~ msgid "Gone"\n#~ msgstr "旧"\n',
        encoding="utf-8",
    )
    header, open_, plural, long = parse_po(po)
    assert header.msgid == "" and header.msgstr == {0: "Language: zh_Hans\n"}
    assert (open_.msgctxt, open_.msgid, translation(open_)) == ("incident", "Open", ("未解决",))
    assert open_.flags == {"fuzzy", "python-format"}
    assert plural.msgid_plural == "many %(n)s" and translation(plural) == ("%(n)s 个",)
    assert (long.msgid, translation(long), long.flags) == ("long text", ("长文本",), set())


@pytest.mark.parametrize("language", sorted(catalogues()))
def test_no_empty_or_fuzzy_translation(language: str) -> None:
    problems = []
    for path in catalogues()[language]:
        for entry in parse_po(path):
            where = f"{label(path)}:{entry.line}"
            if "fuzzy" in entry.flags:
                problems.append(f"{where}: fuzzy {entry.msgid!r}")
            elif entry.msgid and (not entry.msgstr or not all(entry.msgstr.values())):
                problems.append(f"{where}: no translation for {entry.msgid!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", sorted(catalogues()))
def test_one_translation_per_msgid(language: str) -> None:
    # (msgctxt, msgid) -> translation -> catalogues that give it
    seen: dict[Key, dict[tuple[str, ...], list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in catalogues()[language]:
        for entry in parse_po(path):
            if entry.msgid:
                seen[(entry.msgctxt, entry.msgid)][translation(entry)].append(owner(path))
    clashes = []
    for (context, msgid), translations in sorted(seen.items(), key=lambda item: str(item[0])):
        if len(translations) > 1:
            name = msgid if context is None else f"{msgid} (context {context!r})"
            given = "; ".join(
                f"{' / '.join(text)} in {', '.join(paths)}"
                for text, paths in sorted(translations.items())
            )
            clashes.append(f"{name!r}: {given}")
    assert not clashes, (
        f"{len(clashes)} msgids are translated differently in two catalogues; Django merges "
        "them, so only one wins everywhere. Use one word, or give the msgid a context:\n"
        + "\n".join(clashes)
    )


def installed_catalogues(language: str) -> dict[str, dict[Key, str]]:
    """The compiled catalogues of Django and of every installed package that is not ours."""
    roots = {"django": Path(django.__file__).parent / "conf"}
    for config in apps.get_app_configs():
        if not config.name.startswith("lifeline"):
            roots[config.name] = Path(config.path)
    found: dict[str, dict[Key, str]] = {}
    for name, root in roots.items():
        # gettext.find falls back as Django does (zh_Hans, then zh).
        mo = gettext.find("django", str(root / "locale"), languages=[language])
        if mo is None:
            continue
        with open(mo, "rb") as handle:
            raw = gettext.GNUTranslations(handle)._catalog
        messages: dict[Key, str] = {}
        for key, text in raw.items():
            if isinstance(key, tuple):  # a plural form: (msgid, n)
                if key[1]:
                    continue
                key = key[0]
            if key:
                context, _, msgid = key.rpartition("\x04")
                messages[(context or None, msgid)] = text
        found[name] = messages
    return found


@pytest.mark.parametrize("language", sorted(catalogues()))
def test_no_clash_with_installed_packages(language: str) -> None:
    # Django merges the admin's, DRF's ... catalogues into the same one: the apps listed before
    # ours in INSTALLED_APPS win over our apps' entries (Search showed the admin's 搜索 wherever
    # a page said 检索), and LOCALE_PATHS win over everything (a "Change" meaning a difference
    # relabelled the admin's 修改 links). So a msgid Django or a package already translates
    # keeps their word, or gets a context of its own.
    ours: dict[Key, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in catalogues()[language]:
        for entry in parse_po(path):
            if entry.msgid:
                ours[(entry.msgctxt, entry.msgid)][translation(entry)[0]].append(owner(path))
    clashes = []
    for package, messages in sorted(installed_catalogues(language).items()):
        for key, text in sorted(messages.items(), key=lambda item: str(item[0])):
            # DRF's "Search" is " 搜索": a stray space is not another word.
            mine = {w: paths for w, paths in ours.get(key, {}).items() if w.strip() != text.strip()}
            if mine:
                given = "; ".join(f"{word} in {', '.join(paths)}" for word, paths in mine.items())
                clashes.append(f"{key[1]!r} (context {key[0]!r}): {text} in {package}; {given}")
    assert not clashes, "\n".join(clashes)
