"""The labelled questions (data/questions.tsv) against the demo knowledge base: the floor of
what the suggestions reach, on SQLite and PostgreSQL alike (the ranking is computed the same
way on both, search.py). Deterministic: no clock, no randomness."""

from __future__ import annotations

import pytest

from lifeline.knowledge import evaluation

pytestmark = pytest.mark.django_db

# What the suggestions reach today (see docs/benchmarks.md): a drop below is a regression.
FLOORS = {"questions.tsv": (0.92, 0.99), "questions_heldout.tsv": (0.92, 0.97)}


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_hit_rates(library_a, name):
    articles = evaluation.load_articles(library_a)
    result = evaluation.evaluate(library_a, articles, name)
    assert result.total >= (150 if name == "questions.tsv" else 40)
    for text, answers, found in result.misses:
        print("MISS", text, answers, found)
    print("top1", result.top1_rate, "top3", result.top3_rate, result.by_kind)
    top1, top3 = FLOORS[name]
    assert result.top1_rate >= top1
    assert result.top3_rate >= top3
