"""Subject analysis and decision support (part 4 of issue 13): the figures of one institution
(the university, or a peer found by a name in the affiliations) from the imported records.

Definitions, stated on the page and in the exports:
- A paper belongs to the university when an affiliation names one of the library's variants
  (English, Chinese, old names, colleges); to a peer when an affiliation contains the peer's
  name as typed (case ignored).
- Times cited: the highest figure among the databases' exports that list the paper.
- h-index (Hirsch 2005): the largest h such that h papers have at least h citations each.
- Highly cited: times cited at or above ESI's top-1% baseline of the paper's field and year
  (needs the ESI baselines and journal list imported).
- Top journal: JCR quartile Q1 in the publication year (needs the JCR list of that year).
- Discipline: the ESI field of the paper's journal.
- Collaborations: the country (last part of a WoS/Scopus address) and the institution (first
  part) of every affiliation that is not the unit's own.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction

from lifeline.core.models import Library
from lifeline.research.choices import ListKind
from lifeline.research.logic.analysis import ESI_FIELDS, h_index, times_cited
from lifeline.research.logic.records import normalise_title
from lifeline.research.models import (
    AffiliationVariant,
    AnalysisFigures,
    BiblioRecord,
    EsiBaseline,
    EsiJournal,
    EsiThreshold,
    JournalEntry,
)

COUNTRY_ALIASES = {
    "peoples r china": "China",
    "people's republic of china": "China",
    "pr china": "China",
    "p.r. china": "China",
    "中国": "China",
    "usa": "USA",
    "united states": "USA",
    "england": "UK",
    "scotland": "UK",
    "wales": "UK",
    "north ireland": "UK",
    "united kingdom": "UK",
}
BRACKETS = re.compile(r"^\[[^\]]*\]\s*")
TOP_AUTHORS = 20
TOP_PARTNERS = 20


def country_of(address: str) -> str:
    last = BRACKETS.sub("", address).rstrip(". ").rsplit(",", 1)[-1].strip()
    last = re.sub(r"^[A-Z]{2}\s+\d{5}(-\d{4})?\s+", "", last)  # "MA 02139 USA"
    last = re.sub(r"^\d+\s+|\s+\d+$", "", last).strip()
    alias = COUNTRY_ALIASES.get(last.casefold())
    if alias:
        return alias
    if last.upper().endswith(" USA"):
        return "USA"
    return last


def institution_of(address: str) -> str:
    return BRACKETS.sub("", address).split(",", 1)[0].strip()


@dataclass
class UnitFigures:
    name: str
    papers: int = 0
    citations: int = 0
    h_index: int = 0
    per_year: dict[int, int] = field(default_factory=dict)
    citations_per_year: dict[int, int] = field(default_factory=dict)
    per_field: dict[str, int] = field(default_factory=dict)
    field_citations: dict[str, int] = field(default_factory=dict)
    per_college: dict[str, int] = field(default_factory=dict)
    college_h: dict[str, int] = field(default_factory=dict)
    highly_cited: int | None = None
    top_journal: int | None = None
    countries: list[tuple[str, int]] = field(default_factory=list)
    partners: list[tuple[str, int]] = field(default_factory=list)
    top_authors: list[tuple[str, int, int]] = field(default_factory=list)  # name, papers, h

    @property
    def cites_per_paper(self) -> float:
        return round(self.citations / self.papers, 2) if self.papers else 0.0

    def share(self, n: int | None) -> float | None:
        return None if n is None or not self.papers else round(100 * n / self.papers, 1)

    @property
    def highly_share(self) -> float | None:
        return self.share(self.highly_cited)

    @property
    def top_share(self) -> float | None:
        return self.share(self.top_journal)


def unit_records(
    library: Library, peer: str = "", year_from: int | None = None, year_to: int | None = None
) -> Iterable[BiblioRecord]:
    qs = BiblioRecord.objects.filter(library=library)
    if year_from:
        qs = qs.filter(year__gte=year_from)
    if year_to:
        qs = qs.filter(year__lte=year_to)
    fields = ["pk", "year", "journal", "issn", "authors", "author_keys", "times_cited"]
    if not peer:
        return qs.filter(is_ours=True).only(*fields, "affiliations").iterator(chunk_size=2000)
    needle = peer.casefold()
    return (
        r
        for r in qs.only(*fields, "affiliations").iterator(chunk_size=2000)
        if any(needle in a.casefold() for a in r.affiliations)
    )


def _key(peer: str, year_from: int | None, year_to: int | None) -> str:
    text = json.dumps([peer.casefold(), year_from, year_to])
    return hashlib.sha256(text.encode()).hexdigest()


def _from_json(data: dict[str, Any]) -> UnitFigures:
    unit = UnitFigures(**data)
    unit.per_year = {int(k): v for k, v in unit.per_year.items()}
    unit.citations_per_year = {int(k): v for k, v in unit.citations_per_year.items()}
    unit.countries = [tuple(x) for x in unit.countries]  # type: ignore[misc]
    unit.partners = [tuple(x) for x in unit.partners]  # type: ignore[misc]
    unit.top_authors = [tuple(x) for x in unit.top_authors]  # type: ignore[misc]
    return unit


def data_changed(library: Library) -> None:
    """What the figures are computed from has changed: forget them, in the caller's
    transaction (a refused import forgets nothing)."""
    AnalysisFigures.objects.filter(library=library).delete()


def figures(
    library: Library, peer: str = "", year_from: int | None = None, year_to: int | None = None
) -> UnitFigures:
    """The unit's figures: as stored since the last change of the data, else computed and
    stored. A pass over 200,000 papers takes seconds; reading the stored row, milliseconds."""
    key = _key(peer, year_from, year_to)
    row = AnalysisFigures.objects.filter(library=library, key=key).values_list("data").first()
    if row is not None:
        return _from_json(row[0])
    unit = compute(library, peer, year_from, year_to)
    # Another request may have stored the same figures meanwhile: theirs stand.
    with contextlib.suppress(IntegrityError), transaction.atomic():
        AnalysisFigures.objects.create(
            library=library, key=key, data=json.loads(json.dumps(dataclasses.asdict(unit)))
        )
    return unit


def precompute(library: Library) -> UnitFigures:
    """The university's figures over all years, computed now (after an import commits), so
    that the first page after it does not pay for the pass."""
    data_changed(library)
    return figures(library)


def compute(
    library: Library, peer: str = "", year_from: int | None = None, year_to: int | None = None
) -> UnitFigures:
    """One pass over the unit's papers; lookups (journals, baselines, variants) loaded once."""
    esi_by_title = dict(
        EsiJournal.objects.filter(library=library).values_list("title_key", "field")
    )
    esi_by_issn = {
        i: f
        for i, f in EsiJournal.objects.filter(library=library).values_list("issn", "field")
        if i
    }
    edition = (
        EsiBaseline.objects.filter(library=library)
        .order_by("-edition")
        .values_list("edition", flat=True)
        .first()
    )
    top1 = {
        (f, y): c
        for f, y, c in EsiBaseline.objects.filter(
            library=library, edition=edition, percent=1
        ).values_list("field", "year", "citations")
    }
    q1 = {
        (k, y)
        for t, i, y in JournalEntry.objects.filter(
            library=library, kind=ListKind.JCR, quartile="Q1"
        ).values_list("title_key", "issn", "year")
        for k in (t, i)
        if k
    }
    has_jcr = JournalEntry.objects.filter(library=library, kind=ListKind.JCR).exists()
    variants = [
        (v.casefold(), c)
        for v, c in AffiliationVariant.objects.filter(library=library).values_list(
            "variant", "canonical"
        )
    ]
    own_needles = [peer.casefold()] if peer else [v for v, _c in variants]
    unit = UnitFigures(name=peer)
    cites: list[int] = []
    per_year: Counter[int] = Counter()
    cit_year: Counter[int] = Counter()
    per_field: Counter[str] = Counter()
    field_cites: Counter[str] = Counter()
    per_college: Counter[str] = Counter()
    college_cites: dict[str, list[int]] = defaultdict(list)
    countries: Counter[str] = Counter()
    partners: Counter[str] = Counter()
    author_cites: dict[str, list[int]] = defaultdict(list)
    author_name: dict[str, str] = {}
    highly = top = 0
    seen: dict[str, set[int]] = {}
    for rec in unit_records(library, peer, year_from, year_to):
        tc = times_cited(rec)
        cites.append(tc)
        if rec.year:
            per_year[rec.year] += 1
            cit_year[rec.year] += tc
        title_key = normalise_title(rec.journal)
        issns = [i.strip().upper() for i in re.split(r"[;,\s]+", rec.issn) if i.strip()]
        esi = esi_by_title.get(title_key) or next(
            (esi_by_issn[i] for i in issns if i in esi_by_issn), None
        )
        if esi:
            per_field[esi] += 1
            field_cites[esi] += tc
            need = top1.get((esi, rec.year or 0))
            if need is not None and tc >= need:
                highly += 1
        if rec.year and any((k, rec.year) in q1 for k in (title_key, *issns)):
            top += 1
        text = [a.casefold() for a in rec.affiliations]
        if not peer:
            for needle, canonical in variants:
                if any(needle in a for a in text) and rec.pk not in seen.setdefault(
                    canonical, set()
                ):
                    seen[canonical].add(rec.pk)  # two variants of one college count once
                    per_college[canonical] += 1
                    college_cites[canonical].append(tc)
        for address, low in zip(rec.affiliations, text, strict=True):
            if any(n and n in low for n in own_needles):
                continue
            if country := country_of(address):
                countries[country] += 1
            if inst := institution_of(address):
                partners[inst] += 1
        for name, key in zip(rec.authors, rec.author_keys, strict=False):
            author_cites[key].append(tc)
            author_name.setdefault(key, name)
    unit.papers = len(cites)
    unit.citations = sum(cites)
    unit.h_index = h_index(cites)
    unit.per_year = dict(sorted(per_year.items()))
    unit.citations_per_year = dict(sorted(cit_year.items()))
    unit.per_field = {f: per_field[f] for f in ESI_FIELDS if per_field[f]}
    unit.field_citations = {f: field_cites[f] for f in ESI_FIELDS if per_field[f]}
    unit.per_college = dict(per_college.most_common())
    unit.college_h = {c: h_index(v) for c, v in college_cites.items()}
    unit.highly_cited = highly if top1 else None
    unit.top_journal = top if has_jcr else None
    unit.countries = countries.most_common(TOP_PARTNERS)
    unit.partners = partners.most_common(TOP_PARTNERS)
    ranked = sorted(author_cites.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:TOP_AUTHORS]
    unit.top_authors = [(author_name[k], len(v), h_index(v)) for k, v in ranked]
    return unit


@dataclass(frozen=True)
class Standing:
    field: str
    papers: int
    citations: int
    threshold: int | None
    entered: bool
    share: float | None  # percent of the threshold reached
    gap: int | None


def esi_standing(library: Library, unit: UnitFigures) -> tuple[str, list[Standing]]:
    """For each of the 22 fields: the unit's citations against the latest edition's threshold."""
    edition = (
        EsiThreshold.objects.filter(library=library)
        .order_by("-edition")
        .values_list("edition", flat=True)
        .first()
    ) or ""
    need = dict(
        EsiThreshold.objects.filter(library=library, edition=edition).values_list(
            "field", "institution"
        )
    )
    rows = []
    for f in ESI_FIELDS:
        papers = unit.per_field.get(f, 0)
        got = unit.field_citations.get(f, 0)
        t = need.get(f)
        rows.append(
            Standing(
                field=f,
                papers=papers,
                citations=got,
                threshold=t,
                entered=bool(t) and got >= (t or 0),
                share=round(100 * got / t, 1) if t else None,
                gap=max(0, t - got) if t else None,
            )
        )
    return edition, rows


def as_dict(unit: UnitFigures) -> dict[str, Any]:
    return {
        "name": unit.name,
        "papers": unit.papers,
        "citations": unit.citations,
        "h_index": unit.h_index,
        "cites_per_paper": unit.cites_per_paper,
        "highly_cited": unit.highly_cited,
        "top_journal": unit.top_journal,
        "per_year": {str(k): v for k, v in unit.per_year.items()},
        "per_field": unit.per_field,
        "per_college": unit.per_college,
    }
