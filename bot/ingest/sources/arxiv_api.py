"""The arXiv API (export.arxiv.org/api/query): ``id_list`` in batches, ``search_query``, paging.

Parsing is a pure function on bytes; :class:`ArxivApiClient` makes the requests through the shared
HTTP client (and so through arXiv's limiter) and remembers queries so none repeats within a day.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.core.config import ArxivConfig
from bot.core.ids import try_parse_arxiv_id
from bot.core.text import collapse_whitespace, tex_to_unicode
from bot.ingest.http import FetchError, HttpClient
from bot.ingest.sources.feed import FeedParseError, clean_title, entry_date, parse_bytes
from storage.base import Store
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


class ArxivApiClient:
    """Requests to the arXiv API, cached per query for a day in the store."""

    def __init__(self, http: HttpClient, config: ArxivConfig, store: Store) -> None:
        self.http = http
        self.config = config
        self.store = store

    async def _query(self, params: dict[str, str], cache_key: str) -> ApiPage:
        try:
            response = await self.http.get(self.config.api_url, params=params)
        except FetchError as exc:
            if exc.status == 400 and exc.body:  # arXiv explains a bad query in an error feed
                await asyncio.to_thread(parse_api_response, exc.body)
            raise
        page = await asyncio.to_thread(parse_api_response, response.body or b"",
                                       response.content_type)
        await self.store.record_api_query(cache_key, len(page.papers))
        return page

    async def fetch_by_ids(self, arxiv_ids: Sequence[str]) -> list[PaperRecord]:
        """The papers for these ids (batches of ``api_batch_size``); ids asked today are skipped."""
        wanted = [i for i in dict.fromkeys(arxiv_ids)
                  if not await self.store.api_query_fresh(f"id:{i}", QUERY_MAX_AGE)]
        papers: list[PaperRecord] = []
        size = self.config.api_batch_size
        for start in range(0, len(wanted), size):
            batch = wanted[start:start + size]
            params = {"id_list": ",".join(batch), "max_results": str(len(batch))}
            page = await self._query(params, f"ids:{','.join(batch)}")
            papers.extend(page.papers)
            for arxiv_id in batch:
                await self.store.record_api_query(f"id:{arxiv_id}", 1)
        return papers

    async def search(self, query: str, start: int = 0, max_results: int = 25,
                     sort_by: str = "relevance") -> ApiPage:
        """One page of a ``search_query`` (``ti:``, ``au:``, ``cat:`` ... with AND/OR/ANDNOT)."""
        params = {"search_query": query, "start": str(start), "max_results": str(max_results),
                  "sortBy": sort_by}
        return await self._query(params, f"search:{query}:{start}:{max_results}:{sort_by}")
