"""Delivery: digest messages from the outbox to Discord, exactly once.

Each message's nonce is stored (with its payload and items) before it is sent, and Discord's
``enforce_nonce`` makes a resend after a crash return the first message instead of a second one.
After a send, the message id is recorded and its items marked delivered in one transaction.
429: discord.py waits and goes on. 403/404 on a channel: the channel is paused with the reason and
its messages stay in the outbox. 5xx and network errors: left in the outbox for the next run.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import aiohttp
import discord
from discord.http import Route

from bot.digest import ChannelDigest, DigestBuilder
from bot.matching import Subscription
from bot.render import render_digest
from bot.schedule import next_due_text, utc_now
from storage.base import Store
from storage.models import ChannelSettings, OutboxMessage

log = logging.getLogger(__name__)

THREAD_ALREADY_EXISTS = 160004


class ChannelUnavailable(Exception):
    """The bot cannot post in the channel (403 Missing Access/Permissions, 404 Unknown Channel)."""


class SendFailed(Exception):
    """A send that may work later (5xx, network trouble)."""


class Sender(Protocol):
    """Where digest messages go; the Discord implementation is :class:`DiscordSender`."""

    async def send(self, channel_id: int, payload: dict[str, Any], nonce: str) -> int:
        """Post a message; returns its id."""

    async def start_thread(self, channel_id: int, message_id: int, name: str) -> int | None:
        """Start a thread from a message; its id, or None where threads are not allowed."""


class Pacer:
    """Spaces requests to stay under Discord's global limit instead of running into its 429s."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            now = time.monotonic()
            if self._next > now:
                await asyncio.sleep(self._next - now)
            self._next = max(now, self._next) + self.interval


class DiscordSender:
    """:class:`Sender` through discord.py's HTTP client (its rate-limit handling included)."""

    def __init__(self, client: discord.Client, requests_per_second: float = 48.0) -> None:
        self.client = client
        self.pacer = Pacer(requests_per_second)

    async def send(self, channel_id: int, payload: dict[str, Any], nonce: str) -> int:
        body = {**payload, "nonce": nonce, "enforce_nonce": True,
                "allowed_mentions": {"parse": []}}
        route = Route("POST", "/channels/{channel_id}/messages", channel_id=channel_id)
        data = await self._request(route, body)
        return int(data["id"])

    async def start_thread(self, channel_id: int, message_id: int, name: str) -> int | None:
        route = Route("POST", "/channels/{channel_id}/messages/{message_id}/threads",
                      channel_id=channel_id, message_id=message_id)
        try:
            data = await self._request(route, {"name": name[:100], "auto_archive_duration": 1440})
        except ChannelUnavailable:
            return None  # no Create Public Threads here: follow-ups go to the channel
        except SendFailed as exc:
            if getattr(exc.__cause__, "code", None) == THREAD_ALREADY_EXISTS:
                return message_id  # a thread started from a message has that message's id
            raise
        return int(data["id"])

    async def _request(self, route: Route, body: dict[str, Any]) -> Any:
        await self.pacer.wait()
        try:
            return await self.client.http.request(route, json=body)
        except discord.Forbidden as exc:
            raise ChannelUnavailable(f"missing access or permissions ({exc.status}: {exc.text})") from exc
        except discord.NotFound as exc:
            raise ChannelUnavailable(f"the channel no longer exists ({exc.status}: {exc.text})") from exc
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
            raise SendFailed(str(exc)) from exc


def new_nonce() -> str:
    """A nonce Discord accepts (at most 25 characters)."""
    return secrets.token_hex(12)



@dataclass
class DeliveryReport:
    """What one dispatcher run did."""

    channels: int = 0
    messages: int = 0
    paused: int = 0
    failed: int = 0


class Dispatcher:
    """Sends what is due: plans digests into the outbox, then delivers the outbox in order."""

    def __init__(self, store: Store, builder: DigestBuilder, sender: Sender,
                 subscriptions: Callable[[list[int]], Awaitable[list[Subscription]]],
                 clock: Callable[[], datetime] = utc_now, concurrency: int = 25) -> None:
        self.store = store
        self.builder = builder
        self.sender = sender
        self.subscriptions = subscriptions
        self.clock = clock
        self.stopping = False
        self._semaphore = asyncio.Semaphore(concurrency)
        self._run_lock = asyncio.Lock()

    async def wait_idle(self) -> None:
        """Return once no dispatcher run is in progress (the message in flight is finished)."""
        async with self._run_lock:
            return

    async def run_due(self) -> DeliveryReport:
        """Deliver every channel that is due now (or has unsent messages)."""
        async with self._run_lock:
            channels = await self.store.due_channels(self.clock().isoformat(timespec="seconds"))
            return await self._deliver(channels)

    async def run_now(self, channel_id: int) -> DeliveryReport:
        """``/digest now``: resume a paused channel and deliver what it has, whatever the time."""
        async with self._run_lock:
            await self.store.resume_channel(channel_id)
            channel = await self.store.get_channel(channel_id)
            if channel is None:
                return DeliveryReport()
            return await self._deliver([channel], keep_schedule=True)

    async def _deliver(self, channels: Sequence[ChannelSettings],
                       keep_schedule: bool = False) -> DeliveryReport:
        report = DeliveryReport(channels=len(channels))
        if not channels:
            return report
        pending = await self.store.channels_with_pending(c.channel_id for c in channels)
        fresh = [c for c in channels if c.channel_id not in pending]
        subs: list[Subscription] = await self.subscriptions([c.channel_id for c in fresh])
        digests = await self.builder.build(fresh, subs)
        await asyncio.gather(*(self._deliver_channel(c, digests.get(c.channel_id), keep_schedule, report)
                               for c in channels))
        return report

    async def _deliver_channel(self, channel: ChannelSettings, digest: ChannelDigest | None,
                               keep_schedule: bool, report: DeliveryReport) -> None:
        async with self._semaphore:
            if self.stopping:
                return
            outbox = await self._plan(channel, digest, keep_schedule) if digest else \
                await self.store.pending_outbox(channel.channel_id)
            if outbox:
                await self._send(channel, outbox, report)

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
            render_digest, [p.entry for p in digest.entries], date_text=local.strftime("%a %d %b %Y"),
            max_items_per_message=channel.max_items)
        keys_by_entry = {id(p.entry): p.keys for p in digest.entries}
        messages = [(new_nonce(), message.payload,
                     [key for entry in message.entries for key in keys_by_entry[id(entry)]])
                    for message in rendered]
        digest_id = f"{channel.channel_id}-{now.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"
        return await self.store.plan_digest(channel.channel_id, digest_id, messages, digest.cursor, next_due)

    async def _send(self, channel: ChannelSettings, outbox: list[OutboxMessage],
                    report: DeliveryReport) -> None:
        """Send the pending messages in order; the header first, the rest into its thread."""
        target: int | None = None
        for message in outbox:
            if message.status == "sent":
                target = message.target_channel_id if message.position > 0 else target
                continue
            if self.stopping:
                return
            try:
                if message.position > 0 and target is None:
                    target = await self._thread_target(channel, outbox)
                destination = channel.channel_id if message.position == 0 else target
                assert destination is not None
                message_id = await self.sender.send(destination, message.payload, message.nonce)
            except ChannelUnavailable as exc:
                log.warning("pausing digests of channel %s: %s", channel.channel_id, exc)
                await self.store.pause_channel(channel.channel_id, str(exc))
                report.paused += 1
                return
            except SendFailed as exc:
                log.warning("digest message for channel %s not sent, will retry: %s",
                            channel.channel_id, exc)
                report.failed += 1
                return
            await self.store.record_sent(message, message_id, destination)
            report.messages += 1

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

