"""A CARSI route probed end to end: WAYFless URL → the vendor's service provider → the home
identity provider → back at the resource; the result names the leg that failed.

1. SP leg: the WAYFless link must send the browser to the IdP (a redirect to another host);
   an SP error page (Shibboleth's, by the failure signatures) or any other answer fails here.
2. IdP leg: the IdP must answer 200 with a sign-in page or, when it already knows the browser,
   an auto-submitting SAML answer; an IdP error page ("Web Login Service - ...") fails here.
   A sign-in page is as far as an anonymous probe can go: the route is up to that point, and
   the outcome says so.
3. Return leg: the SAML answer is posted to the SP's consumer service, which must send the
   browser on to the resource; the resource page is judged like any probe (status, phrases,
   signatures).

Every request goes to an address checked by the SSRF guard (pinned, as in `probe._run`), with
the cookies each host set along the way.
"""

from __future__ import annotations

import re
from html import unescape
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import aiohttp

from lifeline.health.choices import FailureKind, HealthState
from lifeline.health.logic.signatures import library as signature_library
from lifeline.health.logic.targets import ResolveFailed, TargetRefused, checked_address

LEGS = {
    "sp": "CARSI service provider",
    "idp": "CARSI identity provider",
    "return": "CARSI return to the resource",
}
REDIRECTS = {301, 302, 303, 307, 308}
FORM_RE = re.compile(r"<form\b[^>]*\baction=[\"']([^\"']+)[\"'][^>]*>(.*?)</form>", re.I | re.S)
INPUT_RE = re.compile(r"<input\b[^>]*>", re.I)
ATTR_RE = re.compile(r"(\w+)=[\"']([^\"']*)[\"']")


class LegFailed(Exception):
    def __init__(self, failure: str, error: str) -> None:
        super().__init__(error)
        self.failure = failure
        self.error = error


def leg_of(outcome: Any) -> str:
    legs = [n.removeprefix("carsi leg ") for n in outcome.notes if n.startswith("carsi leg ")]
    return legs[-1] if legs else "sp"


def auto_post_form(html: str) -> tuple[str, dict[str, str]] | None:
    """The IdP's auto-submitting answer: (action, fields) when it carries a SAMLResponse."""
    for action, inner in FORM_RE.findall(html):
        fields: dict[str, str] = {}
        for tag in INPUT_RE.findall(inner):
            attrs = {k.lower(): unescape(v) for k, v in ATTR_RE.findall(tag)}
            if "name" in attrs:
                fields[attrs["name"]] = attrs.get("value", "")
        if "SAMLResponse" in fields:
            return unescape(action), fields
    return None


async def _request(
    spec: Any,
    probers: Any,
    outcome: Any,
    method: str,
    url: str,
    jar: dict[str, dict[str, str]],
    data: dict[str, str] | None = None,
) -> tuple[int, str, str, Any]:
    """One request to a checked, pinned address: (status, Location, body text, response)."""
    from lifeline.health.logic.probe import USER_AGENT, _decode, _read_capped

    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise LegFailed(FailureKind.PROTOCOL, f"cannot follow {url[:200]!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        address = await checked_address(parts.hostname, port, spec.allow_internal)
    except TargetRefused as exc:
        raise LegFailed(
            FailureKind.FORBIDDEN_TARGET,
            f"{parts.hostname} resolves to an internal address ({exc})",
        ) from exc
    except ResolveFailed as exc:
        raise LegFailed(FailureKind.DNS, f"{parts.hostname}: {exc}") from exc
    outcome.address = str(address)
    host = parts.hostname.lower()
    headers = {
        "User-Agent": USER_AGENT,
        "Accept": "text/html,*/*;q=0.8",
        "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8",
        "Host": parts.netloc.rsplit("@", 1)[-1],
    }
    if jar.get(host):
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in jar[host].items())
    literal = f"[{address}]" if address.version == 6 else str(address)
    pinned = urlunsplit((parts.scheme, f"{literal}:{port}", parts.path or "/", parts.query, ""))
    response = await probers.session.request(
        method,
        pinned,
        headers=headers,
        data=data,
        allow_redirects=False,
        server_hostname=parts.hostname if parts.scheme == "https" else None,
    )
    try:
        for raw in response.headers.getall("Set-Cookie", ()):
            name, _sep, rest = raw.partition("=")
            if name.strip():
                jar.setdefault(host, {})[name.strip()] = rest.split(";", 1)[0].strip()
        body, _too_large = await _read_capped(response, probers.max_body)
        outcome.status_code = response.status
        outcome.final_url = url
        outcome.body_bytes = len(body)
        text = _decode(body, response.charset)
        return response.status, response.headers.get("Location", ""), text, response
    finally:
        response.close()


def _signature(spec: Any, url: str, text: str) -> None:
    found = signature_library().matcher(url, platform=spec.platform).search(text)
    if found is not None:
        raise LegFailed(
            FailureKind.KEYWORD_FORBIDDEN,
            f"{found.signature.meaning} (signature {found.signature.label} {found.version})",
        )


async def _follow(
    spec: Any, probers: Any, outcome: Any, url: str, jar: dict[str, dict[str, str]], same_host: bool
) -> tuple[int, str, str, str, Any]:
    """GET `url`, following redirects (only within its host and port when `same_host`): the last
    (status, Location, text, url, response)."""
    start_host = urlsplit(url).netloc
    for _hop in range(spec.max_redirects + 1):
        status, location, text, response = await _request(spec, probers, outcome, "GET", url, jar)
        if status not in REDIRECTS or not location:
            return status, location, text, url, response
        following = urljoin(url, location)
        if same_host and urlsplit(following).netloc != start_host:
            return status, following, text, url, response
        url = following
    raise LegFailed(FailureKind.REDIRECTS, f"more than {spec.max_redirects} redirects")


async def run_carsi(spec: Any, probers: Any, outcome: Any) -> None:
    try:
        await _legs(spec, probers, outcome)
    except LegFailed as exc:
        outcome.fail(exc.failure, f"{LEGS[leg_of(outcome)]}: {exc.error}")
    except (aiohttp.ClientError, OSError) as exc:
        from lifeline.health.logic.probe import classify_exception

        failure, error = classify_exception(exc)
        outcome.fail(failure, f"{LEGS[leg_of(outcome)]}: {error}")


async def _legs(spec: Any, probers: Any, outcome: Any) -> None:
    from lifeline.health.logic.probe import _judge_text

    jar: dict[str, dict[str, str]] = {}
    outcome.notes.append("carsi leg sp")
    status, location, text, url, _r = await _follow(spec, probers, outcome, spec.url, jar, True)
    if status not in REDIRECTS or not location:
        _signature(spec, url, text)
        raise LegFailed(
            FailureKind.STATUS, f"HTTP {status} instead of sending the browser to the IdP"
        )
    outcome.notes.append("carsi leg idp")
    status, _location, text, idp_url, _r = await _follow(
        spec, probers, outcome, location, jar, True
    )
    if status != 200:
        _signature(spec, idp_url, text)
        raise LegFailed(FailureKind.STATUS, f"HTTP {status}")
    _signature(spec, idp_url, text)
    answer = auto_post_form(text)
    if answer is None:
        if re.search(r"<input\b[^>]*type=[\"']password", text, re.I):
            # As far as an anonymous probe can go: the route works up to the sign-in page.
            outcome.notes.append("carsi stopped at the IdP sign-in page")
            outcome.state = HealthState.UP
            return
        raise LegFailed(FailureKind.KEYWORD_MISSING, "neither a sign-in page nor a SAML answer")
    outcome.notes.append("carsi leg return")
    action, fields = answer
    acs = urljoin(idp_url, action)
    status, location, text, _response = await _request(
        spec, probers, outcome, "POST", acs, jar, data=fields
    )
    if status not in REDIRECTS or not location:
        _signature(spec, acs, text)
        raise LegFailed(FailureKind.STATUS, f"the consumer service answered HTTP {status}")
    status, _location, text, final, response = await _follow(
        spec, probers, outcome, urljoin(acs, location), jar, False
    )
    _judge_text(spec, outcome, status, response.reason or "", text, final)
    if outcome.state != HealthState.UP:
        outcome.error = f"{LEGS['return']}: {outcome.error}"[:500]
