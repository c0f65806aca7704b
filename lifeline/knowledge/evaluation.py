"""The demo knowledge base and its labelled questions (data/, see data/README.md): loading them
and measuring how often the right article comes first or in the first three suggestions.
Used by demo.py, the benchmark (bench/knowledge.py) and the hit-rate floor test."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lifeline.core.models import Library
from lifeline.knowledge import services
from lifeline.knowledge.models import Article

DATA = Path(__file__).parent / "data"


@dataclass(frozen=True)
class Question:
    text: str
    answers: tuple[str, ...]
    kind: str


@dataclass
class Result:
    total: int = 0
    top1: int = 0
    top3: int = 0
    misses: list[tuple[str, tuple[str, ...], list[str]]] = field(default_factory=list)
    by_kind: dict[str, list[int]] = field(default_factory=dict)

    @property
    def top1_rate(self) -> float:
        return self.top1 / self.total if self.total else 0.0

    @property
    def top3_rate(self) -> float:
        return self.top3 / self.total if self.total else 0.0


def article_data() -> list[dict[str, Any]]:
    with (DATA / "articles.yaml").open(encoding="utf-8") as fh:
        rows: list[dict[str, Any]] = yaml.safe_load(fh)
    return rows


def questions(name: str = "questions.tsv") -> list[Question]:
    out = []
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        text, answers, kind = line.split("\t")
        out.append(Question(text, tuple(answers.split("|")), kind))
    return out


def load_articles(library: Library, user: Any = None) -> dict[str, Article]:
    """Create the demo articles in the library (key → article); existing ones of the same title
    are replaced."""
    made: dict[str, Article] = {}
    rows = article_data()
    Article.objects.filter(
        library=library, resource__isnull=True, title__in=[r["title"] for r in rows]
    ).delete()
    for row in rows:
        made[row["key"]] = services.create_article(
            library,
            title=row["title"],
            body=row["body"],
            language=row["language"],
            audience=row.get("audience", "patrons"),
            tags=row.get("tags", []),
            user=user,
        )
    return made


def evaluate(library: Library, articles: dict[str, Article], name: str = "questions.tsv") -> Result:
    key_of = {a.pk: key for key, a in articles.items()}
    result = Result()
    for q in questions(name):
        found = [key_of.get(s.id, "?") for s in services.suggest(library, q.text, 3)]
        result.total += 1
        counts = result.by_kind.setdefault(q.kind, [0, 0, 0])
        counts[0] += 1
        if found[:1] and found[0] in q.answers:
            result.top1 += 1
            counts[1] += 1
        if any(k in q.answers for k in found[:3]):
            result.top3 += 1
            counts[2] += 1
        else:
            result.misses.append((q.text, q.answers, found))
    return result
