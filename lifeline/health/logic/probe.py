"""One HTTP(S) probe of one access route, asynchronous, bounded in time and bytes.

A probe never raises: every way a request can go wrong becomes a classified `ProbeOutcome`
(the prober must survive a 5 GB body, a redirect loop or a host that does not exist).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import ssl
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from lifeline.health.choices import DEGRADING, FailureKind, HealthState
from lifeline.health.logic.targets import ResolveFailed, TargetRefused, checked_address

# httpx logs every request at INFO: thousands a minute from the prober would drown the log.
logging.getLogger("httpx").setLevel(logging.WARNING)

USER_AGENT = "Lifeline-AccessProbe/1.0 (+library access monitoring)"
REDIRECT_CODES = {301, 302, 303, 307, 308}


@dataclass(frozen=True)
class ProbeSpec:
    config_id: int
    route_id: int
    url: str
    timeout: float = 15.0
    statuses: tuple[tuple[int, int], ...] = ((200, 299),)
    must_contain: tuple[str, ...] = ()
    must_not_contain: tuple[str, ...] = ()
    max_redirects: int = 5
    slow_ms: int = 5000
    cert_warning_days: int = 14
    allow_internal: bool = False
    via_proxy: bool = False
    due_at: dt.datetime | None = None


@dataclass
class ProbeOutcome:
    spec: ProbeSpec
    started_at: dt.datetime
    state: str = HealthState.UP
    failure: str = FailureKind.NONE
    error: str = ""
    status_code: int | None = None
    response_ms: int | None = None
    cert_expires_at: dt.datetime | None = None
    address: str = ""
    final_url: str = ""
    body_bytes: int = 0
    notes: list[str] = field(default_factory=list)

    def fail(self, failure: str, error: str) -> ProbeOutcome:
        self.failure = failure
        self.error = error[:500]
        self.state = HealthState.DEGRADED if failure in DEGRADING else HealthState.DOWN
        return self


@dataclass
class Probers:
    """The HTTP clients of one batch: direct, and through the campus proxy when one is configured.

    Direct probes are spread over several clients: httpcore scans every connection of a pool on
    each request and each close, so one pool with hundreds of concurrent connections costs CPU
    quadratically; a few small pools keep that cost flat.
    """

    direct_pool: list[httpx.AsyncClient]
    proxied: httpx.AsyncClient | None
    max_body: int

    SHARDS = 8

    @classmethod
    def open(
        cls, *, proxy: str = "", ca_bundle: str = "", max_body: int = 2 * 1024 * 1024
    ) -> Probers:
        # One TLS context for all clients: loading the CA bundle costs ~70 ms of CPU per context.
        verify = (
            ssl.create_default_context(cafile=ca_bundle)
            if ca_bundle
            else httpx.create_ssl_context()
        )
        # No keep-alive: each probe measures a fresh connection, and a TLS connection made for one
        # host name is never reused for another name on the same (pinned) address.
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=0)

        def client(**extra: object) -> httpx.AsyncClient:
            return httpx.AsyncClient(
                verify=verify, limits=limits, follow_redirects=False, trust_env=False, **extra
            )  # type: ignore[arg-type]

        return cls(
            direct_pool=[client() for _ in range(cls.SHARDS)],
            proxied=client(proxy=proxy) if proxy else None,
            max_body=max_body,
        )

    @property
    def direct(self) -> httpx.AsyncClient:
        return self.direct_pool[0]

    def client_for(self, spec: ProbeSpec) -> tuple[httpx.AsyncClient, bool]:
        """The client to use and whether it connects directly (so the address is pinned)."""
        if spec.via_proxy and self.proxied is not None:
            return self.proxied, False
        return self.direct_pool[spec.config_id % len(self.direct_pool)], True

    async def aclose(self) -> None:
        for c in self.direct_pool:
            await c.aclose()
        if self.proxied is not None:
            await self.proxied.aclose()


def classify_exception(exc: BaseException) -> tuple[str, str]:
    """Map an httpx/OS error to a failure kind, looking through the chain of causes."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 8:
        chain.append(current)
        current = current.__cause__ or current.__context__
    # The innermost cause says what happened ("Connect call failed"), the outer ones repeat it.
    root = chain[-1]
    text = (f"{type(root).__name__}: {root}" if str(root) else type(root).__name__)[:500]
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return FailureKind.TIMEOUT, text or "timed out"
    if (
        any(isinstance(e, ssl.SSLError) for e in chain)
        or "CERTIFICATE_VERIFY_FAILED" in text
        or "SSL" in text
    ):
        return FailureKind.TLS, text
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "refused" in text.lower():
        return FailureKind.REFUSED, text
    if isinstance(exc, httpx.ConnectError | httpx.NetworkError | OSError):
        return FailureKind.CONNECT, text
    return FailureKind.PROTOCOL, text


def _decode(body: bytes, charset: str | None) -> str:
    # Chinese vendors still serve GBK pages; a login wall in GB18030 must be recognised too.
    for encoding in (charset, "utf-8", "gb18030"):
        if not encoding:
            continue
        try:
            return body.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("utf-8", errors="replace")


def _peer_cert_expiry(response: httpx.Response) -> dt.datetime | None:
    stream = response.extensions.get("network_stream")
    ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
    if ssl_object is None:
        return None
    cert = ssl_object.getpeercert()
    if not cert or "notAfter" not in cert:
        return None
    return dt.datetime.fromtimestamp(ssl.cert_time_to_seconds(cert["notAfter"]), tz=dt.UTC)


async def probe(spec: ProbeSpec, probers: Probers) -> ProbeOutcome:
    outcome = ProbeOutcome(spec=spec, started_at=dt.datetime.now(dt.UTC))
    began = time.monotonic()
    try:
        async with asyncio.timeout(spec.timeout):
            await _run(spec, probers, outcome)
    except TimeoutError:
        outcome.fail(FailureKind.TIMEOUT, f"no complete answer within {spec.timeout:g} s")
    except Exception as exc:  # a probe must never take the prober down
        outcome.fail(*classify_exception(exc))
    outcome.response_ms = int((time.monotonic() - began) * 1000)
    if outcome.state == HealthState.UP and outcome.response_ms > spec.slow_ms:
        outcome.fail(
            FailureKind.SLOW, f"answered in {outcome.response_ms} ms (slow above {spec.slow_ms} ms)"
        )
    return outcome


async def _run(spec: ProbeSpec, probers: Probers, outcome: ProbeOutcome) -> None:
    url = spec.url
    cookies: dict[str, str] = {}
    client, direct = probers.client_for(spec)
    for hop in range(spec.max_redirects + 1):
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            outcome.fail(
                FailureKind.PROTOCOL, f"cannot probe {url[:200]!r}: only http and https addresses"
            )
            return
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            address = await checked_address(parts.hostname, port, spec.allow_internal)
        except TargetRefused as exc:
            outcome.fail(
                FailureKind.FORBIDDEN_TARGET,
                f"{parts.hostname} resolves to an internal address ({exc})",
            )
            return
        except ResolveFailed as exc:
            outcome.fail(FailureKind.DNS, f"{parts.hostname}: {exc}")
            return
        outcome.address = str(address)
        headers = {
            "User-Agent": USER_AGENT,
            "Accept": "text/html,*/*;q=0.8",
            "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8",
        }
        if cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        extensions: dict[str, object] = {}
        request_url = url
        if direct:
            # Connect to the address that was checked, not to whatever the name resolves to next
            # (built as a string: httpx parses a URL in pure Python, once is enough).
            headers["Host"] = parts.netloc.rsplit("@", 1)[-1]
            literal = f"[{address}]" if address.version == 6 else str(address)
            request_url = urlunsplit(
                (parts.scheme, f"{literal}:{port}", parts.path or "/", parts.query, "")
            )
            if parts.scheme == "https":
                extensions["sni_hostname"] = parts.hostname
        request = client.build_request("GET", request_url, headers=headers, extensions=extensions)
        response = await client.send(request, stream=True)
        try:
            outcome.status_code = response.status_code
            outcome.final_url = url
            for raw in response.headers.get_list("set-cookie"):
                name, _sep, rest = raw.partition("=")
                if name.strip():
                    cookies[name.strip()] = rest.split(";", 1)[0].strip()
            expected = any(low <= response.status_code <= high for low, high in spec.statuses)
            location = response.headers.get("location")
            if response.status_code in REDIRECT_CODES and location and not expected:
                if hop == spec.max_redirects:
                    outcome.fail(
                        FailureKind.REDIRECTS,
                        f"more than {spec.max_redirects} redirects (last to {location[:200]})",
                    )
                    return
                url = urljoin(url, location)
                continue
            if parts.scheme == "https":
                outcome.cert_expires_at = _peer_cert_expiry(response)
            body, too_large = await _read_capped(response, probers.max_body)
            outcome.body_bytes = len(body)
            _judge(spec, outcome, response, body, too_large)
            return
        finally:
            await response.aclose()


async def _read_capped(response: httpx.Response, cap: int) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    total = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        total += len(chunk)
        if total > cap:
            return b"".join(chunks)[:cap], True
    return b"".join(chunks), False


def _judge(
    spec: ProbeSpec, outcome: ProbeOutcome, response: httpx.Response, body: bytes, too_large: bool
) -> None:
    if not any(low <= response.status_code <= high for low, high in spec.statuses):
        outcome.fail(
            FailureKind.STATUS, f"HTTP {response.status_code} {response.reason_phrase}".strip()
        )
        return
    text = (
        _decode(body, response.charset_encoding).casefold()
        if (spec.must_contain or spec.must_not_contain)
        else ""
    )
    for phrase in spec.must_not_contain:
        if phrase.casefold() in text:
            outcome.fail(FailureKind.KEYWORD_FORBIDDEN, f"the page says “{phrase}”")
            return
    for phrase in spec.must_contain:
        if phrase.casefold() not in text:
            outcome.fail(
                FailureKind.KEYWORD_MISSING, f"“{phrase}” not found in the first {len(body)} bytes"
            )
            return
    if too_large:
        outcome.fail(FailureKind.TOO_LARGE, f"body larger than {len(body)} bytes; stopped reading")
        return
    if outcome.cert_expires_at is not None:
        left = outcome.cert_expires_at - outcome.started_at
        if left < dt.timedelta(days=spec.cert_warning_days):
            outcome.fail(
                FailureKind.CERT_EXPIRING, f"certificate expires {outcome.cert_expires_at:%Y-%m-%d}"
            )


async def probe_all(
    specs: list[ProbeSpec], probers: Probers, concurrency: int = 200
) -> list[ProbeOutcome]:
    gate = asyncio.Semaphore(concurrency)

    async def one(spec: ProbeSpec) -> ProbeOutcome:
        async with gate:
            return await probe(spec, probers)

    return list(await asyncio.gather(*(one(s) for s in specs)))
