"""Issue 21, finding 4: decompression and memory. Every import opens its upload through
`core.uploads` (kind sniffed, inflated size and line length capped, ZIP expansion checked), and
the COUNTER upload is parsed by a background task. The attacks reproduced: an access-log gzip
without line breaks, an XLSX zip bomb, an ELF binary as a log; plus the enumeration of the
places that read uploads or open compressed containers."""

from __future__ import annotations

import ast
import gzip
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

import lifeline
from lifeline.core import uploads
from lifeline.core.uploads import UploadLimitExceeded, check_text_upload, open_stream, read_upload

PACKAGE = Path(lifeline.__file__).resolve().parent
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + bytes(range(256)) * 8


@pytest.fixture
def small_limits(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.LIFELINE_MAX_LINE_BYTES = 64 * 1024
    settings.LIFELINE_MAX_EXPANSION_RATIO = 50
    monkeypatch.setattr(uploads, "RATIO_FLOOR", 256 * 1024)


def bomb(size: int = 8 * 2**20) -> bytes:
    return gzip.compress(b"A" * size, compresslevel=9)


def test_a_gzip_without_line_breaks_is_stopped_at_the_line_limit(small_limits: None) -> None:
    data = bomb()
    assert len(data) < 20_000
    stream = open_stream(io.BytesIO(data), compressed_size=len(data))
    with pytest.raises(UploadLimitExceeded):
        stream.readline()
    # Read in blocks instead, the inflated total is held to the ratio of the stored size.
    stream = open_stream(io.BytesIO(data), compressed_size=len(data), line_limit=2**30)
    with pytest.raises(UploadLimitExceeded):
        while stream.read(2**16):
            pass


@pytest.mark.django_db
def test_the_log_import_refuses_the_bomb_and_stores_nothing(
    library_a: Any, small_limits: None
) -> None:
    from lifeline.analytics.logimport import run_log_import
    from lifeline.analytics.models import DailyUsage, LogImport

    data = bomb()
    job = LogImport.objects.create(library=library_a, filename="x.log.gz", size=len(data))
    job.file.save("x.log.gz", ContentFile(data), save=True)
    run_log_import(job)
    job.refresh_from_db()
    assert job.status == "failed" and job.message
    assert not DailyUsage.objects.exists()


def zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\x00" * (4 * 2**20))
    return out.getvalue()


def test_an_xlsx_zip_bomb_is_refused_before_it_is_opened(small_limits: None) -> None:
    data = zip_bomb()
    with pytest.raises(ValidationError) as refused:
        uploads.check_zip(data, "usage.xlsx")
    assert refused.value.code == "zip_bomb"
    with pytest.raises(ValidationError):
        read_upload(SimpleUploadedFile("usage.xlsx", data), ("xlsx",))
    with pytest.raises(ValidationError):
        read_upload(SimpleUploadedFile("usage.xlsx", data), None)  # the registry's way


@pytest.mark.django_db
def test_every_import_refuses_the_zip_bomb(
    librarian_a: Any,
    library_a: Any,
    admin_a: Any,
    small_limits: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from lifeline.analytics.models import UsageReport
    from lifeline.conftest import client_for
    from lifeline.core.models import ImportJob

    data = zip_bomb()
    client = client_for(librarian_a)
    response = client.post(
        reverse("analytics:upload"), {"file": SimpleUploadedFile("tr.xlsx", data)}
    )
    assert response.status_code == 400 and not ImportJob.objects.exists()
    assert not UsageReport.objects.exists()
    response = client.post(
        "/staff/registry/import/",
        {"library": library_a.code, "file": SimpleUploadedFile("r.xlsx", data)},
    )
    assert response.status_code == 400
    admin = client_for(admin_a)
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(
            f"/delivery/{library_a.code}/import/", {"file": SimpleUploadedFile("d.xlsx", data)}
        )
    job = ImportJob.objects.get()
    assert job.status == "failed" and job.problems


@pytest.mark.django_db
def test_a_binary_is_not_an_access_log(librarian_a: Any) -> None:
    from lifeline.analytics.models import LogImport
    from lifeline.conftest import client_for

    client = client_for(librarian_a)
    for name, data in [("ezproxy.log", ELF), ("ezproxy.log.gz", gzip.compress(ELF))]:
        response = client.post(reverse("analytics:logs"), {"file": SimpleUploadedFile(name, data)})
        assert response.status_code == 400, name
    assert not LogImport.objects.exists()
    ok = SimpleUploadedFile(
        "access_log", b'10.0.0.1 - - [10/Oct/2024:10:00:00 +0800] "GET / HTTP/1.1" 200 1\n'
    )
    assert check_text_upload(ok).kind == "txt"


# --- enumeration ------------------------------------------------------------------------------

# Modules that read an uploaded file: each must go through core.uploads, or say why not.
READ_MARKERS = ("request.FILES", 'cleaned_data["file"]', ".upload.open(", ".file.open(")
UPLOAD_HELPERS = (
    # core.jobs.check / read: the background imports' way to the same opener (issue 16).
    "jobs.check(",
    "jobs.read(",
    "read_upload",
    "check_upload",
    "check_text_upload",
    "open_stream",
    "open_log_stream",
    "check_zip",
    "read_upload_checks",
)
OWN_CHECKS = {
    "delivery/services.py": "delivered documents (PDF, images): delivery.logic.files sniffs them",
    "delivery/views.py": "delivered documents: delivery.logic.files.check_upload",
    "emergency/views.py": "a plan's YAML: at most 512 KB, read by emergency.logic.document",
    "health/views.py": "screenshots: health.forms re-encodes them with Pillow",
    "delivery/views_iso.py": "ISO 18626 messages: bodies refused over 1 MB; serves stored files",
    "outreach/views_people.py": "contest entries: outreach.logic.contests sniffs and caps them "
    "with check_upload (refused over the contest's limit from Content-Length first)",
    "core/jobviews.py": "serves the file a long action made (a PDF, a plan) to its owner: "
    "no upload is read",
}
# The only modules that open compressed containers or workbooks, with who feeds them.
OPENERS = {
    "core/uploads.py": "the one opener",
    "analytics/counter/parse.py": "bytes from core.jobs.read (analytics.jobs, the task)",
    "registry/io/reading.py": "bytes from read_upload (registry.io.views, commands: files)",
    "delivery/logic/importer.py": "bytes from core.jobs.read (delivery.jobs, the task)",
    "research/logic/importer.py": "bytes checked by check_zip in research.tasks.run_import",
    "theses/logic/importer.py": "check_zip on the bytes before load_workbook",
    "outreach/logic/bank_import.py": "check_zip on the bytes before load_workbook",
    "outreach/logic/courses.py": "class lists: read_upload, then check_zip before load_workbook",
    "theses/logic/package.py": "writes the deposit package and reads back only what it wrote",
    "core/backup.py": "lifeline restore: the operator's own archive, checked whole before use",
    "accounts/saml/logout.py": "SAML HTTP-Redirect DEFLATE, inflated with a 256 KB cap",
    "core/outbound_plain.py": "a peer's gzip answer, inflated in pieces under fetch's byte limit",
}
OPENING_CALLS = {
    "gzip": {"open", "GzipFile", "decompress"},
    "zipfile": {"ZipFile"},
    "openpyxl": {"load_workbook"},
    "tarfile": {"open", "TarFile"},
    "bz2": {"open", "BZ2File", "decompress"},
    "lzma": {"open", "LZMAFile", "decompress"},
    "zlib": {"decompress", "decompressobj"},
}


def _modules() -> list[Path]:
    return sorted(
        p
        for p in PACKAGE.rglob("*.py")
        if not {"tests", "migrations"} & set(p.relative_to(PACKAGE).parts)
    )


def _opening_calls(source: str) -> list[str]:
    tree = ast.parse(source)
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            origin = f"{names.get(func.value.id, func.value.id)}.{func.attr}"
        elif isinstance(func, ast.Name):
            origin = names.get(func.id, func.id)
        else:
            continue
        module, _, attr = origin.rpartition(".")
        if attr in OPENING_CALLS.get(module.split(".")[0], set()):
            found.append(f"{origin} line {node.lineno}")
    return found


def test_every_module_that_reads_an_upload_goes_through_core_uploads() -> None:
    readers, problems = [], []
    for path in _modules():
        rel = path.relative_to(PACKAGE).as_posix()
        source = path.read_text(encoding="utf-8")
        if rel == "core/uploads.py" or not any(m in source for m in READ_MARKERS):
            continue
        readers.append(rel)
        if rel not in OWN_CHECKS and not any(h in source for h in UPLOAD_HELPERS):
            problems.append(f"{rel} reads an upload without lifeline.core.uploads")
    # The imports the issue names are all among them.
    assert {
        "analytics/logimport.py",
        "core/jobs.py",
        "analytics/views.py",
        "registry/io/views.py",
        "delivery/views.py",
    } <= set(readers)
    assert not problems, "\n".join(problems)


def test_only_the_known_parsers_open_compressed_containers() -> None:
    problems = []
    for path in _modules():
        rel = path.relative_to(PACKAGE).as_posix()
        calls = _opening_calls(path.read_text(encoding="utf-8"))
        if calls and rel not in OPENERS:
            problems.append(f"{rel}: {', '.join(calls)}")
    assert not problems, "open uploads through lifeline.core.uploads:\n" + "\n".join(problems)
    assert _opening_calls("import gzip\ngzip.GzipFile(fileobj=x)\ngzip.compress(b'')\n") == [
        "gzip.GzipFile line 2"
    ]
