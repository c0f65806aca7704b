"""Entry points of import and export that the commands and the staff pages call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, IntegrityError, transaction
from django.utils.translation import gettext as _

from lifeline.core import audit
from lifeline.core.choices import AuditAction
from lifeline.core.models import Library
from lifeline.registry.io import planner
from lifeline.registry.io.choices import ImportKind
from lifeline.registry.io.columns import guess_kind, kind_of_sheet
from lifeline.registry.io.mapping import ParsedRow, map_headers, parse_rows
from lifeline.registry.io.reading import FileRefused, read_tables
from lifeline.registry.io.report import ImportReport, Issue


@dataclass
class Upload:
    name: str
    data: bytes
    kind: str | None = None  # force the kind of a CSV; otherwise sheet name or headers decide
    # The bytes came through core.uploads.read_upload, which has refused a ZIP bomb already:
    # the workbook is not checked a second time (issue 16).
    zip_checked: bool = False


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


def import_registry(
    library: Library,
    uploads: list[Upload],
    *,
    dry_run: bool,
    progress: planner.Progress | None = None,
) -> ImportReport:
    """Read, check and (unless dry_run or any error) apply the files in one transaction."""
    progress = progress or _no_progress
    report = ImportReport(dry_run=dry_run)
    errors = report.errors
    rows: dict[str, list[ParsedRow]] = {k: [] for k in ImportKind.values}
    for upload in uploads:
        try:
            tables, encoding = read_tables(upload.data, upload.name, upload.zip_checked)
        except FileRefused as exc:
            errors.append(Issue(upload.name, None, "", str(exc)))
            continue
        report.encodings[upload.name] = encoding
        total = sum(len(t.rows) for t in tables)
        for table in tables:
            kind = upload.kind or kind_of_sheet(table.sheet) or guess_kind(table.headers)
            mapping = map_headers(table, kind, errors)
            if mapping is not None:
                rows[kind].extend(parse_rows(table, mapping, errors))
            progress(_("reading"), sum(len(r) for r in rows.values()), total)
    plan = planner.Plan(library=library, report=report)
    vendors = planner.plan_vendors(plan, rows[ImportKind.VENDORS], errors)
    progress(_("checking"), len(rows[ImportKind.VENDORS]), 0)
    resources = planner.plan_resources(plan, rows[ImportKind.RESOURCES], vendors, errors)
    progress(_("checking"), len(rows[ImportKind.RESOURCES]), 0)
    planner.plan_routes(plan, rows[ImportKind.ROUTES], resources, errors)
    planner.record(plan)
    errors.sort(key=lambda e: (e.source, e.line or 0))
    if dry_run or errors:
        return report
    try:
        with transaction.atomic():
            planner.apply(plan)
            audit.write(
                AuditAction.IMPORT,
                model="registry.Resource",
                library_id=library.pk,
                after=_audit_counts(report, uploads),
                message=report.summary(),
            )
    except (IntegrityError, DatabaseError) as exc:
        # Someone changed the registry between our check and our write: nothing was kept.
        errors.append(
            Issue(
                ", ".join(u.name for u in uploads),
                None,
                "",
                _(
                    "The registry changed while importing; nothing was written. Try again. (%(error)s)"  # noqa: E501
                )
                % {"error": exc},
            )
        )
        return report
    report.applied = True
    return report


def _audit_counts(report: ImportReport, uploads: list[Upload]) -> dict[str, Any]:
    changed = report.changed_rows()
    return {
        "files": [u.name for u in uploads],
        "encodings": report.encodings,
        "counts": report.counts(),
        # Keys, so the audit log says which records an import touched (capped to stay small).
        "changed": [f"{r.kind}:{r.key}:{r.outcome}" for r in changed[:500]],
    }
