"""A private PostgreSQL cluster for a benchmark that restarts its database server.

The machine's shared server serves other people's tests: a bench never restarts it. This one
lives in a temporary directory on a free loopback port, run by the `postgres` user (initdb
refuses root) with Debian's binaries, and is removed on leaving the block.

    with PrivateCluster() as pg:
        url = pg.url("lifeline_surge")
        pg.stop("fast"); time.sleep(10); pg.start()
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Self

from bench._common import free_port


def _binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    if not found:
        raise RuntimeError("no PostgreSQL binaries under /usr/lib/postgresql/*/bin")
    return Path(found[-1])


class PrivateCluster:
    """`root`: keep the cluster there between runs (stopped, not removed, on leaving), so a
    slow set-up (the demo data) is paid once; otherwise a temporary directory, removed."""

    def __init__(self, root: Path | None = None) -> None:
        self.bin = _binaries()
        self.port = free_port()
        self.keep = root is not None
        self.root = root or Path(tempfile.mkdtemp(prefix="lifeline-surge-pg-"))
        self.root.mkdir(parents=True, exist_ok=True)
        self.data = self.root / "data"
        self.logfile = self.root / "postgres.log"
        self.running = False

    def _run(self, *argv: str, timeout: float = 120) -> None:
        command = [str(self.bin / argv[0]), *argv[1:]]
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=timeout)

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def init(self) -> None:
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-instructions",
        )

    def start(self) -> None:
        options = f"-p {self.port} -h 127.0.0.1 -k {self.root} -c max_connections=200"
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.logfile), "-w", "-o", options, "start"
        )
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")
        self.running = False

    def __enter__(self) -> Self:
        if not (self.data / "PG_VERSION").exists():
            self.init()
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if self.running:
                self.stop("fast" if self.keep else "immediate")
        finally:
            if not self.keep:
                shutil.rmtree(self.root, ignore_errors=True)
