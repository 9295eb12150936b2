"""The storage interface: what the pipeline may ask of a store, whatever database is behind it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from storage.models import (
    BatchResult,
    FeedState,
    PaperRecord,
    StoredPaper,
    StoredSummary,
    SummaryRecord,
)


class Store(Protocol):
    """A durable store of papers, summaries and feed state (SQLite now, PostgreSQL later)."""

    async def close(self) -> None:
        """Finish pending work and release the database."""

    async def apply_feed_batch(
        self, state: FeedState, papers: Sequence[PaperRecord], summaries: Sequence[SummaryRecord]
    ) -> BatchResult:
        """Store a feed's items and its new state in one transaction: all of it or nothing."""

    async def save_feed_state(self, state: FeedState) -> None:
        """Record a poll that produced no items (a failure, a 304)."""

    async def get_feed_state(self, name: str) -> FeedState | None:
        """The state saved by the last poll of a feed, if it was ever polled."""

    async def list_feed_states(self) -> list[FeedState]:
        """Every feed the store has seen."""

    async def get_paper(self, arxiv_id: str) -> StoredPaper | None:
        """A paper by its arXiv id without version."""

    async def missing_papers(self, arxiv_ids: Iterable[str]) -> set[str]:
        """Which of these ids the store has no paper for."""

    async def summaries_without_paper(self, limit: int = 100) -> list[str]:
        """arXiv ids that summaries point at but no stored paper has, oldest first."""

    async def summaries_for_paper(self, arxiv_id: str) -> list[StoredSummary]:
        """The summaries linked to a paper, most voted first."""

    async def api_query_fresh(self, query: str, max_age_seconds: float) -> bool:
        """Whether the same arXiv API query was already made within ``max_age_seconds``."""

    async def record_api_query(self, query: str, results: int) -> None:
        """Remember that an arXiv API query was made (arXiv asks not to repeat one within a day)."""

    async def counts(self) -> dict[str, int]:
        """Row counts (papers, versions, summaries, feeds, log) for status and tests."""
