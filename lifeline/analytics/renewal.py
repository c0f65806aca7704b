"""Renewal decisions under a budget cut: which resources to keep so that the most weighted use
stays reachable, counting a title that two packages share only once.

The exact model (a mixed-integer programme solved by HiGHS through `scipy.optimize.milp`):

    maximise   Σ_g use_g · y_g                 (use that stays reachable)
    subject to y_g ≤ Σ_{r covers g} x_r        (a group of titles is reachable if one package kept)
               Σ_r price_r · x_r ≤ budget      (the budget after the cut)
               x_r ∈ {0, 1}, 0 ≤ y_g ≤ 1

Titles (KBART identifiers) covered by exactly the same set of packages are merged into one
group first: this keeps the programme small (5,000 packages solve in well under two seconds)
without changing its optimum. A package's use is spread evenly over its titles; a title in
several packages is worth the largest share any of them gives it, once.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
from django.utils.translation import gettext as _
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from lifeline.analytics.choices import DENIAL_METRICS
from lifeline.analytics.services import title_use
from lifeline.analytics.value import cost_per_use
from lifeline.core.models import Library
from lifeline.registry.models import KbartTitle

# HiGHS stops when the kept use is proven within 0.01 % of the best possible: proving the last
# hundredth of a percent on a 5,000-item knapsack can take minutes and changes no decision
# a librarian would see.
MIP_GAP = 1e-4
# HiGHS' presolve spends ~10 s probing 5,000 knapsack binaries and finds nothing to remove;
# without it the same optimum comes in a fraction of a second (bench/renewal.py).


@dataclass
class Candidate:
    key: int  # resource id
    name: str
    price: float
    use: float  # weighted use
    titles: list[str] = field(default_factory=list)
    # Real (weighted) COUNTER use of some of the titles, matched through KBART holdings; the
    # rest of the package's use is spread evenly over its other titles.
    title_use: dict[str, float] = field(default_factory=dict)


@dataclass
class Line:
    candidate: Candidate
    keep: bool
    ranking_keep: bool
    exclusive_use: float  # use no other kept package covers
    reason: str = ""

    @property
    def cost_per_use(self) -> float | None:
        return self.candidate.price / self.candidate.use if self.candidate.use else None


@dataclass
class Plan:
    cut_percent: float
    budget: float
    total_price: float
    lines: list[Line]
    optimal_use: float
    ranking_use: float
    total_use: float
    optimal_cost: float
    ranking_cost: float
    seconds: float
    status: str

    @property
    def saved(self) -> float:
        return self.total_price - self.optimal_cost


def groups(candidates: list[Candidate]) -> tuple[list[float], list[list[int]]]:
    """(use per group, packages covering each group): titles with the same packages merged.

    A title's use is its real use where COUNTER title reports were matched to the KBART list
    (`Candidate.title_use`); the package's remaining use is spread evenly over its other titles
    (or, if every title has real use, kept as use only this package reaches). A title in several
    packages is worth the largest figure any of them gives it, once."""
    share: dict[str, float] = {}
    covering: dict[str, list[int]] = defaultdict(list)
    for i, c in enumerate(candidates):
        titles = set(c.titles or [f"\x00whole:{c.key}"])  # no title list: one "title"
        known = {t: u for t, u in c.title_use.items() if t in titles}
        rest = max(0.0, c.use - sum(known.values()))
        unknown = len(titles) - len(known)
        each = rest / unknown if unknown else 0.0
        if known and not unknown and rest > 0:
            titles.add(f"\x00rest:{c.key}")
            known[f"\x00rest:{c.key}"] = rest
        for t in titles:
            value = known.get(t, each)
            if value > share.get(t, 0.0) or t not in share:
                share[t] = value
            covering[t].append(i)
    merged: dict[tuple[int, ...], float] = defaultdict(float)
    for t, packages in covering.items():
        merged[tuple(sorted(packages))] += share[t]
    keys = list(merged)
    return [merged[k] for k in keys], [list(k) for k in keys]


def reachable(keep: list[bool], uses: list[float], members: list[list[int]]) -> float:
    return sum(u for u, m in zip(uses, members, strict=True) if any(keep[i] for i in m))


def solve(
    candidates: list[Candidate],
    budget: float,
    *,
    time_limit: float = 60.0,
    grouped: tuple[list[float], list[list[int]]] | None = None,
) -> tuple[list[bool], str]:
    n = len(candidates)
    if n == 0:
        return [], "optimal"
    uses, members = grouped or groups(candidates)
    # A group only one package covers is reachable exactly when that package is kept: its use
    # goes straight onto the package's own variable. Only shared groups need a y variable.
    own = np.zeros(n)
    shared = []
    for use, packages in zip(uses, members, strict=True):
        if len(packages) == 1:
            own[packages[0]] += use
        else:
            shared.append((use, packages))
    m = len(shared)
    # Variables: x_0..x_{n-1}, then y_0..y_{m-1}. milp minimises, so the objective is negated.
    c = np.concatenate([-own, -np.asarray([u for u, _p in shared], dtype=float)])
    rows, cols, vals = [], [], []
    for g, (_use, packages) in enumerate(shared):
        rows.append(g)
        cols.append(n + g)
        vals.append(1.0)
        for i in packages:
            rows.append(g)
            cols.append(i)
            vals.append(-1.0)
    prices = np.concatenate([np.asarray([x.price for x in candidates], dtype=float), np.zeros(m)])
    constraints = [LinearConstraint(prices.reshape(1, -1), -np.inf, budget)]
    if m:
        constraints.append(
            LinearConstraint(
                coo_matrix((vals, (rows, cols)), shape=(m, n + m)).tocsr(), -np.inf, 0.0
            )
        )
    integrality = np.concatenate([np.ones(n), np.zeros(m)])
    result = milp(
        c,
        constraints=constraints,
        integrality=integrality,
        bounds=Bounds(0, 1),
        options={"time_limit": time_limit, "mip_rel_gap": MIP_GAP, "presolve": False},
    )
    if result.x is None:
        return [False] * n, "failed"
    return [bool(v > 0.5) for v in result.x[:n]], "optimal" if result.status == 0 else "time_limit"


def ranking(candidates: list[Candidate], budget: float) -> list[bool]:
    """The usual rule: keep the cheapest per use first while the budget lasts."""
    keep = [False] * len(candidates)
    spent = 0.0
    order = sorted(
        range(len(candidates)),
        key=lambda i: (
            candidates[i].price / candidates[i].use if candidates[i].use else float("inf")
        ),
    )
    for i in order:
        if spent + candidates[i].price <= budget:
            keep[i] = True
            spent += candidates[i].price
    return keep


def explain(
    candidates: list[Candidate],
    keep: list[bool],
    rank: list[bool],
    grouped: tuple[list[float], list[list[int]]] | None = None,
) -> list[Line]:
    uses, members = grouped or groups(candidates)
    of: list[list[int]] = [[] for _c in candidates]
    kept_in = [0] * len(members)
    for g, packages in enumerate(members):
        for i in packages:
            of[i].append(g)
            kept_in[g] += keep[i]
    lines: list[Line] = []
    for i, cand in enumerate(candidates):
        # Use that only this package reaches: no other kept package covers the group.
        exclusive = sum(uses[g] for g in of[i] if kept_in[g] - keep[i] == 0)
        others = (
            []
            if keep[i]
            else sorted(
                {candidates[j].name for g in of[i] if kept_in[g] for j in members[g] if keep[j]}
            )
        )
        cpu = cand.price / cand.use if cand.use else None
        if keep[i]:
            reason = _("Kept: %(use)s uses would be lost without it, at %(cpu)s CNY per use.") % {
                "use": f"{exclusive:,.0f}",
                "cpu": f"{cand.price / exclusive:,.2f}" if exclusive else "—",
            }
        elif cand.use == 0:
            reason = _("Dropped: no recorded use.")
        elif others and exclusive < cand.use * 0.5:
            reason = _("Dropped: most of its titles stay reachable through %(others)s.") % {
                "others": ", ".join(others[:3])
            }
        else:
            reason = _("Dropped: %(cpu)s CNY per use; the budget keeps more use elsewhere.") % {
                "cpu": f"{cpu:,.2f}" if cpu else "—"
            }
        if keep[i] != rank[i]:
            reason += " " + (
                _("(Cost-per-use ranking would drop it.)")
                if keep[i]
                else _("(Cost-per-use ranking would keep it.)")
            )
        lines.append(Line(cand, keep[i], rank[i], exclusive, reason))
    lines.sort(key=lambda ln: (not ln.keep, -(ln.candidate.use)))
    return lines


def plan(candidates: list[Candidate], cut_percent: float) -> Plan:
    total_price = sum(c.price for c in candidates)
    budget = total_price * (1 - cut_percent / 100)
    started = time.perf_counter()
    grouped = groups(candidates)
    uses, members = grouped
    keep, status = solve(candidates, budget, grouped=grouped)
    seconds = time.perf_counter() - started
    rank = ranking(candidates, budget)
    return Plan(
        cut_percent=cut_percent,
        budget=budget,
        total_price=total_price,
        lines=explain(candidates, keep, rank, grouped),
        optimal_use=reachable(keep, uses, members),
        ranking_use=reachable(rank, uses, members),
        total_use=sum(uses),
        optimal_cost=sum(c.price for c, k in zip(candidates, keep, strict=True) if k),
        ranking_cost=sum(c.price for c, k in zip(candidates, rank, strict=True) if k),
        seconds=seconds,
        status=status,
    )


def candidates_for(
    library: Library, start: dt.date, end: dt.date, denial_weight: float = 0.5
) -> tuple[list[Candidate], list[str]]:
    """Priced active resources with their weighted use (uses + weight × turnaways), their KBART
    titles and the real weighted use of the titles COUNTER reports were matched to."""
    problems: list[str] = []
    rows = cost_per_use(library, start, end)
    uses = title_use(library, start, end)
    denials = title_use(library, start, end, metrics=DENIAL_METRICS) if denial_weight else {}
    titles: dict[int, list[str]] = defaultdict(list)
    real: dict[int, dict[str, float]] = defaultdict(dict)
    for kbart_id, rid, online, printed, name in KbartTitle.objects.filter(
        resource__library=library
    ).values_list(
        "pk", "resource_id", "online_identifier", "print_identifier", "publication_title"
    ):
        key = online or printed or name.casefold()
        titles[rid].append(key)
        if kbart_id in uses or kbart_id in denials:
            weighted = uses.get(kbart_id, 0) + denial_weight * denials.get(kbart_id, 0)
            # Several coverage lines of one title in a package: the title counts once.
            real[rid][key] = max(real[rid].get(key, 0.0), weighted)
    out = []
    for row in rows:
        if row.problem:
            problems.append(f"{row.resource}: {row.problem}")
        if row.price_cny is None or row.price_cny <= Decimal(0):
            continue
        out.append(
            Candidate(
                row.resource.pk,
                str(row.resource),
                float(row.price_cny),
                row.uses + denial_weight * row.denials,
                titles.get(row.resource.pk, []),
                real.get(row.resource.pk, {}),
            )
        )
    return out, problems
