"""Which titles to buy: the most weighted demand within every budget, solved exactly.

A 0/1 multi-constraint knapsack: title i (already deduplicated, held titles removed) costs
price × copies and meets `weight` of demand; each budget (the campaign's, a CLC class's, a
college's) bounds the cost of its members. Solved as an integer programme with SciPy's HiGHS
(`scipy.optimize.milp`, as the renewal plan in analytics does). Among selections that meet the
same demand the solver then prefers the one that spends more of the budget.
Titles the librarian accepted are kept (lower bound 1) when the budgets allow it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
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


def _milp(
    c: np.ndarray, constraints: list[LinearConstraint], lower: np.ndarray, time_limit: float
) -> Any:
    return milp(
        c,
        constraints=constraints,
        integrality=np.ones(len(c)),
        bounds=Bounds(lower, np.ones(len(c))),
        options={"time_limit": time_limit, "mip_rel_gap": 0.0},
    )


def solve(
    items: list[Item], limits: list[Limit], *, time_limit: float = 30.0
) -> tuple[list[bool], str]:
    """Two integer programmes: the most demand (integer, so HiGHS proves the optimum by rounding
    its bound), then, with that demand held, the most spend (closest under the budgets). A
    single objective with a small spend term was far slower: its optimum has no integer bound.
    """
    n = len(items)
    if n == 0:
        return [], "optimal"
    costs = np.asarray([it.cost for it in items], dtype=float)
    weights = np.asarray([it.weight for it in items], dtype=float)
    amounts, members = _rows(items, limits)
    rows, cols, vals = [], [], []
    for r, member in enumerate(members):
        for i in member:
            rows.append(r)
            cols.append(i)
            vals.append(costs[i])
    constraints = []
    if limits:
        matrix = coo_matrix((vals, (rows, cols)), shape=(len(limits), n)).tocsr()
        # Cents: a float sum of prices must not miss a budget spent to the cent.
        constraints.append(LinearConstraint(matrix, -np.inf, np.asarray(amounts) + 1e-6))
    lower = np.asarray([1.0 if it.forced else 0.0 for it in items])
    first = _milp(-weights, constraints, lower, time_limit)
    if first.x is None and lower.any():
        # The accepted titles alone overrun a budget: solve without forcing them.
        free = [Item(it.key, it.cost, it.weight, False, it.ref) for it in items]
        chosen, status = solve(free, limits, time_limit=time_limit)
        return chosen, f"{status}; accepted titles exceed a budget"
    if first.x is None:
        return [False] * n, "failed"
    status = "optimal" if first.status == 0 else "time_limit"
    x = first.x
    demand = float(weights @ (x > 0.5))
    held = LinearConstraint(weights.reshape(1, -1), demand - 1e-6, np.inf)
    second = _milp(-costs, [*constraints, held], lower, max(1.0, time_limit / 3))
    if second.x is not None and float(costs @ (second.x > 0.5)) >= float(costs @ (x > 0.5)):
        x = second.x
    return [bool(v > 0.5) for v in x], status


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
