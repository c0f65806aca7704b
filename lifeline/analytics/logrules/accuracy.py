"""Classification accuracy of the rules library on its own test URLs, per platform and overall."""

from __future__ import annotations

from dataclasses import dataclass, field

from lifeline.analytics.logrules.engine import RuleSet, default_rules
from lifeline.analytics.logrules.rules import REQUEST


@dataclass
class PlatformScore:
    platform: str
    name: str
    tests: int = 0
    correct: int = 0
    fulltext_expected: int = 0
    fulltext_found: int = 0
    fulltext_claimed: int = 0
    fulltext_right: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.tests if self.tests else 1.0


def score(rules: RuleSet | None = None) -> list[PlatformScore]:
    """Each platform's test URLs through the reference classifier: right when the class (and the
    unit and rule when the test names them) are as expected."""
    rules = rules or default_rules()
    scores = []
    for platform in rules.platforms.values():
        s = PlatformScore(platform.key, platform.name)
        for test in platform.tests:
            got = rules.classify(test.url)
            ok = (
                got.cls == test.cls
                and (test.unit is None or got.unit == test.unit)
                and (test.rule is None or got.rule == test.rule)
                and got.platform == platform.key
            )
            s.tests += 1
            s.correct += ok
            if not ok:
                s.failures.append(
                    f"{test.url}: expected {test.cls} {test.unit or ''} {test.rule or ''}, "
                    f"got {got.cls} {got.unit or ''} {got.rule} ({got.platform or 'no platform'})"
                )
            expected_ft, got_ft = test.cls == REQUEST, got.cls == REQUEST
            s.fulltext_expected += expected_ft
            s.fulltext_claimed += got_ft
            s.fulltext_found += expected_ft and got_ft
            s.fulltext_right += expected_ft and got_ft
        scores.append(s)
    return scores


def totals(scores: list[PlatformScore]) -> dict[str, float]:
    tests = sum(s.tests for s in scores)
    expected = sum(s.fulltext_expected for s in scores)
    claimed = sum(s.fulltext_claimed for s in scores)
    found = sum(s.fulltext_found for s in scores)
    return {
        "platforms": len(scores),
        "tests": tests,
        "accuracy": sum(s.correct for s in scores) / tests if tests else 1.0,
        # Full text found: share of the expected full-text requests classed as such (recall).
        "fulltext_found": found / expected if expected else 1.0,
        # Not over-counted: share of the URLs classed as full text that are full text (precision).
        "fulltext_precise": found / claimed if claimed else 1.0,
    }


def generic_baseline(rules: RuleSet | None = None) -> dict[str, float]:
    """The same test URLs through the generic keywords alone (what every host got before the
    platform rules): the class only is compared."""
    rules = rules or default_rules()
    bare = RuleSet([])
    tests = right = expected = claimed = found = 0
    for platform in rules.platforms.values():
        for test in platform.tests:
            got = bare.classify(test.url).cls
            tests += 1
            right += got == test.cls
            expected += test.cls == REQUEST
            claimed += got == REQUEST
            found += got == REQUEST and test.cls == REQUEST
    return {
        "tests": tests,
        "accuracy": right / tests if tests else 1.0,
        "fulltext_found": found / expected if expected else 1.0,
        "fulltext_precise": found / claimed if claimed else 1.0,
    }
