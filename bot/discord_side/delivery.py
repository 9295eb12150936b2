"""Delivery: digest messages from the outbox to Discord, exactly once.

Each message's nonce is stored (with its payload and items) before it is sent, and Discord's
``enforce_nonce`` makes a resend after a crash return the first message instead of a second one.
After a send, the message id is recorded and its items marked delivered in one transaction.
Discord drops a repeated nonce only for a few minutes, so the time of the first attempt is stored
too: a message whose attempt is older than ``discord.nonce_window`` (a restart after a crash loop
or a reboot) is first looked for in the destination's history, and a matching message of the
bot's own counts as sent. Where the history cannot be read (no Read Message History), the message
is sent again with its nonce and a warning says it may show twice: a possible duplicate is
better than a lost digest.
429: discord.py waits and goes on. 403/404 on a channel: the channel is paused with the reason and
its messages stay in the outbox. 5xx and network errors: left in the outbox for the next run.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot.core.clock import Clock, utc_now
from bot.core.digest import ChannelDigest
from bot.core.schedule import next_due_text
from bot.discord_side.compact_render import render_for_channel, see_all_text
from bot.services.digests import DigestService
from bot.services.fleet import Fleet
from storage.base import ChannelStore, DeliveryStore
from storage.models import ChannelSettings, OutboxMessage

log = logging.getLogger(__name__)



class ChannelUnavailable(Exception):
    """The bot cannot post in the channel (403 Missing Access/Permissions, 404 Unknown Channel)."""


class SendFailed(Exception):
    """A send that may work later (5xx, network trouble)."""


class Sender(Protocol):
    """Where digest messages go; the Discord implementation is
    :class:`bot.discord_side.discord_sender.DiscordSender`."""

    @property
    def requests_per_second(self) -> float:
        """How fast it sends now (0: unpaced): a fleet claims as much work as that gets through."""

    async def send(self, channel_id: int, payload: dict[str, Any], nonce: str) -> int:
        """Post a message; returns its id."""

    async def find_sent(self, channel_id: int, payload: dict[str, Any], after_id: int,
                        probe_id: int | None = None) -> int | None:
        """The id of a message of ours with this payload posted after ``after_id``, if any;
        :class:`ChannelUnavailable` when the channel's history cannot be read (``probe_id``: a
        known message there, to tell "not found" from "not allowed to look")."""

    async def start_thread(self, channel_id: int, message_id: int, name: str) -> int | None:
        """Start a thread from a message; its id, or None where threads are not allowed."""


def new_nonce() -> str:
    """A nonce Discord accepts (at most 25 characters)."""
    return secrets.token_hex(12)


HISTORY_SLACK = timedelta(minutes=5)  # clocks differ: look a little before the recorded attempt
DISCORD_EPOCH_MS = 1_420_070_400_000


def snowflake_at(moment: datetime) -> int:
    """The smallest Discord id of a message created at ``moment``, for ``after=`` queries."""
    return max(int(moment.timestamp() * 1000) - DISCORD_EPOCH_MS, 0) << 22


@dataclass
class DeliveryReport:
    """What one dispatcher run did."""

    channels: int = 0
    messages: int = 0
    paused: int = 0
    failed: int = 0
    busy: int = 0  # channels another process of the fleet is delivering
    digests: int = 0  # channels that got at least one message

    def add(self, other: DeliveryReport) -> None:
        for name in (f.name for f in fields(self)):
            setattr(self, name, getattr(self, name) + getattr(other, name))


class DispatchStore(DeliveryStore, ChannelStore, Protocol):
    """The outbox and deliveries, and the channels' settings (``/digest now`` reads one)."""


class Dispatcher:
    """Sends what is due: plans digests into the outbox, then delivers the outbox in order."""

    def __init__(self, store: DispatchStore, digests: DigestService, sender: Sender, clock: Clock = utc_now,
                 concurrency: int = 25, nonce_window: float = 60.0, fleet: Fleet | None = None) -> None:
        self.store = store
        self.fleet = fleet  # several processes on one store: a channel is delivered by its claimant
        self.on_report: Callable[[DeliveryReport], None] | None = None  # the metrics, when enabled
        self.digests = digests
        self.sender = sender
        self.clock = clock
        self.nonce_window = timedelta(seconds=nonce_window)
        self.stopping = False
        self._semaphore = asyncio.Semaphore(concurrency)
        self._run_lock = asyncio.Lock()

    async def wait_idle(self) -> None:
        """Return once no dispatcher run is in progress (the message in flight is finished)."""
        async with self._run_lock:
            return

    async def run_due(self) -> DeliveryReport:
        """Deliver what is due now (or unsent); a fleet claims a batch at a time, until none is left.

        In a fleet the next batch is claimed and started while the last one still sends, so the
        pacer always has a request waiting: the pause between batches (reading what is due,
        claiming it, building its digests) would otherwise leave this process's share unused."""
        async with self._run_lock:
            if self.fleet is None:
                now = self.clock().isoformat(timespec="seconds")
                return await self._deliver(await self.store.due_channels(now))
            report, tried = DeliveryReport(), set[int]()  # a channel that failed waits for the next run
            sending: asyncio.Task[DeliveryReport] | None = None
            try:
                while not self.stopping and (batch := await self._claim_batch(self.fleet, tried)) is not None:
                    started = asyncio.create_task(self._deliver(batch))
                    if sending is not None:
                        report.add(await sending)
                    sending = started
                if sending is not None:
                    report.add(await sending)
            finally:
                if sending is not None and not sending.done():  # cancelled: the batch's claims expire
                    sending.cancel()
            return report

    async def _claim_batch(self, fleet: Fleet, tried: set[int]) -> list[ChannelSettings] | None:
        """Claim the next batch of due channels not tried in this run; None when none is left."""
        now = self.clock().isoformat(timespec="seconds")
        channels = [c for c in await self.store.due_channels(now) if c.channel_id not in tried]
        if not (claimed := await fleet.claim_some([c.channel_id for c in channels],
                                                  self.sender.requests_per_second)):
            return None
        tried |= claimed  # another process may have delivered one since the listing: read again
        channels = [c for c in await self.store.due_channels(now) if c.channel_id in claimed]
        await fleet.release_all(claimed - {c.channel_id for c in channels})
        return channels

    async def run_now(self, channel_id: int) -> DeliveryReport:
        """``/digest now``: resume a paused channel and deliver what it has, whatever the time."""
        async with self._run_lock:
            if self.fleet is not None and not await self.fleet.claim(channel_id):
                return DeliveryReport(busy=1)
            channel = await self.store.get_channel(channel_id)
            if channel is None:
                if self.fleet is not None:
                    await self.fleet.release(channel_id)
                return DeliveryReport()
            if channel.paused_reason:
                await self.store.resume_channel(channel_id)
                log.info("resumed digests of channel %s (server %s), paused since %s: %s", channel_id,
                         channel.guild_id, channel.paused_at, channel.paused_reason)
            return await self._deliver([channel], keep_schedule=True)

    async def _deliver(self, channels: Sequence[ChannelSettings],
                       keep_schedule: bool = False) -> DeliveryReport:
        report = DeliveryReport(channels=len(channels))
        if not channels:
            return report
        pending = await self.store.channels_with_pending(c.channel_id for c in channels)
        fresh = [c for c in channels if c.channel_id not in pending]
        digests = await self.digests.build(fresh)
        await asyncio.gather(*(self._deliver_channel(c, digests.get(c.channel_id), keep_schedule, report)
                               for c in channels))
        if self.on_report is not None:
            self.on_report(report)
        return report

    async def _deliver_channel(self, channel: ChannelSettings, digest: ChannelDigest | None,
                               keep_schedule: bool, report: DeliveryReport) -> None:
        try:
            await self._deliver_claimed(channel, digest, keep_schedule, report)
        finally:
            if self.fleet is not None:
                await self.fleet.release(channel.channel_id)

    async def _deliver_claimed(self, channel: ChannelSettings, digest: ChannelDigest | None,
                               keep_schedule: bool, report: DeliveryReport) -> None:
        async with self._semaphore:
            if self.stopping:
                return
            started = time.monotonic()
            outbox = await self._plan(channel, digest, keep_schedule) if digest else \
                await self.store.pending_outbox(channel.channel_id)
            if not outbox:
                if digest is not None:
                    log.info("digest for channel %s (server %s): nothing new", channel.channel_id,
                             channel.guild_id)
                return
            sent = await self._send(channel, outbox, report)
            report.digests += bool(sent)
            log.info("digest for channel %s (server %s): %d of %d message(s) sent, %d item(s), "
                     "%.1fs, %s", channel.channel_id, channel.guild_id, len(sent),
                     sum(1 for m in outbox if m.status == "pending") + len(sent),
                     sum(len(m.items) for m in sent), time.monotonic() - started,
                     "fresh" if digest is not None else "resumed from the outbox")

    async def _plan(self, channel: ChannelSettings, digest: ChannelDigest,
                    keep_schedule: bool) -> list[OutboxMessage]:
        """Render the digest and store its messages with their nonces (or just move the cursor)."""
        now = self.clock()
        next_due = channel.next_due if keep_schedule else next_due_text(
            now, channel.digest_time, channel.timezone, channel.frequency, channel.weekday)
        if not digest.entries:
            await self.store.advance_cursor(channel.channel_id, digest.cursor, next_due)
            return []
        local = now.astimezone(ZoneInfo(channel.timezone))
        rendered = await asyncio.to_thread(  # a 1,000-entry digest is CPU work: off the event loop
            render_for_channel, digest.entries, layout=channel.digest_layout, top=channel.top,
            only_top=channel.only_top, date_text=local.strftime("%a %d %b %Y"),
            max_items_per_message=channel.max_items, see_all=see_all_text(digest))
        messages = [(new_nonce(), message.payload,
                     [key for index in message.delivered_indexes for key in digest.entries[index].keys])
                    for message in rendered]
        digest_id = f"{channel.channel_id}-{now.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"
        return await self.store.plan_digest(channel.channel_id, digest_id, messages, digest.cursor, next_due)

    async def _send(self, channel: ChannelSettings, outbox: list[OutboxMessage],
                    report: DeliveryReport) -> list[OutboxMessage]:
        """Send the pending messages in order; the header first, the rest into its thread.

        Returns the messages this run sent (or found already sent).
        """
        target: int | None = None
        previous: dict[int, int] = {}  # destination -> the digest's last message there
        sent: list[OutboxMessage] = []
        for message in outbox:
            if message.status == "sent":
                target = message.target_channel_id if message.position > 0 else target
                if message.target_channel_id and message.message_id:
                    previous[message.target_channel_id] = message.message_id
                continue
            if self.stopping:
                break
            if self.fleet is not None and not await self.fleet.keep(channel.channel_id):
                report.failed += 1  # another process took the channel over: it sends the rest
                break
            try:
                if message.position > 0 and target is None:
                    target = await self._thread_target(channel, outbox)
                destination = channel.channel_id if message.position == 0 else target
                if destination is None:
                    raise SendFailed("no destination for a follow-up message")
                message_id = await self._send_once(message, destination, previous.get(destination))
            except ChannelUnavailable as exc:
                log.warning("pausing digests of channel %s (server %s): %s", channel.channel_id,
                            channel.guild_id, exc)
                await self.store.pause_channel(channel.channel_id, str(exc))
                report.paused += 1
                break
            except SendFailed as exc:
                log.warning("digest message for channel %s (server %s) not sent, will retry: %s",
                            channel.channel_id, channel.guild_id, exc)
                report.failed += 1
                break
            await self.store.record_sent(message, message_id, destination)
            previous[destination] = message_id
            sent.append(message)
            report.messages += 1
        return sent

    async def _send_once(self, message: OutboxMessage, destination: int, previous_id: int | None) -> int:
        """Send a message unless an earlier attempt, too old for its nonce, already posted it."""
        now = self.clock()
        if message.attempted_at is not None:
            attempted = datetime.fromisoformat(message.attempted_at)
            if now - attempted > self.nonce_window:
                found = await self._find_earlier(message, message.attempt_target or destination,
                                                 previous_id, attempted)
                if found is not None:
                    return found
        await self.store.record_attempt(message, destination, now.isoformat(timespec="milliseconds"))
        return await self.sender.send(destination, message.payload, message.nonce)

    async def _find_earlier(self, message: OutboxMessage, destination: int, previous_id: int | None,
                            attempted: datetime) -> int | None:
        """Look for the message in the destination's history: after the digest's previous message
        there, else after a little before the first attempt."""
        after = previous_id if previous_id is not None else snowflake_at(attempted - HISTORY_SLACK)
        try:
            found = await self.sender.find_sent(destination, message.payload, after, previous_id)
        except ChannelUnavailable as exc:
            log.warning("cannot read the history of channel %s to see whether digest message %s "
                        "(first sent at %s) arrived (%s): sending it again; it may show twice",
                        destination, message.id, message.attempted_at, exc)
            return None
        if found is not None:
            log.info("digest message %s was already posted in channel %s (message %s): not sent "
                     "again", message.id, destination, found)
        return found

    async def _thread_target(self, channel: ChannelSettings, outbox: list[OutboxMessage]) -> int:
        """The thread started from the header for follow-ups, or the channel where none can be."""
        header = outbox[0]
        assert header.message_id is not None, "follow-ups are sent after their header"
        thread = await self.sender.start_thread(channel.channel_id, header.message_id,
                                                _thread_name(header.payload))
        return thread if thread is not None else channel.channel_id


def _thread_name(payload: dict[str, Any]) -> str:
    content = str(payload.get("content") or "Paperboy digest")
    first_line = content.splitlines()[0].replace("*", "").strip()
    return first_line[:100] or "Paperboy digest"

