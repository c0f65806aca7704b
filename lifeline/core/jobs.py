"""Long imports started from a page, run in the background with a progress bar (issue 16).

One mechanism for every app (the COUNTER upload of issue 21 was the first; registry CSV/XLSX/KBART,
delivery history, thesis and selection imports use it; research can):

1. The page checks the upload at once (`check`: kind sniffed, size and ZIP expansion capped), then
   `start(...)` stores it on an `ImportJob` row and enqueues `core.tasks.run_import_job`.
2. The task calls the app's runner, registered with `@runner("app.name")` in the app's `jobs.py`,
   inside one transaction: an import is all or nothing. The runner reads the stored upload with
   `read(job, kinds)` and reports progress with `progress.advance(done, total)`.
3. The job's page (`/jobs/<pk>/`) shows a progress bar that refreshes itself without JavaScript
   (meta refresh) and through htmx when present, a Cancel button, then the outcome and every
   problem, kept on the row. Only the user who started the import (or a superuser) sees it.

Progress and cancellation travel through the `jobs` cache, not the row: the import's own
transaction holds the row (and, on SQLite, the write lock) until it ends, so neither the worker
nor the page could write it meanwhile. The `jobs` cache is Redis when configured, else a file
cache under DATA_DIR (shared by the processes of one machine, which is what SQLite allows).

A re-delivered task does nothing twice: only a queued job runs. Runners must be safe to run again
on the same file (imports update by key rather than append), so "import it again" after a
failure or a cancel is always the remedy.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from lifeline.core.choices import JobStatus
from lifeline.core.models import ImportJob, Library
from lifeline.core.uploads import check_upload, check_zip, read_upload

log = logging.getLogger(__name__)

PROGRESS_EVERY = 0.5  # seconds between progress writes: a surge of rows must not cost a write each
KEY_TTL = 7 * 24 * 3600
# A finished job's files (a preview's kept upload, a made PDF) are kept this long, then swept
# when a job starts: a preview nobody confirmed must not keep its upload on disk for ever.
KEEP_FILES = dt.timedelta(days=1)


@dataclass
class Outcome:
    """What a runner returns: one sentence for the page, the page of the result, warnings kept
    beside a success (lines skipped, say) and figures for the API."""

    message: str
    url: str = ""
    problems: list[str] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)
    # Send the user on to `url` once done (the result page shows everything, notes included);
    # otherwise the job's page stays, with the outcome and its notes.
    redirect: bool = False
    # A dry run (a preview) keeps its upload, so that the confirmed import reads the same file
    # without a second upload (`take_upload`); otherwise the upload goes when the job ends.
    keep_upload: bool = False
    # A long action's file (a PDF, a plan as XLSX): (name, content type, bytes), kept on the job
    # and served to its owner only by `download_url(job)`.
    download: tuple[str, str, bytes] | None = None


class JobRefused(Exception):
    """The import was refused: nothing is stored; `problems` name each (with its line)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class Cancelled(Exception):
    pass


Runner = Callable[[ImportJob, "Progress"], Outcome]
RUNNERS: dict[str, Runner] = {}


@dataclass(frozen=True)
class Wording:
    """How the job's page speaks of one kind of job: a PDF being made is not an import."""

    heading: str | Promise  # the page's title, before the job's own title
    running: str | Promise  # under the progress bar
    refused: str | Promise  # the outcome line when the runner refused or failed


IMPORT = Wording(
    gettext_lazy("Import"),
    gettext_lazy(
        "The import runs in the background: you may leave this page and come back. "
        "Nothing is stored until it has finished without errors."
    ),
    gettext_lazy("The import was refused. Nothing was stored."),
)
PREVIEW = Wording(
    gettext_lazy("Import preview"),
    gettext_lazy(
        "The file is checked in the background: you may leave this page and come back. "
        "A preview stores nothing."
    ),
    gettext_lazy("The preview was refused. Nothing was stored."),
)


def making(heading: str | Promise) -> Wording:
    """The wording of a long action that makes something (a PDF, a plan) rather than import."""
    return Wording(
        heading,
        gettext_lazy(
            "It is being made in the background: you may leave this page and come back. "
            "When it is ready, this page takes you to it."
        ),
        gettext_lazy("It could not be made. Nothing was stored."),
    )


WORDINGS: dict[str, Wording] = {}


def runner(kind: str, wording: Wording = IMPORT) -> Callable[[Runner], Runner]:
    """Register the runner of `kind` ("<app>.<name>", found in lifeline/<app>/jobs.py), and how
    its page speaks of it (an import unless said otherwise)."""

    def register(function: Runner) -> Runner:
        RUNNERS[kind] = function
        WORDINGS[kind] = wording
        return function

    return register


def wording_of(kind: str) -> Wording:
    """The wording of a kind (its app's runners are loaded when needed); an unknown or retired
    kind of an old row is spoken of as an import."""
    try:
        runner_for(kind)
    except (LookupError, ImportError):
        return IMPORT
    return WORDINGS.get(kind, IMPORT)


def runner_for(kind: str) -> Runner:
    if kind not in RUNNERS:
        app = kind.split(".", 1)[0]
        if app.isidentifier():
            importlib.import_module(f"lifeline.{app}.jobs")
    try:
        return RUNNERS[kind]
    except KeyError:
        raise LookupError(f"no import runner for {kind!r}") from None


def _cache() -> Any:
    return caches["jobs"]


class Progress:
    """Handed to a runner: `advance(done, total)` as it goes; raises Cancelled when asked."""

    def __init__(self, job: ImportJob) -> None:
        self.job_id = job.pk
        self.done = 0
        self.total = 0
        self._last = 0.0

    def advance(self, done: int, total: int | None = None, *, force: bool = False) -> None:
        self.done = done
        if total is not None:
            self.total = total
        now = time.monotonic()
        if not force and now - self._last < PROGRESS_EVERY:
            return
        self._last = now
        store = _cache()
        store.set(f"job:{self.job_id}:progress", (self.done, self.total), KEY_TTL)
        if store.get(f"job:{self.job_id}:cancel"):
            raise Cancelled


def progress_of(job: ImportJob) -> tuple[int, int]:
    """(done, total) of a job: live from the cache while it runs, from the row after."""
    if job.status == JobStatus.RUNNING:
        live = _cache().get(f"job:{job.pk}:progress")
        if live:
            return int(live[0]), int(live[1])
    return job.done, job.total


def percent(job: ImportJob) -> int | None:
    done, total = progress_of(job)
    if job.status == JobStatus.DONE:
        return 100
    return min(100, done * 100 // total) if total else None


def check(upload: Any, kinds: tuple[str, ...]) -> None:
    """The quick checks of the one upload opener (kind, size, ZIP expansion), before storing:
    what is plainly wrong is said on the page at once, not after a queue."""
    check_upload(upload, kinds)
    upload.seek(0)
    head = upload.read(4)
    upload.seek(0)
    if head.startswith(b"PK\x03\x04"):
        check_zip(upload, upload.name)
        upload.seek(0)


def start(
    *,
    library: Library,
    kind: str,
    user: Any,
    title: str,
    upload: Any = None,
    params: dict[str, Any] | None = None,
) -> ImportJob:
    """Store the upload (already `check`ed) and queue the import; returns the job."""
    from lifeline.core.tasks import run_import_job

    runner_for(kind)  # a typo in a kind fails here, on the page, not in the worker
    sweep_files()
    job = ImportJob(
        library=library,
        kind=kind,
        title=title[:255],
        # The worker speaks the language of the page that started the import.
        params={"language": translation.get_language() or settings.LANGUAGE_CODE, **(params or {})},
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    if upload is not None:
        upload.seek(0)
        job.file.save(f"{uuid.uuid4().hex}.bin", upload, save=False)
    job.save()
    run_import_job.enqueue(job.pk)
    return job


def sweep_files(now: dt.datetime | None = None) -> int:
    """Delete the files of jobs finished more than KEEP_FILES ago; returns how many."""
    cutoff = (now or timezone.now()) - KEEP_FILES
    old = ImportJob.objects.filter(finished_at__lt=cutoff).exclude(file="")
    swept = 0
    for job in old[:100]:
        job.file.delete(save=False)
        ImportJob.objects.filter(pk=job.pk).update(file="")
        swept += 1
    return swept


def read(job: ImportJob, kinds: tuple[str, ...] | None, **limits: Any) -> bytes:
    """The stored upload's bytes, through the one upload opener (sniffed again, limits again)."""
    if not job.file:
        raise JobRefused([_("The uploaded file is no longer there. Please upload it again.")])
    with job.file.open("rb") as handle:
        _checked, data = read_upload(File(handle.file, name=job.title), kinds, **limits)
    return data


def url(job: ImportJob) -> str:
    return reverse("core:job", args=[job.pk])


def download_url(job: ImportJob) -> str:
    return reverse("core:job_download", args=[job.pk])


def take_upload(job: ImportJob) -> ContentFile | None:
    """The upload a finished preview kept (`Outcome.keep_upload`), handed over once: the job
    keeps no copy, so a second confirmation finds nothing."""
    if job.status != JobStatus.DONE or not job.result.get("kept_upload") or not job.file:
        return None
    with job.file.open("rb") as handle:
        data = handle.read()
    job.file.delete(save=False)
    job.result = {**job.result, "kept_upload": False}
    job.save(update_fields=["file", "result"])
    return ContentFile(data, name=job.title)


def cancel(job: ImportJob) -> None:
    """Ask a job to stop: a queued one is cancelled at once, a running one at its next step
    (its transaction is rolled back: nothing of it stays)."""
    if not ImportJob.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(
        status=JobStatus.CANCELLED,
        message=_("Cancelled before it started. Nothing was stored."),
        finished_at=timezone.now(),
    ):
        _cache().set(f"job:{job.pk}:cancel", True, KEY_TTL)


def _finish(job: ImportJob, status: str, message: str, problems: list[Any]) -> None:
    job.status, job.message, job.problems = status, message, [str(p) for p in problems][:500]
    job.finished_at = timezone.now()
    job.save(
        update_fields=[
            "status",
            "message",
            "problems",
            "result",
            "result_url",
            "done",
            "total",
            "finished_at",
        ]
    )


def run(job_id: int) -> str:
    """The task's body: run the job's import, all or nothing; returns the final status."""
    language = (
        ImportJob.objects.filter(pk=job_id).values_list("params__language", flat=True).first()
    )
    with translation.override(language if isinstance(language, str) else None):
        return _run(job_id)


def _run(job_id: int) -> str:
    # Only a queued job starts: a task delivered twice (or re-run after a crash) does nothing.
    if not ImportJob.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING
    ):
        return str(ImportJob.objects.filter(pk=job_id).values_list("status", flat=True).first())
    job = ImportJob.objects.select_related("library", "created_by").get(pk=job_id)
    progress = Progress(job)
    refused = str(wording_of(job.kind).refused)
    try:
        if _cache().get(f"job:{job.pk}:cancel"):
            raise Cancelled
        function = runner_for(job.kind)
        with transaction.atomic():
            outcome = function(job, progress)
            progress.advance(progress.total or progress.done, force=True)  # a last cancel check
    except Cancelled:
        _finish(job, JobStatus.CANCELLED, _("Cancelled. Nothing was stored."), [])
    except JobRefused as exc:
        _finish(job, JobStatus.FAILED, refused, exc.problems)
    except ValidationError as exc:
        _finish(job, JobStatus.FAILED, refused, list(exc.messages))
    except Exception as exc:  # the worker must record it; the traceback goes to the log
        log.exception("import job %s (%s) failed", job.pk, job.kind)
        _finish(
            job,
            JobStatus.FAILED,
            refused,
            [_("Unexpected error: %(error)s") % {"error": type(exc).__name__}],
        )
    else:
        job.result = {
            **outcome.result,
            "redirect": outcome.redirect and bool(outcome.url),
            "kept_upload": outcome.keep_upload and bool(job.file),
        }
        job.result_url = outcome.url
        job.done, job.total = progress.done, progress.total or progress.done
        if outcome.download is not None:
            name, content_type, body = outcome.download
            if job.file:
                job.file.delete(save=False)
            job.file.save(f"{uuid.uuid4().hex}.bin", ContentFile(body), save=False)
            job.result.update(download_name=name, download_type=content_type)
            ImportJob.objects.filter(pk=job.pk).update(file=job.file.name)
        _finish(job, JobStatus.DONE, outcome.message, outcome.problems)
    finally:
        _cache().delete_many([f"job:{job.pk}:progress", f"job:{job.pk}:cancel"])
        keep = job.result.get("kept_upload") or job.result.get("download_name")
        if job.file and not (job.status == JobStatus.DONE and keep):
            # Imported or refused, the stored upload has served: staff upload again to retry.
            job.file.delete(save=False)
            ImportJob.objects.filter(pk=job.pk).update(file="")
    return str(job.status)
