"""KBART title lists as publishers really send them: each shape on a real file
(tests/data/kbart_corpus, sources in its README), and the whole corpus."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from lifeline.analytics.corpus import run
from lifeline.conftest import client_for
from lifeline.core.models import ImportJob, Library
from lifeline.registry.io.kbart import import_kbart
from lifeline.registry.models import KbartTitle, Resource

CORPUS = Path(__file__).parent / "data" / "kbart_corpus"
ANNUAL_REVIEWS_CR = "os_test__AnnualReviews_SciencesCollection34_2011-04-27.txt"
CAMBRIDGE = "ebooks__journals.cambridge.org_AllTitles_2015-07-14.txt"
QUOTED = "packageSyncSpec__Testdata_KBART_AnnualReviews.tsv"
UTF16 = "ebooks__CambridgeBooks_EdinburghUniversityPress.tsv"


def real(name: str) -> bytes:
    (path,) = [p for p in CORPUS.iterdir() if p.name.endswith(name)]
    return path.read_bytes()


@pytest.fixture(autouse=True)
def _in_english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def journals(library_a: Library) -> Resource:
    resource = Resource.objects.create(library=library_a, key="cup", name="Cambridge Journals")
    KbartTitle.objects.create(resource=resource, publication_title="Kept")
    return resource


def test_cr_only_line_ends_are_read(journals: Resource) -> None:
    data = real(ANNUAL_REVIEWS_CR)
    assert b"\n" not in data and data.count(b"\r") >= 47
    report = import_kbart(journals, data, "ar.txt", dry_run=False)
    # 47 titles: 46 good, one with a wrong ISSN check digit (0066-4129) set aside.
    assert report.applied and report.rows == 46 and report.set_aside_lines == [29]
    assert "0066-4129" in report.set_aside[0].message
    assert any("CR alone" in str(w) for w in report.warnings)
    assert KbartTitle.objects.filter(resource=journals).count() == 46


def test_staff_keep_a_set_aside_line_without_its_bad_identifier(journals: Resource) -> None:
    report = import_kbart(journals, real(ANNUAL_REVIEWS_CR), "ar.txt", dry_run=True)
    assert report.fixable_lines == [29]
    report = import_kbart(
        journals, real(ANNUAL_REVIEWS_CR), "ar.txt", dry_run=False, keep_lines=frozenset({29})
    )
    assert report.applied and report.rows == 47 and report.kept == 1 and not report.set_aside
    assert KbartTitle.objects.filter(resource=journals, print_identifier="").count() >= 1


def test_placeholders_and_a_few_bad_check_digits_in_a_long_list(journals: Resource) -> None:
    report = import_kbart(journals, real(CAMBRIDGE), "cup.txt", dry_run=False)
    assert report.applied and report.rows == 466 and len(report.set_aside_lines) == 2
    assert any("“7777-7777” is not a valid ISSN" in i.message for i in report.set_aside)
    assert any("20 identifier cells held a placeholder" in str(w) for w in report.warnings)
    assert not KbartTitle.objects.filter(print_identifier__icontains="n/a").exists()


def test_cells_in_double_quotes(journals: Resource) -> None:
    report = import_kbart(journals, real(QUOTED), "ar.tsv", dry_run=False)
    assert report.applied and report.rows == 71
    assert not KbartTitle.objects.filter(publication_title__startswith='"').exists()
    assert any("double quotes" in str(w) for w in report.warnings)


def test_utf16_with_byte_order_mark(journals: Resource) -> None:
    utf16 = import_kbart(journals, real(UTF16), "eup.tsv", dry_run=True)
    utf8 = import_kbart(journals, real("EdinburghUniversityPress_utf8.tsv"), "e.tsv", dry_run=True)
    assert utf16.ok and utf16.rows == utf8.rows == 369


def test_an_empty_file_never_empties_a_list_unconfirmed(journals: Resource) -> None:
    empty = real("brill__Empty-Pkg.tsv")
    preview = import_kbart(journals, empty, "empty.tsv", dry_run=True)
    assert preview.ok and preview.would_empty and preview.rows == 0
    refused = import_kbart(journals, empty, "empty.tsv", dry_run=False)
    assert not refused.applied and "would empty the list of 1 titles" in str(refused.errors[0])
    assert KbartTitle.objects.filter(resource=journals).count() == 1
    done = import_kbart(journals, empty, "empty.tsv", dry_run=False, allow_empty=True)
    assert done.applied and not KbartTitle.objects.filter(resource=journals).exists()


def test_a_broken_file_stays_all_or_nothing(journals: Resource) -> None:
    report = import_kbart(journals, real("brill__Brill-DAC.tsv"), "b.tsv", dry_run=False)
    assert not report.applied and report.errors and not report.set_aside
    assert list(KbartTitle.objects.values_list("publication_title", flat=True)) == ["Kept"]


def test_preview_lists_set_aside_lines_and_staff_choose(
    librarian_a: Any, librarian_b: Any, journals: Resource
) -> None:
    client = client_for(librarian_a)
    upload = SimpleUploadedFile("ar.txt", real(ANNUAL_REVIEWS_CR))
    page = client.post(
        reverse("registry:io_kbart"),
        {"library": journals.library.code, "resource": "cup", "file": upload},
    )
    assert page.status_code == 302  # the dry run is a background job (issue 16, part 3)
    page = client.get(page["Location"], follow=True)
    html = page.content.decode()
    assert 'name="keep" value="29"' in html and "0066-4129" in html
    token = ImportJob.objects.get(kind="registry.kbart_preview").pk
    # Another library's librarian cannot apply it.
    assert (
        client_for(librarian_b).post(reverse("registry:io_apply", args=[token])).status_code == 404
    )
    # Malformed choices are ignored; line 29 is kept without its bad ISSN.
    done = client.post(reverse("registry:io_apply", args=[token]), {"keep": ["29", "x", "999"]})
    assert done.status_code == 302
    assert ImportJob.objects.get(kind="registry.kbart").status == "done"
    assert KbartTitle.objects.filter(resource=journals).count() == 47
    assert client.post(reverse("registry:io_apply", args=[token])).status_code == 404


def test_preview_asks_before_emptying_a_list(librarian_a: Any, journals: Resource) -> None:
    client = client_for(librarian_a)
    upload = SimpleUploadedFile("empty.tsv", real("brill__Empty-Pkg.tsv"))
    page = client.post(
        reverse("registry:io_kbart"),
        {"library": journals.library.code, "resource": "cup", "file": upload},
    )
    page = client.get(page["Location"], follow=True)
    assert 'name="confirm_empty"' in page.content.decode()
    token = ImportJob.objects.get(kind="registry.kbart_preview").pk
    refused = client.post(reverse("registry:io_apply", args=[token]), follow=True)
    job = ImportJob.objects.get(kind="registry.kbart")
    assert job.status == "failed" and "清空" in job.problems[0]  # the page's language
    assert refused.status_code == 400 and "清空" in refused.content.decode()
    assert KbartTitle.objects.filter(resource=journals).count() == 1


# The corpus ---------------------------------------------------------------------------------

NOT_KBART = "the header has no publication_title column"
REFUSED = {
    # Not KBART: GOKb's own package formats, YBP order lists, MUSE metadata, price lists.
    "gokb__utils__testdata__Cambridge_University_Press_Master_2013.csv": NOT_KBART,
    "gokb__utils__testdata__wiley_Full_Collection_2012_2014_Nesli2.csv": NOT_KBART,
    "gokb__utils__testdata__archive_collections__brill__brill.tsv": NOT_KBART,
    "gokb__utils__testdata__availability_tracking__II-Title-List-2.tsv": NOT_KBART,
    "gokb__utils__testdata__availability_tracking__York_-_HY_Medical_School.csv": NOT_KBART,
    "gokb__utils__testdata__bulk_load__load_without_problems__acs_legacy_archives": NOT_KBART,
    "gokb__utils__testdata__os_test__muse_journal_metadata_2013.tsv": NOT_KBART,
    **{f"gokb__utils__testdata__ebooks__YBP1{s}.tsv": NOT_KBART for s in ("", "_1", "_2", "_3")},
    **{f"gokb__utils__testdata__ebooks__YBP1{s}.tsv": NOT_KBART for s in ("_4", "_5")},
    "gokb__utils__testdata__ebooks__YBP_tc2.tsv": NOT_KBART,
    # Latin-1 text (and not KBART either).
    "gokb__utils__testdata__bulk_load__load_problems__project_muse_alltitles": "not UTF-8",
    "gokb__utils__testdata__project_muse_alltitles": "not UTF-8",
    # Most lines bad: URIs where ISSN/ISBN belong, or GOKb's test files of invalid lines.
    "gokb__utils__testdata__archive_collections__brill__Brill-DAC.tsv": "uri://brill.com",
    "gokb__server__src__integration-test__resources__test_archival_format.tsv": "uri://test",
    "gokb__server__src__integration-test__resources__test_rest_import_partial_error.txt": (
        "“1872-6293” is not a valid ISSN"
    ),
    "gokb__server__src__integration-test__resources__test_validation_monographs_errors.txt": (
        "is not a valid ISBN"
    ),
    "gokb__server__src__integration-test__resources__test_validation_serials_errors.txt": (
        "“1673-3550” is not a valid ISSN"
    ),
    "gokb__utils__testdata__availability_tracking__availiability_test_1.tsv": "not a valid ISBN",
    "gokb__utils__testdata__availability_tracking__availiability_test_2.tsv": "not a valid ISBN",
}


def test_every_kbart_refusal_is_one_we_defend() -> None:
    outcomes = {o.name: o for o in run(CORPUS, "kbart")}
    kbart = [n for n, o in outcomes.items() if NOT_KBART not in " ".join(o.reasons)]
    assert len(outcomes) >= 40 and len(kbart) >= 20
    refused = {n for n, o in outcomes.items() if not o.accepted}
    assert refused == set(REFUSED), (refused - set(REFUSED), set(REFUSED) - refused)
    for name, expected in REFUSED.items():
        assert expected in " ".join(outcomes[name].reasons), (name, outcomes[name].reasons)
