"""Housekeeping and the operator's tools on PostgreSQL: alerts, pruning, counts, import, backup.

Pruning drops old delivery records and sent messages and moves the old-news horizon with them,
so an item whose delivery record was pruned is never delivered again. An import merges channels
and topics in one transaction. A backup of a PostgreSQL store is the server's business
(``pg_dump`` takes a consistent snapshot while the bot runs), so :meth:`backup_to` says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from storage.clock import iso_micros, iso_seconds
from storage.decisions import topic_stamp
from storage.errors import StoreError
from storage.models import ChannelSettings, Save, SubscriptionRow
from storage.postgres.base import TOPICS_LOCK, PostgresBase, shown_url

_COUNTED = ("papers", "paper_versions", "summaries", "feeds", "ingest_log")
_INSERT_CHANNEL = (
    "INSERT INTO channels (channel_id, guild_id, digest_time, timezone, frequency, weekday, max_items,"
    " include_replacements, layout, top, only_top, cursor_seq, next_due, paused_reason, paused_at,"
    " created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,"
    " (SELECT coalesce(max(seq), 0) FROM ingest_log), $12, $13::text,"
    " CASE WHEN $13::text IS NULL THEN NULL ELSE $14 END, $14)")
# SET expressions all see the row as it was, so the CASEs compare old and new.
_UPDATE_CHANNEL = (
    "UPDATE channels SET digest_time = $3, timezone = $4, frequency = $5, weekday = $6,"
    " max_items = $7, include_replacements = $8, layout = $9, top = $10, only_top = $11,"
    " next_due = CASE WHEN digest_time IS DISTINCT FROM $3 OR timezone IS DISTINCT FROM $4"
    "  OR frequency IS DISTINCT FROM $5 OR weekday IS DISTINCT FROM $6 THEN $12 ELSE next_due END,"
    " paused_at = CASE WHEN $13::text IS NULL THEN NULL"
    "  WHEN paused_reason IS NOT DISTINCT FROM $13::text THEN paused_at ELSE $14 END,"
    " paused_reason = $13::text"
    " WHERE channel_id = $1 AND guild_id = $2 AND (digest_time IS DISTINCT FROM $3"
    "  OR timezone IS DISTINCT FROM $4 OR frequency IS DISTINCT FROM $5"
    "  OR weekday IS DISTINCT FROM $6 OR max_items IS DISTINCT FROM $7"
    "  OR include_replacements IS DISTINCT FROM $8 OR layout IS DISTINCT FROM $9"
    "  OR top IS DISTINCT FROM $10 OR only_top IS DISTINCT FROM $11"
    "  OR paused_reason IS DISTINCT FROM $13::text)")


class AdminMixin(PostgresBase):
    """:class:`storage.base.AdminStore` on PostgreSQL."""

    # -- alerts ------------------------------------------------------------------------------

    async def open_alerts(self) -> set[str]:
        return {str(row[0]) for row in await self._fetch("SELECT key FROM alerts")}

    async def set_alert(self, key: str, is_open: bool) -> None:
        """Open an alert (it was sent) or close it (the problem is over)."""
        now = iso_seconds(self._now())
        if is_open:
            await self._execute("INSERT INTO alerts (key, opened_at) VALUES ($1, $2)"
                                " ON CONFLICT DO NOTHING", key, now)
        else:
            await self._execute("DELETE FROM alerts WHERE key = $1", key)

    # -- housekeeping ------------------------------------------------------------------------

    async def prune(self, deliveries_before: str, sent_before: str) -> dict[str, int]:
        """Drop delivery records and sent outbox rows older than the given instants; papers first
        ingested before the deliveries' cutoff become old news (see ``old_news_seq``)."""
        async with self._transaction():
            horizon = await self._scalar("SELECT coalesce(max(seq), 0) FROM ingest_log WHERE at < $1",
                                         deliveries_before)
            await self._execute(
                "INSERT INTO meta (key, value) VALUES ('old_news_seq', $1) ON CONFLICT (key) DO UPDATE"
                " SET value = greatest(meta.value::bigint, excluded.value::bigint)::text", str(horizon))
            deliveries = await self._execute("DELETE FROM deliveries WHERE delivered_at < $1",
                                             deliveries_before)
            sent = await self._execute("DELETE FROM outbox WHERE status = 'sent' AND sent_at < $1",
                                       sent_before)
            queries = await self._execute("DELETE FROM api_queries WHERE fetched_at < $1", deliveries_before)
        return {"deliveries": deliveries, "sent_messages": sent, "api_queries": queries,
                "old_news_seq": horizon}

    async def counts(self) -> dict[str, int]:
        return {table: await self._scalar(f"SELECT count(*) FROM {table}") for table in _COUNTED}

    async def size_bytes(self) -> int:
        """The store's tables with their indexes and TOAST, in bytes (its schema, not the server)."""
        return await self._scalar(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c"
            " WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'")

    # -- import ------------------------------------------------------------------------------

    async def import_channels(self, channels: Sequence[ChannelSettings],
                              subscriptions: Sequence[SubscriptionRow],
                              saves: Sequence[Save] = ()) -> tuple[int, int, int, int]:
        """Upsert channel settings and add subscriptions and saves in ONE transaction: all or nothing.

        The rules are the SQLite store's (see :meth:`storage.sqlite.admin.AdminMixin.import_channels`):
        a new channel starts at the current ingest seq; an existing one keeps its guild, cursor
        and creation time, and its ``next_due`` unless the schedule changed; topics are added in
        order or flipped, never removed; nothing is written when nothing differs.
        """
        moment = self._now()
        now = iso_seconds(moment)
        created = updated = flipped = 0
        async with self._transaction():
            await self._lock(TOPICS_LOCK)
            rows = await self._fetch("SELECT channel_id, guild_id FROM channels WHERE"
                                     " channel_id = ANY($1::bigint[])", [c.channel_id for c in channels])
            guild_of: dict[int, int] = {int(row[0]): int(row[1]) for row in rows}
            for settings in channels:
                values = _channel_values(settings, now)
                if settings.channel_id not in guild_of:
                    await self._execute(_INSERT_CHANNEL, *values)
                    guild_of[settings.channel_id] = settings.guild_id
                    created += 1
                    continue
                if guild_of[settings.channel_id] != settings.guild_id:
                    raise ValueError(f"channel {settings.channel_id} belongs to guild "
                                     f"{guild_of[settings.channel_id]} here, not {settings.guild_id}")
                updated += await self._execute(_UPDATE_CHANNEL, *values)
            rows = await self._fetch(
                "SELECT channel_id, kind, key, exclude FROM subscriptions"
                " WHERE channel_id = ANY($1::bigint[])",
                sorted({s.channel_id for s in subscriptions}))
            current: dict[tuple[int, str, str], bool] = {(r[0], r[1], r[2]): bool(r[3]) for r in rows}
            latest = await self._fetchrow("SELECT max(created_at) FROM subscriptions")
            inserts: list[tuple[Any, ...]] = []
            for position, row in enumerate(subscriptions):
                key = (row.channel_id, row.kind, row.key)
                if key not in current:
                    stamp = iso_micros(topic_stamp(moment, latest[0] if latest else None, position))
                    inserts.append((row.channel_id, row.kind, row.key, row.value, row.exclude, stamp))
                    current[key] = row.exclude
                elif current[key] != row.exclude:
                    await self._execute("UPDATE subscriptions SET value = $1, exclude = $2 WHERE"
                                        " channel_id = $3 AND kind = $4 AND key = $5",
                                        row.value, row.exclude, row.channel_id, row.kind, row.key)
                    current[key] = row.exclude
                    flipped += 1
            await self._executemany("INSERT INTO subscriptions (channel_id, kind, key, value, exclude,"
                                    " created_at) VALUES ($1, $2, $3, $4, $5, $6)", inserts)
            await self._executemany("INSERT INTO saves (channel_id, arxiv_id, user_id, saved_at)"
                                    " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                                    [(s.channel_id, s.arxiv_id, s.user_id, s.saved_at) for s in saves])
        return created, updated, len(inserts), flipped

    # -- backup ------------------------------------------------------------------------------

    async def backup_to(self, path: str | Path) -> None:
        """A PostgreSQL store is backed up by the server's tools, not copied to a file by Paperboy."""
        raise StoreError(f"store {shown_url(self.url)} is a PostgreSQL database: back it up with "
                         f"pg_dump (a consistent snapshot, also while the bot runs), not to {path}")


def _channel_values(settings: ChannelSettings, now: str) -> tuple[Any, ...]:
    """The parameters of :data:`_INSERT_CHANNEL` and :data:`_UPDATE_CHANNEL`, in order."""
    return (settings.channel_id, settings.guild_id, settings.digest_time, settings.timezone,
            settings.frequency, settings.weekday, settings.max_items, bool(settings.include_replacements),
            settings.layout, settings.top, bool(settings.only_top), settings.next_due,
            settings.paused_reason, now)
