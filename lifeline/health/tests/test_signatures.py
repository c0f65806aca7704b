"""The failure-signature library: every signature's saved page is classed down by a real probe,
ordinary pages are not, and a broken file is refused at load with its name."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured

from lifeline.health.choices import FailureKind, HealthState
from lifeline.health.logic import signatures
from lifeline.health.logic.probe import ProbeOutcome, Probers, ProbeSpec, probe_all
from lifeline.health.logic.signatures import SignatureError, host_matches, load
from lifeline.health.logic.worker import probe_step
from lifeline.health.models import ProbeConfig
from lifeline.health.tests.conftest import make_route
from lifeline.health.tests.servers import Page, Site
from lifeline.registry.models import Resource

ALL = signatures.library()
PLATFORMS = {
    "cnki", "wanfang", "vip", "cadal", "sciencedirect", "acs", "springer", "wiley", "tandf",
    "ieee", "ebsco", "proquest", "worldlib", "ezproxy", "shibboleth",
}  # fmt: skip


def run_all(specs: list[ProbeSpec]) -> list[ProbeOutcome]:
    async def go() -> list[ProbeOutcome]:
        p = Probers.open()
        try:
            return await probe_all(specs, p)
        finally:
            await p.aclose()

    return asyncio.run(go())


def spec(url: str, platform: str = "", **kw: Any) -> ProbeSpec:
    return ProbeSpec(
        config_id=1, route_id=1, url=url, allow_internal=True, timeout=5.0, platform=platform, **kw
    )


def test_the_shipped_library_covers_every_platform_with_a_version() -> None:
    assert {p.key for p in ALL.platforms} == PLATFORMS
    assert all(p.version and p.signatures for p in ALL.platforms)
    assert "cnki 2026." in ALL.version
    assert {p.key for p in ALL.platforms if p.everywhere} == {"ezproxy", "shibboleth"}


def test_every_sample_page_is_classed_down_by_its_own_signature(site: Site) -> None:
    specs: list[ProbeSpec] = []
    expected: list[str] = []
    for platform in ALL.platforms:
        for signature in platform.signatures:
            path = f"/{platform.key}/{signature.id}"
            site.pages[path] = Page(body=signature.sample.read_bytes())
            specs.append(spec(site.url(path), platform="" if platform.everywhere else platform.key))
            expected.append(signature.label)
    outcomes = run_all(specs)
    got = [(o.state, o.failure, o.notes[-1] if o.notes else "") for o in outcomes]
    assert got == [
        (HealthState.DOWN, FailureKind.KEYWORD_FORBIDDEN, f"signature {label}")
        for label in expected
    ]
    assert all("signature " in o.error for o in outcomes)


def test_ordinary_pages_are_up_for_every_platform(site: Site) -> None:
    site.pages["/home"] = Page(
        body="<html><head><title>中国知网 首页</title></head><body><h1>欢迎</h1>"
        "<p>Journal of Forestry Research, Vol. 31. View PDF. 检索 期刊 学位论文</p>"
        "<a href='/login'>登录</a></body></html>".encode()
    )
    outcomes = run_all([spec(site.url("/home"), platform=p.key) for p in ALL.platforms])
    assert {(o.state, o.failure) for o in outcomes} == {(HealthState.UP, "")}


def test_ip_unauthorised_with_200_is_down_in_gbk_and_with_a_space(site: Site) -> None:
    # "IP 未授权" (with a space) is not in the default phrases: the CNKI signature catches it.
    site.pages["/gbk"] = Page(
        body="<p>对不起，IP 未授权，请联系图书馆</p>".encode("gb18030"),
        headers={"Content-Type": "text/html"},
    )
    [out] = run_all([spec(site.url("/gbk"), platform="cnki")])
    assert (out.status_code, out.state, out.failure) == (200, HealthState.DOWN, "keyword_forbidden")
    assert "cnki/ip-unauthorised" in out.error


def test_a_platform_is_known_by_its_host_also_through_ezproxy() -> None:
    for host in (
        "kns.cnki.net",
        "cnki.net",
        "kns.cnki.net.ezproxy.lib.nefu.edu.cn",
        "kns-cnki-net.ezproxy.lib.nefu.edu.cn",
        "www-cnki-net-s.vpn.nefu.edu.cn",
    ):
        assert "cnki" in ALL.platforms_for(host), host
    for host in ("notcnki.net", "cnki.network.example.org", "127.0.0.1", ""):
        assert "cnki" not in ALL.platforms_for(host), host
    assert host_matches("www.sciencedirect.com", "sciencedirect.com")
    # EZproxy and Shibboleth apply everywhere; CNKI's phrases do not apply to Wiley.
    assert set(ALL.platforms_for("onlinelibrary.wiley.com")) == {"wiley", "ezproxy", "shibboleth"}


def test_ezproxy_needhost_page_is_down_on_any_host(site: Site) -> None:
    site.pages["/login"] = Page(
        body=b"<p>To allow http://www.jstor.org/ to be used, the following line must be added"
        b" to the config.txt file of EZproxy:</p>"
    )
    [out] = run_all([spec(site.url("/login?url=http://www.jstor.org/"))])
    assert (out.state, out.failure) == (HealthState.DOWN, FailureKind.KEYWORD_FORBIDDEN)
    assert "ezproxy/host-not-configured" in out.error


def test_the_worker_applies_the_vendors_platform(
    resource_a: Resource, admin_a: Any, site: Site
) -> None:
    # resource_a's vendor key is "cnki": its route on a loopback host gets CNKI's signatures,
    # whether claimed as plain values or through the models (a proxied route).
    site.pages["/kns"] = Page(body="<div>机构用户未登录</div>".encode())
    make_route(resource_a, site.url("/kns"), admin=admin_a)
    t0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    ProbeConfig.objects.update(next_probe_at=t0, must_not_contain="")
    assert probe_step(now=t0).probed == 1
    config = ProbeConfig.objects.get()
    assert (config.state, config.last_failure) == (HealthState.DOWN, "keyword_forbidden")
    assert "cnki/institution-not-signed-in" in config.last_error


def write(directory: Path, name: str, text: str, sample: bool = True) -> Path:
    (directory / "samples").mkdir(parents=True, exist_ok=True)
    if sample:
        (directory / "samples" / "page.html").write_text("<p>failure</p>")
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """platform: local
name: Local
version: "1"
hosts: [lib.example.edu.cn]
signatures:
  - id: sig
    pattern: '{pattern}'
    meaning: "a failure"
    state: {state}
    sample: page.html
"""


@pytest.mark.parametrize(
    ("text", "sample", "named"),
    [
        (GOOD.format(pattern="IP([未授权", state="down"), True, "signature sig: broken pattern"),
        (GOOD.format(pattern="a(?s)b", state="down"), True, "signature sig: broken pattern"),
        (GOOD.format(pattern="x*", state="down"), True, "matches an empty page"),
        (GOOD.format(pattern="(?P<g>x)", state="down"), True, "named groups"),
        (GOOD.format(pattern="x", state="gone"), True, "'state' must be one of"),
        (GOOD.format(pattern="x", state="down"), False, "sample page 'page.html' not found"),
        (GOOD.format(pattern="x", state="down") + "extra: 1\n", True, "unknown field(s) extra"),
        (GOOD.replace('version: "1"\n', ""), True, "missing 'version'"),
        ("platform: [unclosed\n", True, "cannot be read as YAML"),
        ("- a list\n", True, "must be a mapping"),
    ],
)
def test_a_broken_file_is_refused_at_load_and_named(
    tmp_path: Path, text: str, sample: bool, named: str
) -> None:
    write(tmp_path, "local.yaml", text, sample=sample)
    with pytest.raises(SignatureError) as caught:
        load([tmp_path])
    assert str(caught.value).startswith("local.yaml")
    assert named in str(caught.value)


def test_a_sample_outside_the_folder_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "local.yaml", GOOD.format(pattern="x", state="down").replace(
        "page.html", "../../etc/passwd"
    ))  # fmt: skip
    with pytest.raises(SignatureError, match="not found under samples"):
        load([tmp_path])


def test_a_platform_defined_twice_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", GOOD.format(pattern="x", state="down"))
    write(tmp_path, "b.yaml", GOOD.format(pattern="y", state="down"))
    with pytest.raises(SignatureError, match=r"b\.yaml: platform 'local' already defined in a"):
        load([tmp_path])


def test_start_refuses_a_broken_local_file(settings: Any, tmp_path: Path) -> None:
    write(tmp_path, "local.yaml", GOOD.format(pattern="IP([", state="down"))
    settings.HEALTH_SIGNATURE_DIRS = [str(tmp_path)]
    try:
        signatures._LIBRARY.clear()
        with pytest.raises(ImproperlyConfigured, match=r"local\.yaml, signature sig"):
            apps.get_app_config("health").ready()
    finally:
        settings.HEALTH_SIGNATURE_DIRS = []
        signatures.reload()


def test_a_local_degrading_signature(settings: Any, tmp_path: Path, site: Site) -> None:
    write(tmp_path, "local.yaml", GOOD.format(pattern=r"search\s+returned\s+0", state="degraded"))
    settings.HEALTH_SIGNATURE_DIRS = [str(tmp_path)]
    try:
        signatures.reload()
        site.pages["/s"] = Page(body=b"<p>Your search returned 0 results</p>")
        [out] = run_all([spec(site.url("/s"), platform="local")])
        assert (out.state, out.failure) == (HealthState.DEGRADED, FailureKind.KEYWORD_FORBIDDEN)
    finally:
        settings.HEALTH_SIGNATURE_DIRS = []
        signatures.reload()


@pytest.mark.parametrize(
    ("pattern", "literals"),
    [
        (r"IP\s*未授权", ("未授权",)),
        (r"Shibboleth Error|shibsp::\w+", ("shibboleth error", "shibsp::")),
        (r"(?:Log in|Sign in) to read", (" to read",)),
        (r"\d{3}-\d{4}", None),  # no literal: the expression always runs
        (r"a?b", None),
        (r"(?:abc)+def", ("abc",)),
    ],
)
def test_required_literals(pattern: str, literals: tuple[str, ...] | None) -> None:
    assert signatures.required_literals(pattern) == literals


def test_a_signature_without_literal_still_applies() -> None:
    lib = signatures.SignatureLibrary(
        (
            signatures.Platform(
                "x", "X", "1", ("x.org",), True,
                (signatures.Signature("x", "code", r"\d{3}-\d{4}", "m", "down", Path(".")),),
                Path("."),
            ),
        )
    )  # fmt: skip
    assert lib.matcher("http://a.org/").search("call 555-1234").signature.id == "code"  # type: ignore[union-attr]
    assert lib.matcher("http://a.org/").search("call us") is None
