"""KBART title lists: identifiers normalised and checked, coverage dates, atomic replacement."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from lifeline.core.choices import AuditAction
from lifeline.core.models import AuditLog, Library
from lifeline.registry.io.identifiers import normalise_isbn, normalise_issn
from lifeline.registry.io.kbart import coverage_date, import_kbart
from lifeline.registry.models import KbartTitle, Resource

HEADER = "publication_title\tprint_identifier\tonline_identifier\tdate_first_issue_online\tnum_first_vol_online\tdate_last_issue_online\ttitle_url\ttitle_id\tpublication_type\tpublisher_name\n"  # noqa: E501
GOOD = (
    HEADER
    + "Nature\t0028-0836\t1476-4687\t1997\t385\t\thttps://www.nature.com/nature/\tnature\tserial\tSpringer Nature\n"  # noqa: E501
    + "中国科学\t1674 7291\t\t2010-03\t40\t2015-06\thttps://www.sciengine.com/\tzgkx\tserial\t科学出版社\n"
    + "Nature\t0028-0836\t1476-4687\t1869-11-04\t1\t1990\thttps://www.nature.com/nature/\tnature\tserial\tSpringer Nature\n"  # noqa: E501
    + "Deep Learning\t0-262-03561-8\t978-0-262-33737-3\t\t\t\thttps://mitpress.mit.edu/dl\tdl\tmonograph\tMIT Press\n"  # noqa: E501
)


@pytest.fixture(autouse=True)
def _in_english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def nature(library_a: Library) -> Resource:
    return Resource.objects.create(library=library_a, key="nature", name="Nature 期刊")


def test_identifiers() -> None:
    assert normalise_issn("0028 0836") == "0028-0836"
    assert normalise_issn("2434-561x") == "2434-561X"
    assert normalise_issn("0028-0837") is None
    assert normalise_isbn("0-262-03561-8") == "9780262035613"
    assert normalise_isbn("978-0-262-33737-3") == "9780262337373"
    assert normalise_isbn("080442957X") == "9780804429573"
    assert normalise_isbn("978-0-262-33737-4") is None
    assert coverage_date("2010", end=True) == dt.date(2010, 12, 31)
    assert coverage_date("2012-02", end=True) == dt.date(2012, 2, 29)
    assert coverage_date("2010-03", end=False) == dt.date(2010, 3, 1)


def test_import_replaces_the_list_and_is_repeatable(nature: Resource) -> None:
    KbartTitle.objects.create(resource=nature, publication_title="Old title")
    report = import_kbart(nature, GOOD.encode(), "nature.txt", dry_run=False)
    assert report.ok and report.applied and report.rows == 4 and report.replaced == 1
    titles = {
        (t.publication_title, t.date_first_issue_online): t
        for t in KbartTitle.objects.filter(resource=nature)
    }
    assert len(titles) == 4
    recent = titles[("Nature", dt.date(1997, 1, 1))]
    assert (recent.print_identifier, recent.online_identifier, recent.date_last_issue_online) == (
        "0028-0836",
        "1476-4687",
        None,
    )
    assert titles[("Nature", dt.date(1869, 11, 4))].date_last_issue_online == dt.date(1990, 12, 31)
    chinese = titles[("中国科学", dt.date(2010, 3, 1))]
    assert chinese.print_identifier == "1674-7291" and chinese.date_last_issue_online == dt.date(
        2015, 6, 30
    )
    book = titles[("Deep Learning", None)]
    assert (book.print_identifier, book.online_identifier) == ("9780262035613", "9780262337373")
    assert (
        AuditLog.objects.filter(action=AuditAction.IMPORT, model="registry.KbartTitle").count() == 1
    )
    again = import_kbart(nature, GOOD.encode(), "nature.txt", dry_run=False)
    assert again.ok and again.replaced == 4
    assert sorted(KbartTitle.objects.values_list("publication_title", flat=True)) == sorted(
        t[0] for t in titles
    )


def test_dry_run_writes_nothing(nature: Resource) -> None:
    report = import_kbart(nature, GOOD.encode(), "nature.txt", dry_run=True)
    assert report.ok and report.rows == 4 and not report.applied
    assert (
        not KbartTitle.objects.exists()
        and not AuditLog.objects.filter(action=AuditAction.IMPORT).exists()
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "Bad\t0028-0837\t\t\t\t\t\t\t\t",
            "nature.txt:6: column “print_identifier”: “0028-0837” is not a valid ISSN",
        ),
        (
            "Bad\t\t978-0-262-33737-4\t\t\t\t\t\t\t",
            "nature.txt:6: column “online_identifier”: “978-0-262-33737-4” is not a valid ISBN",
        ),
        ("Bad\t12345\t\t\t\t\t\t\t\t", "is not a valid ISSN/ISBN"),
        (
            "Bad\t\t\t1997-13\t\t\t\t\t\t",
            "column “date_first_issue_online”: “1997-13” is not a date",
        ),
        (
            "Bad\t\t\t2000\t\t1999\t\t\t\t",
            "column “date_last_issue_online”: Coverage ends before it starts.",
        ),
        ("\t0028-0836\t\t\t\t\t\t\t\t", "column “publication_title”: The title is empty."),
        ("Bad\t\t\t\t\t\tftp://x\t\t\t", "column “title_url”: “ftp://x” is not a web address"),
    ],
)
def test_bad_lines_write_nothing(nature: Resource, line: str, expected: str) -> None:
    KbartTitle.objects.create(resource=nature, publication_title="Kept")
    report = import_kbart(nature, (GOOD + line + "\n").encode(), "nature.txt", dry_run=False)
    assert any(expected in str(e) for e in report.errors), [str(e) for e in report.errors]
    assert list(KbartTitle.objects.values_list("publication_title", flat=True)) == ["Kept"]


def test_duplicates_and_encoding(nature: Resource) -> None:
    dup = GOOD.splitlines()[1]
    report = import_kbart(nature, (GOOD + dup + "\n").encode(), "n.txt", dry_run=True)
    assert report.ok and report.duplicates == 1
    clash = dup.replace("https://www.nature.com/nature/", "https://other.example.com/")
    report = import_kbart(nature, (GOOD + clash + "\n").encode(), "n.txt", dry_run=True)
    assert "n.txt:6: Same title and start of coverage as line 2" in str(report.errors[0])
    report = import_kbart(
        nature, (HEADER + "中国科学\t\t\t\t\t\t\t\t\t\n").encode("gb18030"), "gbk.txt", dry_run=True
    )
    assert "Line 2 is not UTF-8" in str(report.errors[0])
    report = import_kbart(nature, b"title\tissn\nx\ty\n", "odd.txt", dry_run=True)
    assert "no publication_title column" in str(report.errors[0])
    report = import_kbart(
        nature, (HEADER.strip() + "\textra_col\n").encode(), "x.txt", dry_run=True
    )
    assert report.ok and "extra_col" in str(report.warnings[0])


def test_command(nature: Resource, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "nature.txt"
    path.write_text(GOOD, encoding="utf-8")
    call_command(
        "import_kbart", str(path), "--resource", "nature", "--library", "nefu", "--dry-run"
    )
    assert not KbartTitle.objects.exists()
    call_command("import_kbart", str(path), "--resource", "nature")
    assert KbartTitle.objects.count() == 4
    assert "reading" in capsys.readouterr().err  # progress on stderr
    with pytest.raises(CommandError, match="No resource with key “ghost”"):
        call_command("import_kbart", str(path), "--resource", "ghost")
    with pytest.raises(CommandError, match="above the limit"):
        call_command("import_kbart", str(path), "--resource", "nature", "--max-bytes", "100")
    path.write_text(GOOD + "Bad\t0028-0837\t\t\t\t\t\t\t\t\n", encoding="utf-8")
    with pytest.raises(CommandError, match="1 errors"):
        call_command("import_kbart", str(path), "--resource", "nature")
    assert KbartTitle.objects.count() == 4
