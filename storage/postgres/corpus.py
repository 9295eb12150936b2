"""What the ranking reads on PostgreSQL: the newest papers as a text corpus, and the summaries of
many papers (their votes and upvotes are popularity). Reads only."""

from __future__ import annotations

from collections.abc import Iterable

from storage.models import StoredPaper, StoredSummary
from storage.postgres.base import PostgresBase
from storage.postgres.rows import stored_paper, stored_summary


class CorpusMixin(PostgresBase):
    """:class:`storage.base.CorpusStore` on PostgreSQL."""

    async def recent_papers(self, limit: int) -> list[StoredPaper]:
        """The ``limit`` most recently ingested papers (without version lists), newest first."""
        rows = await self._fetch("SELECT * FROM papers ORDER BY seq DESC LIMIT $1", limit)
        return [stored_paper(row) for row in rows]

    async def summaries_of(self, arxiv_ids: Iterable[str]) -> dict[str, list[StoredSummary]]:
        """The summaries linked to each of these papers, most voted first (absent: none)."""
        rows = await self._fetch("SELECT * FROM summaries WHERE arxiv_id = ANY($1::text[])"
                                 " ORDER BY coalesce(votes, 0) DESC, seq", sorted(set(arxiv_ids)))
        found: dict[str, list[StoredSummary]] = {}
        for row in rows:
            found.setdefault(str(row["arxiv_id"]), []).append(stored_summary(row))
        return found
