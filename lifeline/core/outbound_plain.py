"""Kept plain-HTTP connections for `outbound.fetch(..., keep_alive=True)` (its http:// hops).

ISO 18626 is many small exchanges with the same few peers (a message posted, a confirmation
read, a document fetched); through httpx each cost ~0.5 ms of CPU on loopback, five times what
the standard library's `http.client` needs for the same exchange. So `outbound.fetch` sends its
plain-HTTP hops here, and does everything else as before: it checks the address of every hop
(`check_target`) and hands the checked address in; this module only connects to that address.

- A connection is kept per checked address and port (pinning): a name that resolves to another
  address next time gets a connection to that address, never an old one; the Host header
  carries the name. Only plain HTTP comes here, so no certificate is tied to a connection.
- An idle connection the server has closed (or that holds unexpected bytes) is seen before
  it is used (the socket is readable) and dropped; one that fails while the request is being
  written is replaced once by a new connection (the request has not been read then).
- The request line, headers and body go out in one write on a TCP_NODELAY socket; the answer
  is read in pieces, each within the caller's step timeout, and returned to the pool only when
  read to its end and not marked to close.
- `Accept-Encoding: identity`; a server that compresses all the same (gzip, deflate) is decoded
  in bounded pieces, so a small compressed answer cannot expand past the caller's limit.

Errors are the standard library's (`TimeoutError`, `OSError`, `http.client.HTTPException`,
`zlib.error`); `outbound.fetch` turns them into its own, with the messages staff read.
"""

from __future__ import annotations

import http.client
import select
import socket
import threading
import zlib
from collections.abc import Iterator

import httpx

PIECE = 64 * 1024
IDLE_PER_ADDRESS = 16
ADDRESSES = 64

_idle: dict[tuple[str, int], list[http.client.HTTPConnection]] = {}
_lock = threading.Lock()


class UnsupportedEncoding(http.client.HTTPException):
    """The server compressed its answer in a way we did not accept (br, zstd, ...)."""


class _Connection(http.client.HTTPConnection):
    def connect(self) -> None:
        super().connect()
        # Our request is one write, but a server's delayed ACK must never hold a second one.
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _usable(conn: http.client.HTTPConnection) -> bool:
    """An idle kept connection is usable while nothing can be read from it: readable means the
    server closed it (EOF) or sent bytes nobody asked for."""
    sock = conn.sock
    if sock is None:
        return False
    try:
        readable, _w, _x = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable


def _take(key: tuple[str, int]) -> http.client.HTTPConnection | None:
    with _lock:
        idle = _idle.get(key)
        while idle:
            conn = idle.pop()
            if _usable(conn):
                return conn
            conn.close()
    return None


def _give(key: tuple[str, int], conn: http.client.HTTPConnection) -> None:
    with _lock:
        idle = _idle.get(key)
        if idle is None:
            if len(_idle) >= ADDRESSES:
                for old in _idle.pop(next(iter(_idle))):
                    old.close()
            idle = _idle[key] = []
        if len(idle) < IDLE_PER_ADDRESS:
            idle.append(conn)
            return
    conn.close()


def close_all() -> None:
    """Close every kept connection (tests; a process that forks)."""
    with _lock:
        conns = [c for idle in _idle.values() for c in idle]
        _idle.clear()
    for conn in conns:
        conn.close()


def kept(address: str, port: int) -> int:
    """How many idle connections are kept for this address and port."""
    with _lock:
        return len(_idle.get((address, port), []))


class PlainResponse:
    """What `outbound.fetch` reads of an answer: the status, the headers, the body in pieces."""

    def __init__(
        self,
        key: tuple[str, int],
        conn: http.client.HTTPConnection,
        response: http.client.HTTPResponse,
    ) -> None:
        self._key, self._conn, self._response = key, conn, response
        self.status_code: int = response.status
        self.headers = httpx.Headers(response.getheaders())
        self._done = False

    def iter_bytes(self, size: int = PIECE) -> Iterator[bytes]:
        encoding = self.headers.get("content-encoding", "identity").strip().lower()
        decoder = None
        if encoding in ("gzip", "x-gzip"):
            decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            decoder = zlib.decompressobj()
        elif encoding not in ("", "identity"):
            raise UnsupportedEncoding(encoding)
        while True:
            piece = self._response.read(size)
            if not piece:
                break
            if decoder is None:
                yield piece
                continue
            data = piece
            while data:
                out = decoder.decompress(data, size)
                data = decoder.unconsumed_tail
                if out:
                    yield out
        self._done = True

    def close(self) -> None:
        """Back to the pool if read to its end and the server keeps it open; closed if not."""
        response, conn = self._response, self._conn
        if self._done and not response.will_close and response.isclosed():
            _give(self._key, conn)
        else:
            response.close()
            conn.close()


def send(
    method: str,
    url: httpx.URL,
    address: str,
    headers: dict[str, str],
    body: bytes | None,
    timeout: float,
) -> PlainResponse:
    """One plain-HTTP exchange with `address` (checked by the caller) for `url`: sends the
    request and reads the status and headers; the caller reads the body and closes."""
    port = url.port or 80
    key = (address, port)
    target = url.raw_path.decode("ascii")
    name = f"[{url.host}]" if ":" in url.host else url.host  # an IPv6 literal in brackets
    host = name if url.port is None else f"{name}:{url.port}"
    lines = [("Host", host), ("Accept-Encoding", "identity")]
    lines += [(k, v) for k, v in headers.items() if k.lower() not in ("host", "accept-encoding")]
    if body is not None or method in ("POST", "PUT", "PATCH"):
        lines.append(("Content-Length", str(len(body or b""))))
    conn = _take(key)
    for fresh in (conn is None, True):
        if conn is None:
            conn = _Connection(address, port, timeout=timeout)
        try:
            if conn.sock is not None:
                conn.sock.settimeout(timeout)
            conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            for name, value in lines:
                conn.putheader(name, value)
            conn.endheaders(body or None)
            break
        except TimeoutError:
            conn.close()
            raise
        except OSError:
            conn.close()
            conn = None
            if fresh:
                raise
        except BaseException:  # e.g. a header value that is not Latin-1
            conn.close()
            raise
    assert conn is not None
    try:
        response = conn.getresponse()
    except BaseException:
        conn.close()
        raise
    return PlainResponse(key, conn, response)
