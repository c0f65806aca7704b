from __future__ import annotations

import pytest

from lifeline.delivery.logic.citations import parse_citation
from lifeline.delivery.logic.identifiers import (
    find_identifiers,
    normalise_doi,
    normalise_isbn,
    normalise_issn,
)


def test_gbt_7714_journal_article() -> None:
    r = parse_citation("张三, 李四. 题名[J]. 刊名, 2020, 12(3): 45-52.")
    assert r.style == "GB/T 7714"
    assert r.fields == {
        "title": "题名",
        "authors": "张三, 李四",
        "doc_type": "chinese_article",
        "source": "刊名",
        "year": 2020,
        "volume": "12",
        "issue": "3",
        "pages": "45-52",
    }
    assert r.problems == []


@pytest.mark.parametrize(
    ("text", "doc_type", "source"),
    [
        ("王五. 数据结构[M]. 北京: 清华大学出版社, 2019.", "chinese_book", "清华大学出版社"),
        ("赵六. 森林生态研究[D]. 哈尔滨: 东北林业大学, 2018.", "thesis", "东北林业大学"),
        (
            "国家标准化管理委员会. 信息与文献 参考文献著录规则[S]. 北京: 中国标准出版社, 2015.",
            "standard",
            "中国标准出版社",
        ),
        (
            "Knuth D E. The art of computer programming[M]. Boston: Addison-Wesley, 1997.",
            "foreign_book",
            "Addison-Wesley",
        ),
    ],
)
def test_gbt_7714_other_types(text: str, doc_type: str, source: str) -> None:
    r = parse_citation(text)
    assert (r.fields["doc_type"], r.fields["source"]) == (doc_type, source)


def test_full_width_punctuation_and_reference_number() -> None:
    r = parse_citation("[3] 张三．森林碳汇[J]．林业科学，２０２１，５７（２）：１－１０．")
    assert r.fields["title"] == "森林碳汇"
    assert (r.fields["year"], r.fields["volume"], r.fields["issue"], r.fields["pages"]) == (
        2021,
        "57",
        "2",
        "1-10",
    )


def test_apa_article_with_doi() -> None:
    r = parse_citation(
        "Smith, J., & Doe, A. (2020). Deep learning for trees. Forest Ecology, 12(3), 45–52. "
        "https://doi.org/10.1016/j.foreco.2020.118000"
    )
    assert r.style == "APA"
    assert (
        r.fields["source"] == "Forest Ecology"
        and r.fields["volume"] == "12"
        and r.fields["pages"] == "45–52"
    )
    assert r.fields["doi"] == "10.1016/j.foreco.2020.118000"


def test_apa_book() -> None:
    r = parse_citation("Kahneman, D. (2011). Thinking, fast and slow. Farrar, Straus and Giroux.")
    assert r.fields["doc_type"] == "foreign_book" and r.fields["title"] == "Thinking, fast and slow"


def test_vancouver_with_pmid() -> None:
    r = parse_citation(
        "Smith J, Doe A. Deep learning for trees. Forest Ecol. 2020;12(3):45-52. PMID: 12345678"
    )
    assert r.style == "Vancouver"
    assert (
        r.fields["source"] == "Forest Ecol"
        and r.fields["issue"] == "3"
        and r.fields["pmid"] == "12345678"
    )


def test_garbage_says_so() -> None:
    r = parse_citation("asdf qwer zxcv")
    assert not r.ok and "does not look like a citation" in r.problems[0]


def test_incomplete_doi_and_bad_isbn_are_reported() -> None:
    assert "The DOI is incomplete." in parse_citation("doi: 10.1038/").problems
    assert any(
        "not a valid ISBN or ISSN" in p for p in parse_citation("ISBN 978-7-302-00000-1").problems
    )


def test_identifier_checksums() -> None:
    assert normalise_issn("0028-0836") == "0028-0836"
    assert normalise_issn("0028-0837") is None
    assert normalise_issn("2434-561x") == "2434-561X"
    assert normalise_isbn("0-306-40615-2") == "9780306406157"
    assert normalise_isbn("978-0-306-40615-7") == "9780306406157"
    assert normalise_isbn("978-0-306-40615-8") is None
    assert normalise_doi("https://doi.org/10.1038/NATURE12373") == "10.1038/nature12373"
    assert normalise_doi("10.1038") is None
    assert find_identifiers("ISBN 9780306406157 in ISSN 0028-0836") == {
        "isbn": "9780306406157",
        "issn": "0028-0836",
    }
