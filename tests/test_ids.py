"""The one arXiv id / URL / DOI parser."""

from __future__ import annotations

import pytest

from bot.core.ids import (
    ArxivId,
    InvalidArxivId,
    arxiv_id_from_doi,
    find_arxiv_ids,
    find_dois,
    normalize_doi,
    parse_arxiv_id,
)


@pytest.mark.parametrize(("text", "expected"), [
    ("2411.17700", ArxivId("2411.17700")),
    ("1805.08296v2", ArxivId("1805.08296", 2)),
    ("arXiv:1805.08296", ArxivId("1805.08296")),
    ("ARXIV: 1805.08296v1", ArxivId("1805.08296", 1)),
    ("0704.0001", ArxivId("0704.0001")),
    ("1412.9999", ArxivId("1412.9999")),
    ("1501.00001", ArxivId("1501.00001")),
    ("hep-th/9901001", ArxivId("hep-th/9901001")),
    ("hep-th/9901001v3", ArxivId("hep-th/9901001", 3)),
    ("math.CA/0611800", ArxivId("math/0611800")),
    ("https://arxiv.org/abs/2411.17700v3", ArxivId("2411.17700", 3)),
    ("http://arxiv.org/pdf/1805.08296.pdf", ArxivId("1805.08296")),
    ("https://arxiv.org/pdf/1805.08296v2", ArxivId("1805.08296", 2)),
    ("https://arxiv.org/html/2411.17700v1", ArxivId("2411.17700", 1)),
    ("arxiv.org/abs/cond-mat/0412498v1", ArxivId("cond-mat/0412498", 1)),
    ("  2411.17700  ", ArxivId("2411.17700")),
])
def test_valid_ids(text: str, expected: ArxivId) -> None:
    assert parse_arxiv_id(text) == expected


@pytest.mark.parametrize("text", [
    "1805.0829", "abc", "", "0703.1234", "1501.1234", "1412.12345", "2413.00001", "1805.08296v0",
    "hep-th/990100", "https://example.org/abs/1805.08296", "1805.08296 and more",
])
def test_invalid_ids_say_what_is_expected(text: str) -> None:
    with pytest.raises(InvalidArxivId, match="not an arXiv identifier"):
        parse_arxiv_id(text)


def test_str_and_abs_url() -> None:
    assert str(ArxivId("1805.08296", 2)) == "1805.08296v2"
    assert ArxivId("hep-th/9901001").abs_url == "https://arxiv.org/abs/hep-th/9901001"


def test_find_ids_in_text() -> None:
    text = ("See arXiv:1805.08296 and https://arxiv.org/abs/2411.17700v2 (also arXiv:1805.08296v3), "
            "hep-th/9901001, but not 3.14159 or 10.1145/1234.5678 or version 2411.177001")
    assert find_arxiv_ids(text) == [ArxivId("1805.08296"), ArxivId("2411.17700", 2),
                                    ArxivId("hep-th/9901001")]


def test_dois() -> None:
    assert normalize_doi("https://doi.org/10.1103/PhysRevB.85.115117") == "10.1103/physrevb.85.115117"
    assert normalize_doi("doi:10.1000/xyz(1)2.") == "10.1000/xyz(1)2"
    assert normalize_doi("no doi here") is None
    assert find_dois("a 10.1/x b 10.48550/arXiv.2411.17700, c") == ["10.48550/arxiv.2411.17700"]
    assert arxiv_id_from_doi("10.48550/arXiv.2411.17700") == ArxivId("2411.17700")
