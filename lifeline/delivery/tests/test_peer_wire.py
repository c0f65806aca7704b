"""The loopback peer on the wire: an answer is one write on a socket without Nagle's delay.

On a kept-alive connection a second small write waits for the client's delayed ACK (40 ms on
Linux) when Nagle's algorithm is on; the peer wrote its headers and its body apart, so every
answer on a kept connection (our Requests, the document fetch, our Received) took ~44 ms."""

from __future__ import annotations

import argparse
import http.client
import socket
import threading
from http.server import ThreadingHTTPServer
from typing import Any

from lifeline.delivery import peer as standin


def _node() -> standin.Node:
    args = argparse.Namespace(
        agency="ISIL:ZZ-WIRE", target="http://127.0.0.1:9/iso18626", secret_out="",
        secret_in="", header="X-ISO18626-Secret", script="", auto=False, state="",
    )  # fmt: skip
    return standin.Node(args)


def test_each_answer_is_one_write_on_a_no_delay_socket() -> None:
    seen: list[tuple[int, int]] = []  # (TCP_NODELAY, writes) per request handled
    base = standin.make_handler(_node())

    class Watched(base):  # type: ignore[valid-type, misc]
        def handle_one_request(self) -> None:
            writes = 0
            write = self.wfile.write

            def counted(data: Any) -> int:
                nonlocal writes
                writes += 1
                return write(data)

            self.wfile.write = counted  # type: ignore[method-assign]
            super().handle_one_request()
            if self.raw_requestline:  # not the empty read after the client closed
                nodelay = self.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
                seen.append((nodelay, writes))

    server = ThreadingHTTPServer(("127.0.0.1", 0), Watched)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
        for path in ("/doc/P1.pdf", "/doc/P2.pdf"):  # the same kept connection twice
            conn.request("GET", path)
            response = conn.getresponse()
            assert response.status == 200 and response.read() == standin.PDF
        conn.request("POST", "/iso18626", body=b"<not-xml", headers={"Content-Type": "text/xml"})
        response = conn.getresponse()
        assert response.status == 200 and b"ERROR" in response.read()
        conn.close()
    finally:
        server.shutdown()
        server.server_close()
    assert len(seen) == 3
    assert all(nodelay and writes == 1 for nodelay, writes in seen), seen
