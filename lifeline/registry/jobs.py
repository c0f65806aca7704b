"""The registry's imports, confirmed on the preview page and run in the background
(`lifeline.core.jobs`): a registry CSV/XLSX or a KBART title list, all or nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from lifeline.core.jobs import PREVIEW as PREVIEW_WORDING
from lifeline.core.jobs import JobRefused, Outcome, Progress, Wording, read, runner
from lifeline.core.models import ImportJob
from lifeline.registry.io.kbart import import_kbart
from lifeline.registry.io.reading import max_bytes
from lifeline.registry.io.services import Upload, import_registry
from lifeline.registry.models import Resource

KBART_WORDING = Wording(
    gettext_lazy("KBART preview"), PREVIEW_WORDING.running, PREVIEW_WORDING.refused
)


def _progress(progress: Progress) -> Callable[[str, int, int], None]:
    def report(stage: str, done: int, total: int) -> None:
        progress.advance(done, total or None)

    return report


@runner("registry.import")
def run_registry_import(job: ImportJob, progress: Progress) -> Outcome:
    data = read(job, None, max_bytes=max_bytes())
    report = import_registry(
        job.library,
        [Upload(job.title, data, job.params.get("kind") or None, zip_checked=True)],
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


# The dry runs (issue 16, part 3): the preview parses and plans in the worker, not in the
# request. Its outcome page (`registry:io_preview`) shows what would change; confirming there
# starts the import above on the file the preview kept, without a second upload.
PREVIEW = "registry.preview"
KBART_PREVIEW = "registry.kbart_preview"


def _preview_outcome(job: ImportJob, html: str, ok: bool, result: dict[str, Any]) -> Outcome:
    return Outcome(
        message=_("The preview is ready.") if ok else _("The file cannot be imported"),
        url=reverse("registry:io_preview", args=[job.pk]),
        # Rendered by our own template (every value escaped); the page shows it as it is.
        result={"html": html, "ok": ok, **result},
        redirect=True,
        keep_upload=ok,
    )


@runner(PREVIEW, PREVIEW_WORDING)
def run_registry_preview(job: ImportJob, progress: Progress) -> Outcome:
    data = read(job, None, max_bytes=max_bytes())
    report = import_registry(
        job.library,
        [Upload(job.title, data, job.params.get("kind") or None, zip_checked=True)],
        dry_run=True,
        progress=_progress(progress),
    )
    html = render_to_string(
        "registry_io/_preview_body.html", {"library": job.library, "report": report}
    )
    return _preview_outcome(job, html, report.ok, {"totals": report.totals()})


@runner(KBART_PREVIEW, KBART_WORDING)
def run_kbart_preview(job: ImportJob, progress: Progress) -> Outcome:
    resource = Resource.objects.filter(library=job.library, key=job.params["resource"]).first()
    if resource is None:
        raise JobRefused([_("The resource is gone; nothing was imported.")])
    data = read(job, None, max_bytes=max_bytes())
    report = import_kbart(resource, data, job.title, dry_run=True, progress=_progress(progress))
    html = render_to_string(
        "registry_io/_kbart_preview_body.html", {"resource": resource, "report": report}
    )
    return _preview_outcome(job, html, report.ok, {"rows": report.rows})
