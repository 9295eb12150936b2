"""What the ranking reads: the newest papers as a text corpus, and summaries of many papers.

Ranking fits its text vectors on the store's newest papers (plus whatever a channel saved) and
weighs popularity from summaries (ShortScience votes, Hugging Face upvotes): reads only.
"""

from __future__ import annotations

from collections.abc import Iterable

from storage.models import StoredPaper, StoredSummary
from storage.sqlite.base import SQLiteBase
from storage.sqlite.rows import stored_paper, stored_summary


class CorpusMixin(SQLiteBase):
    """:class:`storage.base.CorpusStore` on SQLite."""

    async def recent_papers(self, limit: int) -> list[StoredPaper]:
        """The ``limit`` most recently ingested papers (without version lists), newest first."""
        rows = await self._fetchall("SELECT * FROM papers ORDER BY seq DESC LIMIT ?", (limit,))
        return [stored_paper(row) for row in rows]

    async def summaries_of(self, arxiv_ids: Iterable[str]) -> dict[str, list[StoredSummary]]:
        """The summaries linked to each of these papers, most voted first (absent: none)."""
        rows = await self._fetch_in("SELECT * FROM summaries WHERE arxiv_id IN ({marks})",
                                    sorted(set(arxiv_ids)))
        found: dict[str, list[StoredSummary]] = {}
        for row in rows:
            found.setdefault(str(row["arxiv_id"]), []).append(stored_summary(row))
        for summaries in found.values():
            summaries.sort(key=lambda s: (-(s.votes or 0), s.seq))
        return found
