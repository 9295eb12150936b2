"""Channels and what they follow: digest settings, subscriptions, the categories to poll.

A channel's ``cursor_seq`` starts at the current end of the ingest log: a new channel gets what
arrives from then on, never the store's backlog. Subscriptions are listed in the order they were
added (``created_at``, microseconds; see :func:`storage.decisions.topic_stamp`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from storage.clock import iso_micros, iso_seconds
from storage.decisions import topic_stamp
from storage.models import ChannelSettings, SubscriptionRow
from storage.sqlite.base import SQLiteBase
from storage.sqlite.rows import CHANNEL_COLUMNS, channel
from storage.sqlite.sql import Where

_SETTINGS = frozenset(CHANNEL_COLUMNS) - {"channel_id", "guild_id", "created_at"}
_SUBSCRIPTIONS = "SELECT channel_id, kind, key, value, exclude FROM subscriptions"


class ChannelsMixin(SQLiteBase):
    """:class:`storage.base.ChannelStore` on SQLite."""

    async def ensure_channel(self, guild_id: int, channel_id: int, digest_time: str, timezone: str,
                             next_due: str | None) -> ChannelSettings:
        """The channel's settings, created with the given defaults; a new channel starts from now."""
        now = iso_seconds(self._now())
        async with self._transaction() as db:
            await db.execute(
                "INSERT OR IGNORE INTO channels (channel_id, guild_id, digest_time, timezone,"
                " cursor_seq, next_due, created_at) VALUES (?, ?, ?, ?,"
                " (SELECT coalesce(max(seq), 0) FROM ingest_log), ?, ?)",
                (channel_id, guild_id, digest_time, timezone, next_due, now))
        settings = await self.get_channel(channel_id)
        if settings is None:  # only if another process deleted it in between
            raise LookupError(f"channel {channel_id} vanished from the store while it was set up")
        return settings

    async def get_channel(self, channel_id: int) -> ChannelSettings | None:
        row = await self._fetchone("SELECT * FROM channels WHERE channel_id = ?", (channel_id,))
        return channel(row) if row else None

    async def list_channels(self, guild_id: int | None = None) -> list[ChannelSettings]:
        where = Where() if guild_id is None else Where().add("guild_id = ?", guild_id)
        rows = await self._fetchall(f"SELECT * FROM channels{where} ORDER BY channel_id", where.params)
        return [channel(row) for row in rows]

    async def update_channel(self, channel_id: int, **changes: Any) -> None:
        """Change settings columns (digest_time, timezone, frequency, weekday, max_items, ...)."""
        unknown = set(changes) - _SETTINGS
        if unknown:
            raise ValueError(f"not channel settings: {sorted(unknown)}")
        if not changes:
            return
        assignments = ", ".join(f"{name} = ?" for name in changes)  # names checked above
        async with self._transaction() as db:
            await db.execute(f"UPDATE channels SET {assignments} WHERE channel_id = ?",
                             (*changes.values(), channel_id))

    async def add_subscription(self, row: SubscriptionRow) -> bool:
        """Follow (or exclude) a topic; False when the channel already had it the same way."""
        now = self._now()
        async with self._transaction() as db:
            latest = await self._fetchone("SELECT max(created_at) FROM subscriptions WHERE channel_id = ?",
                                          (row.channel_id,))
            stamp = iso_micros(topic_stamp(now, latest[0] if latest else None))
            cursor = await db.execute(
                "INSERT INTO subscriptions (channel_id, kind, key, value, exclude, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (channel_id, kind, key) DO UPDATE SET"
                " value = excluded.value, exclude = excluded.exclude"
                " WHERE subscriptions.exclude != excluded.exclude",
                (row.channel_id, row.kind, row.key, row.value, int(row.exclude), stamp))
            return cursor.rowcount > 0

    async def remove_subscription(self, channel_id: int, kind: str, key: str) -> bool:
        async with self._transaction() as db:
            cursor = await db.execute(
                "DELETE FROM subscriptions WHERE channel_id = ? AND kind = ? AND key = ?",
                (channel_id, kind, key))
            return cursor.rowcount > 0

    async def list_subscriptions(self, channel_ids: Iterable[int] | None = None) -> list[SubscriptionRow]:
        """Subscriptions of some channels (all when None), by channel, in the order they were added."""
        order = " ORDER BY channel_id, created_at"
        if channel_ids is None:
            rows = await self._fetchall(_SUBSCRIPTIONS + order)
        else:  # sorted, so the chunks come in channel order too
            rows = await self._fetch_in(f"{_SUBSCRIPTIONS} WHERE channel_id IN ({{marks}}){order}",
                                        sorted(set(channel_ids)))
        return [SubscriptionRow(r["channel_id"], r["kind"], r["key"], r["value"], bool(r["exclude"]))
                for r in rows]

    async def count_subscriptions(self, channel_id: int | None = None, guild_id: int | None = None) -> int:
        if channel_id is not None:
            return await self._scalar("SELECT count(*) FROM subscriptions WHERE channel_id = ?",
                                      (channel_id,))
        return await self._scalar("SELECT count(*) FROM subscriptions s JOIN channels c USING (channel_id)"
                                  " WHERE c.guild_id = ?", (guild_id,))

    async def followed_categories(self) -> list[str]:
        """Every category or archive some channel follows (they are polled too)."""
        rows = await self._fetchall("SELECT DISTINCT value FROM subscriptions WHERE kind IN"
                                    " ('category', 'archive') AND exclude = 0 ORDER BY value")
        return [row[0] for row in rows]
