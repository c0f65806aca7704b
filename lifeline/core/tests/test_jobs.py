"""The shared background import (`core.jobs`): progress, cancel, all or nothing, run once."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from lifeline.conftest import client_for
from lifeline.core import jobs
from lifeline.core.models import ImportJob, Library

seen: dict[str, Any] = {}


@jobs.runner("core.test_rows")
def write_rows(job: ImportJob, progress: jobs.Progress) -> jobs.Outcome:
    """Writes libraries one by one; fails, or is cancelled, where the params say."""
    data = jobs.read(job, ("txt",)).decode()
    codes = data.split()
    for n, code in enumerate(codes, start=1):
        Library.objects.create(code=code, name=code)
        if n == job.params.get("cancel_at"):
            jobs.cancel(job)
        progress.advance(n, len(codes), force=True)
        running = ImportJob.objects.get(pk=job.pk)
        seen.setdefault("progress", []).append(jobs.progress_of(running))
        if n == job.params.get("fail_at"):
            raise ValueError("boom")
    return jobs.Outcome(message=f"{len(codes)} written", problems=["a note"])


def start(user: Any, library: Library, **params: Any) -> ImportJob:
    seen.clear()
    upload = ContentFile(b"t1\nt2\nt3\n", name="codes.txt")
    return jobs.start(
        library=library,
        kind="core.test_rows",
        user=user,
        title="codes.txt",
        upload=upload,
        params=params,
    )


@pytest.mark.django_db(transaction=True)
def test_done_with_progress_and_notes(librarian_a: Any, library_a: Library) -> None:
    job = start(librarian_a, library_a)  # tasks run at once under tests
    job.refresh_from_db()
    assert job.status == "done" and job.message == "3 written" and job.problems == ["a note"]
    assert seen["progress"] == [(1, 3), (2, 3), (3, 3)]  # live, while the import ran
    assert (job.done, job.total) == (3, 3) and not job.file
    assert Library.objects.filter(code__in=["t1", "t2", "t3"]).count() == 3
    page = client_for(librarian_a).get(jobs.url(job)).content.decode()
    assert "3 written" in page and "a note" in page and "http-equiv" not in page


@pytest.mark.django_db(transaction=True)
def test_a_failure_or_a_cancel_leaves_nothing(librarian_a: Any, library_a: Library) -> None:
    failed = start(librarian_a, library_a, fail_at=2)
    failed.refresh_from_db()
    assert failed.status == "failed" and "ValueError" in failed.problems[0]
    cancelled = start(librarian_a, library_a, cancel_at=2)
    cancelled.refresh_from_db()
    assert cancelled.status == "cancelled" and seen["progress"] == [(1, 3)]
    assert not Library.objects.filter(code__startswith="t").exists()  # all or nothing
    page = client_for(librarian_a).get(jobs.url(failed))
    assert page.status_code == 400 and "ValueError" in page.content.decode()
    # Run again (a re-delivered task): nothing happens twice.
    assert jobs.run(cancelled.pk) == "cancelled" and jobs.run(failed.pk) == "failed"


@pytest.mark.django_db
def test_an_unknown_kind_is_refused_at_the_start(librarian_a: Any, library_a: Library) -> None:
    for kind in ("core.nothing", "../etc.passwd", "nosuchapp.x"):
        with pytest.raises((LookupError, ModuleNotFoundError)):
            jobs.start(library=library_a, kind=kind, user=librarian_a, title="x")
    assert not ImportJob.objects.exists()
    assert client_for(librarian_a).get(reverse("core:job", args=[999999])).status_code == 404


@jobs.runner("core.test_download")
def make_file(job: ImportJob, progress: jobs.Progress) -> jobs.Outcome:
    """A long action without an upload: its outcome is a file for its owner."""
    return jobs.Outcome(message="made", download=("out.txt", "text/plain", b"the file"))


@pytest.mark.django_db
def test_a_made_file_is_its_owners_and_is_swept_after_a_day(
    librarian_a: Any, library_a: Library, settings: Any, tmp_path: Any
) -> None:
    import datetime as dt

    from django.utils import timezone

    from lifeline.conftest import make_staff
    from lifeline.core.choices import Role

    settings.MEDIA_ROOT = tmp_path
    job = jobs.start(library=library_a, kind="core.test_download", user=librarian_a, title="x")
    job.refresh_from_db()
    assert job.status == "done" and job.file and job.result["download_name"] == "out.txt"
    url = jobs.download_url(job)
    got = client_for(librarian_a).get(url)
    assert got.status_code == 200 and b"".join(got.streaming_content) == b"the file"
    colleague = make_staff("colleague", library_a, Role.ERESOURCES)
    assert client_for(colleague).get(url).status_code == 404  # the same library, not the owner
    assert jobs.sweep_files(timezone.now()) == 0
    assert jobs.sweep_files(timezone.now() + dt.timedelta(days=2)) == 1
    job.refresh_from_db()
    assert not job.file and client_for(librarian_a).get(url).status_code == 404


@jobs.runner("core.test_make", jobs.making("Test plan"))
def refuse_to_make(job: ImportJob, progress: jobs.Progress) -> jobs.Outcome:
    raise jobs.JobRefused(["no figures for that period"])


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "title", "english", "chinese", "running_en"),
    [
        ("analytics.counter", "tr.tsv", "Import: tr.tsv", "导入: tr.tsv", "The import runs"),
        ("registry.preview", "a.csv", "Import preview: a.csv", "导入预览: a.csv", "A preview"),
        ("registry.kbart_preview", "k.txt", "KBART preview: k.txt", "KBART 预览: k.txt", "preview"),
        ("reports.pdf", "", "Service report (PDF)", "服务报告（PDF）", "being made"),
        ("analytics.renewal", "", "Renewal plan", "续订方案", "being made"),
    ],
)
def test_each_kind_of_job_says_what_it_is(
    librarian_a: Any,
    library_a: Library,
    kind: str,
    title: str,
    english: str,
    chinese: str,
    running_en: str,
) -> None:
    """Issue 16: a PDF being made or a renewal plan is not called an "Import"; a long action
    titled with its own heading says it once."""
    job = ImportJob.objects.create(
        library=library_a, kind=kind, title=title or english, created_by=librarian_a
    )
    client = client_for(librarian_a)
    en = client.get(jobs.url(job) + "?lang=en").content.decode()
    assert f"<h1>{english}</h1>" in en and running_en in en
    if not title:
        assert "Import" not in en.split("<h1>", 1)[1].split("</h1>", 1)[0]
    job.title = title or chinese
    job.save()
    zh = client.get(jobs.url(job) + "?lang=zh-hans").content.decode()
    assert f"<h1>{chinese}</h1>" in zh


@pytest.mark.django_db(transaction=True)
def test_a_long_action_that_fails_is_not_called_an_import(
    librarian_a: Any, library_a: Library
) -> None:
    job = jobs.start(library=library_a, kind="core.test_make", user=librarian_a, title="Test plan")
    job.refresh_from_db()
    assert job.status == "failed" and job.problems == ["no figures for that period"]
    assert job.message == "It could not be made. Nothing was stored." or job.message == (
        "未能生成，未保存任何数据。"
    )
    page = client_for(librarian_a).get(jobs.url(job) + "?lang=en").content.decode()
    assert "<h1>Test plan</h1>" in page and "import" not in page.split("<h1>")[1].lower()
