"""Digests and delivery on PostgreSQL: which channels are due, the outbox, what each channel got.

A digest is planned in one transaction -- its messages into the outbox, the channel's cursor
past its items -- so from then on every item is either waiting in the outbox or delivered. Each
message's nonce is stored before it is sent, and a sent message records its items as delivered
in the same transaction as its status.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from storage.clock import iso_seconds
from storage.models import ChannelSettings, OutboxMessage
from storage.postgres.channels import ChannelsMixin
from storage.postgres.rows import channel, outbox_message

DigestMessage = tuple[str, dict[str, Any], list[tuple[str, str, int]]]  # nonce, payload, items


class DeliveryMixin(ChannelsMixin):
    """:class:`storage.base.DeliveryStore` on PostgreSQL."""

    async def due_channels(self, now: str) -> list[ChannelSettings]:
        """Channels whose digest is due, instant channels with news, and any with unsent messages."""
        rows = await self._fetch(
            "SELECT * FROM channels WHERE paused_reason IS NULL AND ("
            " (frequency != 'instant' AND next_due IS NOT NULL AND next_due <= $1)"
            " OR (frequency = 'instant' AND cursor_seq < (SELECT coalesce(max(seq), 0) FROM ingest_log))"
            " OR EXISTS (SELECT 1 FROM outbox o WHERE o.channel_id = channels.channel_id"
            " AND o.status = 'pending')) ORDER BY next_due NULLS FIRST, channel_id", now)
        return [channel(row) for row in rows]

    async def delivered(self, channel_ids: Iterable[int], keys: Iterable[tuple[str, str]]
                        ) -> dict[int, dict[tuple[str, str], set[int]]]:
        """For (kind, key) pairs: per channel, the versions already delivered (absent: none)."""
        channels = sorted(set(channel_ids))
        wanted = list(keys)
        found: dict[int, dict[tuple[str, str], set[int]]] = {}
        for kind in ("paper", "summary"):
            item_keys = sorted({key for k, key in wanted if k == kind})
            if not item_keys or not channels:
                continue
            rows = await self._fetch(
                "SELECT channel_id, item_key, version FROM deliveries WHERE kind = $1"
                " AND item_key = ANY($2::text[]) AND channel_id = ANY($3::bigint[])",
                kind, item_keys, channels)
            for channel_id, item_key, version in rows:
                found.setdefault(channel_id, {}).setdefault((kind, item_key), set()).add(version)
        return found

    async def channels_with_pending(self, channel_ids: Iterable[int]) -> set[int]:
        """Which of these channels have digest messages in the outbox still to send."""
        rows = await self._fetch("SELECT DISTINCT channel_id FROM outbox WHERE status = 'pending'"
                                 " AND channel_id = ANY($1::bigint[])", sorted(set(channel_ids)))
        return {int(row[0]) for row in rows}

    async def plan_digest(self, channel_id: int, digest_id: str, messages: Sequence[DigestMessage],
                          cursor_seq: int, next_due: str | None) -> list[OutboxMessage]:
        """Store a digest's messages (nonce, payload, items) and move the cursor, in one go.

        From here the items are either in the outbox or delivered: a crash loses nothing.
        """
        now = iso_seconds(self._now())
        async with self._transaction():
            await self._executemany(
                "INSERT INTO outbox (channel_id, digest_id, position, nonce, payload, items, created_at)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7)",
                [(channel_id, digest_id, position, nonce, json.dumps(payload, ensure_ascii=False),
                  json.dumps(items), now) for position, (nonce, payload, items) in enumerate(messages)])
            await self._execute(
                "UPDATE channels SET cursor_seq = greatest(cursor_seq, $1), next_due = $2,"
                " last_digest_at = $3 WHERE channel_id = $4", cursor_seq, next_due, now, channel_id)
        return await self.pending_outbox(channel_id)

    async def pending_outbox(self, channel_id: int) -> list[OutboxMessage]:
        """The unsent messages of a channel's oldest unfinished digest, plus its header if sent."""
        rows = await self._fetch(
            "SELECT * FROM outbox WHERE digest_id = (SELECT digest_id FROM outbox WHERE"
            " channel_id = $1 AND status = 'pending' ORDER BY id LIMIT 1) ORDER BY position", channel_id)
        return [outbox_message(row) for row in rows]

    async def record_sent(self, message: OutboxMessage, message_id: int, target_channel_id: int) -> None:
        """Record a sent message and mark its items delivered, in one transaction."""
        now = iso_seconds(self._now())
        async with self._transaction():
            await self._execute(
                "UPDATE outbox SET status = 'sent', message_id = $1, target_channel_id = $2, sent_at = $3"
                " WHERE id = $4", message_id, target_channel_id, now, message.id)
            await self._executemany(
                "INSERT INTO deliveries (channel_id, kind, item_key, version, message_id, delivered_at)"
                " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                [(message.channel_id, kind, key, version, message_id, now)
                 for kind, key, version in message.items])
        message.status, message.message_id, message.target_channel_id = "sent", message_id, target_channel_id

    async def record_attempt(self, message: OutboxMessage, target_channel_id: int, at: str) -> None:
        """Remember when (first) and where a message was handed to Discord, before it is sent.

        ``at`` is the sender's time (it compares it with the channel's history), not the store's."""
        await self._execute("UPDATE outbox SET attempted_at = coalesce(attempted_at, $1), attempt_target = $2"
                            " WHERE id = $3", at, target_channel_id, message.id)
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
