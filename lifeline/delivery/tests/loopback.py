"""Starting the loopback ISO 18626 peer (`python -m lifeline.delivery.peer`) for tests, and
talking to its control endpoints."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class LoopbackPeer:
    def __init__(self, proc: subprocess.Popen[str], port: int) -> None:
        self.proc, self.port = proc, port
        self.url = f"http://127.0.0.1:{port}"
        self.endpoint = f"{self.url}/iso18626"

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            data = json.dumps(body or {}).encode() if method == "POST" else None
            conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
            return json.loads(conn.getresponse().read() or b"{}")
        finally:
            conn.close()

    def control(self, what: str, **spec: Any) -> Any:
        return self._call("POST", f"/control/{what}", spec)

    def state(self) -> Any:
        return self._call("GET", "/control/state")

    def received(self, **match: str) -> list[dict[str, str]]:
        return [m for m in self.state()["received"] if all(m.get(k) == v for k, v in match.items())]


@contextmanager
def loopback_peer(target: str, *args: str) -> Iterator[LoopbackPeer]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "lifeline.delivery.peer", "--target", target, *args],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("READY "), line
        yield LoopbackPeer(proc, int(line.split()[1]))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
