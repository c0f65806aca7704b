"""ISO 18626 v1.2 messages: read (leniently, as other systems write them), check, build.

Every message is validated against the official v1.2 schema
(`lifeline/delivery/schemas/ISO-18626-v1_2.xsd`, see SOURCE.md) when sent and when received.
Other systems' messages are read as they are written before the check: ReShare writes every
element, empty ones too, sometimes without the namespace or with an unqualified `version`, and
Java-style offsets (`+0000`); those are normalised (namespace added, empty optional elements
dropped, offsets given their colon) and the result must then validate. A message without the
`ISO18626Message` envelope, or one that still fails the schema, is refused with the standard
error confirmation, which echoes whatever agency and request ids could be read.

Error texts in confirmations are English whatever the interface language: a machine reads them.
The exchange itself (who may send what, the state machine) lives in `logic/ill.py`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from lxml import etree

NS = "http://illtransactions.org/2013/iso18626"
VERSION = "1.2"
SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "ISO-18626-v1_2.xsd"
KINDS = ("request", "supplyingAgencyMessage", "requestingAgencyMessage")
CONFIRMATIONS = tuple(f"{k}Confirmation" for k in ("request", *KINDS[1:]))
MAX_BYTES = 1_000_000
# Elements that may be present and empty in a valid message.
KEEP_EMPTY = frozenset({"multipleItemRequestId"})
_OFFSET = re.compile(r"([+-]\d\d)(\d\d)$")


class Iso18626Error(ValueError):
    def __init__(self, message: str, error_type: str = "BadlyFormedMessage") -> None:
        super().__init__(message)
        self.error_type = error_type


@cache
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _parser(recover: bool = False) -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, recover=recover
    )


def english(message: str, **params: object) -> str:
    """A confirmation's errorValue: English, whatever language the page or worker runs in (the
    texts are written in English and never looked up in a catalogue)."""
    return message % params if params else message


@dataclass
class Message:
    kind: str
    body: etree._Element
    supplying: tuple[str, str] = ("", "")
    requesting: tuple[str, str] = ("", "")
    requesting_id: str = ""
    supplying_id: str = ""
    timestamp: dt.datetime | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def text(self, path: str) -> str:
        """The text at a '/'-separated path under the message body ('' when absent)."""
        node = self.body.find("/".join(_q(p) for p in path.split("/")))
        return (node.text or "").strip() if node is not None else ""

    def all(self, path: str) -> list[etree._Element]:
        return self.body.findall("/".join(_q(p) for p in path.split("/")))


def _agency(header: etree._Element | None, tag: str) -> tuple[str, str]:
    if header is None:
        return ("", "")
    node = header.find(_q(tag))
    if node is None:
        return ("", "")
    return (
        (node.findtext(_q("agencyIdType")) or "").strip(),
        (node.findtext(_q("agencyIdValue")) or "").strip(),
    )


def parse_time(value: str) -> dt.datetime | None:
    value = value.strip()
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        # Nanoseconds (Go writes nine digits): keep six.
        m = re.match(r"^(.*T\d\d:\d\d:\d\d)\.(\d+)(.*)$", value)
        if not m:
            return None
        try:
            parsed = dt.datetime.fromisoformat(
                f"{m.group(1)}.{m.group(2)[:6]}{m.group(3)}".replace("Z", "+00:00")
            )
        except ValueError:
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _message_from(root: etree._Element) -> Message:
    body = root[0]
    header = body.find(_q("header"))
    stamp = (header.findtext(_q("timestamp")) or "") if header is not None else ""
    return Message(
        kind=local(body.tag),
        body=body,
        supplying=_agency(header, "supplyingAgencyId"),
        requesting=_agency(header, "requestingAgencyId"),
        requesting_id=(
            (header.findtext(_q("requestingAgencyRequestId")) or "").strip()
            if header is not None
            else ""
        ),
        supplying_id=(
            (header.findtext(_q("supplyingAgencyRequestId")) or "").strip()
            if header is not None
            else ""
        ),
        timestamp=parse_time(stamp),
    )


def normalise(root: etree._Element) -> etree._Element:
    """Read a message as other systems write it (see the module's note); changes `root`."""
    for node in root.iter():
        if isinstance(node.tag, str) and not node.tag.startswith("{"):
            node.tag = _q(node.tag)
        if isinstance(node.tag, str) and "scheme" in node.attrib:
            value = node.attrib.pop("scheme")
            if value:
                node.set(_q("scheme"), value)
    if local(root.tag) == "ISO18626Message" and root.get(_q("version")) is None:
        root.attrib.pop("version", None)
        root.set(_q("version"), VERSION)
    else:
        root.attrib.pop("version", None)
    empty = [
        n
        for n in root.iter()
        if isinstance(n.tag, str)
        and n is not root
        and len(n) == 0
        and not (n.text or "").strip()
        and local(n.tag) not in KEEP_EMPTY
    ]
    while empty:
        for node in empty:
            parent = node.getparent()
            if parent is not None:
                parent.remove(node)
        empty = [
            n
            for n in root.iter()
            if isinstance(n.tag, str)
            and n is not root
            and local(n.tag) not in KEEP_EMPTY
            and len(n) == 0
            and not (n.text or "").strip()
            and n.getparent() is not None
            and n.getparent() is not root
        ]
    for node in root.iter():
        if isinstance(node.tag, str) and node.text and local(node.tag) in _TIME_FIELDS:
            node.text = _OFFSET.sub(r"\1:\2", node.text.strip())
    etree.cleanup_namespaces(root)
    return root


_TIME_FIELDS = frozenset(
    {
        "timestamp",
        "timestampReceived",
        "lastChange",
        "dateSent",
        "dueDate",
        "expectedDeliveryDate",
        "retryAfter",
        "retryBefore",
        "needBeforeDate",
        "startDate",
        "endDate",
    }
)


def validate(xml: bytes) -> etree._Element:
    """Parse, normalise and validate; raise Iso18626Error (English) naming the first problem."""
    if len(xml) > MAX_BYTES:
        raise Iso18626Error(english("The message is larger than %(n)s bytes.", n=MAX_BYTES))
    try:
        root = etree.fromstring(xml, _parser())
    except etree.XMLSyntaxError as exc:
        raise Iso18626Error(
            english(
                "Not well-formed XML (line %(line)s): %(error)s", line=exc.lineno, error=exc.msg
            )
        ) from exc
    if local(root.tag) != "ISO18626Message":
        raise Iso18626Error(
            english(
                "The message has no ISO18626Message envelope (found “%(tag)s”).",
                tag=local(root.tag),
            )
        )
    root = normalise(root)
    if not schema().validate(root):
        err = schema().error_log.last_error
        raise Iso18626Error(
            english(
                "The message does not follow the ISO 18626 schema (line %(line)s): %(error)s",
                line=err.line if err else "?",
                error=err.message if err else "",
            )
        )
    if len(root) != 1 or local(root[0].tag) not in (*KINDS, *CONFIRMATIONS):
        raise Iso18626Error(english("Unknown message type."))
    return root


def read(xml: bytes) -> Message:
    return _message_from(validate(xml))


def read_leniently(xml: bytes) -> Message:
    """What can be read of a message that failed: its type and ids, for the error confirmation.

    The type comes from the parsed document (the envelope's first child, or a bare top-level
    element), never from a text search."""
    try:
        root = etree.fromstring(xml[:MAX_BYTES], _parser(recover=True))
    except etree.XMLSyntaxError:
        root = None
    if root is None:
        return Message(kind="request", body=etree.Element(_q("request")))
    if local(root.tag) != "ISO18626Message":
        wrapper = etree.Element(_q("ISO18626Message"))
        wrapper.append(root)
        root = wrapper
    if len(root) == 0 or not isinstance(root[0].tag, str):
        return Message(kind="request", body=etree.Element(_q("request")))
    for node in root.iter():
        if isinstance(node.tag, str) and not node.tag.startswith("{"):
            node.tag = _q(node.tag)
    msg = _message_from(root)
    if msg.kind not in KINDS:
        msg.kind = "request"
    return msg


def to_bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# --- building ------------------------------------------------------------------------------


def el(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    node = etree.SubElement(parent, _q(tag))
    if text is not None:
        node.text = text
    return node


def ts(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def envelope(kind: str) -> tuple[etree._Element, etree._Element]:
    root = etree.Element(_q("ISO18626Message"), nsmap={None: NS, "ill": NS})
    root.set(_q("version"), VERSION)
    return root, el(root, kind)


def header(
    parent: etree._Element,
    *,
    supplying: tuple[str, str],
    requesting: tuple[str, str],
    requesting_id: str,
    now: dt.datetime,
    supplying_id: str = "",
) -> None:
    head = el(parent, "header")
    for tag, (kind, value) in (
        ("supplyingAgencyId", supplying),
        ("requestingAgencyId", requesting),
    ):
        node = el(head, tag)
        el(node, "agencyIdType", kind)
        el(node, "agencyIdValue", value)
    el(head, "multipleItemRequestId", "")
    el(head, "timestamp", ts(now))
    el(head, "requestingAgencyRequestId", requesting_id)
    if supplying_id:
        el(head, "supplyingAgencyRequestId", supplying_id)


def build_confirmation(
    received: Message,
    now: dt.datetime,
    *,
    error_type: str = "",
    error_value: str = "",
    reason_for_message: str = "",
) -> bytes:
    """The confirmation of `received`: OK, or ERROR with errorData; echoes the ids read."""
    kind = received.kind if received.kind in KINDS else "request"
    root, body = envelope(f"{kind}Confirmation")
    head = el(body, "confirmationHeader")
    for tag, agency in (
        ("supplyingAgencyId", received.supplying),
        ("requestingAgencyId", received.requesting),
    ):
        if agency[0] and agency[1]:
            node = el(head, tag)
            el(node, "agencyIdType", agency[0][:50])
            el(node, "agencyIdValue", agency[1][:100])
    el(head, "timestamp", ts(now))
    if received.requesting_id:
        el(head, "requestingAgencyRequestId", received.requesting_id[:200])
    el(head, "timestampReceived", ts(now))
    el(head, "messageStatus", "ERROR" if error_type else "OK")
    if kind == "supplyingAgencyMessage" and reason_for_message:
        el(body, "reasonForMessage", reason_for_message)
    if kind == "requestingAgencyMessage" and not error_type:
        action = received.text("action")
        if action:
            el(body, "action", action)
    if error_type:
        err = el(body, "errorData")
        el(err, "errorType", error_type)
        el(err, "errorValue", error_value[:500])
    return to_bytes(root)


def confirmation_outcome(xml: bytes) -> tuple[bool, str]:
    """(ok, error text) of a confirmation a peer sent back; a non-confirmation is an error."""
    root = validate(xml)
    body = root[0]
    if local(body.tag) not in CONFIRMATIONS:
        return False, english("The answer is not a confirmation.")
    ok = body.findtext(f"{_q('confirmationHeader')}/{_q('messageStatus')}") == "OK"
    error = body.findtext(f"{_q('errorData')}/{_q('errorValue')}") or ""
    etype = body.findtext(f"{_q('errorData')}/{_q('errorType')}") or ""
    return ok, "" if ok else f"{etype}: {error}".strip(": ")


def receive(xml: bytes, **kwargs: object) -> bytes:
    """Kept for callers of the first version: see `logic.ill.receive`."""
    from lifeline.delivery.logic import ill

    return ill.receive(xml, **kwargs)  # type: ignore[arg-type]
