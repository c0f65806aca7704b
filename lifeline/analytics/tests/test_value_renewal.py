"""Value (cost per use at dated rates, emergency comparison) and renewal decisions (exact MILP)."""

from __future__ import annotations

import datetime as dt
import io
import itertools
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from lifeline.analytics import renewal
from lifeline.analytics.importer import import_file
from lifeline.analytics.models import ExchangeRate
from lifeline.analytics.renewal import Candidate, groups, plan, reachable
from lifeline.analytics.value import (
    MissingRate,
    Rates,
    cost_per_use,
    emergency_comparison,
    unheld_demand,
)
from lifeline.conftest import client_for, make_staff
from lifeline.core.choices import Role
from lifeline.core.models import ImportJob
from lifeline.registry.models import KbartTitle, Resource

pytestmark = pytest.mark.django_db


def test_dated_exchange_rates(library_a: Any) -> None:
    ExchangeRate.objects.create(
        library=library_a,
        currency="USD",
        valid_from=dt.date(2022, 1, 1),
        cny_per_unit=Decimal("6.35"),
    )
    ExchangeRate.objects.create(
        library=library_a,
        currency="USD",
        valid_from=dt.date(2023, 1, 1),
        cny_per_unit=Decimal("6.90"),
    )
    rates = Rates(library_a)
    assert rates.to_cny(Decimal(100), "USD", dt.date(2022, 6, 1)) == Decimal("635.00")
    assert rates.to_cny(Decimal(100), "USD", dt.date(2023, 6, 1)) == Decimal("690.00")
    assert rates.to_cny(Decimal(100), "CNY", dt.date(2000, 1, 1)) == Decimal(100)
    with pytest.raises(MissingRate):
        rates.to_cny(Decimal(1), "USD", dt.date(2021, 12, 31))


def test_cost_per_use_and_emergency_comparison(library_a: Any, counter_data: Path) -> None:
    ExchangeRate.objects.create(
        library=library_a, currency="USD", valid_from=dt.date(2021, 1, 1), cny_per_unit=Decimal("7")
    )
    p1 = Resource.objects.create(
        library=library_a,
        key="p1",
        name="Platform 1",
        price=Decimal(1000),
        currency="USD",
        subscription_start=dt.date(2022, 1, 1),
    )
    eur = Resource.objects.create(
        library=library_a, key="eu", name="No rate", price=Decimal(10), currency="EUR"
    )
    import_file(
        library_a,
        (counter_data / "r51" / "PR_P1_sample_r51.json".replace("PR_P1_", "PRP1_")).read_bytes(),
        "prp1.json",
    )
    rows = {
        r.resource.pk: r
        for r in cost_per_use(library_a, dt.date(2022, 1, 1), dt.date(2022, 12, 31))
    }
    uses = rows[p1.pk].uses
    assert uses > 0 and rows[p1.pk].price_cny == Decimal("7000.00")
    assert rows[p1.pk].cost_per_use == (Decimal("7000") / uses).quantize(Decimal("0.01"))
    assert rows[eur.pk].price_cny is None and "EUR" in rows[eur.pk].problem
    compared = {
        r["resource_id"]: r
        for r in emergency_comparison(library_a, dt.date(2022, 3, 1), dt.date(2022, 3, 31))
    }
    assert (
        compared[p1.pk]["now"] > 0
        and compared[p1.pk]["year_before"] == 0
        and compared[p1.pk]["change"] is None
    )
    assert isinstance(unheld_demand(library_a, dt.date(2022, 1, 1), dt.date(2022, 12, 31)), list)


def brute_force(cands: list[Candidate], budget: float) -> float:
    uses, members = groups(cands)
    best = 0.0
    for keep in itertools.product([False, True], repeat=len(cands)):
        if sum(c.price for c, k in zip(cands, keep, strict=True) if k) <= budget + 1e-9:
            best = max(best, reachable(list(keep), uses, members))
    return best


def test_overlap_counts_once_and_milp_beats_the_ranking() -> None:
    # A and B share all their journals: keeping both buys nothing. The ranking (cost per use)
    # keeps A and B (cheapest per use) and runs out of money for C; the optimum keeps A and C.
    shared = [f"issn-{i}" for i in range(10)]
    cands = [
        Candidate(1, "A", price=100, use=1000, titles=shared),
        Candidate(2, "B", price=100, use=1000, titles=shared),
        Candidate(3, "C", price=150, use=900, titles=["c-1"]),
    ]
    result = plan(cands, cut_percent=(1 - 250 / 350) * 100)
    kept = {ln.candidate.name for ln in result.lines if ln.keep}
    assert kept in ({"A", "C"}, {"B", "C"})
    assert result.optimal_use == pytest.approx(1900)
    assert result.ranking_use == pytest.approx(1000)
    dropped = next(ln for ln in result.lines if not ln.keep)
    assert "reachable through" in dropped.reason and "ranking would keep it" in dropped.reason


def test_milp_is_exact_on_random_small_cases() -> None:
    import random

    rnd = random.Random(3)
    for _case in range(15):
        pool = [f"t{i}" for i in range(12)]
        cands = [
            Candidate(
                i,
                f"R{i}",
                price=rnd.randint(10, 100),
                use=rnd.randint(0, 500),
                titles=rnd.sample(pool, rnd.randint(0, 5)),
            )
            for i in range(8)
        ]
        budget = sum(c.price for c in cands) * 0.6
        keep, status = renewal.solve(cands, budget)
        uses, members = groups(cands)
        assert status == "optimal"
        assert sum(c.price for c, k in zip(cands, keep, strict=True) if k) <= budget + 1e-6
        assert reachable(keep, uses, members) == pytest.approx(
            brute_force(cands, budget), rel=renewal.MIP_GAP
        )


def test_renewal_page_and_exports(librarian_a: Any, library_a: Any, counter_data: Path) -> None:
    import_file(library_a, (counter_data / "r51" / "DR_sample_r51.json").read_bytes(), "dr.json")
    for i, name in enumerate(["Database 1", "Database 2", "Database 3"], 1):
        res = Resource.objects.create(
            library=library_a, key=f"db{i}", name=name, name_en=name, price=Decimal(1000 * i)
        )
        KbartTitle.objects.create(
            resource=res, publication_title="共享期刊", online_identifier="1234-5678"
        )
    import_file(
        library_a, (counter_data / "r51" / "DR_sample_r51.json").read_bytes(), "dr.json"
    )  # re-map sources
    client = client_for(librarian_a)
    params = {"cut": "40", "start": "2022-01-01", "end": "2022-12-31", "denial_weight": "0.5"}
    page = client.post(reverse("analytics:renewal"), params, follow=True)
    # The MILP ran as a background job (issue 16, part 3); its outcome page shows the plan.
    job = ImportJob.objects.get(kind="analytics.renewal")
    assert job.status == "done" and job.created_by == librarian_a
    assert page.redirect_chain[-1][0] == reverse("analytics:renewal_plan", args=[job.pk])
    assert page.status_code == 200 and "Database 1" in page.content.decode()
    # Another user, even a librarian of the same library, gets a 404 (page, job, download).
    colleague = client_for(make_staff("colleague_a", library_a, Role.ERESOURCES))
    assert colleague.get(reverse("analytics:renewal_plan", args=[job.pk])).status_code == 404
    assert colleague.get(reverse("core:job", args=[job.pk])).status_code == 404
    xlsx = client.post(reverse("analytics:renewal"), params | {"format": "xlsx"}, follow=True)
    wb = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content)))
    assert wb.worksheets[0].max_row == 4
    pdf_job_page = client.post(reverse("analytics:renewal"), params | {"format": "pdf"})
    pdf_job = ImportJob.objects.filter(kind="analytics.renewal").latest("pk")
    assert pdf_job_page["Location"] == reverse("core:job", args=[pdf_job.pk])
    download = reverse("core:job_download", args=[pdf_job.pk])
    assert colleague.get(download).status_code == 404
    pdf = b"".join(client.get(download).streaming_content)
    assert pdf.startswith(b"%PDF") and b"/FontFile2" in pdf and b"MicroHei" in pdf  # embedded
    bad = client.post(reverse("analytics:renewal"), params | {"cut": "150"})
    assert bad.status_code == 400
