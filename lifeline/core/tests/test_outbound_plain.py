"""Kept plain-HTTP connections (`outbound.fetch(..., keep_alive=True)` on http://): the same
refusals, redirects and limits as every fetch, and a kept connection only ever for the address
that was checked on this call."""

from __future__ import annotations

import gzip
import http.server
import ipaddress
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from lifeline.core import outbound, outbound_plain

from .test_outbound import _Handler


class _Kept(_Handler):
    """Keeps connections; tells which of its addresses answered and on which connection."""

    protocol_version = "HTTP/1.1"
    connections: list[tuple[str, int]] = []

    def do_GET(self) -> None:
        self.connections.append((self.connection.getsockname()[0], self.client_address[1]))
        if self.path.startswith("/where"):
            self._answer(f"{self.connection.getsockname()[0]} {self.headers.get('Host')}")
            return
        if self.path.startswith("/gzip-big"):
            body = gzip.compress(b"\0" * 2_000_000)
            self.send_response(200)
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if self.path.startswith("/gzip"):
            body = gzip.compress(b"%PDF-1.4 compressed all the same")
            self.send_response(200)
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if self.path.startswith("/then-close"):
            # Answers as if the connection stayed open, then closes it: the next call must
            # not fail on the dead connection.
            self._answer("bye")
            self.close_connection = True
            return
        super().do_GET()

    def do_POST(self) -> None:
        self.connections.append((self.connection.getsockname()[0], self.client_address[1]))
        data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer(f"{self.headers.get('Idempotency-Key')} {data.decode()}")

    def _answer(self, text: str) -> None:
        body = text.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _serve(address: str, port: int = 0) -> http.server.ThreadingHTTPServer:
    httpd = http.server.ThreadingHTTPServer((address, port), _Kept)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


@pytest.fixture
def kept() -> Iterator[str]:
    _Kept.connections = []
    httpd = _serve("127.0.0.1")
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    outbound_plain.close_all()


def test_posts_reuse_one_connection(kept: str) -> None:
    for n in range(3):
        result = outbound.fetch(
            kept + "/iso18626", method="POST", content=f"<m{n}/>".encode(),
            headers={"Idempotency-Key": f"k{n}"}, allow_internal=True, keep_alive=True,
            follow_redirects=False,
        )  # fmt: skip
        assert result.status == 200 and result.text() == f"k{n} <m{n}/>"
        assert result.address == "127.0.0.1"
    assert len({port for _a, port in _Kept.connections}) == 1
    assert outbound_plain.kept("127.0.0.1", int(kept.rsplit(":", 1)[1])) == 1


def test_private_address_and_internal_redirect_still_refused(kept: str, settings: Any) -> None:
    assert outbound.fetch(kept + "/hello", allow_internal=True, keep_alive=True).status == 200
    # A connection to 127.0.0.1 is kept; a call that may not reach it is refused all the same.
    with pytest.raises(outbound.OutboundRefused):
        outbound.fetch(kept + "/hello", keep_alive=True)
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    with pytest.raises(outbound.OutboundRefused):
        outbound.fetch(kept + "/redirect-internal", keep_alive=True, timeout=5)
    with pytest.raises(outbound.OutboundRefused):
        outbound.fetch(kept + "/redirect-loop", keep_alive=True, timeout=5, max_redirects=3)
    result = outbound.fetch(kept + "/redirect-ok", keep_alive=True, timeout=5)
    assert result.url.endswith("/hello?via=redirect") and len(result.redirects) == 1
    assert result.text().startswith("hello 127.0.0.1:")


def test_name_pinned_per_call_to_the_checked_address(
    kept: str, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the name resolves to an allowed address, then to an internal one; the
    kept connection to the first address does not carry the second call."""
    port = int(kept.rsplit(":", 1)[1])
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    answers = iter(["127.0.0.1", "10.0.0.1"])
    monkeypatch.setattr(
        outbound, "resolve_host", lambda host, port: [ipaddress.ip_address(next(answers))]
    )
    url = f"http://peer.example:{port}/where"
    result = outbound.fetch(url, keep_alive=True)
    assert result.text() == f"127.0.0.1 peer.example:{port}"  # the name in Host
    assert result.url == url and result.address == "127.0.0.1"
    with pytest.raises(outbound.OutboundRefused):
        outbound.fetch(url, keep_alive=True)
    assert len(_Kept.connections) == 1


def test_a_new_address_gets_its_own_connection(kept: str, monkeypatch: pytest.MonkeyPatch) -> None:
    port = int(kept.rsplit(":", 1)[1])
    try:
        other = _serve("127.0.0.2", port)
    except OSError:
        pytest.skip("127.0.0.2 is not a loopback address here")
    try:
        answers = iter(["127.0.0.1", "127.0.0.2", "127.0.0.1"])
        monkeypatch.setattr(
            outbound, "resolve_host", lambda host, port: [ipaddress.ip_address(next(answers))]
        )
        url = f"http://peer.example:{port}/where"
        seen = [outbound.fetch(url, allow_internal=True, keep_alive=True) for _ in range(3)]
        assert [r.text().split()[0] for r in seen] == ["127.0.0.1", "127.0.0.2", "127.0.0.1"]
        assert [r.address for r in seen] == ["127.0.0.1", "127.0.0.2", "127.0.0.1"]
        first, _second, third = _Kept.connections
        assert first == third  # the connection kept for 127.0.0.1 served it again
    finally:
        other.shutdown()
        other.server_close()


def test_a_connection_the_server_closed_is_not_used(kept: str) -> None:
    assert outbound.fetch(kept + "/then-close", allow_internal=True, keep_alive=True).text() == (
        "bye"
    )
    assert outbound.fetch(kept + "/hello", allow_internal=True, keep_alive=True).status == 200
    assert len({port for _a, port in _Kept.connections}) == 2


def test_limits_and_encodings(kept: str) -> None:
    with pytest.raises(outbound.OutboundTooLarge):
        outbound.fetch(kept + "/big", allow_internal=True, keep_alive=True, max_bytes=1000)
    cut = outbound.fetch(
        kept + "/big", allow_internal=True, keep_alive=True, max_bytes=1000, truncate=True
    )
    assert cut.truncated and len(cut.content) == 1000
    # Compressed although we asked for identity: decoded, and never past the limit.
    plain = outbound.fetch(kept + "/gzip", allow_internal=True, keep_alive=True)
    assert plain.content == b"%PDF-1.4 compressed all the same"
    with pytest.raises(outbound.OutboundTooLarge):
        outbound.fetch(kept + "/gzip-big", allow_internal=True, keep_alive=True, max_bytes=10_000)
    # After all that, calls on kept connections still work.
    assert outbound.fetch(kept + "/hello", allow_internal=True, keep_alive=True).status == 200


def test_a_peer_that_is_gone_is_a_failure() -> None:
    httpd = _serve("127.0.0.1")
    url = f"http://127.0.0.1:{httpd.server_address[1]}"
    # Its last answer, then the process is gone: the kept connection closed, nothing listens.
    assert outbound.fetch(url + "/then-close", allow_internal=True, keep_alive=True).status == 200
    httpd.shutdown()
    httpd.server_close()
    with pytest.raises(outbound.OutboundFailed):
        outbound.fetch(url + "/hello", allow_internal=True, keep_alive=True, timeout=5)


def test_ipv6_literal_host_and_a_header_that_cannot_be_sent() -> None:
    class Server6(http.server.ThreadingHTTPServer):
        address_family = socket.AF_INET6

    try:
        httpd = Server6(("::1", 0), _Kept)
    except OSError:
        pytest.skip("no IPv6 loopback here")
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        port = httpd.server_address[1]
        result = outbound.fetch(f"http://[::1]:{port}/where", allow_internal=True, keep_alive=True)
        assert result.text() == f"::1 [::1]:{port}" and result.address == "::1"
        with pytest.raises(outbound.OutboundFailed):
            outbound.fetch(
                f"http://[::1]:{port}/where", headers={"X-Note": "雪"}, allow_internal=True,
                keep_alive=True,
            )  # fmt: skip
    finally:
        httpd.shutdown()
        httpd.server_close()
