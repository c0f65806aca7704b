"""A stand-in ISO 18626 node for tests, demos and benchmarks, written from the standard.

    python -m lifeline.delivery.peer --agency ISIL:DE-PEER --target URL [options]

It runs in its own process on 127.0.0.1 (it refuses any other address), prints
`READY <port>` when it listens, and plays either role against one Lifeline endpoint (`--target`):

- supplier: it confirms a Request and keeps it with a script of statuses (`--script`, or a
  `#script:A,B#` in the request's note), e.g. `WillSupply,CopyCompleted`; each step is sent by
  `POST /control/advance {"id": ...}` (or at once, in order, with `--auto`). A CopyCompleted
  carries the URL of a small PDF this node serves (`/doc/<id>.pdf`). It answers Cancel with a
  CancelResponse (yes until shipped), StatusRequest, Renew, ShippedReturn as the standard says;
- requester: `POST /control/request {"id", "title", "service"}` sends a Request;
  `POST /control/action {"id", "action"}` a RequestingAgencyMessage.

Replies it owes are kept in an outbox and sent by `POST /control/flush` (or at once with
`--auto`), so a test decides when, without sleeping. A message that arrives twice (same
`Idempotency-Key`, else same bytes) is answered as the first time and applied once.
`GET /control/state` shows its transactions and every message received.

With `--state FILE` it keeps its transactions, the answers it gave (for replays) and what it
still owes in a SQLite file, written before it answers: killed (even with SIGKILL) and started
again on the same file, it knows every transaction and sends what it had not yet delivered (a
message sent again is recognised by Lifeline from its `Idempotency-Key`, a hash of the bytes).
A message the target answers with 429 or 5xx, or cannot take at all, stays owed and is tried
again (with `--auto`, every half second); any other answer ends it.

It uses only the standard library and lxml, no Django: it is another system.
Bad documents for hostile tests: `/doc/fake.pdf` (HTML), `/doc/huge.pdf` (declares 1 GB).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import http.client
import ipaddress
import json
import queue
import signal
import sqlite3
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

NS = "http://illtransactions.org/2013/iso18626"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
FINAL = {"Unfilled", "CopyCompleted", "LoanCompleted", "CompletedWithoutReturn", "Cancelled"}


def q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def now() -> str:
    # The same text as strftime("%Y-%m-%dT%H:%M:%S.%fZ"), at a third of its cost.
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def sub(parent: Any, tag: str, text: str | None = None) -> Any:
    node = etree.SubElement(parent, q(tag))
    if text is not None:
        node.text = text
    return node


def envelope(kind: str) -> tuple[Any, Any]:
    root = etree.Element(q("ISO18626Message"), nsmap={None: NS, "ill": NS})
    root.set(q("version"), "1.2")
    return root, sub(root, kind)


def header(body: Any, sup: tuple[str, str], req: tuple[str, str], rid: str, sid: str = "") -> None:
    head = sub(body, "header")
    for tag, (kind, value) in (("supplyingAgencyId", sup), ("requestingAgencyId", req)):
        node = sub(head, tag)
        sub(node, "agencyIdType", kind)
        sub(node, "agencyIdValue", value)
    sub(head, "multipleItemRequestId", "")
    sub(head, "timestamp", now())
    sub(head, "requestingAgencyRequestId", rid)
    if sid:
        sub(head, "supplyingAgencyRequestId", sid)


def agency(node: Any, tag: str) -> tuple[str, str]:
    found = node.find(f"{q('header')}/{q(tag)}")
    if found is None:
        return ("", "")
    return (found.findtext(q("agencyIdType")) or "", found.findtext(q("agencyIdValue")) or "")


def confirmation(kind: str, body: Any, error: str = "", action: str = "") -> bytes:
    root, conf = envelope(f"{kind}Confirmation")
    head = sub(conf, "confirmationHeader")
    if body is not None:
        for tag in ("supplyingAgencyId", "requestingAgencyId"):
            kind_value = agency(body, tag)
            if kind_value[1]:
                node = sub(head, tag)
                sub(node, "agencyIdType", kind_value[0])
                sub(node, "agencyIdValue", kind_value[1])
    sub(head, "timestamp", now())
    rid = (
        body.findtext(f"{q('header')}/{q('requestingAgencyRequestId')}") if body is not None else ""
    )
    if rid:
        sub(head, "requestingAgencyRequestId", rid)
    sub(head, "timestampReceived", now())
    sub(head, "messageStatus", "ERROR" if error else "OK")
    if action and not error:
        sub(conf, "action", action)
    if error:
        data = sub(conf, "errorData")
        sub(data, "errorType", "UnrecognisedDataValue")
        sub(data, "errorValue", error)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


class Busy(OSError):
    """The target answered 429 or 5xx: the message stays owed."""


class Store:
    """The node's state on disk (SQLite, WAL): transactions, answers given, messages owed.
    Every change is written before the HTTP answer that reports it, in one transaction."""

    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        # WAL with synchronous=NORMAL survives the process being killed (not a power cut).
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(
            "CREATE TABLE IF NOT EXISTS txn (rid TEXT PRIMARY KEY, data TEXT NOT NULL);"
            "CREATE TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY, answer BLOB NOT NULL);"
            "CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT,"
            " rid TEXT NOT NULL, xml BLOB NOT NULL);"
            "CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);"
            "CREATE TABLE IF NOT EXISTS received (id INTEGER PRIMARY KEY AUTOINCREMENT,"
            " data TEXT NOT NULL);"
        )
        self.depth = 0

    @contextlib.contextmanager
    def tx(self) -> Any:
        """One write transaction (re-entrant: the outermost commits)."""
        if self.depth == 0:
            self.db.execute("BEGIN IMMEDIATE")
        self.depth += 1
        try:
            yield
        except BaseException:
            self.depth -= 1
            if self.depth == 0:
                self.db.execute("ROLLBACK")
            raise
        self.depth -= 1
        if self.depth == 0:
            self.db.execute("COMMIT")

    def load(self) -> tuple[dict[str, Any], dict[str, bytes], list[tuple[str, bytes, int]], int]:
        txns = {rid: json.loads(data) for rid, data in self.db.execute("SELECT rid, data FROM txn")}
        for t in txns.values():
            t["peer"] = tuple(t["peer"])
        seen = {k: bytes(a) for k, a in self.db.execute("SELECT key, answer FROM seen")}
        outbox = [
            (rid, bytes(xml), row)
            for row, rid, xml in self.db.execute("SELECT id, rid, xml FROM outbox ORDER BY id")
        ]
        counter = self.db.execute("SELECT v FROM meta WHERE k = 'counter'").fetchone()
        return txns, seen, outbox, int(counter[0]) if counter else 0

    def received(self) -> list[dict[str, str]]:
        rows = self.db.execute("SELECT data FROM received ORDER BY id")
        return [json.loads(d) for (d,) in rows if d != "{}"]

    def put_txn(self, rid: str, t: dict[str, Any], counter: int) -> None:
        with self.tx():
            self.db.execute("INSERT OR REPLACE INTO txn VALUES (?, ?)", (rid, json.dumps(t)))
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('counter', ?)", (str(counter),))

    def owe(self, rid: str, xml: bytes) -> int:
        with self.tx():
            cur = self.db.execute("INSERT INTO outbox (rid, xml) VALUES (?, ?)", (rid, xml))
        return int(cur.lastrowid or 0)

    def delivered(self, row: int) -> None:
        self.db.execute("DELETE FROM outbox WHERE id = ?", (row,))

    def answered(self, key: str, answer: bytes, record: dict[str, str]) -> None:
        with self.tx():
            self.db.execute("INSERT OR REPLACE INTO seen VALUES (?, ?)", (key, answer))
            self.db.execute("INSERT INTO received (data) VALUES (?)", (json.dumps(record),))


class Node:
    """The peer's state: its transactions, outbox, and the messages seen."""

    def __init__(self, args: argparse.Namespace) -> None:
        kind, _, value = args.agency.partition(":")
        self.me = (kind, value)
        self.target = args.target
        self.secret_out, self.secret_in, self.header = args.secret_out, args.secret_in, args.header
        self.script = [s for s in args.script.split(",") if s]
        self.auto = args.auto
        self.base = ""
        self.lock = threading.RLock()
        self.local = threading.local()
        self.txns: dict[str, dict[str, Any]] = {}
        # (requestingAgencyRequestId, XML, row in the store or 0)
        self.outbox: list[tuple[str, bytes, int]] = []
        self.flying: set[str] = set()
        self.seen: dict[str, bytes] = {}
        self.received: list[dict[str, str]] = []
        self.counter = 0
        # Auto mode's senders: a few long-lived threads, each with its kept-alive connection,
        # woken once per message received (a thread per message opened a new connection to
        # the target every time: a TCP handshake and a new server-side connection each).
        self.kick: queue.SimpleQueue[None] = queue.SimpleQueue()
        self.senders = 0
        self.store = Store(args.state) if args.state else None
        if self.store is not None:
            self.txns, self.seen, self.outbox, self.counter = self.store.load()
            self.received = self.store.received()
        # The transactions whose script has steps left, in order: auto mode looks here after
        # every message rather than through every transaction it ever had.
        self.scripted: dict[str, None] = {rid: None for rid, t in self.txns.items() if t["script"]}

    def _owe(self, rid: str, xml: bytes) -> None:
        """A message to send: kept (on disk too) until the target has taken it."""
        row = self.store.owe(rid, xml) if self.store is not None else 0
        self.outbox.append((rid, xml, row))

    def _keep(self, rid: str) -> None:
        """After every change of a transaction (its script's included)."""
        if self.txns[rid]["script"]:
            self.scripted[rid] = None
        else:
            self.scripted.pop(rid, None)
        if self.store is not None:
            self.store.put_txn(rid, self.txns[rid], self.counter)

    # --- sending ------------------------------------------------------------------------
    def _connection(self) -> http.client.HTTPConnection:
        """This thread's kept-alive connection to the target (HTTP/1.1)."""
        conn = getattr(self.local, "conn", None)
        if conn is None:
            parts = urlsplit(self.target)
            conn = http.client.HTTPConnection(parts.hostname or "", parts.port or 80, timeout=30)
            self.local.conn = conn
        return conn

    def post(self, xml: bytes) -> str:
        """POST one message to the target; return messageStatus of the confirmation."""
        path = urlsplit(self.target).path or "/"
        key = hashlib.sha256(xml).hexdigest()
        headers = {"Content-Type": "application/xml", "Idempotency-Key": key}
        if self.secret_out:
            headers[self.header] = self.secret_out
        for fresh in (False, True):
            conn = self._connection()
            try:
                conn.request("POST", path, body=xml, headers=headers)
                response = conn.getresponse()
                answer = response.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # A kept connection the target closed meanwhile: once more on a new one (the
                # message is idempotent: its key is the hash of its bytes).
                conn.close()
                self.local.conn = None
                if fresh:
                    raise
            except OSError:
                conn.close()
                self.local.conn = None
                raise
        if response.will_close:
            conn.close()
            self.local.conn = None
        if response.status == 429 or response.status >= 500:
            raise Busy(f"HTTP {response.status}")  # the target will take it later
        if response.status != 200:
            return f"HTTP {response.status}"
        root = etree.fromstring(answer)
        return root.findtext(f".//{q('messageStatus')}") or "?"

    def flush(self) -> list[str]:
        """Send what is owed: one transaction's messages in order, transactions in parallel
        (a message waits while an earlier one of its transaction is on its way). A message
        leaves the outbox (and the store) only once the target has answered it."""
        out: list[str] = []
        while True:
            with self.lock:
                pick = next(
                    (i for i, (rid, _x, _r) in enumerate(self.outbox) if rid not in self.flying),
                    None,
                )
                if pick is None:
                    return out
                rid, xml, row = self.outbox.pop(pick)
                self.flying.add(rid)
            try:
                out.append(self.post(xml))
            except OSError:
                with self.lock:
                    # The target is down or busy: keep it, first of its transaction.
                    self.outbox.insert(0, (rid, xml, row))
                return [*out, "DOWN"]
            else:
                if self.store is not None and row:
                    with self.lock:
                        self.store.delivered(row)
            finally:
                with self.lock:
                    self.flying.discard(rid)

    def retry_loop(self, every: float = 0.5) -> None:
        """Auto mode: what waits (a target that was down, a restart) is tried again."""
        while True:
            time.sleep(every)
            with self.lock:
                owed = bool(self.outbox or self.scripted)
            if owed:
                self._drain()

    def supplying(
        self, rid: str, status: str, reason: str = "StatusChange", answer: str = ""
    ) -> None:
        t = self.txns[rid]
        root, body = envelope("supplyingAgencyMessage")
        header(body, self.me, t["peer"], rid, t["sid"])
        info = sub(body, "messageInfo")
        sub(info, "reasonForMessage", reason)
        if answer:
            sub(info, "answerYesNo", answer)
        if status == "RetryPossible":
            sub(info, "reasonRetry", "OnLoan")
        if status == "Unfilled":
            sub(info, "reasonUnfilled", "NotHeld")
        if status == "RetryPossible":
            sub(info, "retryAfter", now())
        st = sub(body, "statusInfo")
        sub(st, "status", status)
        if status == "Loaned" or reason == "RenewResponse":
            due = dt.datetime.now(dt.UTC) + dt.timedelta(days=28 * (1 + t.get("renewals", 0)))
            sub(st, "dueDate", due.strftime("%Y-%m-%dT%H:%M:%SZ"))
        sub(st, "lastChange", now())
        if status in ("CopyCompleted", "Loaned"):
            delivery = sub(body, "deliveryInfo")
            sub(delivery, "dateSent", now())
            if status == "CopyCompleted":
                sub(delivery, "itemId", t.get("url") or f"{self.base}/doc/{t['sid']}.pdf")
                sub(delivery, "sentVia", "URL")
            else:
                sub(delivery, "sentVia", "Mail")
        t["status"] = status
        self._keep(rid)
        self._owe(rid, etree.tostring(root, xml_declaration=True, encoding="UTF-8"))

    def requesting(self, rid: str, action: str) -> None:
        t = self.txns[rid]
        root, body = envelope("requestingAgencyMessage")
        header(body, t["peer"], self.me, rid, t.get("sid", ""))
        sub(body, "action", action)
        self._owe(rid, etree.tostring(root, xml_declaration=True, encoding="UTF-8"))

    def advance(self, rid: str) -> str:
        with self.lock:
            t = self.txns[rid]
            if not t["script"]:
                return ""
            status = t["script"].pop(0)
            if self.store is not None:
                with self.store.tx():
                    self.supplying(rid, status)  # keeps the shortened script too
            else:
                self.supplying(rid, status)
        return status

    def new_request(self, spec: dict[str, Any]) -> None:
        rid = spec.get("id") or f"{self.me[1]}-{self.counter}"
        sup = tuple(spec.get("supplier", "ISIL:").split(":", 1))
        with self.lock:
            self.txns[rid] = {
                "role": "requester",
                "peer": sup,
                "sid": "",
                "status": "",
                "script": [],
            }
            root, body = envelope("request")
            header(body, sup, self.me, rid)
            bib = sub(body, "bibliographicInfo")
            sub(bib, "title", spec.get("title", "Untitled"))
            if spec.get("isbn"):
                item = sub(bib, "bibliographicItemId")
                sub(item, "bibliographicItemIdentifier", spec["isbn"])
                sub(item, "bibliographicItemIdentifierCode", "ISBN")
            service = sub(body, "serviceInfo")
            sub(service, "requestType", spec.get("type", "New"))
            sub(service, "requestSubType", "PatronRequest")
            sub(service, "serviceType", spec.get("service", "Copy"))
            self._keep(rid)
            self._owe(rid, etree.tostring(root, xml_declaration=True, encoding="UTF-8"))

    # --- receiving ----------------------------------------------------------------------
    def receive(self, xml: bytes, key: str) -> bytes:
        with self.lock:
            key = key or hashlib.sha256(xml).hexdigest()
            if key in self.seen:
                return self.seen[key]
            if self.store is not None:
                with self.store.tx():
                    before = len(self.received)
                    answer = self._apply(xml)
                    record = self.received[-1] if len(self.received) > before else {}
                    self.store.answered(key, answer, record)
            else:
                answer = self._apply(xml)
            self.seen[key] = answer
        if self.auto:
            if self.senders:
                self.kick.put(None)
            else:
                threading.Thread(target=self._drain, daemon=True).start()
        return answer

    def start_senders(self, n: int) -> None:
        def run() -> None:
            while True:
                self.kick.get()
                self._drain()

        for _ in range(n):
            threading.Thread(target=run, daemon=True).start()
        self.senders += n

    def _drain(self) -> None:
        """Auto mode: run each script to its end and send what is owed, in order."""
        with self.lock:
            for rid in list(self.scripted):
                while self.txns[rid]["script"]:
                    self.advance(rid)
        self.flush()

    def _apply(self, xml: bytes) -> bytes:
        try:
            root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError:
            return confirmation("request", None, "not well-formed")
        if root.tag != q("ISO18626Message") or len(root) != 1:
            return confirmation("request", None, "no ISO18626Message envelope")
        body = root[0]
        kind = body.tag.split("}")[1]
        rid = body.findtext(f"{q('header')}/{q('requestingAgencyRequestId')}") or ""
        self.received.append(
            {
                "kind": kind,
                "id": rid,
                "status": body.findtext(f".//{q('status')}") or "",
                "action": body.findtext(q("action")) or "",
                "reason": body.findtext(f".//{q('reasonForMessage')}") or "",
                "itemId": body.findtext(f".//{q('itemId')}") or "",
            }
        )
        if kind == "request":
            if rid in self.txns:
                if body.findtext(f"{q('serviceInfo')}/{q('requestType')}") == "Retry":
                    self.txns[rid]["script"] = list(self.script)
                    self._keep(rid)
                    return confirmation(kind, body)
                return confirmation(kind, body, "request id already in use")
            note = body.findtext(f"{q('serviceInfo')}/{q('note')}") or ""
            script = list(self.script)
            if "#script:" in note:
                script = [s for s in note.split("#script:", 1)[1].split("#", 1)[0].split(",") if s]
            self.counter += 1
            self.txns[rid] = {
                "role": "supplier",
                "peer": agency(body, "requestingAgencyId"),
                "sid": f"P{self.counter}",
                "status": "",
                "script": script,
                "service": body.findtext(f"{q('serviceInfo')}/{q('serviceType')}") or "Copy",
            }
            self._keep(rid)
            return confirmation(kind, body)
        t = self.txns.get(rid)
        if t is None:
            return confirmation(kind, body, "unknown request id")
        if kind == "requestingAgencyMessage":
            action = body.findtext(q("action")) or ""
            if action == "Cancel":
                if t["status"] in (
                    "",
                    "RequestReceived",
                    "ExpectToSupply",
                    "WillSupply",
                    "RetryPossible",
                ):
                    t["script"] = []
                    self.supplying(rid, "Cancelled", "CancelResponse", "Y")
                else:
                    self.supplying(rid, t["status"], "CancelResponse", "N")
            elif action == "StatusRequest":
                self.supplying(rid, t["status"] or "RequestReceived", "StatusRequestResponse")
            elif action == "Renew":
                t["renewals"] = t.get("renewals", 0) + 1
                self.supplying(rid, "Loaned", "RenewResponse", "Y")
            elif action == "ShippedReturn":
                self.supplying(rid, "LoanCompleted")
            self._keep(rid)
            return confirmation(kind, body, action=action)
        if kind == "supplyingAgencyMessage":
            t["status"] = body.findtext(f".//{q('status')}") or t["status"]
            t["sid"] = body.findtext(f"{q('header')}/{q('supplyingAgencyRequestId')}") or t["sid"]
            if t["status"] == "CopyCompleted" and self.auto:
                self.requesting(rid, "Received")
            self._keep(rid)
            return confirmation(kind, body)
        return confirmation("request", body, "unexpected message type")


def make_handler(node: Node) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # On a kept-alive connection a small write that follows another one waits for the
        # client's delayed ACK (Nagle: 40 ms on Linux) unless TCP_NODELAY is set: every
        # answer to a kept connection took 44 ms instead of 0.3 ms.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _send(self, status: int, body: bytes, ctype: str = "application/xml") -> None:
            # Status line, headers and body in one write (one segment, one system call).
            head = (
                f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\nContent-Type: {ctype}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            )
            self.wfile.write(head.encode("latin-1") + body)

        def do_GET(self) -> None:
            if self.path == "/control/state":
                with node.lock:
                    state = {
                        "txns": node.txns,
                        "received": node.received,
                        "outbox": len(node.outbox),
                    }
                    body = json.dumps(state, default=list).encode()
                self._send(200, body, "application/json")
            elif self.path == "/doc/fake.pdf":
                self._send(200, b"<html>not a pdf</html>", "application/pdf")
            elif self.path == "/doc/huge.pdf":
                self.send_response(200)
                self.send_header("Content-Type", "application/pdf")
                self.send_header("Content-Length", str(2**30))
                self.end_headers()
            elif self.path.startswith("/doc/"):
                self._send(200, PDF, "application/pdf")
            else:
                self._send(404, b"")

        def do_POST(self) -> None:
            data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path.startswith("/control/"):
                self._control(self.path[9:], json.loads(data or b"{}"))
                return
            if node.secret_in and self.headers.get(node.header, "") != node.secret_in:
                self._send(401, b"")
                return
            self._send(200, node.receive(data, self.headers.get("Idempotency-Key", "")))

        def _control(self, what: str, spec: dict[str, Any]) -> None:
            result: dict[str, Any] = {}
            if what == "advance":
                result["status"] = node.advance(spec["id"])
            elif what == "request":
                node.new_request(spec)
            elif what == "action":
                with node.lock:
                    node.requesting(spec["id"], spec["action"])
            elif what == "script":
                with node.lock:
                    node.txns[spec["id"]]["script"] = list(spec["script"])
                    if spec.get("url"):
                        node.txns[spec["id"]]["url"] = spec["url"]
                    node._keep(spec["id"])
            result["sent"] = node.flush() if what != "script" else []
            self._send(200, json.dumps(result).encode(), "application/json")

    return Handler


def loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agency", default="ISIL:ZZ-PEER", help="TYPE:VALUE of this node")
    parser.add_argument("--target", required=True, help="the Lifeline ISO 18626 endpoint")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--script", default="WillSupply,CopyCompleted")
    parser.add_argument("--secret-out", default="", help="secret this node sends")
    parser.add_argument("--secret-in", default="", help="secret this node expects")
    parser.add_argument("--header", default="X-ISO18626-Secret")
    parser.add_argument("--auto", action="store_true", help="run scripts and replies at once")
    parser.add_argument("--state", default="", help="SQLite file that keeps the node's state")
    args = parser.parse_args(argv)
    if not loopback(args.target):
        parser.error("the target must be a loopback address")
    node = Node(args)
    # Many transactions at once each open a connection: the default backlog of 5 drops
    # connections (and the client waits a second to try again).
    ThreadingHTTPServer.request_queue_size = 256
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(node))
    server.daemon_threads = True
    node.base = f"http://127.0.0.1:{server.server_address[1]}"
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    if args.auto:
        threading.Thread(target=node.retry_loop, daemon=True).start()
        node.start_senders(8)
    print(f"READY {server.server_address[1]}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
