"""A COUNTER_SUSHI server on loopback, built from the official API documents.

It reads COUNTER_SUSHI_API_r51.json (OpenAPI 3.1) and COUNTER_SUSHI5_0_api.json (Swagger 2.0):
the operations it serves, their required parameters, which HTTP status carries which exception
and the message each exception must have all come from the documents, and every answer it
sends is validated against the document's schema for that response (`errors` collects any
mismatch, so a test can assert the server itself speaks the API). Told to, per report, it
answers an exception, HTML instead of JSON, cut-short JSON, or hangs.
"""

from __future__ import annotations

import functools
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from jsonschema import Draft4Validator, Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT202012

R51_SAMPLE = {
    "PR": "PR",
    "PR_P1": "PRP1",
    "DR": "DR",
    "DR_D1": "DRD1",
    "DR_D2": "DRD2",
    "TR": "TR",
    "TR_B1": "TRB1",
    "TR_B2": "TRB2",
    "TR_B3": "TRB3",
    "TR_J1": "TRJ1",
    "TR_J2": "TRJ2",
    "TR_J3": "TRJ3",
    "TR_J4": "TRJ4",
    "IR": "IR",
    "IR_A1": "IRA1",
    "IR_M1": "IRM1",
}
R50_SCHEMA = {
    "PR": "COUNTER_platform_report",
    "DR": "COUNTER_database_report",
    "TR": "COUNTER_title_report",
    "IR": "COUNTER_item_report",
}
# R5.0's document gives every exception as "default"; the status codes follow R5.1's table.
FALLBACK_STATUS = {
    1011: 202,
    1000: 503,
    1010: 503,
    1020: 429,
    1030: 400,
    3020: 400,
    2000: 401,
    2020: 401,
    2010: 403,
    2011: 403,
}


class SushiApi:
    """One release's API document: operations, parameters, statuses and schemas."""

    def __init__(self, path: Path, release: str) -> None:
        self.release = release
        self.doc = json.loads(path.read_text(encoding="utf-8"))
        spec = DRAFT202012 if release == "5.1" else DRAFT4
        self.uri = f"urn:sushi:{release}"
        self.registry: Registry = Registry().with_resource(
            self.uri, Resource.from_contents(self.doc, default_specification=spec)
        )
        self.validator_class = Draft202012Validator if release == "5.1" else Draft4Validator
        self.prefix = "/r51" if release == "5.1" else ""
        self.status_of: dict[int, int] = dict(FALLBACK_STATUS)
        self.messages: dict[int, str] = {}
        if release == "5.1":
            for name, response in self.doc["components"]["responses"].items():
                if name.endswith("_Exception") or "_Exception_" in name:
                    for code in re.findall(r"Exception_(\d+)", json.dumps(response)):
                        self.status_of[int(code)] = int(name[:3])
            for name, schema in self.doc["components"]["schemas"].items():
                if m := re.fullmatch(r"Exception_(\d+)", name):
                    self.messages[int(m.group(1))] = schema["properties"]["Message"].get(
                        "const", "Exception"
                    )

    def operation(self, path: str) -> dict[str, Any] | None:
        return (self.doc["paths"].get(self.prefix + path) or {}).get("get")

    def required_params(self, op: dict[str, Any]) -> list[str]:
        names = []
        for param in op.get("parameters", []):
            if "$ref" in param:
                param = self.doc["components"]["parameters"][param["$ref"].rsplit("/", 1)[1]]
            if param.get("required"):
                names.append(param["name"])
        return names

    def _schema_ref(self, pointer: str) -> dict[str, Any]:
        return {"$ref": f"{self.uri}#{pointer}"}

    def response_schema(self, path: str, status: int, body: Any) -> dict[str, Any]:
        op = self.operation(path) or {}
        responses = op.get("responses", {})
        if self.release == "5.1":
            ref = (responses.get(str(status)) or {}).get("$ref", "")
            name = ref.rsplit("/", 1)[1]
            return self._schema_ref(
                f"/components/responses/{name}/content/application~1json/schema"
            )
        if status == 200 and "200" in responses:
            return {"$ref": f"{self.uri}#/paths/{path.replace('/', '~1')}/get/responses/200/schema"}
        schema = self._schema_ref("/definitions/SUSHI_error_model")
        return {"type": "array", "items": schema} if isinstance(body, list) else schema

    def validate(self, path: str, status: int, body: Any) -> list[str]:
        validator = self.validator_class(
            self.response_schema(path, status, body), registry=self.registry
        )
        return [f"{path} {status}: {e.message[:200]}" for e in validator.iter_errors(body)]


@functools.cache
def load_api(path: Path, release: str) -> SushiApi:
    return SushiApi(path, release)


class LoopbackSushi:
    customer_id = "cust-1"
    requestor_id = "req-1"
    api_key = "key-1"

    def __init__(self, counter_data: Path) -> None:
        self.data = counter_data
        self.apis = {
            "5.1": load_api(counter_data / "sushi" / "COUNTER_SUSHI_API_r51.json", "5.1"),
            "5": load_api(counter_data / "sushi" / "COUNTER_SUSHI5_0_api.json", "5"),
        }
        self.behaviour: dict[
            str, Any
        ] = {}  # report id → exception code, "html", "truncated", "hang"
        self.hang_seconds = 2.5
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.errors: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def base_url(self, release: str = "5.1") -> str:
        prefix = "r51" if release == "5.1" else "r50"
        return f"http://127.0.0.1:{self.server.server_address[1]}/{prefix}"

    def __enter__(self) -> LoopbackSushi:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- answers ----------------------------------------------------------------------------

    def sample(self, release: str, code: str) -> dict[str, Any]:
        path = (
            (self.data / "r51" / f"{R51_SAMPLE[code]}_sample_r51.json")
            if release == "5.1"
            else (self.data / "r50" / f"Sample-{code}.json")
        )
        return json.loads(path.read_text(encoding="utf-8-sig"))

    def exception(self, api: SushiApi, code: int, data: str = "") -> dict[str, Any]:
        body: dict[str, Any] = {"Code": code, "Message": api.messages.get(code, "Exception")}
        if api.release == "5":
            body["Severity"] = "Error"
        if data:
            body["Data"] = data
        return body

    def answer(
        self, release: str, path: str, params: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        api = self.apis[release]
        op = api.operation(path)
        if op is None:
            return 404, self.exception(api, 3000), {}
        missing = [p for p in api.required_params(op) if not params.get(p)]
        if missing:
            return api.status_of[1030], self.exception(api, 1030, ", ".join(missing)), {}
        if path == "/status":
            return 200, [{"Description": "Loopback SUSHI", "Service_Active": True}], {}
        if params.get("customer_id") != self.customer_id:
            return api.status_of[2010], self.exception(api, 2010), {}
        if params.get("requestor_id") != self.requestor_id:
            return api.status_of[2000], self.exception(api, 2000), {}
        if params.get("api_key") != self.api_key:
            return api.status_of[2020], self.exception(api, 2020), {}
        if path == "/members":
            member = {"Customer_ID": self.customer_id, "Requestor_ID": self.requestor_id}
            member |= (
                {"Institution_Name": "Loopback University"}
                if release == "5.1"
                else {"Name": "Loopback University"}
            )
            return 200, [member], {}
        if path == "/reports":
            items = []
            for code in R51_SAMPLE:
                entry = {
                    "Report_Name": code,
                    "Report_ID": code.lower(),
                    "Release": release,
                    "Report_Description": f"{code} report",
                    "Path": f"{api.prefix}/reports/{code.lower()}",
                }
                if release == "5.1":
                    entry |= {"First_Month_Available": "2022-01", "Last_Month_Available": "2022-12"}
                items.append(entry)
            return 200, items, {}
        code = path.rsplit("/", 1)[1].upper()
        behaviour = self.behaviour.get(code)
        if isinstance(behaviour, int):
            status = api.status_of.get(behaviour, 200)
            headers = {"Retry-After": "120"} if behaviour == 1020 else {}
            if status != 200:
                return status, self.exception(api, behaviour), headers
            report = self.sample(release, code)
            report["Report_Header"]["Exceptions"] = [self.exception(api, behaviour, "loopback")]
            if behaviour == 3030:
                report["Report_Items"] = []
            return 200, report, headers
        return 200, self.sample(release, code), {}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                params = {k: v[-1] for k, v in parse_qs(url.query).items()}
                outer.requests.append((url.path, params))
                release = "5.1" if url.path.startswith("/r51/") else "5"
                path = url.path.removeprefix("/r51" if release == "5.1" else "/r50")
                code = path.rsplit("/", 1)[-1].upper()
                behaviour = outer.behaviour.get(code)
                if behaviour == "hang":
                    time.sleep(outer.hang_seconds)
                if behaviour == "html":
                    self._send(
                        200,
                        b"<!doctype html><html><body><h1>Please sign in</h1></body></html>",
                        "text/html",
                    )
                    return
                status, body, headers = outer.answer(release, path, params)
                outer.errors.extend(outer.apis[release].validate(path, status, body))
                payload = json.dumps(body).encode()
                if behaviour == "truncated":
                    payload = payload[: len(payload) // 2]
                self._send(status, payload, "application/json", headers)

            def _send(
                self,
                status: int,
                payload: bytes,
                content_type: str,
                headers: dict[str, str] | None = None,
            ) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (timeout test)

        return Handler
