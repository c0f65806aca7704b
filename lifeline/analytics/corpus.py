"""Run the readers over a folder of real files and say, per file, what they made of it.

`lifeline usage_corpus --counter DIR --kbart DIR` prints a Markdown table: accepted (with the
counts and warnings) or refused (with the first reasons). Nothing is stored: it is the check
that every refusal is one a librarian would also make (docs/counter-corpus.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from lifeline.analytics.counter import notes
from lifeline.analytics.counter.parse import CounterError, parse_report


@dataclass
class Outcome:
    name: str
    accepted: bool
    summary: str
    reasons: list[str]


def counter_file(path: Path) -> Outcome:
    try:
        parsed = parse_report(path.read_bytes(), path.name)
    except CounterError as exc:
        return Outcome(path.name, False, "", [str(p) for p in exc.problems[:3]])
    rows = parsed.usage_frame().height
    codes = ",".join(str(e.get("Code", "?")) for e in parsed.exceptions)
    summary = f"{parsed.report_id} R{parsed.release} {parsed.file_format} {rows} counts"
    if codes:
        summary += f", exceptions {codes}"
    return Outcome(path.name, True, summary, [notes.render(w) for w in parsed.warnings])


def kbart_file(path: Path) -> Outcome:
    from lifeline.registry.io.kbart import KbartReport, parse_kbart
    from lifeline.registry.io.reading import FileRefused

    report = KbartReport(source=path.name, dry_run=True)
    resource: Any = SimpleNamespace(pk=0)
    try:
        titles = parse_kbart(path.read_bytes(), path.name, resource, report, lambda *a: None)
    except FileRefused as exc:
        return Outcome(path.name, False, "", [str(exc)])
    summary = f"{len(titles)} titles"
    if report.set_aside:
        summary += f", {report.set_aside_count} lines set aside for correction"
    if report.errors:
        return Outcome(path.name, False, summary, [str(i) for i in report.errors[:3]])
    reasons = [str(i) for i in (report.set_aside[:2] + report.warnings[:3])]
    return Outcome(path.name, True, summary, reasons)


def run(folder: Path, kind: str) -> list[Outcome]:
    read = counter_file if kind == "counter" else kbart_file
    return [read(p) for p in sorted(folder.iterdir()) if p.is_file() and p.name != "README.md"]


def markdown(outcomes: list[Outcome]) -> str:
    lines = ["| file | result | what | reasons / warnings |", "|---|---|---|---|"]
    for o in outcomes:
        reasons = " · ".join(r.replace("|", "\\|").replace("\n", " ")[:300] for r in o.reasons)
        verdict = "accepted" if o.accepted else "**refused**"
        lines.append(f"| {o.name} | {verdict} | {o.summary} | {reasons} |")
    accepted = sum(o.accepted for o in outcomes)
    lines.append("")
    lines.append(f"{accepted} of {len(outcomes)} accepted, {len(outcomes) - accepted} refused.")
    return "\n".join(lines)
