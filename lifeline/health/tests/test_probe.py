"""Every way a probe can fail gives a classified result, against real servers on loopback."""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import http.server
import socket
import threading
from pathlib import Path
from typing import Any

import pytest

from lifeline.health.choices import FailureKind, HealthState
from lifeline.health.logic.probe import ProbeOutcome, Probers, ProbeSpec, probe, probe_all
from lifeline.health.tests.servers import Page, Site, make_certificates, tls_context


def run(spec: ProbeSpec, **probers: Any) -> ProbeOutcome:
    async def go() -> ProbeOutcome:
        p = Probers.open(**probers)
        try:
            return await probe(spec, p)
        finally:
            await p.aclose()

    return asyncio.run(go())


def spec(url: str, **kw: Any) -> ProbeSpec:
    return ProbeSpec(
        config_id=1, route_id=1, url=url, **{"allow_internal": True, "timeout": 3.0, **kw}
    )


def test_up_with_status_time_and_address(site: Site) -> None:
    out = run(spec(site.url("/")))
    assert (out.state, out.failure, out.status_code, out.address) == (
        HealthState.UP,
        "",
        200,
        "127.0.0.1",
    )
    assert out.response_ms is not None
    assert site.requests[-1][1]["Host"] == f"127.0.0.1:{site.port}"


def test_wrong_status(site: Site) -> None:
    site.pages["/gone"] = Page(status=503, body=b"maintenance")
    out = run(spec(site.url("/gone")))
    assert (out.state, out.failure, out.status_code) == (HealthState.DOWN, FailureKind.STATUS, 503)
    assert "503" in out.error
    # A status the route expects is fine.
    assert run(spec(site.url("/gone"), statuses=((200, 299), (503, 503)))).state == HealthState.UP


def test_login_wall_in_gbk_is_forbidden_text(site: Site) -> None:
    site.pages["/wall"] = Page(
        body="<p>您的IP未授权，访问受限</p>".encode("gbk"), headers={"Content-Type": "text/html"}
    )
    out = run(spec(site.url("/wall"), must_not_contain=("IP not authorised", "访问受限")))
    assert (out.state, out.failure) == (HealthState.DOWN, FailureKind.KEYWORD_FORBIDDEN)
    assert "访问受限" in out.error


def test_missing_keyword(site: Site) -> None:
    out = run(spec(site.url("/"), must_contain=("知网首页",)))
    assert (out.state, out.failure) == (HealthState.DOWN, FailureKind.KEYWORD_MISSING)
    assert run(spec(site.url("/"), must_contain=("WELCOME",))).state == HealthState.UP


def test_redirect_followed_then_loop_refused(site: Site) -> None:
    site.pages["/old"] = Page(
        status=302, headers={"Location": "/", "Set-Cookie": "sid=abc; Path=/"}
    )
    out = run(spec(site.url("/old")))
    assert (out.state, out.final_url) == (HealthState.UP, site.url("/"))
    assert site.requests[-1][1].get("Cookie") == "sid=abc"  # a login flow's cookie is carried along
    site.pages["/loop"] = Page(status=302, headers={"Location": "/loop"})
    loop = run(spec(site.url("/loop"), max_redirects=3))
    assert (loop.state, loop.failure) == (HealthState.DOWN, FailureKind.REDIRECTS)
    assert sum(1 for path, _h in site.requests if path == "/loop") == 4


def test_endless_body_is_cut_at_the_cap(site: Site) -> None:
    site.pages["/huge"] = Page(endless=True)
    out = run(spec(site.url("/huge")), max_body=256 * 1024)
    assert (out.state, out.failure) == (HealthState.DEGRADED, FailureKind.TOO_LARGE)
    assert out.body_bytes == 256 * 1024


def test_timeout_and_slow(site: Site) -> None:
    site.pages["/slow"] = Page(delay=1.5)
    out = run(spec(site.url("/slow"), timeout=0.5))
    assert (out.state, out.failure) == (HealthState.DOWN, FailureKind.TIMEOUT)
    slow = run(spec(site.url("/slow"), slow_ms=500))
    assert (slow.state, slow.failure) == (HealthState.DEGRADED, FailureKind.SLOW)


def test_refused_and_dns() -> None:
    site = Site()
    url = site.url("/")
    site.stop()
    out = run(spec(url))
    assert (out.state, out.failure) == (HealthState.DOWN, FailureKind.REFUSED)
    # A name that cannot be resolved (rejected before any packet leaves the machine).
    dns = run(spec("http://bad..host.example/"))
    assert (dns.state, dns.failure) == (HealthState.DOWN, FailureKind.DNS)
    bad_scheme = run(spec("ftp://127.0.0.1/"))
    assert bad_scheme.failure == FailureKind.PROTOCOL


def test_ssrf_loopback_and_private_refused_without_permission(site: Site) -> None:
    for url in (
        site.url("/"),
        site.url("/", host="localhost"),
        "http://10.1.2.3/",
        "http://169.254.169.254/latest/",
        "http://[::1]:1/",
        "http://[::ffff:127.0.0.1]/",
    ):
        out = run(spec(url, allow_internal=False))
        assert (out.state, out.failure) == (HealthState.DOWN, FailureKind.FORBIDDEN_TARGET), url
    assert site.requests == []  # nothing reached the server


def test_redirect_to_internal_address_refused(site: Site) -> None:
    """A public page that redirects into the campus network is refused at the hop."""
    from lifeline.health.logic import targets

    async def go() -> ProbeOutcome:
        p = Probers.open()
        try:
            # First hop allowed (as if public), second hop checked again and refused.
            original = targets.checked_address
            calls: list[str] = []

            async def checked(host: str, port: int, allow: bool) -> Any:
                calls.append(host)
                return await original(host, port, allow or len(calls) == 1)

            import lifeline.health.logic.probe as probe_module

            probe_module.checked_address = checked  # type: ignore[assignment]
            try:
                return await probe(spec(site.url("/jump"), allow_internal=False), p)
            finally:
                probe_module.checked_address = original
        finally:
            await p.aclose()

    site.pages["/jump"] = Page(status=302, headers={"Location": "http://192.168.1.1/admin"})
    out = asyncio.run(go())
    assert out.failure == FailureKind.FORBIDDEN_TARGET
    assert "192.168.1.1" in out.error


def test_tls_invalid_and_valid_with_expiry(tmp_path: Path) -> None:
    ca, cert, key = make_certificates(tmp_path, days=5)
    secure = Site(tls=tls_context(cert, key))
    try:
        untrusted = run(spec(secure.url("/", host="localhost")))
        assert (untrusted.state, untrusted.failure) == (HealthState.DOWN, FailureKind.TLS)
        trusted = run(
            spec(secure.url("/", host="localhost"), cert_warning_days=3), ca_bundle=str(ca)
        )
        assert trusted.state == HealthState.UP
        assert trusted.cert_expires_at is not None
        assert (
            dt.timedelta(days=4)
            < trusted.cert_expires_at - dt.datetime.now(dt.UTC)
            < dt.timedelta(days=6)
        )
        expiring = run(
            spec(secure.url("/", host="localhost"), cert_warning_days=14), ca_bundle=str(ca)
        )
        assert (expiring.state, expiring.failure) == (
            HealthState.DEGRADED,
            FailureKind.CERT_EXPIRING,
        )
    finally:
        secure.stop()


def test_through_campus_proxy() -> None:
    """Routes marked "through the proxy" go to the configured HTTP proxy (here a loopback one)."""
    seen: list[str] = []

    class Proxy(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            seen.append(self.path)
            body = b"<html>campus view</html>"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    try:
        proxy = f"http://127.0.0.1:{server.server_address[1]}"
        out = run(
            spec("http://127.0.0.1:9/db", via_proxy=True, must_contain=("campus view",)),
            proxy=proxy,
        )
        assert out.state == HealthState.UP
        assert seen == ["http://127.0.0.1:9/db"]
    finally:
        server.shutdown()
        server.server_close()


def test_many_at_once_never_raise(site: Site) -> None:
    site.pages["/err"] = Page(status=500)
    urls = [
        site.url("/"),
        site.url("/err"),
        "http://bad..host/",
        "gopher://x/",
        site.url("/missing"),
    ] * 4
    specs = [spec(u) for u in urls]

    async def go() -> list[ProbeOutcome]:
        p = Probers.open()
        try:
            return await probe_all(specs, p, concurrency=5)
        finally:
            await p.aclose()

    outs = asyncio.run(go())
    assert [o.state for o in outs[:5]] == [
        HealthState.UP,
        HealthState.DOWN,
        HealthState.DOWN,
        HealthState.DOWN,
        HealthState.DOWN,
    ]
    assert len(outs) == 20


@pytest.mark.parametrize("text", ["", "  "])
def test_blank_keywords_are_ignored(site: Site, text: str) -> None:
    from lifeline.health.models import lines

    assert lines(text) == []


def test_compressed_page_is_decoded_before_the_keyword_check(site: Site) -> None:
    """The prober accepts gzip and reads the keywords in the decoded page, not in the bytes."""
    site.pages["/gz"] = Page(
        body=gzip.compress("<p>欢迎使用数据库</p>".encode()),
        headers={"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"},
    )
    out = run(spec(site.url("/gz"), must_contain=("欢迎使用",)))
    assert (out.state, out.failure) == (HealthState.UP, "")
    assert "gzip" in site.requests[-1][1]["Accept-Encoding"]


def test_long_login_wall_headers_are_read(site: Site) -> None:
    """Vendors' single sign-on pages send cookies longer than an HTTP client's usual 8 KB line."""
    site.pages["/sso"] = Page(
        headers={"Content-Type": "text/html", "Set-Cookie": "sso=" + "a" * 20_000 + "; Path=/"}
    )
    assert run(spec(site.url("/sso"))).state == HealthState.UP


@pytest.mark.parametrize("answer", [b"", b"SSH-2.0-OpenSSH_9.2\r\n\r\n"])
def test_a_server_that_hangs_up_or_is_not_http(answer: bytes) -> None:
    """No answer at all, or something that is not HTTP: a protocol failure, never an exception."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(5)
    port = listener.getsockname()[1]

    def serve() -> None:
        # Twice: aiohttp tries a GET once more when the server hung up without a word.
        for _ in range(2):
            try:
                conn, _addr = listener.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                if answer:
                    conn.sendall(answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        out = run(spec(f"http://127.0.0.1:{port}/"))
    finally:
        listener.close()
        thread.join(timeout=5)
    assert (out.state, out.failure) == (HealthState.DOWN, FailureKind.PROTOCOL)
    assert out.error
