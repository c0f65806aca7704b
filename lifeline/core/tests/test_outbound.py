"""The outbound-fetch helper against real loopback servers: refusal, pinning, redirects, size."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from lifeline.core import outbound


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.startswith("/redirect-internal"):
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.end_headers()
            return
        if self.path.startswith("/redirect-loop"):
            self.send_response(302)
            self.send_header("Location", "/redirect-loop")
            self.end_headers()
            return
        if self.path.startswith("/redirect-ok"):
            self.send_response(303)
            self.send_header("Location", "/hello?via=redirect")
            self.end_headers()
            return
        if self.path.startswith("/big"):
            body = b"x" * 200_000
        else:
            body = f"hello {self.headers.get('Host')} {self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/",
        "http://[::1]/",
        "http://localhost/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://100.64.1.1/",
        "http://[::ffff:127.0.0.1]/",
        "file:///etc/passwd",
        "gopher://127.0.0.1/",
        "http://user:pw@example.org/",
    ],
)
def test_internal_and_odd_targets_refused(url: str) -> None:
    with pytest.raises(outbound.OutboundRefused):
        outbound.fetch(url, timeout=2)


def test_loopback_allowed_by_caller_and_pinned(server: str) -> None:
    result = outbound.fetch(server + "/hello", allow_internal=True, timeout=5)
    assert result.status == 200
    assert result.address == "127.0.0.1"
    assert result.text().startswith("hello 127.0.0.1:")


def test_loopback_allowed_by_setting(server: str, settings: Any) -> None:
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    assert outbound.fetch(server + "/hello", timeout=5).status == 200


def test_every_redirect_hop_checked(server: str, settings: Any) -> None:
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    with pytest.raises(outbound.OutboundRefused):
        outbound.fetch(server + "/redirect-internal", timeout=5)
    with pytest.raises(outbound.OutboundRefused):
        outbound.fetch(server + "/redirect-loop", timeout=5, max_redirects=3)
    result = outbound.fetch(server + "/redirect-ok", timeout=5)
    assert result.url.endswith("/hello?via=redirect") and len(result.redirects) == 1


def test_size_limit(server: str) -> None:
    with pytest.raises(outbound.OutboundTooLarge):
        outbound.fetch(server + "/big", allow_internal=True, max_bytes=1000, timeout=5)
    cut = outbound.fetch(server + "/big", allow_internal=True, max_bytes=1000, truncate=True)
    assert cut.truncated and len(cut.content) == 1000


def test_refused_port_is_a_failure_not_a_crash() -> None:
    with pytest.raises(outbound.OutboundFailed):
        outbound.fetch("http://127.0.0.1:1/", allow_internal=True, timeout=2)


class _KeepAliveHandler(_Handler):
    protocol_version = "HTTP/1.1"
    ports: list[int] = []

    def do_GET(self) -> None:
        self.ports.append(self.client_address[1])
        super().do_GET()


def test_keep_alive_reuses_the_connection_and_still_checks_every_call() -> None:
    """ISO 18626 messages go out on a kept connection (a client per process and host), and the
    address check is made on every call all the same."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _KeepAliveHandler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/hello"
    try:
        for _ in range(3):
            assert outbound.fetch(url, allow_internal=True, keep_alive=True).status == 200
        assert len(_KeepAliveHandler.ports) == 3 and len(set(_KeepAliveHandler.ports)) == 1
        with pytest.raises(outbound.OutboundRefused):
            outbound.fetch(url, keep_alive=True)
        # Without keep_alive, a connection per call as before.
        outbound.fetch(url, allow_internal=True)
        assert len(set(_KeepAliveHandler.ports)) == 2
    finally:
        httpd.shutdown()


def test_pinned_host_header_keeps_ipv6_brackets() -> None:
    from ipaddress import ip_address

    import httpx

    from lifeline.core.outbound import _pinned

    url, host = _pinned(httpx.URL("http://[::1]:8080/x"), ip_address("::1"))
    assert host == "[::1]:8080"
    assert url.host == "::1" and url.port == 8080
    assert _pinned(httpx.URL("http://[2001:db8::1]/x"), ip_address("2001:db8::1"))[1] == (
        "[2001:db8::1]"
    )
    assert _pinned(httpx.URL("http://example.org:81/"), ip_address("93.184.216.34"))[1] == (
        "example.org:81"
    )
    assert _pinned(httpx.URL("http://example.org/"), ip_address("93.184.216.34"))[1] == (
        "example.org"
    )
