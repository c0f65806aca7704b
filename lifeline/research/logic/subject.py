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

import dataclasses
import hashlib
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from lifeline.core.models import Library
from lifeline.research.choices import ListKind
from lifeline.research.logic.analysis import ESI_FIELDS, h_index
from lifeline.research.logic.peers import unit_rows
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
PRECOMPUTED_PEERS = 10


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


def _ranked(counts: dict[str, int], n: int | None = None) -> list[tuple[str, int]]:
    """Largest first, ties by name: the same order however the counts were summed."""
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


def h_of_histogram(hist: dict[int, int]) -> int:
    """Hirsch's h from {times cited: papers}: the largest h with h papers cited >= h times."""
    h = have = 0
    for cited in sorted((c for c in hist if c > 0), reverse=True):
        have += hist[cited]
        h = max(h, min(cited, have))
        if have >= cited:
            break
    return h


def _fuller(a: str, b: str) -> str:
    """The form of an author's name shown: the fullest, ties by sort order."""
    return b if a != b and (len(b), b) > (len(a), a) else a


def _key(peer: str, year_from: int | None, year_to: int | None) -> str:
    text = json.dumps([peer.casefold(), year_from, year_to])
    return hashlib.sha256(text.encode()).hexdigest()


def _partial_key(peer: str, year: int | str | None) -> str:
    """Key of a unit's partial figures of one year (None: papers of no year; "years": the
    unit's index row)."""
    text = json.dumps([peer.casefold(), "partial", year])
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


def _store(library: Library, rows: dict[str, dict[str, Any]]) -> None:
    """Keep figures by key, in one statement (not a savepoint and an insert a row: a peer's
    first view stores a dozen). Another request may have stored the same figures meanwhile:
    theirs stand."""
    AnalysisFigures.objects.bulk_create(
        [AnalysisFigures(library=library, key=k, data=d) for k, d in rows.items()],
        ignore_conflicts=True,
    )


def figures(
    library: Library, peer: str = "", year_from: int | None = None, year_to: int | None = None
) -> UnitFigures:
    """The unit's figures: as stored since the last change of the data; else summed from the
    unit's per-year partial figures (stored too); else one pass over the unit's papers makes
    the partials of every year, stored, and the range is summed from them. Exact either way:
    counts add, h-indexes come from merged histograms of times cited."""
    key = _key(peer, year_from, year_to)
    row = AnalysisFigures.objects.filter(library=library, key=key).values_list("data").first()
    if row is not None:
        return _from_json(row[0])
    parts, index = _partials(library, peer, year_from, year_to)
    unit = from_partials(peer, parts, index)
    _store(library, {key: json.loads(json.dumps(dataclasses.asdict(unit)))})
    return unit


def precompute(library: Library) -> UnitFigures:
    """The university's partial figures of every year and its figures over all years, then
    those of its leading partner institutions (the peers the page lists, the likeliest to be
    compared), computed now (after an import commits), so that no page after it pays for the
    pass. A peer typed that is not among them costs one pass over its papers, once.

    On PostgreSQL the papers' table is analysed first: after a large import the planner
    would otherwise not know the statistics of the trigram index's expression and read
    every row for a peer's name (seen: a sequential scan of 200,000 rows)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(BiblioRecord._meta.db_table)}")
    data_changed(library)
    unit = figures(library)
    for name, _count in unit.partners[:PRECOMPUTED_PEERS]:
        figures(library, name)
    return unit


def _partials(
    library: Library, peer: str, year_from: int | None, year_to: int | None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The stored partials of the unit's years in the range (made first if the unit has none),
    and the unit's index row (its years, and which lists exist). A range leaves out papers of
    no year, as a filter on the year does."""
    index_key = _partial_key(peer, "years")
    row = AnalysisFigures.objects.filter(library=library, key=index_key).values_list("data").first()
    made: dict[int | None, dict[str, Any]] = {}
    if row is None:
        made, flags = make_partials(library, peer)
        index: dict[str, Any] = {"years": list(made), **flags}
        _store(library, {**{_partial_key(peer, y): p for y, p in made.items()}, index_key: index})
    else:
        index = row[0]
    wanted = [
        y
        for y in index["years"]
        if (year_from is None and year_to is None)
        or (y is not None and (year_from or y) <= y <= (year_to or y))
    ]
    if made:
        return [made[y] for y in wanted], index
    keys = {_partial_key(peer, y): y for y in wanted}
    got = dict(
        AnalysisFigures.objects.filter(library=library, key__in=list(keys)).values_list(
            "key", "data"
        )
    )
    if len(got) != len(keys):  # forgotten meanwhile (the data changed): made again
        AnalysisFigures.objects.filter(library=library, key=index_key).delete()
        return _partials(library, peer, year_from, year_to)
    return [got[k] for k in keys], index


class Lookups:
    """What a pass needs besides the papers, loaded once: ESI journals and baselines, JCR Q1,
    the variant list; and per journal and per address what was worked out already."""

    def __init__(self, library: Library) -> None:
        self.esi_by_title = dict(
            EsiJournal.objects.filter(library=library).values_list("title_key", "field")
        )
        self.esi_by_issn = {
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
        self.top1 = {
            (f, y): c
            for f, y, c in EsiBaseline.objects.filter(
                library=library, edition=edition, percent=1
            ).values_list("field", "year", "citations")
        }
        self.q1 = {
            (k, y)
            for t, i, y in JournalEntry.objects.filter(
                library=library, kind=ListKind.JCR, quartile="Q1"
            ).values_list("title_key", "issn", "year")
            for k in (t, i)
            if k
        }
        self.has_jcr = JournalEntry.objects.filter(library=library, kind=ListKind.JCR).exists()
        self.variants = [
            (v.casefold(), c)
            for v, c in AffiliationVariant.objects.filter(library=library).values_list(
                "variant", "canonical"
            )
        ]
        self.journals: dict[tuple[str, str], tuple[str | None, tuple[str, ...]]] = {}
        self.places: dict[str, tuple[str, str]] = {}

    def journal(self, journal: str, issn: str) -> tuple[str | None, tuple[str, ...]]:
        """(ESI field, the keys JCR knows the journal by) of a journal title and ISSN."""
        got = self.journals.get((journal, issn))
        if got is None:
            title_key = normalise_title(journal)
            issns = [i.strip().upper() for i in re.split(r"[;,\s]+", issn) if i.strip()]
            esi = self.esi_by_title.get(title_key) or next(
                (self.esi_by_issn[i] for i in issns if i in self.esi_by_issn), None
            )
            got = self.journals[(journal, issn)] = (esi, (title_key, *issns))
        return got

    def place(self, address: str) -> tuple[str, str]:
        """(country, institution) of an address, worked out once per address without its
        bracketed author list (WoS: "[Wang, A] Northeast Forestry Univ, ...")."""
        if address.startswith("["):
            address = BRACKETS.sub("", address)
        got = self.places.get(address)
        if got is None:
            got = self.places[address] = (country_of(address), institution_of(address))
        return got


def _new_partial() -> dict[str, Any]:
    return {
        "papers": 0,
        "citations": 0,
        "hist": Counter(),
        "per_field": Counter(),
        "field_citations": Counter(),
        "colleges": defaultdict(Counter),
        "highly": 0,
        "top": 0,
        "countries": Counter(),
        "partners": Counter(),
        "authors": {},
    }


def make_partials(
    library: Library, peer: str = ""
) -> tuple[dict[int | None, dict[str, Any]], dict[str, bool]]:
    """One pass over the unit's papers: per publication year (None: no year), the figures
    that add up exactly over any range: paper and citation counts, the histogram of times
    cited (for h), per field, college histograms, highly cited and top-journal counts,
    country and partner counts, and per author the name shown and the times cited of each
    paper (for the top authors and their h). JSON-ready (keys are strings). With them,
    whether ESI baselines and a JCR list exist (else those figures are unknown, not 0).

    A peer's pass leaves out its authors, countries and partner institutions: the page, the
    XLSX, the PDF and a saved report show those for the university only, and they were most
    of the cost of a peer's first view (a pass over tens of thousands of papers)."""
    look = Lookups(library)
    own_needles = [v for v, _c in look.variants]
    parts: dict[int | None, dict[str, Any]] = {}
    for year, journal, issn, authors, keys, cited, affiliations in unit_rows(library, peer):
        part = parts.get(year)
        if part is None:
            part = parts[year] = _new_partial()
        tc = max((int(v) for v in cited.values()), default=0)
        part["papers"] += 1
        part["citations"] += tc
        part["hist"][tc] += 1
        esi, jcr_keys = look.journal(journal, issn)
        if esi:
            part["per_field"][esi] += 1
            part["field_citations"][esi] += tc
            need = look.top1.get((esi, year or 0))
            if need is not None and tc >= need:
                part["highly"] += 1
        if year and any((k, year) in look.q1 for k in jcr_keys):
            part["top"] += 1
        if peer:
            continue  # the rest is the university's only
        text = [a.casefold() for a in affiliations]
        counted = set()
        for needle, canonical in look.variants:
            if canonical not in counted and any(needle in a for a in text):
                counted.add(canonical)  # two variants of one college count once
                part["colleges"][canonical][tc] += 1
        for address, low in zip(affiliations, text, strict=True):
            if any(n and n in low for n in own_needles):
                continue
            country, inst = look.place(address)
            if country:
                part["countries"][country] += 1
            if inst:
                part["partners"][inst] += 1
        people = part["authors"]
        for name, key in zip(authors, keys, strict=False):
            got = people.get(key)
            if got is None:
                people[key] = [name, tc]
            else:
                got[0] = _fuller(got[0], name)
                got.append(tc)
    return {
        year: {
            **part,
            "year": year,
            "hist": {str(k): v for k, v in part["hist"].items()},
            "colleges": {c: {str(k): v for k, v in h.items()} for c, h in part["colleges"].items()},
        }
        for year, part in parts.items()
    }, {"has_top1": bool(look.top1), "has_jcr": look.has_jcr}


def from_partials(name: str, parts: list[dict[str, Any]], flags: dict[str, Any]) -> UnitFigures:
    """A unit's figures over the years whose partials are given: counts summed, histograms
    merged (h exact), rankings made over the sums."""
    unit = UnitFigures(name=name)
    hist: Counter[int] = Counter()
    per_field: Counter[str] = Counter()
    field_cites: Counter[str] = Counter()
    colleges: dict[str, Counter[int]] = defaultdict(Counter)
    countries: Counter[str] = Counter()
    partners: Counter[str] = Counter()
    authors: dict[str, list[Any]] = {}
    highly = top = 0
    for part in parts:
        unit.papers += part["papers"]
        unit.citations += part["citations"]
        for k, v in part["hist"].items():
            hist[int(k)] += v
        per_field.update(part["per_field"])
        field_cites.update(part["field_citations"])
        for college, h in part["colleges"].items():
            for k, v in h.items():
                colleges[college][int(k)] += v
        highly += part["highly"]
        top += part["top"]
        countries.update(part["countries"])
        partners.update(part["partners"])
        for key, (shown, *cited) in part["authors"].items():
            got = authors.get(key)
            if got is None:
                authors[key] = [shown, list(cited)]
            else:
                got[0] = _fuller(got[0], shown)
                got[1].extend(cited)
    unit.h_index = h_of_histogram(hist)
    dated = sorted((p["year"], p) for p in parts if p["year"])
    unit.per_year = {y: p["papers"] for y, p in dated}
    unit.citations_per_year = {y: p["citations"] for y, p in dated}
    unit.per_field = {f: per_field[f] for f in ESI_FIELDS if per_field[f]}
    unit.field_citations = {f: field_cites[f] for f in ESI_FIELDS if per_field[f]}
    unit.per_college = dict(_ranked({c: sum(h.values()) for c, h in colleges.items()}))
    unit.college_h = {c: h_of_histogram(h) for c, h in colleges.items()}
    unit.highly_cited = highly if flags["has_top1"] else None
    unit.top_journal = top if flags["has_jcr"] else None
    unit.countries = _ranked(countries, TOP_PARTNERS)
    unit.partners = _ranked(partners, TOP_PARTNERS)
    ranked = sorted(authors.items(), key=lambda kv: (-len(kv[1][1]), kv[0]))[:TOP_AUTHORS]
    unit.top_authors = [(shown, len(cited), h_index(cited)) for _k, (shown, cited) in ranked]
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
