"""Feed state between polls, and the arXiv API queries already made.

A feed's state is written in the transaction of the batch it produced (see
:meth:`storage.sqlite.ingest.IngestMixin.apply_feed_batch`), so an ETag never claims items the
store does not have; a poll with no items saves it alone.
"""

from __future__ import annotations

from storage.clock import iso_seconds
from storage.decisions import query_is_fresh
from storage.models import FeedState
from storage.sqlite.base import SQLiteBase
from storage.sqlite.rows import FEED_COLUMNS, feed_state

_UPSERT_FEED = (f"INSERT INTO feeds ({', '.join(FEED_COLUMNS)}) VALUES ({', '.join('?' * len(FEED_COLUMNS))})"
                " ON CONFLICT (name) DO UPDATE SET "
                + ", ".join(f"{c} = excluded.{c}" for c in FEED_COLUMNS if c != "name"))


class FeedsMixin(SQLiteBase):
    """:class:`storage.base.FeedStore` on SQLite."""

    async def _write_feed_state(self, state: FeedState) -> None:
        """Upsert a feed's state; inside :meth:`_transaction`."""
        await self._db.execute(_UPSERT_FEED, [getattr(state, c) for c in FEED_COLUMNS])

    async def save_feed_state(self, state: FeedState) -> None:
        async with self._transaction():
            await self._write_feed_state(state)

    async def get_feed_state(self, name: str) -> FeedState | None:
        row = await self._fetchone("SELECT * FROM feeds WHERE name = ?", (name,))
        return feed_state(row) if row else None

    async def list_feed_states(self) -> list[FeedState]:
        return [feed_state(row) for row in await self._fetchall("SELECT * FROM feeds ORDER BY name")]

    async def api_query_fresh(self, query: str, max_age_seconds: float) -> bool:
        row = await self._fetchone("SELECT fetched_at FROM api_queries WHERE query = ?", (query,))
        return row is not None and query_is_fresh(row[0], self._now(), max_age_seconds)

    async def record_api_query(self, query: str, results: int) -> None:
        now = iso_seconds(self._now())
        async with self._transaction() as db:
            await db.execute("INSERT INTO api_queries (query, fetched_at, results) VALUES (?, ?, ?)"
                             " ON CONFLICT (query) DO UPDATE SET fetched_at = excluded.fetched_at,"
                             " results = excluded.results", (query, now, results))
