"""Issue 21, finding 4: the COUNTER upload no longer parses in the web request."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse


@pytest.mark.django_db
def test_the_counter_upload_is_parsed_by_a_task(
    librarian_a: Any, counter_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page only checks and stores the file; the parse happens in `import_counter`."""
    from lifeline.analytics import views
    from lifeline.analytics.models import CounterImport, UsageReport
    from lifeline.conftest import client_for

    queued: list[int] = []

    class Recorder:
        enqueue = staticmethod(queued.append)

    monkeypatch.setattr(views, "import_counter", Recorder)
    data = (counter_data / "r51" / "TRJ1_sample_r51.tsv").read_bytes()
    response = client_for(librarian_a).post(
        reverse("analytics:upload"), {"file": SimpleUploadedFile("trj1.tsv", data)}
    )
    assert response.status_code == 302
    job = CounterImport.objects.get()
    assert queued == [job.pk] and job.status == "queued" and not UsageReport.objects.exists()
    from lifeline.analytics.tasks import import_counter

    assert import_counter.call(job.pk) == "done"
    job.refresh_from_db()
    assert job.report is not None and not job.file  # the stored upload is gone once parsed


@pytest.mark.django_db
def test_an_upload_job_is_seen_by_its_library_only(
    librarian_a: Any, librarian_b: Any, patron_a: Any, library_a: Any
) -> None:
    from lifeline.analytics.models import CounterImport
    from lifeline.conftest import client_for

    job = CounterImport.objects.create(library=library_a, filename="x.tsv")
    url = reverse("analytics:upload_job", args=[job.pk])
    assert client_for(librarian_a).get(url).status_code == 200  # still queued: a wait page
    assert client_for(librarian_b).get(url).status_code == 404
    assert client_for(patron_a).get(url).status_code == 404
