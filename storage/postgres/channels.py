"""Channels and what they follow: digest settings, subscriptions, the categories to poll (PostgreSQL).

A channel's ``cursor_seq`` starts at the current end of the ingest log: a new channel gets what
arrives from then on. Subscriptions are listed in the order they were added (``created_at``,
microseconds; see :func:`storage.decisions.topic_stamp`); adding topics takes the topics lock, so
two processes adding at once still give them growing stamps.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from storage.clock import iso_micros, iso_seconds
from storage.decisions import topic_stamp
from storage.models import ChannelSettings, SubscriptionRow
from storage.postgres.base import TOPICS_LOCK, PostgresBase
from storage.postgres.rows import CHANNEL_COLUMNS, channel

_SETTINGS = frozenset(CHANNEL_COLUMNS) - {"channel_id", "guild_id", "created_at"}
_BOOLEAN = frozenset({"include_replacements", "only_top"})
_SUBSCRIPTIONS = "SELECT channel_id, kind, key, value, exclude FROM subscriptions"


class ChannelsMixin(PostgresBase):
    """:class:`storage.base.ChannelStore` on PostgreSQL."""

    async def ensure_channel(self, guild_id: int, channel_id: int, digest_time: str, timezone: str,
                             next_due: str | None) -> ChannelSettings:
        """The channel's settings, created with the given defaults; a new channel starts from now."""
        await self._execute(
            "INSERT INTO channels (channel_id, guild_id, digest_time, timezone, cursor_seq, next_due,"
            " created_at) VALUES ($1, $2, $3, $4, (SELECT coalesce(max(seq), 0) FROM ingest_log), $5, $6)"
            " ON CONFLICT (channel_id) DO NOTHING",
            channel_id, guild_id, digest_time, timezone, next_due, iso_seconds(self._now()))
        settings = await self.get_channel(channel_id)
        if settings is None:  # only if another process deleted it in between
            raise LookupError(f"channel {channel_id} vanished from the store while it was set up")
        return settings

    async def get_channel(self, channel_id: int) -> ChannelSettings | None:
        row = await self._fetchrow("SELECT * FROM channels WHERE channel_id = $1", channel_id)
        return channel(row) if row else None

    async def list_channels(self, guild_id: int | None = None) -> list[ChannelSettings]:
        if guild_id is None:
            rows = await self._fetch("SELECT * FROM channels ORDER BY channel_id")
        else:
            rows = await self._fetch("SELECT * FROM channels WHERE guild_id = $1 ORDER BY channel_id",
                                     guild_id)
        return [channel(row) for row in rows]

    async def update_channel(self, channel_id: int, **changes: Any) -> None:
        """Change settings columns (digest_time, timezone, frequency, weekday, max_items, ...)."""
        unknown = set(changes) - _SETTINGS
        if unknown:
            raise ValueError(f"not channel settings: {sorted(unknown)}")
        if not changes:
            return
        names = list(changes)  # checked above: only column names reach the SQL text
        assignments = ", ".join(f"{name} = ${n}" for n, name in enumerate(names, start=2))
        values = [bool(changes[n]) if n in _BOOLEAN else changes[n] for n in names]
        await self._execute(f"UPDATE channels SET {assignments} WHERE channel_id = $1", channel_id, *values)

    async def add_subscription(self, row: SubscriptionRow) -> bool:
        """Follow (or exclude) a topic; False when the channel already had it the same way."""
        now = self._now()
        async with self._transaction():
            await self._lock(TOPICS_LOCK)
            latest = await self._fetchrow("SELECT max(created_at) FROM subscriptions WHERE channel_id = $1",
                                          row.channel_id)
            stamp = iso_micros(topic_stamp(now, latest[0] if latest else None))
            return await self._execute(
                "INSERT INTO subscriptions (channel_id, kind, key, value, exclude, created_at)"
                " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (channel_id, kind, key) DO UPDATE SET"
                " value = excluded.value, exclude = excluded.exclude"
                " WHERE subscriptions.exclude IS DISTINCT FROM excluded.exclude",
                row.channel_id, row.kind, row.key, row.value, row.exclude, stamp) > 0

    async def remove_subscription(self, channel_id: int, kind: str, key: str) -> bool:
        return await self._execute("DELETE FROM subscriptions WHERE channel_id = $1 AND kind = $2"
                                   " AND key = $3", channel_id, kind, key) > 0

    async def list_subscriptions(self, channel_ids: Iterable[int] | None = None) -> list[SubscriptionRow]:
        """Subscriptions of some channels (all when None), by channel, in the order they were added."""
        order = " ORDER BY channel_id, created_at"
        if channel_ids is None:
            rows = await self._fetch(_SUBSCRIPTIONS + order)
        else:
            rows = await self._fetch(f"{_SUBSCRIPTIONS} WHERE channel_id = ANY($1::bigint[]){order}",
                                     sorted(set(channel_ids)))
        return [SubscriptionRow(r["channel_id"], r["kind"], r["key"], r["value"], bool(r["exclude"]))
                for r in rows]

    async def count_subscriptions(self, channel_id: int | None = None, guild_id: int | None = None) -> int:
        if channel_id is not None:
            return await self._scalar("SELECT count(*) FROM subscriptions WHERE channel_id = $1", channel_id)
        return await self._scalar("SELECT count(*) FROM subscriptions s JOIN channels c USING (channel_id)"
                                  " WHERE c.guild_id = $1", guild_id)

    async def followed_categories(self) -> list[str]:
        """Every category or archive some channel follows (they are polled too)."""
        rows = await self._fetch("SELECT DISTINCT value FROM subscriptions WHERE kind IN"
                                 " ('category', 'archive') AND NOT exclude ORDER BY value")
        return [str(row[0]) for row in rows]
