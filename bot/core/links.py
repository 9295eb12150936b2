"""The links Paperboy shows: arXiv's abstract, PDF and HTML pages, DOIs and ShortScience.

One set of builders, Discord-free, so the digest, the paper card, ``paperboy lookup`` and its JSON
link the same pages the same way. The abstract page is the link for a paper (never the PDF, as
arXiv asks); the PDF is a link for the reader, the bot never fetches or serves one.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import quote, urlsplit

from bot.core.ids import try_parse_arxiv_id
from bot.core.text import collapse_whitespace

ARXIV = "https://arxiv.org"
HTML_SINCE = (2023, 12)  # arXiv renders HTML for papers submitted from December 2023 on
ArxivPage = Literal["abs", "pdf", "html"]


def arxiv_url(page: ArxivPage, arxiv_id: str) -> str:
    """``https://arxiv.org/{page}/{id}``, the id percent-encoded (old-style ids keep their slash)."""
    return f"{ARXIV}/{page}/{quote(arxiv_id, safe='/.')}"


def abs_url(arxiv_id: str) -> str:
    """The arXiv abstract page: the link for a paper."""
    return arxiv_url("abs", arxiv_id)


def pdf_url(arxiv_id: str) -> str:
    """The PDF on arxiv.org."""
    return arxiv_url("pdf", arxiv_id)


def id_issued(arxiv_id: str) -> tuple[int, int] | None:
    """(year, month) an arXiv id was issued: ``1805.08296`` -> (2018, 5), ``hep-th/9901001`` -> (1999, 1)."""
    parsed = try_parse_arxiv_id(arxiv_id)
    if parsed is None:
        return None
    digits = parsed.base.rsplit("/", 1)[-1]
    yy, mm = int(digits[:2]), int(digits[2:4])
    return (1900 + yy if yy > 50 else 2000 + yy), mm


def is_new_style(arxiv_id: str) -> bool:
    """Whether the id is of the ``YYMM.NNNNN`` kind (not ``archive/YYMMNNN``)."""
    parsed = try_parse_arxiv_id(arxiv_id)
    return parsed is not None and "/" not in parsed.base


def html_url(arxiv_id: str) -> str | None:
    """arXiv's HTML rendering, which exists only for papers submitted from December 2023 on."""
    issued = id_issued(arxiv_id)
    if issued is None or not is_new_style(arxiv_id) or issued < HTML_SINCE:
        return None
    return arxiv_url("html", arxiv_id)


def doi_url(doi: str) -> str:
    """``https://doi.org/{doi}``, percent-encoded so parentheses or spaces cannot end the link."""
    return f"https://doi.org/{quote(collapse_whitespace(doi), safe='/:;.')}"


def is_shortscience(url: str | None) -> bool:
    """Whether ``url`` is an http(s) page of shortscience.org."""
    if not url:
        return False
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    return parts.scheme in {"http", "https"} and (host == "shortscience.org"
                                                  or host.endswith(".shortscience.org"))


def shortscience_paper_url(arxiv_id: str) -> str | None:
    """The page ShortScience keys by arXiv id (``journals/corr/{id}``), for new-style ids only: for
    old-style ids (``hep-th/9901001``) the key it would use is not known, so no link, not a dead one."""
    if not is_new_style(arxiv_id):
        return None
    return f"https://www.shortscience.org/paper?bibtexKey=journals/corr/{arxiv_id}"


__all__ = [
    "ARXIV",
    "HTML_SINCE",
    "ArxivPage",
    "abs_url",
    "arxiv_url",
    "doi_url",
    "html_url",
    "id_issued",
    "is_new_style",
    "is_shortscience",
    "pdf_url",
    "shortscience_paper_url",
]
