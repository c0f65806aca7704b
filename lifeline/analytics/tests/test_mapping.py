"""COUNTER titles matched to registry resources through KBART holdings (ISSN/ISBN), the use that
follows them, the match-rate page and the renewal plan fed with real title use.

Known answers come from the official TR sample (Release 5.1, all on "Platform 1", Jan–Dec 2022):
Total_Item_Requests per title, summed over its rows.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from lifeline.analytics.charts import figures
from lifeline.analytics.importer import import_file
from lifeline.analytics.models import TitleHolding, UsageSource
from lifeline.analytics.renewal import Candidate, candidates_for, groups
from lifeline.analytics.services import (
    library_monthly_totals,
    match_titles,
    normalise_title_identifier,
    title_match_rate,
    unmatched_titles,
    usage_between,
)
from lifeline.conftest import client_for
from lifeline.registry.models import KbartTitle, Resource

pytestmark = pytest.mark.django_db

YEAR = (dt.date(2022, 1, 1), dt.date(2022, 12, 31))
# Total_Item_Requests of the sample's titles with identifiers, and of all eleven titles, by
# Regular access only: the sample's TDM rows (about half of it) are kept apart (issue 16).
TITLE_1 = 9825  # ISBN 979-8-88888-888-8
TITLE_2 = 10577  # Online_ISSN 1234-1234
TITLE_3 = 20222  # Online_ISSN 1234-4321
TITLE_4 = 10437  # Online_ISSN 4321-4321
TITLE_7 = 9314  # ISBN 979-8-88888-888-9
ALL_TITLES = 126742


def packages(library: Any) -> tuple[Resource, Resource]:
    """Package A holds titles 2 and 4; package B holds title 2 (shared) and the book title 1."""
    a = Resource.objects.create(
        library=library, key="pkg-a", name="Package A", price=Decimal(100_000), currency="CNY"
    )
    b = Resource.objects.create(
        library=library, key="pkg-b", name="Package B", price=Decimal(80_000), currency="CNY"
    )
    KbartTitle.objects.create(
        resource=a, publication_title="Title 2", online_identifier="1234-1234"
    )
    KbartTitle.objects.create(resource=a, publication_title="Title 4", print_identifier="4321-4321")
    KbartTitle.objects.create(resource=b, publication_title="Title 2", print_identifier="12341234")
    KbartTitle.objects.create(
        resource=b, publication_title="Title 1", online_identifier="9798888888888"
    )
    return a, b


def import_tr(library: Any, counter_data: Path) -> None:
    data = (counter_data / "r51" / "TR_sample_r51.tsv").read_bytes()
    import_file(library, data, "tr.tsv")


def test_identifiers_are_compared_normalised() -> None:
    assert normalise_title_identifier("0028-0836") == "0028-0836"
    assert normalise_title_identifier("00280836") == "0028-0836"
    assert normalise_title_identifier("0-306-40615-2") == "9780306406157"  # ISBN-10 → 13
    assert normalise_title_identifier("978-0-306-40615-7") == "9780306406157"
    # A wrong check digit is compared as written: vendors repeat the same digits everywhere.
    assert normalise_title_identifier("1234 1234") == "1234-1234"
    assert normalise_title_identifier("979-8-88888-888-8") == "9798888888888"
    assert normalise_title_identifier("") == ""


def test_titles_follow_their_packages(library_a: Any, counter_data: Path) -> None:
    a, b = packages(library_a)
    import_tr(library_a, counter_data)
    summary = match_titles(library_a)
    assert (summary.items, summary.matched, summary.holdings) == (5, 3, 4)
    assert (summary.added, summary.removed) == (4, 0)
    # The platform is mapped to nothing: use reaches the packages only through their titles.
    assert not UsageSource.objects.filter(resource__isnull=False).exists()
    uses = usage_between(library_a, *YEAR)
    assert uses[a.pk] == TITLE_2 + TITLE_4
    assert uses[b.pk] == TITLE_2 + TITLE_1
    # The library's total counts the shared title once.
    assert sum(library_monthly_totals(library_a, *YEAR).values()) == TITLE_1 + TITLE_2 + TITLE_4
    data = figures(library_a, *YEAR)
    assert data["total"] == TITLE_1 + TITLE_2 + TITLE_4
    assert dict((str(r), n) for r, n in data["ranked"]) == {
        "Package A": TITLE_2 + TITLE_4,
        "Package B": TITLE_2 + TITLE_1,
    }


def test_platform_mapping_and_holding_count_once(library_a: Any, counter_data: Path) -> None:
    a, b = packages(library_a)
    import_tr(library_a, counter_data)
    match_titles(library_a)
    UsageSource.objects.filter(platform="Platform 1").update(resource=a, mapped_by_hand=True)
    uses = usage_between(library_a, *YEAR)
    # A gets the whole platform (its titles 2 and 4 are in it, not added a second time).
    assert uses[a.pk] == ALL_TITLES
    assert uses[b.pk] == TITLE_2 + TITLE_1
    assert sum(library_monthly_totals(library_a, *YEAR).values()) == ALL_TITLES


def test_matching_is_rerunnable_and_follows_kbart_changes(
    library_a: Any, counter_data: Path
) -> None:
    a, b = packages(library_a)
    import_tr(library_a, counter_data)
    first = match_titles(library_a)
    again = match_titles(library_a)
    assert (again.added, again.removed, again.holdings) == (0, 0, first.holdings)
    # B drops title 1 from its list and A gains title 3.
    KbartTitle.objects.filter(resource=b, publication_title="Title 1").delete()
    KbartTitle.objects.create(
        resource=a, publication_title="Title 3", online_identifier="1234-4321"
    )
    changed = match_titles(library_a)
    assert (changed.added, changed.matched) == (1, 3)
    assert set(TitleHolding.objects.values_list("resource__key", "item__title")) == {
        ("pkg-a", "Title 2"),
        ("pkg-a", "Title 3"),
        ("pkg-a", "Title 4"),
        ("pkg-b", "Title 2"),
    }
    uses = usage_between(library_a, *YEAR)
    assert uses[a.pk] == TITLE_2 + TITLE_3 + TITLE_4 and uses[b.pk] == TITLE_2
    # Re-importing the same report keeps the items, and with them the holdings.
    import_tr(library_a, counter_data)
    assert match_titles(library_a).added == 0
    assert usage_between(library_a, *YEAR)[a.pk] == TITLE_2 + TITLE_3 + TITLE_4


def test_unmatched_titles_and_match_rate(library_a: Any, counter_data: Path) -> None:
    packages(library_a)
    import_tr(library_a, counter_data)
    match_titles(library_a)
    unmatched = unmatched_titles(library_a)
    assert [(r["title"], r["uses"]) for r in unmatched] == [
        ("Title 3", TITLE_3),
        ("Title 7", TITLE_7),
    ]
    rate = title_match_rate(library_a)
    assert (rate["items"], rate["matched"], rate["holdings"]) == (5, 3, 4)
    everything = TITLE_1 + TITLE_2 + TITLE_3 + TITLE_4 + TITLE_7
    assert (rate["use"], rate["matched_use"]) == (everything, TITLE_1 + TITLE_2 + TITLE_4)


def test_another_librarys_kbart_never_matches(
    library_a: Any, library_b: Any, counter_data: Path
) -> None:
    packages(library_b)
    import_tr(library_a, counter_data)
    assert match_titles(library_a).matched == 0
    assert not TitleHolding.objects.exists()


def test_renewal_uses_real_title_use(library_a: Any, counter_data: Path) -> None:
    a, b = packages(library_a)
    import_tr(library_a, counter_data)
    match_titles(library_a)
    candidates, problems = candidates_for(library_a, *YEAR, denial_weight=0)
    by_key = {c.key: c for c in candidates}
    assert problems == []
    assert by_key[a.pk].title_use == {"1234-1234": TITLE_2, "4321-4321": TITLE_4}
    assert by_key[b.pk].title_use == {"12341234": TITLE_2, "9798888888888": TITLE_1}
    weighted, _members = candidates_for(library_a, *YEAR, denial_weight=1)
    a_weighted = next(c for c in weighted if c.key == a.pk)
    assert a_weighted.title_use["1234-1234"] > TITLE_2  # its turnaways add demand


def test_groups_with_real_title_use() -> None:
    a = Candidate(1, "A", 10.0, 100.0, ["t1", "t2", "t3"], {"t1": 70.0})
    b = Candidate(2, "B", 10.0, 80.0, ["t1"], {"t1": 70.0})
    uses, members = groups([a, b])
    got = {tuple(m): u for u, m in zip(uses, members, strict=True)}
    # t1 is worth its real 70 once; A's other 30 spread over t2, t3; B's other 10 is its own.
    assert got == {(0, 1): 70.0, (0,): 30.0, (1,): 10.0}


def test_upload_matches_and_titles_page(
    librarian_a: Any, library_a: Any, counter_data: Path
) -> None:
    packages(library_a)
    client = client_for(librarian_a)
    data = (counter_data / "r51" / "TR_sample_r51.tsv").read_bytes()
    response = client.post(
        reverse("analytics:upload"), {"file": SimpleUploadedFile("tr.tsv", data)}
    )
    assert response.status_code == 302
    assert TitleHolding.objects.count() == 4  # the upload ran the matching
    page = client.get(reverse("analytics:titles"))
    body = page.content.decode()
    assert page.status_code == 200 and "Title 3" in body and "60 %" in body
    assert "未在任何 KBART" in body  # Chinese by default
    english = client.get(reverse("analytics:titles"), {"lang": "en"}).content.decode()
    assert "Titles not in any KBART list" in english
    xlsx = client.get(reverse("analytics:titles"), {"format": "xlsx", "lang": "en"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    assert sheet["A2"].value == "Title 3" and sheet["F2"].value == TITLE_3
    TitleHolding.objects.all().delete()
    assert client.post(reverse("analytics:titles")).status_code == 302
    assert TitleHolding.objects.count() == 4


def test_titles_page_permissions(
    tech_a: Any, librarian_b: Any, library_a: Any, counter_data: Path
) -> None:
    packages(library_a)
    import_tr(library_a, counter_data)
    tech = client_for(tech_a)
    assert tech.get(reverse("analytics:titles")).status_code == 200
    assert tech.post(reverse("analytics:titles")).status_code == 403
    other = client_for(librarian_b)
    # Library B's librarian sees only library B, whatever ?library= says.
    body = other.get(reverse("analytics:titles"), {"library": library_a.code}).content.decode()
    assert "Title 3" not in body


def test_sushi_harvest_and_reimport_match_titles(
    librarian_a: Any, library_a: Any, counter_data: Path, settings: Any
) -> None:
    """The harvest task and the re-import page match the harvested titles (loopback SUSHI)."""
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]  # harvests go through core.outbound
    from lifeline.analytics.models import SushiHarvest
    from lifeline.analytics.tasks import harvest_now
    from lifeline.analytics.tests.sushi_server import LoopbackSushi
    from lifeline.analytics.tests.test_sushi import account

    a, _b = packages(library_a)
    with LoopbackSushi(counter_data) as server:
        cred = account(library_a, server, reports="TR")
        harvest_now.enqueue(cred.pk, "TR", "2022-01-01", "2022-12-31")
        assert server.errors == []
    harvest = SushiHarvest.objects.get()
    assert harvest.report is not None and TitleHolding.objects.count() == 4
    assert usage_between(library_a, *YEAR)[a.pk] == TITLE_2 + TITLE_4
    TitleHolding.objects.all().delete()
    client = client_for(librarian_a)
    assert client.post(reverse("analytics:sushi_reimport", args=[harvest.pk])).status_code == 302
    assert TitleHolding.objects.count() == 4


def test_kbart_import_matches_titles_again(library_a: Any, counter_data: Path) -> None:
    """Replacing a package's KBART list drops its old holdings with the old lines; the registry's
    signal has analytics match again, so no librarian has to press "Match again"."""
    from lifeline.registry.io.kbart import import_kbart

    a, _b = packages(library_a)
    import_tr(library_a, counter_data)
    match_titles(library_a)
    kbart = (
        "publication_title\tprint_identifier\tonline_identifier\ttitle_id\n"
        "Title 7\t\t979-8-88888-888-9\tt7\n"  # the sample's one valid ISBN
    )
    report = import_kbart(a, kbart.encode(), "a.txt", dry_run=False)
    assert report.applied, report.errors
    held = TitleHolding.objects.filter(resource=a).values_list("item__title", flat=True)
    assert set(held) == {"Title 7"}
    assert usage_between(library_a, *YEAR)[a.pk] == TITLE_7


def test_a_platform_with_dr_tr_and_pr_counts_once(library_a: Any, counter_data: Path) -> None:
    """Issue 16, part 4: the official DR, TR and PR samples all cover Platform 1 in 2022. Per
    month the most complete report gives the figure; title use is not added on top of database
    use, nor either on top of platform use."""
    from lifeline.analytics.choices import Metric
    from lifeline.analytics.models import UsageRecord
    from lifeline.analytics.services import monthly_usage

    whole = Resource.objects.create(library=library_a, key="p1", name="Platform 1")
    per_report: dict[str, dict[dt.date, int]] = {}
    for code in ("DR", "TR", "PR"):
        data = (counter_data / "r51" / f"{code}_sample_r51.tsv").read_bytes()
        report = import_file(library_a, data, f"{code.lower()}.tsv")
        months: dict[dt.date, int] = {}
        for record in UsageRecord.objects.filter(report=report, metric=Metric.TOTAL_ITEM_REQUESTS):
            months[record.month] = months.get(record.month, 0) + record.count
        per_report[code] = months
    UsageSource.objects.filter(platform="Platform 1").update(resource=whole, mapped_by_hand=True)
    best = {
        month: max(per_report[code].get(month, 0) for code in per_report)
        for month in per_report["PR"]
    }
    assert monthly_usage(library_a, *YEAR)[whole.pk] == best
    assert library_monthly_totals(library_a, *YEAR) == best
    assert sum(best.values()) < sum(sum(m.values()) for m in per_report.values())
