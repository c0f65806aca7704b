"""Issue 21, finding 4, and issue 16: the COUNTER upload is parsed by the shared background
import (`core.jobs`), not in the web request; its page is its starter's only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from lifeline.conftest import client_for
from lifeline.core import jobs
from lifeline.core.models import ImportJob


@pytest.mark.django_db
def test_the_counter_upload_is_parsed_by_a_task(
    librarian_a: Any, counter_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page only checks and stores the file; the parse happens in the job's task."""
    from lifeline.analytics.models import UsageReport
    from lifeline.core import tasks

    queued: list[int] = []

    class Recorder:
        enqueue = staticmethod(queued.append)

    monkeypatch.setattr(tasks, "run_import_job", Recorder)
    data = (counter_data / "r51" / "TRJ1_sample_r51.tsv").read_bytes()
    client = client_for(librarian_a)
    response = client.post(
        reverse("analytics:upload"), {"file": SimpleUploadedFile("trj1.tsv", data)}
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == jobs.url(job)
    assert queued == [job.pk] and job.status == "queued" and not UsageReport.objects.exists()
    # Waiting: a progress bar that reloads itself without JavaScript, and polls with htmx.
    page = client.get(jobs.url(job)).content.decode()
    assert '<meta http-equiv="refresh"' in page and 'hx-trigger="every 2s"' in page
    assert jobs.run(job.pk) == "done"
    assert jobs.run(job.pk) == "done"  # a task delivered twice imports once
    job.refresh_from_db()
    report = UsageReport.objects.get()
    assert job.result_url == reverse("analytics:report", args=[report.pk]) and not job.file
    # Done: on to the report, which shows its warnings.
    assert client.get(jobs.url(job))["Location"] == job.result_url
    assert client.get(jobs.url(job), HTTP_HX_REQUEST="true")["HX-Redirect"] == job.result_url


@pytest.mark.django_db
def test_a_refused_report_stores_nothing_and_keeps_its_problems(librarian_a: Any) -> None:
    from lifeline.analytics.models import UsageReport

    client = client_for(librarian_a)
    body = b'{"Report_Header": {"Report_ID": "TR"}, "Report_Items": [{"x": 1}]}'
    response = client.post(
        reverse("analytics:upload"), {"file": SimpleUploadedFile("tr.json", body)}, follow=True
    )
    job = ImportJob.objects.get()
    assert job.status == "failed" and job.problems and not UsageReport.objects.exists()
    assert response.status_code == 400 and job.problems[0] in response.content.decode()


@pytest.mark.django_db
def test_an_import_page_is_its_starters_only(
    librarian_a: Any, admin_a: Any, librarian_b: Any, patron_a: Any, library_a: Any
) -> None:
    job = ImportJob.objects.create(
        library=library_a, kind="analytics.counter", title="x.tsv", created_by=librarian_a
    )
    url = jobs.url(job)
    assert client_for(librarian_a).get(url).status_code == 200  # still queued: a wait page
    for other in (admin_a, librarian_b, patron_a):  # another user's import: 404
        assert client_for(other).get(url).status_code == 404
        assert client_for(other).post(reverse("core:job_cancel", args=[job.pk])).status_code == 404
    # Cancelled while queued: it never runs.
    client_for(librarian_a).post(reverse("core:job_cancel", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == "cancelled" and jobs.run(job.pk) == "cancelled"
