"""Background imports (`lifeline.core.jobs`, issue 16): what the page's request costs now, and
what running an import as a job adds to the import itself. SQLite file, in a child process.

    python -m bench jobs [--rows=N]

Figures, for a KBART list of N title lines (default 100,000) into one resource:
- inline: `import_kbart(dry_run=False)` called directly, replacing the same list, what the
  confirm request used to do;
- request: `jobs.start(...)` with the database task backend, what the confirm request does now
  (store the file, queue the task), the time a web worker is held;
- job: `jobs.run(pk)`, the worker's side (the same import inside the job's transaction, with
  progress written to the jobs cache and the cancel flag read every 0.5 s).
Ratios: request / inline (how much of the web worker's time is given back) and job / inline
(the mechanism's own cost; ~1.0 means none worth speaking of).
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._common import option
from bench.kbart import make_file


def child(rows: int) -> None:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.files.base import ContentFile
    from django.core.management import call_command

    from lifeline.core import jobs
    from lifeline.core.models import Library
    from lifeline.registry.io.kbart import import_kbart
    from lifeline.registry.models import Resource

    call_command("migrate", verbosity=0)
    library = Library.objects.create(code="bench", name="Bench")
    Resource.objects.create(library=library, key="big", name="Big")
    resource = Resource.objects.get(key="big")
    user = get_user_model().objects.create_user("bench", "b@example.edu", "x" * 16)
    data = make_file(rows)
    # Twice: the second replaces the first, as the job below does (a replace costs more).
    for _ in range(2):
        start = time.perf_counter()
        report = import_kbart(resource, data, "bench.txt", dry_run=False)
        inline = time.perf_counter() - start
        assert report.applied, report.summary()
    start = time.perf_counter()
    job = jobs.start(
        library=library,
        kind="registry.kbart",
        user=user,
        title="bench.txt",
        upload=ContentFile(data, name="bench.txt"),
        params={"resource": "big"},
    )
    request = time.perf_counter() - start
    start = time.perf_counter()
    status = jobs.run(job.pk)
    ran = time.perf_counter() - start
    assert status == "done", status
    print(f"{rows}\t{inline:.2f}\t{request:.3f}\t{ran:.2f}", flush=True)


def main(argv: list[str]) -> int:
    rows = option(argv, "rows", 100_000)
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(
            os.environ,
            LIFELINE_DATABASE_URL=f"sqlite:///{Path(tmp) / 'bench.sqlite3'}",
            LIFELINE_DATA_DIR=tmp,
            LIFELINE_TASK_BACKEND="database",
            DJANGO_SETTINGS_MODULE="lifeline.settings",
            LIFELINE_LOG_LEVEL="WARNING",
        )
        result = subprocess.run(
            [sys.executable, "-m", "bench.jobs", "--child", str(rows)],
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
    if result.returncode:
        print(result.stderr[-3000:])
        return 1
    n, inline, request, ran = result.stdout.strip().splitlines()[-1].split("\t")
    print(
        f"machine: {platform.node()} {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average "
        f"{os.getloadavg()[0]:.1f}"
    )
    print(
        "| titles | inline import (s) | confirm request now (s) | job run (s) "
        "| request / inline | job / inline |"
    )
    print("|---|---|---|---|---|---|")
    print(
        f"| {int(n):,} | {inline} | {request} | {ran} | "
        f"{float(request) / float(inline):.3f} | {float(ran) / float(inline):.2f} |"
    )
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(int(sys.argv[2]))
    else:
        sys.exit(main(sys.argv[1:]))
