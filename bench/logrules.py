"""Platform rules: classification accuracy per platform and overall, as a Markdown table.

    python -m bench logrules

Each platform file's test URLs go through the classifier; a URL is right when its class (and,
where the test names them, its unit and rule) are as expected. "Full text found" is the share
of expected full-text requests classed as such; "not over-counted" the share of URLs classed as
full text that are. Target (issue 19): ≥ 97 % overall, both full-text figures ≥ 97 %.
"""

from __future__ import annotations

import os


def main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lifeline.settings")
    from lifeline.analytics.logrules.accuracy import generic_baseline, score, totals

    scores = score()
    print("| platform | test URLs | right | accuracy | full-text URLs |")
    print("|---|---|---|---|---|")
    for s in scores:
        print(
            f"| {s.name} (`{s.platform}`) | {s.tests} | {s.correct} | {100 * s.accuracy:.0f} % "
            f"| {s.fulltext_expected} |"
        )
        for failure in s.failures:
            print(f"|   ✗ {failure} | | | | |")
    t = totals(scores)
    print(
        f"\n{t['platforms']:.0f} platforms, {t['tests']:.0f} test URLs: accuracy "
        f"{100 * t['accuracy']:.1f} %, full text found {100 * t['fulltext_found']:.1f} %, "
        f"not over-counted {100 * t['fulltext_precise']:.1f} %"
    )
    g = generic_baseline()
    print(
        f"the generic keywords alone on the same URLs: accuracy {100 * g['accuracy']:.1f} %, "
        f"full text found {100 * g['fulltext_found']:.1f} %, not over-counted "
        f"{100 * g['fulltext_precise']:.1f} %"
    )
    ok = t["accuracy"] >= 0.97 and t["fulltext_found"] >= 0.97 and t["fulltext_precise"] >= 0.97
    print("PASS" if ok else "BELOW TARGET")
    return 0 if ok else 1
