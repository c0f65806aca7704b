"""Which titles to buy: the most weighted demand within every budget, solved exactly.

A 0/1 multi-constraint knapsack: title i (already deduplicated, held titles removed) costs
price × copies and meets `weight` of demand; each budget (the campaign's, a CLC class's, a
college's) bounds the cost of its members. Solved as an integer programme with SciPy's HiGHS
(`scipy.optimize.milp`, as the renewal plan in analytics does). Among selections that meet the
same demand the solver then prefers the one that spends more of the budget.
Titles the librarian accepted are kept (lower bound 1) when the budgets allow it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import coo_matrix


@dataclass
class Item:
    key: str
    cost: float  # price × copies
    weight: int  # weighted demand
    forced: bool = False
    ref: object = None


@dataclass
class Limit:
    name: str
    amount: float
    members: list[int] = field(default_factory=list)  # item indices; empty list: every item


def _rows(items: list[Item], limits: list[Limit]) -> tuple[list[float], list[list[int]]]:
    return [lim.amount for lim in limits], [
        lim.members if lim.members else list(range(len(items))) for lim in limits
    ]


# Budgets are compared in yuan with this slack, so a float sum of prices does not miss a budget
# spent to the cent.
EPS = 1e-6
# Titles in the first core problem: those whose reduced profit is nearest zero.
CORE = 3000


@dataclass
class _Model:
    costs: np.ndarray
    weights: np.ndarray
    matrix: Any  # CSR, budgets × titles, entries = cost
    amounts: np.ndarray
    forced: np.ndarray  # bool


def _model(items: list[Item], limits: list[Limit]) -> _Model:
    costs = np.asarray([it.cost for it in items], dtype=float)
    amounts, members = _rows(items, limits)
    rows = np.concatenate([np.full(len(m), r, dtype=np.int64) for r, m in enumerate(members)])
    cols = np.concatenate([np.asarray(m, dtype=np.int64) for m in members])
    matrix = coo_matrix((costs[cols], (rows, cols)), shape=(len(limits), len(items))).tocsr()
    return _Model(
        costs=costs,
        weights=np.asarray([it.weight for it in items], dtype=float),
        matrix=matrix,
        amounts=np.asarray(amounts, dtype=float),
        forced=np.asarray([it.forced for it in items], dtype=bool),
    )


def _sub_milp(
    m: _Model,
    free: np.ndarray,
    fixed_on: np.ndarray,
    objective: np.ndarray,
    time_limit: float,
    at_least: float | None = None,
) -> tuple[np.ndarray | None, int, float]:
    """Maximise `objective` over the `free` titles with `fixed_on` bought; the other titles are
    not bought. `at_least`: the demand the free titles must still meet. (x, status, gap)."""
    left = m.amounts - m.matrix @ fixed_on.astype(float) + EPS
    sub = m.matrix[:, free]
    constraints = [LinearConstraint(sub, -np.inf, left)]
    if at_least is not None:
        constraints.append(LinearConstraint(m.weights[free].reshape(1, -1), at_least - EPS, np.inf))
    k = int(free.sum())
    res = milp(
        -objective[free],
        constraints=constraints,
        integrality=np.ones(k),
        bounds=Bounds(np.zeros(k), np.ones(k)),
        options={"time_limit": max(0.5, time_limit), "mip_rel_gap": 0.0, "presolve": True},
    )
    if res.x is None:
        return None, int(res.status), float("inf")
    gap = float(getattr(res, "mip_gap", 0.0) or 0.0)
    return res.x > 0.5, int(res.status), gap


def _relaxation(m: _Model) -> tuple[np.ndarray, np.ndarray] | None:
    """The LP relaxation by sifting: (x, budget prices), or None when infeasible (accepted
    titles over a budget). Solved first over each budget's best titles by demand per yuan (up
    to 1.2 × the budget), then every title left out is priced: one worth buying at these prices
    joins and the LP runs again. When none is, the prices are optimal for all the titles.
    HiGHS's presolve is off: it is quadratic in a dense row (the campaign budget holds every
    title), 25 s for 200,000 titles with it, 3 s without."""
    n = len(m.costs)
    ratio = m.weights / np.maximum(m.costs, 1e-9)
    work = m.forced.copy()
    for r in range(m.matrix.shape[0]):
        members = m.matrix.indices[m.matrix.indptr[r] : m.matrix.indptr[r + 1]]
        best = members[np.argsort(-ratio[members], kind="stable")]
        spent = np.cumsum(m.costs[best])
        work[best[: int(np.searchsorted(spent, 1.2 * m.amounts[r])) + 1]] = True
    for round_ in range(12):
        if round_ == 11:
            work[:] = True  # pricing has not settled: the whole LP, once
        idx = np.flatnonzero(work)
        res = linprog(
            -m.weights[idx],
            A_ub=m.matrix[:, idx],
            b_ub=m.amounts + EPS,
            bounds=np.column_stack([m.forced[idx].astype(float), np.ones(len(idx))]),
            method="highs-ds",
            options={"presolve": False},
        )
        if res.status != 0:
            return None
        prices = np.maximum(-np.asarray(res.ineqlin.marginals, dtype=float), 0.0)
        joining = ~work & (m.weights - m.matrix.T @ prices > 1e-9)
        if not joining.any():
            x = np.zeros(n)
            x[idx] = res.x
            return x, prices
        work |= joining
    return None  # not reached: the last round has every title


def solve(
    items: list[Item], limits: list[Limit], *, time_limit: float = 30.0, core: int = CORE
) -> tuple[list[bool], str]:
    """The most demand, then, with that demand held, the most spend (closest under the budgets).

    Exact, by a core problem (Balas and Zemel's idea for knapsacks, with reduced-cost fixing):
    1. The LP relaxation (HiGHS) gives budget prices y ≥ 0, each title's reduced profit
       d = weight − (y · its costs), and a bound U = y·budgets + Σ max(d, 0) that no
       selection beats.
    2. Titles far from the margin take their LP side (d > 0 bought, d < 0 not); the `core`
       titles nearest it go to the integer programme. Its answer z is a selection.
    3. A title whose flip costs more than U − z (U − |d| < z) takes its LP side in every
       selection as good as z: fixing it loses no optimum. When every title still free was
       in the core, z is optimal; otherwise the integer programme runs again over the free
       titles. Demand is an integer, so z = ⌊U⌋ proves the optimum at once.
    4. Spend is maximised with that demand held, over the titles that can be in a selection of
       that demand (step 3 with z = the optimum; the core's only, when those are many), in
       what time is left: a tie-break, exact on campaigns of a few thousand titles.
    On a time limit the best selection found is returned with its gap to the bound.
    """
    n = len(items)
    if n == 0:
        return [], "optimal"
    deadline = time.monotonic() + time_limit
    m = _model(items, limits)
    lp = _relaxation(m)
    if lp is None:
        if m.forced.any():
            # The accepted titles alone overrun a budget: solve without forcing them.
            free_items = [Item(it.key, it.cost, it.weight, False, it.ref) for it in items]
            chosen, status = solve(free_items, limits, time_limit=time_limit, core=core)
            return chosen, f"{status}; accepted titles exceed a budget"
        return [False] * n, "failed"
    x_lp, prices = lp
    reduced = m.weights - m.matrix.T @ prices
    # The Lagrangian bound holds for any prices ≥ 0, so solver tolerances cannot make it wrong.
    bound = float(
        prices @ (m.amounts + EPS)
        + np.maximum(reduced[~m.forced], 0.0).sum()
        + reduced[m.forced].sum()
    )
    best = int(np.floor(bound + 1e-6))
    # Bought whole in the LP: outside the free titles these are bought, the rest not. This is
    # each fixed title's LP side (the sign of d) and always fits the budgets (it is ≤ the LP).
    lp_side = (x_lp > 1 - 1e-9) | m.forced
    flexible = ~m.forced
    # Titles at the margin (d ≈ 0, maybe fractional in the LP) are never fixed.
    marginal = np.abs(reduced) <= 1e-6
    order = np.argsort(np.abs(reduced) + np.where(flexible, 0.0, np.inf), kind="stable")
    in_core = np.zeros(n, dtype=bool)
    in_core[order[: min(core, int(flexible.sum()))]] = True
    fixed_on = lp_side & ~in_core

    def run(free: np.ndarray, on: np.ndarray) -> tuple[np.ndarray | None, int, float]:
        return _sub_milp(m, free, on, m.weights, deadline - time.monotonic())

    x_core, st, _gap = run(in_core, fixed_on)
    if x_core is None:
        return [False] * n, "failed"
    x = fixed_on.copy()
    x[in_core] = x_core
    demand = round(float(m.weights @ x))
    status, proven = "optimal", st == 0
    if demand < best:
        # Which titles could still take the other side in a selection better than this one.
        could_flip = flexible & ((bound - np.abs(reduced) >= demand + 1 - 1e-6) | marginal)
        if (could_flip & ~in_core).any() or not proven:
            free = could_flip | in_core
            on = lp_side & ~free
            x_all, st, _gap = run(free, on)
            if x_all is not None:
                cand = on.copy()
                cand[free] = x_all
                if float(m.weights @ cand) >= demand:
                    x, demand = cand, round(float(m.weights @ cand))
            proven = st == 0
        if not proven:
            status = f"time_limit {max(0.0, (bound - demand) / max(bound, 1.0)):.2%}"
    # Second: the most spend with that demand held, over the titles that can be in a selection
    # of that demand, the others as they are; when they are many (a bound far from an integer),
    # over those of the core only, so that a tie-break does not take the time of the selection.
    could_be = flexible & ((bound - np.abs(reduced) >= demand - 1e-6) | marginal)
    if could_be.sum() > 2 * core:
        could_be &= in_core
    on = x & ~could_be
    if could_be.any() and time.monotonic() < deadline:
        x2, _st, _gap = _sub_milp(
            m,
            could_be,
            on,
            m.costs,
            min(deadline - time.monotonic(), max(1.0, time_limit / 3)),
            at_least=demand - float(m.weights @ on),
        )
        if x2 is not None:
            cand = on.copy()
            cand[could_be] = x2
            if float(m.weights @ cand) >= demand - 1e-6 and float(m.costs @ cand) > float(
                m.costs @ x
            ):
                x = cand
    return [bool(v) for v in x], status


def greedy(items: list[Item], limits: list[Limit]) -> list[bool]:
    """The usual way: accepted titles first, then most votes first (cheaper first on a tie),
    taking each title that still fits every budget."""
    amounts, members = _rows(items, limits)
    left = list(amounts)
    limits_of: list[list[int]] = [[] for _ in items]
    for r, member in enumerate(members):
        for i in member:
            limits_of[i].append(r)
    order = sorted(
        range(len(items)), key=lambda i: (not items[i].forced, -items[i].weight, items[i].cost)
    )
    chosen = [False] * len(items)
    for i in order:
        cost = items[i].cost
        if all(left[r] + 1e-6 >= cost for r in limits_of[i]):
            chosen[i] = True
            for r in limits_of[i]:
                left[r] -= cost
    return chosen


def value(items: list[Item], chosen: list[bool]) -> tuple[int, float]:
    """(demand met, spend)."""
    return (
        sum(it.weight for it, keep in zip(items, chosen, strict=True) if keep),
        sum(it.cost for it, keep in zip(items, chosen, strict=True) if keep),
    )
