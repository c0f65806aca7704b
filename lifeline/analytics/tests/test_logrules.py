"""The platform rules library: validation, precedence, coverage and accuracy, and the vectorised
classifier agreeing with the line-by-line one on every test URL."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import polars as pl
import pytest

from lifeline.analytics.logrules.accuracy import score, totals
from lifeline.analytics.logrules.engine import RuleSet, default_rules, shipped_platforms
from lifeline.analytics.logrules.library import library_rule
from lifeline.analytics.logrules.rules import RuleError, load_platforms, platform_from_dict

GOOD = {
    "platform": "demo",
    "version": 1,
    "hosts": ["demo.example.org"],
    "rules": [{"id": "pdf", "class": "request", "match": "^/pdf/"}],
}


def test_the_library_covers_at_least_40_platforms_with_tests() -> None:
    platforms = shipped_platforms()
    assert len(platforms) >= 40
    assert all(len(p.tests) >= 3 for p in platforms)
    keys = {p.key for p in platforms}
    assert {"cnki", "wanfang", "cqvip", "sciencedirect", "acs", "duxiu", "cadal"} <= keys


def test_accuracy_per_platform_and_overall() -> None:
    scores = score()
    failures = [f for s in scores for f in s.failures]
    overall = totals(scores)
    assert overall["accuracy"] >= 0.97, failures
    assert overall["fulltext_found"] >= 0.97 and overall["fulltext_precise"] >= 0.97
    assert all(s.accuracy >= 0.8 for s in scores), failures


def test_vectorised_classes_agree_with_the_reference_on_every_test_url() -> None:
    rules = default_rules()
    urls = [t.url for p in shipped_platforms() for t in p.tests]
    hosts, paths = [], []
    for url in urls:
        parts = urlsplit(url)
        hosts.append((parts.hostname or "").lower())
        paths.append(url.split(parts.netloc, 1)[1] or "/")
    keys = pl.DataFrame({"key": urls, "host": hosts, "path": paths})
    got = rules.classify_frame(keys, sorted(set(hosts)))
    vectorised = {k: (r, u) for k, r, u in got.select("key", "rule", "unit").iter_rows()}
    for url, host, path in zip(urls, hosts, paths, strict=True):
        assert vectorised[url] == rules.classify_path(host, path), url


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"rules": [{"id": "x", "class": "request", "match": "([a-"}]},
            "(rule x) match: invalid pattern",
        ),
        ({"rules": [{"id": "x", "class": "fulltext", "match": "^/"}]}, "unknown class"),
        ({"rules": [{"id": "x", "class": "request", "match": "(?<=a)b"}]}, "(rule x)"),
        ({"rules": [{"id": "x", "class": "request", "match": "^/", "colour": 1}]}, "colour"),
        (
            {"rules": [{"id": "x", "class": "request", "match": "^/", "unit_kind": "doi"}]},
            "needs a (?P<unit>",
        ),
        ({"hosts": ["bad host!"]}, "malformed host"),
        ({"version": 2}, "version"),
        (
            {"rules": [{"id": "x", "class": "none", "match": "^/"}] * 2},
            "rule ids must be unique",
        ),
    ],
)
def test_a_broken_file_is_refused_naming_file_and_rule(change: dict, message: str) -> None:
    with pytest.raises(RuleError) as info:
        platform_from_dict({**GOOD, **change}, "demo.yaml")
    assert message in str(info.value) and "demo.yaml" in str(info.value)


def test_two_files_claiming_one_host_are_refused(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / f"{name}.yaml").write_text(
            f"platform: {name}\nversion: 1\nhosts: [x.example.org]\n"
            "rules: [{id: r, class: none, match: '^/'}]\n"
        )
    with pytest.raises(RuleError, match=r"already claimed by a\.yaml"):
        load_platforms(tmp_path)


def test_precedence_library_then_furniture_then_platform_order_then_generic() -> None:
    demo = platform_from_dict(
        {
            **GOOD,
            "hosts": ["example.org", "sub.example.org"],
            "rules": [
                {"id": "first", "class": "request", "match": "^/a/"},
                {"id": "second", "class": "investigation", "match": "^/a/b"},
            ],
        },
        "demo.yaml",
    )
    other = platform_from_dict(
        {**GOOD, "platform": "deep", "hosts": ["deep.sub.example.org"]}, "deep.yaml"
    )
    own = library_rule("example.org", "^/a/own", "none")
    rules = RuleSet([demo, other], [own])
    assert rules.classify("https://example.org/a/b").rule == "demo:first"  # file order
    assert rules.classify("https://example.org/a/own").rule == "library:r0"  # library first
    assert rules.classify("https://example.org/a/x.css").rule == "generic:furniture"
    assert rules.classify("https://example.org/x/report.pdf").rule == "generic:fulltext"
    assert rules.classify("https://example.org/search?q=1").cls == "search"
    assert rules.classify("https://example.org/other").rule == "generic:page"
    # The longest host suffix wins: deep.sub.example.org belongs to "deep".
    assert rules.classify("https://deep.sub.example.org/pdf/1").rule == "deep:pdf"
    assert rules.classify("https://x.sub.example.org/a/1").rule == "demo:first"


@pytest.mark.parametrize(
    ("url", "cls", "unit", "platform"),
    [
        # EZproxy proxy-by-hostname hosts, with and without the library's proxy suffix
        (
            "https://www-cnki-net.ezproxy.example.edu/kcms/download.aspx?filename=AB1&dbcode=CJFD",
            "request",
            "AB1",
            "cnki",
        ),
        (
            "https://pubs-acs-org.ezproxy.example.edu:8443/doi/pdf/10.1021/x.1",
            "request",
            "10.1021/x.1",
            "acs",
        ),
        # host:port and percent-encoding
        (
            "https://pubs.acs.org:443/doi/full/10.1021%2FACS.X.2",
            "request",
            "10.1021/acs.x.2",
            "acs",
        ),
        # non-ASCII (a raw UTF-8 search), a one-label host, an 8 KB URL
        ("https://s.wanfangdata.com.cn/paper?q=图书馆", "search", None, "wanfang"),
        ("http://intranet/files/report.pdf", "request", None, ""),
        (
            "https://www.sciencedirect.com/science/article/pii/S0140673620301835?x=" + "a" * 8192,
            "request",
            "S0140673620301835",
            "sciencedirect",
        ),
    ],
)
def test_hostile_shapes(url: str, cls: str, unit: str | None, platform: str) -> None:
    got = default_rules(".ezproxy.example.edu").classify(url)
    assert (got.cls, got.unit, got.platform) == (cls, unit, platform)


def test_a_library_rule_is_validated() -> None:
    with pytest.raises(RuleError):
        library_rule("example.org", "(", "request")
    with pytest.raises(RuleError):
        library_rule("not a host", "^/", "request")
    with pytest.raises(RuleError):
        library_rule("example.org", "^/", "read")


def test_start_up_check_names_a_broken_file(tmp_path: Path) -> None:
    from lifeline.analytics.logrules.checks import check_rules

    assert check_rules() == []
    (tmp_path / "bad.yaml").write_text(
        "platform: bad\nversion: 1\nhosts: [x.example.org]\n"
        "rules: [{id: r1, class: request, match: '(?<=a)b'}]\n"
    )
    errors = check_rules(tmp_path)
    assert errors and "bad.yaml" in errors[0].msg and "rule r1" in errors[0].msg
