"""Subject analysis (part 4 of issue 13, first functions): h-index, output per year, ESI standing.

Definitions (as stated on the pages that will show them):
- Times cited of a paper: the highest figure among the databases' exports that list it (WoS TC,
  Scopus "Cited by"); the databases count different citing sets, so they are not added.
- h-index (Hirsch 2005): the largest h such that h papers have at least h citations each.
- ESI standing: the set's citations in each of the 22 ESI fields (a paper's field is its
  journal's field, as ESI assigns them) against the field's top-1% institution threshold.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from lifeline.core.models import Library
from lifeline.research.logic.records import normalise_name, normalise_title
from lifeline.research.models import BiblioRecord

ESI_FIELDS = (
    "Agricultural Sciences", "Biology & Biochemistry", "Chemistry", "Clinical Medicine",
    "Computer Science", "Economics & Business", "Engineering", "Environment/Ecology",
    "Geosciences", "Immunology", "Materials Science", "Mathematics", "Microbiology",
    "Molecular Biology & Genetics", "Multidisciplinary", "Neuroscience & Behavior",
    "Pharmacology & Toxicology", "Physics", "Plant & Animal Science", "Psychiatry/Psychology",
    "Social Sciences, General", "Space Science",
)  # fmt: skip


def times_cited(rec: BiblioRecord) -> int:
    return max((int(v) for v in rec.times_cited.values()), default=0)


def h_index(citations: Iterable[int]) -> int:
    ranked = sorted((c for c in citations if c > 0), reverse=True)
    return sum(1 for i, c in enumerate(ranked, start=1) if c >= i)


def person_h_index(library: Library, name: str) -> int:
    key = normalise_name(name)
    recs = BiblioRecord.objects.filter(library=library)
    return h_index(times_cited(r) for r in recs if key in r.author_keys)


def output_per_year(library: Library, ours_only: bool = True) -> dict[int, int]:
    recs = BiblioRecord.objects.filter(library=library, year__isnull=False)
    if ours_only:
        recs = recs.filter(is_ours=True)
    years = Counter(y for y in recs.values_list("year", flat=True) if y is not None)
    return dict(sorted(years.items()))


@dataclass(frozen=True)
class EsiRow:
    field: str
    papers: int
    citations: int
    threshold: int
    entered: bool
    share: float  # citations / threshold
    gap: int  # citations still missing (0 once entered)


def esi_standing(
    library: Library, journal_fields: Mapping[str, str], thresholds: Mapping[str, int]
) -> list[EsiRow]:
    """One row per ESI field with a threshold. `journal_fields` maps journal title → ESI field."""
    fields = {normalise_title(j): f for j, f in journal_fields.items()}
    papers: Counter[str] = Counter()
    cites: Counter[str] = Counter()
    for rec in BiblioRecord.objects.filter(library=library, is_ours=True):
        field = fields.get(normalise_title(rec.journal))
        if field:
            papers[field] += 1
            cites[field] += times_cited(rec)
    rows = []
    for field in ESI_FIELDS:
        if field not in thresholds:
            continue
        need = thresholds[field]
        rows.append(
            EsiRow(
                field=field,
                papers=papers[field],
                citations=cites[field],
                threshold=need,
                entered=cites[field] >= need,
                share=round(cites[field] / need, 4) if need else 0.0,
                gap=max(0, need - cites[field]),
            )
        )
    return rows
