"""Saves on PostgreSQL: a member saves a paper for a channel with one click; a second click
takes it back. A channel's saves teach its ranking what it cares about."""

from __future__ import annotations

from collections.abc import Iterable

from storage.clock import iso_seconds
from storage.models import Save
from storage.postgres.base import PostgresBase


class SavesMixin(PostgresBase):
    """:class:`storage.base.SaveStore` on PostgreSQL."""

    async def toggle_save(self, channel_id: int, arxiv_id: str, user_id: int) -> bool:
        """Save the paper for the channel as this member, or take their save back; True when saved."""
        async with self._transaction():
            if await self._execute("DELETE FROM saves WHERE channel_id = $1 AND arxiv_id = $2"
                                   " AND user_id = $3", channel_id, arxiv_id, user_id):
                return False
            await self._execute("INSERT INTO saves (channel_id, arxiv_id, user_id, saved_at) VALUES"
                                " ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                                channel_id, arxiv_id, user_id, iso_seconds(self._now()))
        return True

    async def list_saves(self, channel_ids: Iterable[int] | None = None) -> list[Save]:
        """Saves of some channels (all when None), oldest first."""
        sql = "SELECT channel_id, arxiv_id, user_id, saved_at FROM saves"
        order = " ORDER BY channel_id, saved_at, arxiv_id, user_id"
        if channel_ids is None:
            rows = await self._fetch(sql + order)
        else:
            rows = await self._fetch(sql + " WHERE channel_id = ANY($1::bigint[])" + order,
                                     sorted(set(channel_ids)))
        return [Save(int(r[0]), str(r[1]), int(r[2]), str(r[3])) for r in rows]
