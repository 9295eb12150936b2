"""Feed state between polls, and the arXiv API queries already made (PostgreSQL).

A feed's state is written in the transaction of the batch it produced (see
:meth:`storage.postgres.ingest.IngestMixin.apply_feed_batch`), so an ETag never claims items the
store does not have; a poll with no items saves it alone.
"""

from __future__ import annotations

from storage.clock import iso_seconds
from storage.decisions import query_is_fresh
from storage.models import FeedState
from storage.postgres.base import PostgresBase
from storage.postgres.rows import FEED_COLUMNS, feed_state

_UPSERT_FEED = (f"INSERT INTO feeds ({', '.join(FEED_COLUMNS)}) VALUES"
                f" ({', '.join(f'${n}' for n in range(1, len(FEED_COLUMNS) + 1))})"
                " ON CONFLICT (name) DO UPDATE SET "
                + ", ".join(f"{c} = excluded.{c}" for c in FEED_COLUMNS if c != "name"))


class FeedsMixin(PostgresBase):
    """:class:`storage.base.FeedStore` on PostgreSQL."""

    async def _write_feed_state(self, state: FeedState) -> None:
        """Upsert a feed's state; inside :meth:`_transaction` when it goes with a batch."""
        await self._execute(_UPSERT_FEED, *[getattr(state, c) for c in FEED_COLUMNS])

    async def save_feed_state(self, state: FeedState) -> None:
        await self._write_feed_state(state)

    async def get_feed_state(self, name: str) -> FeedState | None:
        row = await self._fetchrow("SELECT * FROM feeds WHERE name = $1", name)
        return feed_state(row) if row else None

    async def list_feed_states(self) -> list[FeedState]:
        return [feed_state(row) for row in await self._fetch("SELECT * FROM feeds ORDER BY name")]

    async def api_query_fresh(self, query: str, max_age_seconds: float) -> bool:
        row = await self._fetchrow("SELECT fetched_at FROM api_queries WHERE query = $1", query)
        return row is not None and query_is_fresh(row[0], self._now(), max_age_seconds)

    async def record_api_query(self, query: str, results: int) -> None:
        await self._execute("INSERT INTO api_queries (query, fetched_at, results) VALUES ($1, $2, $3)"
                            " ON CONFLICT (query) DO UPDATE SET fetched_at = excluded.fetched_at,"
                            " results = excluded.results", query, iso_seconds(self._now()), results)
