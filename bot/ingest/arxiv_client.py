"""The arXiv API client: ``id_list`` in batches, ``search_query``, paging, through the shared HTTP
client (and so arXiv's limiter), remembering queries in the store so none repeats within a day.

The responses are parsed by :mod:`bot.ingest.sources.arxiv_api`, a pure function on bytes; this
module is the part that fetches and reads and writes the store's query cache.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from bot.core.config import ArxivConfig
from bot.ingest.http import FetchError, HttpClient
from bot.ingest.sources.arxiv_api import QUERY_MAX_AGE, ApiPage, parse_api_response
from storage.base import FeedStore
from storage.models import PaperRecord

log = logging.getLogger(__name__)


class ArxivApiClient:
    """Requests to the arXiv API, cached per query for a day in the store."""

    def __init__(self, http: HttpClient, config: ArxivConfig, store: FeedStore) -> None:
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
