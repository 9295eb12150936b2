"""Saves: a member saves a paper for a channel with one click; a second click takes it back.

A channel's saves teach its ranking what it cares about; each member counts once per paper.
"""

from __future__ import annotations

from collections.abc import Iterable

from storage.clock import iso_seconds
from storage.models import Save
from storage.sqlite.base import SQLiteBase


class SavesMixin(SQLiteBase):
    """:class:`storage.base.SaveStore` on SQLite."""

    async def toggle_save(self, channel_id: int, arxiv_id: str, user_id: int) -> bool:
        """Save the paper for the channel as this member, or take their save back; True when saved."""
        async with self._transaction() as db:
            cursor = await db.execute("DELETE FROM saves WHERE channel_id = ? AND arxiv_id = ?"
                                      " AND user_id = ?", (channel_id, arxiv_id, user_id))
            if cursor.rowcount > 0:
                return False
            await db.execute("INSERT INTO saves (channel_id, arxiv_id, user_id, saved_at) VALUES"
                             " (?, ?, ?, ?)", (channel_id, arxiv_id, user_id, iso_seconds(self._now())))
        return True

    async def list_saves(self, channel_ids: Iterable[int] | None = None) -> list[Save]:
        """Saves of some channels (all when None), oldest first."""
        sql = "SELECT channel_id, arxiv_id, user_id, saved_at FROM saves"
        if channel_ids is None:
            rows = await self._fetchall(sql + " ORDER BY channel_id, saved_at, arxiv_id, user_id")
        else:
            rows = await self._fetch_in(sql + " WHERE channel_id IN ({marks})", sorted(set(channel_ids)))
            rows = sorted(rows, key=lambda r: (r[0], r[3], r[1], r[2]))
        return [Save(int(r[0]), str(r[1]), int(r[2]), str(r[3])) for r in rows]
