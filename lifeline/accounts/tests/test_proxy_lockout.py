"""Issue 21, finding 8: password spraying, and every client behind the proxy sharing one address.

Two attacks reproduced: twelve user names from one address (each below the per-name limit), and
two clients behind a reverse proxy. The proxy is a tiny one in the test process, in front of
pytest-django's live server, appending the address it saw to X-Forwarded-For as nginx's
`$proxy_add_x_forwarded_for` does; the clients connect from 127.0.0.2 and 127.0.0.3.
"""

from __future__ import annotations

import http.client
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from django.test import Client

from lifeline.conftest import PASSWORD

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture
def throttled(settings: Any) -> None:
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3


@pytest.mark.django_db
def test_many_user_names_from_one_address_are_slowed(
    settings: Any, throttled: None, librarian_a: Any
) -> None:
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 10
    sprayer = Client(REMOTE_ADDR="198.51.100.7")
    statuses = [
        sprayer.post(
            "/accounts/login/", {"username": f"user{n}", "password": "Spring2020!"}
        ).status_code
        for n in range(12)
    ]
    assert statuses[:10] == [200] * 10 and statuses[10:] == [429, 429]
    # The right password of a real account is refused from that address now...
    assert (
        sprayer.post(
            "/accounts/login/", {"username": "librarian_a", "password": PASSWORD}
        ).status_code
        == 429
    )
    # ...and accepted from another one.
    other = Client(REMOTE_ADDR="198.51.100.8")
    assert (
        other.post(
            "/accounts/login/", {"username": "librarian_a", "password": PASSWORD}
        ).status_code
        == 302
    )


class _Proxy(BaseHTTPRequestHandler):
    upstream = ("127.0.0.1", 0)

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() != "x-forwarded-for"}
        seen = self.headers.get("X-Forwarded-For")
        # nginx: $proxy_add_x_forwarded_for = what the client sent, then the client's address.
        headers["X-Forwarded-For"] = (
            f"{seen}, {self.client_address[0]}" if seen else (self.client_address[0])
        )
        conn = http.client.HTTPConnection(*self.upstream, timeout=20)
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            answer = conn.getresponse()
            data = answer.read()
            self.send_response(answer.status)
            for key, value in answer.getheaders():
                if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        finally:
            conn.close()

    do_GET = _forward
    do_POST = _forward

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def proxy(live_server: Any) -> Iterator[str]:
    parts = urlsplit(live_server.url)
    handler = type("Proxy", (_Proxy,), {"upstream": (parts.hostname, parts.port)})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def browser(source: str) -> httpx.Client:
    return httpx.Client(
        transport=httpx.HTTPTransport(local_address=source), timeout=20, follow_redirects=False
    )


def sign_in(client: httpx.Client, base: str, password: str, **headers: str) -> int:
    page = client.get(f"{base}/accounts/login/")
    token = CSRF.search(page.text)
    assert token is not None, page.status_code
    response = client.post(
        f"{base}/accounts/login/",
        data={"username": "librarian_a", "password": password, "csrfmiddlewaretoken": token[1]},
        headers={"Referer": f"{base}/accounts/login/", **headers},
    )
    return response.status_code


@pytest.mark.django_db(transaction=True)
def test_two_clients_behind_the_proxy_are_told_apart(
    settings: Any, throttled: None, librarian_a: Any, proxy: str
) -> None:
    settings.PROXY_COUNT = 1
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    settings.AXES_IPWARE_PROXY_COUNT = 0
    settings.ALLOWED_HOSTS = ["*"]
    with browser("127.0.0.2") as attacker, browser("127.0.0.3") as colleague:
        # The attacker also claims to be the colleague in a header of his own: ignored.
        spoof = {"X-Forwarded-For": "127.0.0.3"}
        assert [sign_in(attacker, proxy, "wrong!", **spoof) for _ in range(3)] == [200, 200, 429]
        assert sign_in(attacker, proxy, PASSWORD) == 429
        # The colleague behind the same proxy signs in: the lock-out is the attacker's alone.
        assert sign_in(colleague, proxy, PASSWORD) == 302
    from axes.models import AccessAttempt

    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"127.0.0.2"}


def test_one_address_rule_for_lockouts_and_rate_limits(settings: Any) -> None:
    """The fault-report limit (health) reads the same address as the lock-out."""
    from django.test import RequestFactory

    from lifeline.core.clientip import client_ip
    from lifeline.health.views import client_address

    request = RequestFactory().get(
        "/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.5"
    )
    assert client_ip(request) == client_address(request) == "127.0.0.1"  # no proxy configured
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    settings.AXES_IPWARE_PROXY_COUNT = 0
    assert client_ip(request) == client_address(request) == "203.0.113.5"
