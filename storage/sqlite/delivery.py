"""Digests and delivery: which channels are due, the outbox, and what each channel received.

A digest is planned in one transaction -- its messages into the outbox, the channel's cursor
past its items -- so from then on every item is either waiting in the outbox or delivered: a
crash loses nothing. Each message's nonce is stored before it is sent, and a sent message
records its items as delivered in the same transaction as its status.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from storage.clock import iso_seconds
from storage.models import ChannelSettings, OutboxMessage
from storage.sqlite.channels import ChannelsMixin
from storage.sqlite.rows import channel, outbox_message

DigestMessage = tuple[str, dict[str, Any], list[tuple[str, str, int]]]  # nonce, payload, items


class DeliveryMixin(ChannelsMixin):
    """:class:`storage.base.DeliveryStore` on SQLite."""

    async def due_channels(self, now: str) -> list[ChannelSettings]:
        """Channels whose digest is due, instant channels with news, and any with unsent messages."""
        rows = await self._fetchall(
            "SELECT * FROM channels WHERE paused_reason IS NULL AND ("
            " (frequency != 'instant' AND next_due IS NOT NULL AND next_due <= ?)"
            " OR (frequency = 'instant' AND cursor_seq < (SELECT coalesce(max(seq), 0) FROM ingest_log))"
            " OR EXISTS (SELECT 1 FROM outbox o WHERE o.channel_id = channels.channel_id"
            " AND o.status = 'pending')) ORDER BY next_due, channel_id", (now,))
        return [channel(row) for row in rows]

    async def delivered(self, channel_ids: Iterable[int], keys: Iterable[tuple[str, str]]
                        ) -> dict[int, dict[tuple[str, str], set[int]]]:
        """For (kind, key) pairs: per channel, the versions already delivered (absent: none).

        One query per chunk of keys for all the channels, however many are due at once.
        """
        channels = set(channel_ids)
        wanted = list(keys)
        found: dict[int, dict[tuple[str, str], set[int]]] = {}
        for kind in ("paper", "summary"):
            rows = await self._fetch_in(
                "SELECT channel_id, item_key, version FROM deliveries"
                " WHERE kind = ? AND item_key IN ({marks})",
                sorted({key for k, key in wanted if k == kind}), before=(kind,))
            for channel_id, item_key, version in rows:
                if channel_id in channels:
                    found.setdefault(channel_id, {}).setdefault((kind, item_key), set()).add(version)
        return found

    async def channels_with_pending(self, channel_ids: Iterable[int]) -> set[int]:
        """Which of these channels have digest messages in the outbox still to send."""
        rows = await self._fetchall("SELECT DISTINCT channel_id FROM outbox WHERE status = 'pending'")
        return {row[0] for row in rows} & set(channel_ids)

    async def plan_digest(self, channel_id: int, digest_id: str, messages: Sequence[DigestMessage],
                          cursor_seq: int, next_due: str | None) -> list[OutboxMessage]:
        """Store a digest's messages (nonce, payload, items) and move the cursor, in one go.

        From here the items are either in the outbox or delivered: a crash loses nothing.
        """
        now = iso_seconds(self._now())
        async with self._transaction() as db:
            await db.executemany(
                "INSERT INTO outbox (channel_id, digest_id, position, nonce, payload, items, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(channel_id, digest_id, position, nonce, json.dumps(payload, ensure_ascii=False),
                  json.dumps(items), now) for position, (nonce, payload, items) in enumerate(messages)])
            await db.execute(
                "UPDATE channels SET cursor_seq = max(cursor_seq, ?), next_due = ?,"
                " last_digest_at = ? WHERE channel_id = ?", (cursor_seq, next_due, now, channel_id))
        return await self.pending_outbox(channel_id)

    async def pending_outbox(self, channel_id: int) -> list[OutboxMessage]:
        """The unsent messages of a channel's oldest unfinished digest, plus its header if sent."""
        rows = await self._fetchall(
            "SELECT * FROM outbox WHERE digest_id = (SELECT digest_id FROM outbox WHERE"
            " channel_id = ? AND status = 'pending' ORDER BY id LIMIT 1) ORDER BY position", (channel_id,))
        return [outbox_message(row) for row in rows]

    async def record_sent(self, message: OutboxMessage, message_id: int, target_channel_id: int) -> None:
        """Record a sent message and mark its items delivered, in one transaction."""
        now = iso_seconds(self._now())
        async with self._transaction() as db:
            await db.execute(
                "UPDATE outbox SET status = 'sent', message_id = ?, target_channel_id = ?, sent_at = ?"
                " WHERE id = ?", (message_id, target_channel_id, now, message.id))
            await db.executemany(
                "INSERT OR IGNORE INTO deliveries (channel_id, kind, item_key, version, message_id,"
                " delivered_at) VALUES (?, ?, ?, ?, ?, ?)",
                [(message.channel_id, kind, key, version, message_id, now)
                 for kind, key, version in message.items])
        message.status, message.message_id, message.target_channel_id = "sent", message_id, target_channel_id

    async def record_attempt(self, message: OutboxMessage, target_channel_id: int, at: str) -> None:
        """Remember when (first) and where a message was handed to Discord, before it is sent.

        ``at`` is the sender's time (it compares it with the channel's history), not the store's."""
        async with self._transaction() as db:
            await db.execute(
                "UPDATE outbox SET attempted_at = coalesce(attempted_at, ?), attempt_target = ?"
                " WHERE id = ?", (at, target_channel_id, message.id))
        message.attempted_at = message.attempted_at or at
        message.attempt_target = target_channel_id

    async def advance_cursor(self, channel_id: int, cursor_seq: int, next_due: str | None) -> None:
        """A digest with nothing to send still moves the cursor and the next due time."""
        await self.update_channel(channel_id, cursor_seq=cursor_seq, next_due=next_due,
                                  last_digest_at=iso_seconds(self._now()))

    async def pause_channel(self, channel_id: int, reason: str) -> None:
        """Stop a channel's digests (a permission it lacks, a channel gone), keeping the first
        300 characters of the reason for /digest status."""
        await self.update_channel(channel_id, paused_reason=reason[:300], paused_at=iso_seconds(self._now()))

    async def resume_channel(self, channel_id: int) -> None:
        await self.update_channel(channel_id, paused_reason=None, paused_at=None)
