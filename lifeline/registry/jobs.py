"""The registry's imports, confirmed on the preview page and run in the background
(`lifeline.core.jobs`): a registry CSV/XLSX or a KBART title list, all or nothing."""

from __future__ import annotations

from collections.abc import Callable

from django.urls import reverse
from django.utils.translation import gettext as _

from lifeline.core.jobs import JobRefused, Outcome, Progress, read, runner
from lifeline.core.models import ImportJob
from lifeline.registry.io.kbart import import_kbart
from lifeline.registry.io.reading import max_bytes
from lifeline.registry.io.services import Upload, import_registry
from lifeline.registry.models import Resource


def _progress(progress: Progress) -> Callable[[str, int, int], None]:
    def report(stage: str, done: int, total: int) -> None:
        progress.advance(done, total or None)

    return report


@runner("registry.import")
def run_registry_import(job: ImportJob, progress: Progress) -> Outcome:
    data = read(job, None, max_bytes=max_bytes())
    report = import_registry(
        job.library,
        [Upload(job.title, data, job.params.get("kind") or None)],
        dry_run=False,
        progress=_progress(progress),
    )
    if not report.applied:
        raise JobRefused([str(e) for e in report.errors])
    return Outcome(
        message=_("Imported: %(summary)s.") % {"summary": report.summary()},
        url=reverse("registry:az", args=[job.library.code]),
        problems=[str(w) for w in report.warnings],
        result={"counts": report.counts(), "totals": report.totals()},
    )


@runner("registry.kbart")
def run_kbart_import(job: ImportJob, progress: Progress) -> Outcome:
    resource = Resource.objects.filter(library=job.library, key=job.params["resource"]).first()
    if resource is None:
        raise JobRefused([_("The resource is gone; nothing was imported.")])
    data = read(job, None, max_bytes=max_bytes())
    report = import_kbart(
        resource,
        data,
        job.title,
        dry_run=False,
        progress=_progress(progress),
        keep_lines=frozenset(int(n) for n in job.params.get("keep", [])),
        allow_empty=bool(job.params.get("allow_empty")),
    )
    if not report.applied:
        raise JobRefused([str(e) for e in report.errors])
    return Outcome(
        message=_("%(resource)s: %(summary)s.")
        % {"resource": resource.name, "summary": report.summary()},
        url=reverse("registry:resource", args=[job.library.code, resource.key]),
        problems=[str(w) for w in [*report.warnings, *report.set_aside]],
        result={"titles": report.rows, "replaced": report.replaced, "kept": report.kept},
    )
