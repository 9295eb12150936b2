"""What ``/paperboy status`` shows: feed health, a channel's digest state, paused channels.

The cog only formats these records; the owner view adds every feed and the store's size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from bot.services.fleet import fleet_view
from storage.base import AdminStore, ChannelStore, FeedStore, LeaseStore
from storage.models import ChannelSettings, FeedState

PAUSED_SHOWN = 10


class StatusStore(FeedStore, ChannelStore, AdminStore, LeaseStore, Protocol):
    """The roles status reads: feeds, channels, the store's counts and size, the fleet's leases."""


@dataclass
class Status:
    """The state a member may see from a channel."""

    healthy_feeds: int
    failing_feeds: list[FeedState]
    last_poll: str | None
    channel: ChannelSettings | None
    paused_elsewhere: list[ChannelSettings] = field(default_factory=list)


@dataclass
class OwnerStatus:
    """What only the bot's owner sees: every feed, every paused channel, the store."""

    feeds: list[FeedState]
    paused: list[ChannelSettings]
    papers: int
    summaries: int
    store_bytes: int
    fleet: list[str] = field(default_factory=list)  # the live processes: who polls, who delivers


class StatusService:
    """Reads the store's view of the bot's health."""

    def __init__(self, store: StatusStore) -> None:
        self.store = store

    async def status(self, channel_id: int | None, guild_id: int | None) -> Status:
        feeds = await self.store.list_feed_states()
        failing = [f for f in feeds if f.consecutive_failures > 0]
        last_poll = max((f.last_attempt for f in feeds if f.last_attempt), default=None)
        channel = await self.store.get_channel(channel_id) if channel_id is not None else None
        paused = [c for c in await self.store.list_channels(guild_id)
                  if c.paused_reason and c.channel_id != channel_id] if guild_id is not None else []
        return Status(len(feeds) - len(failing), failing, last_poll, channel, paused[:PAUSED_SHOWN])

    async def owner_status(self) -> OwnerStatus:
        counts = await self.store.counts()
        return OwnerStatus(
            feeds=await self.store.list_feed_states(),
            paused=[c for c in await self.store.list_channels() if c.paused_reason],
            papers=counts["papers"], summaries=counts["summaries"],
            store_bytes=await self.store.size_bytes(),
            fleet=(await fleet_view(self.store)).lines())
