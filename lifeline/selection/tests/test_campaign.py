"""Campaigns: who may mark what and when; the selection within budgets (checked against brute
force), held titles excluded, duplicates merged; the order exported as XLSX and MARC."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import random
from decimal import Decimal
from typing import Any

import pymarc
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from openpyxl import load_workbook

from lifeline.core.models import Library
from lifeline.selection import services
from lifeline.selection.choices import (
    BudgetKind,
    CampaignStatus,
    Decision,
    LineStatus,
    MarcFlavour,
    Method,
    Origin,
)
from lifeline.selection.logic import knapsack, orders
from lifeline.selection.models import Budget, Campaign, Holding, Title, Vote
from lifeline.selection.tests.conftest import NOW

pytestmark = pytest.mark.django_db


def _titles(campaign: Campaign) -> list[Title]:
    return list(services.campaign_titles(campaign).order_by("catalogue_id", "position"))


def test_patron_marks_once_with_a_reason(campaign: Campaign, patron_a: Any, teacher_a: Any) -> None:
    t = _titles(campaign)[0]
    vote = services.vote(campaign, patron_a, t.pk, "study", "课程需要", now=NOW)
    assert vote.origin == Origin.PATRON and vote.weight == 1
    with pytest.raises(ValidationError) as info:
        services.vote(campaign, patron_a, t.pk, "study", now=NOW)
    assert info.value.code == "twice"
    teacher = services.vote(campaign, teacher_a, t.pk, "teaching", now=NOW)
    assert teacher.weight == 2 and teacher.college == "林学院"
    assert Vote.objects.filter(campaign=campaign, title=t).count() == 2


def test_closed_or_outside_the_window(campaign: Campaign, patron_a: Any) -> None:
    t = _titles(campaign)[0]
    with pytest.raises(ValidationError) as info:
        services.vote(campaign, patron_a, t.pk, "study", now=NOW + dt.timedelta(days=10))
    assert info.value.code == "closed"
    services.move_campaign(campaign, CampaignStatus.CLOSED)
    campaign.refresh_from_db()
    with pytest.raises(ValidationError):
        services.vote(campaign, patron_a, t.pk, "study", now=NOW)
    with pytest.raises(ValidationError):
        services.move_campaign(campaign, CampaignStatus.OPEN)  # a closed campaign stays closed
    assert not Vote.objects.exists()


def test_another_librarys_patron_or_a_stranger_cannot_mark(
    campaign: Campaign, patron_b: Any, stranger: Any, librarian_b: Any
) -> None:
    t = _titles(campaign)[0]
    for user in (patron_b, stranger, librarian_b):
        with pytest.raises(PermissionDenied):
            services.vote(campaign, user, t.pk, "study", now=NOW)


def test_invited_categories_and_colleges(campaign: Campaign, patron_a: Any, teacher_a: Any) -> None:
    campaign.invited_categories = ["teacher"]
    campaign.save()
    t = _titles(campaign)[0]
    with pytest.raises(PermissionDenied):
        services.vote(campaign, patron_a, t.pk, "study", now=NOW)
    campaign.invited_colleges = ["经济管理学院"]
    campaign.save()
    with pytest.raises(PermissionDenied):
        services.vote(campaign, teacher_a, t.pk, "teaching", now=NOW)


def test_title_of_another_campaign_or_held(
    campaign: Campaign, patron_a: Any, library_b: Library, library_a: Library
) -> None:
    other = services.import_catalogue(
        library_b, b"ISBN,\xcc\xe2\xc3\xfb\n9787111213826,x\n", name="b"
    )
    foreign = Title.objects.get(catalogue=other)
    with pytest.raises(ValidationError) as info:
        services.vote(campaign, patron_a, foreign.pk, "study", now=NOW)
    assert info.value.code == "title"
    held = _titles(campaign)[0]
    Holding.objects.create(library=library_a, isbn=held.isbn)
    services.mark_titles(library_a)
    with pytest.raises(ValidationError) as info:
        services.vote(campaign, patron_a, held.pk, "study", now=NOW)
    assert info.value.code == "held"


def test_bad_reason_is_refused(campaign: Campaign, patron_a: Any) -> None:
    with pytest.raises(ValidationError):
        services.vote(campaign, patron_a, _titles(campaign)[0].pk, "<script>", now=NOW)


# --- selection -----------------------------------------------------------------------------------


def _brute(items: list[knapsack.Item], limits: list[knapsack.Limit]) -> tuple[int, float]:
    best = (-1, -1.0)
    n = len(items)
    for mask in itertools.product([False, True], repeat=n):
        if any(it.forced and not keep for it, keep in zip(items, mask, strict=True)):
            continue
        ok = all(
            sum(items[i].cost for i in (lim.members or range(n)) if mask[i]) <= lim.amount + 1e-6
            for lim in limits
        )
        if ok:
            best = max(best, knapsack.value(items, list(mask)))
    return best


@pytest.mark.parametrize("core", [3, knapsack.CORE])
@pytest.mark.parametrize("seed", range(12))
def test_exact_selection_matches_brute_force(seed: int, core: int) -> None:
    # core=3: most titles are fixed by their reduced profit and the core grows when it must.
    rng = random.Random(seed)
    items = [
        knapsack.Item(str(i), float(rng.randint(20, 120)), rng.randint(1, 9), forced=i == 0)
        for i in range(12)
    ]
    limits = [
        knapsack.Limit("all", 400.0),
        knapsack.Limit("T", 150.0, [1, 2, 3, 4, 5]),
        knapsack.Limit("林学院", 120.0, [6, 7, 8]),
    ]
    chosen, status = knapsack.solve(items, limits, core=core)
    assert status == "optimal"
    best = _brute(items, limits)
    if core >= len(items):
        assert knapsack.value(items, chosen) == pytest.approx(best)
    else:  # demand is exact; spend (the tie-break) is maximised over the core only
        assert knapsack.value(items, chosen)[0] == best[0]
    assert chosen[0]
    greedy = knapsack.value(items, knapsack.greedy(items, limits))
    assert greedy[0] <= knapsack.value(items, chosen)[0]


def test_exact_beats_votes_first_on_a_known_case() -> None:
    # One popular expensive title against three cheaper ones that together are wanted more.
    items = [
        knapsack.Item("a", 100.0, 5),
        knapsack.Item("b", 40.0, 3),
        knapsack.Item("c", 30.0, 2),
        knapsack.Item("d", 30.0, 2),
    ]
    limits = [knapsack.Limit("all", 100.0)]
    assert knapsack.value(items, knapsack.greedy(items, limits)) == (5, 100.0)
    chosen, _status = knapsack.solve(items, limits)
    assert knapsack.value(items, chosen) == (7, 100.0)


def _priced(campaign: Campaign) -> list[Title]:
    titles = _titles(campaign)
    for i, t in enumerate(titles):
        t.price = Decimal(20 + 7 * i)
        t.save()
    return titles


def test_selection_in_a_campaign(
    campaign: Campaign, library_a: Library, patron_a: Any, teacher_a: Any, librarian_a: Any
) -> None:
    titles = _priced(campaign)
    held = titles[5]
    Holding.objects.create(library=library_a, isbn=held.isbn, title=held.title)
    for t in titles[:12]:
        if t.pk != held.pk:
            services.vote(campaign, patron_a, t.pk, "study", now=NOW)
    services.vote(campaign, teacher_a, titles[1].pk, "teaching", now=NOW)
    services.mark_titles(library_a)
    services.decide(campaign, titles[2].pk, Decision.REJECTED, librarian_a)
    services.decide(campaign, titles[11].pk, Decision.ACCEPTED, librarian_a)
    Budget.objects.create(campaign=campaign, kind=BudgetKind.CLC, key="F", amount=Decimal("60"))
    exact = services.run_selection(campaign, Method.EXACT)
    greedy = services.run_selection(campaign, Method.GREEDY)
    chosen = set(exact.lines.values_list("title_id", flat=True))
    assert held.pk not in chosen and titles[2].pk not in chosen
    assert titles[11].pk in chosen  # accepted by the librarian
    assert exact.spend <= campaign.budget
    f_spend = sum(
        (line.price * line.copies for line in exact.lines.all() if line.clc_class == "F"),
        Decimal(0),
    )
    assert f_spend <= Decimal("60")
    assert exact.demand >= greedy.demand
    # Brute force over the same problem.
    items, limits = services.problem(campaign, services.candidates(campaign))
    assert (exact.demand, float(exact.spend)) == pytest.approx(_brute(items, limits))
    # Adopted: its titles are on order in every other list.
    services.adopt(exact)
    assert Title.objects.filter(pk__in=chosen).exclude(status=LineStatus.ON_ORDER).count() == 0


def test_the_same_work_in_two_lists_is_bought_once(
    campaign: Campaign, library_a: Library, patron_a: Any, teacher_a: Any
) -> None:
    titles = _priced(campaign)
    copy = Title.objects.get(pk=titles[0].pk)
    copy.pk = None
    copy.position = 99
    copy.price = Decimal("10.00")
    copy.save()
    services.vote(campaign, patron_a, titles[0].pk, "study", now=NOW)
    services.vote(campaign, teacher_a, copy.pk, "teaching", now=NOW)
    cands = services.candidates(campaign)
    assert len(cands) == 1
    assert cands[0].title.pk == copy.pk and cands[0].weight == 3 and cands[0].copies == 2


def test_order_exports(campaign: Campaign, patron_a: Any) -> None:
    titles = _priced(campaign)
    for t in titles[:4]:
        services.vote(campaign, patron_a, t.pk, "study", now=NOW)
    selection = services.run_selection(campaign)
    assert selection.titles >= 1
    wb = load_workbook(io.BytesIO(orders.order_xlsx(selection)))
    ws = wb.worksheets[0]
    assert ws.max_row == selection.titles + 1
    for flavour in (MarcFlavour.MARC21, MarcFlavour.UNIMARC):
        data = orders.order_marc(selection, flavour)
        records = list(pymarc.MARCReader(io.BytesIO(data), to_unicode=True, force_utf8=True))
        assert len(records) == selection.titles and all(r is not None for r in records)
        tag = "010" if flavour == MarcFlavour.UNIMARC else "020"
        isbns = {r[tag]["a"] for r in records if r is not None and r.get(tag)}
        assert isbns <= {t.isbn for t in titles}
        assert all(r is not None and r["970"]["q"] for r in records)
        # Read back by our own importer: the vendor's file and ours speak the same MARC.
        lines, found = services.read_marc(data, flavour)
        assert found == flavour and len(lines) == selection.titles


def test_a_selection_not_proven_optimal_says_so() -> None:
    from lifeline.selection.models import Selection

    assert Selection(solver_status="optimal").solver_note == ""
    assert "0.41%" in Selection(solver_status="time_limit 0.41%").solver_note
    assert Selection(solver_status="optimal; accepted titles exceed a budget").solver_note
