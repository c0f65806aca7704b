"""The shapes COUNTER_SUSHI answers really come in, brought to one form before anything is read.

Vendors wrap the report (`{"body": {...}}`, ProQuest Ebook Central), send it as a JSON string
inside JSON, put the header fields at the top level instead of in `Report_Header`, give one
`Exception` object instead of an `Exceptions` list (in the header or at the top level), write
the keys in lower case, or answer `{"number": 1001, "severity": ..., "message": ...}`.
`normalise` returns the report (or None) and every exception found anywhere, each as a dict
with the Code of Practice keys (Code, Severity, Message, Data, Help_URL).
"""

from __future__ import annotations

import json
from typing import Any

# Header fields a report document carries at the top level when there is no Report_Header.
HEADER_KEYS = ("Report_ID", "Release", "Report_Name", "Report_Filters")
EXCEPTION_KEYS = {
    "code": "Code",
    "number": "Code",
    "severity": "Severity",
    "message": "Message",
    "data": "Data",
    "help_url": "Help_URL",
}


def exception(raw: dict[str, Any]) -> dict[str, Any]:
    """One exception with the Code of Practice keys; the code as an int when it is one."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = EXCEPTION_KEYS.get(str(key).lower(), str(key))
        if name not in out:
            out[name] = value
    code = out.get("Code")
    if isinstance(code, str) and code.strip().isdigit():
        out["Code"] = int(code.strip())
    return out


def _is_exception(value: Any) -> bool:
    return isinstance(value, dict) and any(str(k).lower() in ("code", "number") for k in value)


def _exceptions_in(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        return []
    return [exception(e) for e in value if _is_exception(e) or (isinstance(e, dict) and e)]


def unwrap(doc: Any) -> Any:
    """The document without the wrappers vendors add: a JSON string inside JSON, `body`."""
    for _depth in range(3):
        if isinstance(doc, str) and doc.strip()[:1] in ("{", "["):
            try:
                doc = json.loads(doc)
            except json.JSONDecodeError:
                return doc
            continue
        if isinstance(doc, dict) and "body" in doc and "Report_Header" not in doc:
            body = doc.get("body")
            if isinstance(body, dict | list | str) and body:
                doc = body
                continue
        break
    return doc


# Exceptions kept per answer: a real answer has a handful; a list of a million is not kept whole.
MAX_EXCEPTIONS = 100


def normalise(doc: Any) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """(report document with a Report_Header, exceptions from anywhere in the answer)."""
    report, exceptions = _normalise(doc)
    if report is not None:
        report["Report_Header"]["Exceptions"] = exceptions[:MAX_EXCEPTIONS]
    return report, exceptions[:MAX_EXCEPTIONS]


def _normalise(doc: Any) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    original = doc
    doc = unwrap(doc)
    exceptions: list[dict[str, Any]] = []
    # ProQuest: {"body": null, "response": {"number": 1001, "message": ...}}
    if isinstance(original, dict) and _is_exception(original.get("response")):
        exceptions.append(exception(original["response"]))
    if isinstance(doc, list):
        return None, exceptions + [exception(e) for e in doc if isinstance(e, dict)]
    if not isinstance(doc, dict):
        return None, exceptions
    head = doc.get("Report_Header")
    if not isinstance(head, dict) and all(k in doc for k in ("Report_ID", "Release")):
        # The header fields at the top level, beside Report_Items.
        head = {k: v for k, v in doc.items() if k != "Report_Items"}
    for holder in (head, doc) if isinstance(head, dict) else (doc,):
        for key in ("Exceptions", "Exception"):
            for item in _exceptions_in(holder.get(key)):
                if item not in exceptions:
                    exceptions.append(item)
    if not isinstance(head, dict):
        if _is_exception(doc):
            exceptions.append(exception(doc))
        return None, exceptions
    if not any(k in head for k in HEADER_KEYS):
        return None, exceptions
    items = doc.get("Report_Items")
    report = {"Report_Header": {**head, "Exceptions": exceptions}, "Report_Items": items}
    return report, exceptions
