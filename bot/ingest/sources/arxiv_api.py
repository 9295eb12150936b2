"""The arXiv API's Atom answers (export.arxiv.org/api/query), parsed: a pure function on bytes.

:mod:`bot.ingest.arxiv_client` makes the requests and caches them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from bot.core.ids import try_parse_arxiv_id
from bot.core.text import collapse_whitespace, tex_to_unicode
from bot.ingest.sources.feed import FeedParseError, clean_title, entry_date, parse_bytes
from storage.models import PaperRecord

log = logging.getLogger(__name__)

QUERY_MAX_AGE = 86400.0  # arXiv asks not to repeat the same query within a day


class ArxivApiError(Exception):
    """arXiv answered with its error feed (one entry titled "Error"); the message is arXiv's."""


@dataclass
class ApiPage:
    """One page of API results."""

    papers: list[PaperRecord] = field(default_factory=list)
    total: int = 0
    start: int = 0
    per_page: int = 0


def parse_api_response(body: bytes, content_type: str = "") -> ApiPage:
    """Papers and paging figures from an API Atom response; raises on arXiv's error feed."""
    try:
        document, _problem = parse_bytes(body, content_type)
    except FeedParseError as exc:
        raise ArxivApiError(f"unreadable arXiv API response: {exc}") from None
    entries = document.entries
    if len(entries) == 1 and _is_error_entry(entries[0]):
        raise ArxivApiError(f"arXiv API error: {collapse_whitespace(entries[0].get('summary', ''))}")
    feed = document.feed
    page = ApiPage(total=_int(feed.get("opensearch_totalresults")),
                   start=_int(feed.get("opensearch_startindex")),
                   per_page=_int(feed.get("opensearch_itemsperpage")))
    for entry in entries:
        paper = paper_from_api_entry(entry)
        if paper is not None:
            page.papers.append(paper)
    return page


def _is_error_entry(entry: Any) -> bool:
    return entry.get("title", "").strip() == "Error" and "/api/errors" in entry.get("id", "")


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def paper_from_api_entry(entry: Any) -> PaperRecord | None:
    """One API entry as a paper record (its ``id`` is the abs URL with the version)."""
    arxiv_id = try_parse_arxiv_id(entry.get("id", ""))
    if arxiv_id is None:
        return None
    primary = (entry.get("arxiv_primary_category") or {}).get("term")
    categories = [t["term"] for t in entry.get("tags", []) if t.get("term")]
    if primary:
        categories = [primary] + [c for c in categories if c != primary]
    authors = [tex_to_unicode(collapse_whitespace(a["name"]))
               for a in entry.get("authors", []) if a.get("name")]
    return PaperRecord(
        arxiv_id=arxiv_id.base,
        version=arxiv_id.version or 1,
        title=clean_title(entry.get("title")),
        authors=authors,
        abstract=collapse_whitespace(entry.get("summary", "")),
        categories=categories,
        doi=entry.get("arxiv_doi") or None,
        journal_ref=collapse_whitespace(entry.get("arxiv_journal_ref", "")) or None,
        comment=collapse_whitespace(entry.get("arxiv_comment", "")) or None,
        published=entry_date(entry, "published_parsed"),
        updated=entry_date(entry, "updated_parsed"),
    )
