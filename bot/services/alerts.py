"""Owner alerts: one message when something needs a human, not one per failure.

A feed that has failed ``alerts.feed_failures`` polls in a row, and a channel whose digests are
paused, each open an alert: the owner (or the ops channel) is told once. The alert closes when the
feed recovers or the channel resumes, so a later failure is news again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from bot.core.config import Config
from storage.base import AdminStore, ChannelStore, FeedStore

log = logging.getLogger(__name__)

Notify = Callable[[str], Awaitable[None]]


class AlertStore(FeedStore, ChannelStore, AdminStore, Protocol):
    """The roles alerts read (feeds, channels) and write (the open alerts)."""


class OwnerAlerts:
    """Compares what is wrong now with the alerts already sent."""

    def __init__(self, store: AlertStore, config: Config, notify: Notify) -> None:
        self.store = store
        self.config = config
        self.notify = notify

    async def problems(self) -> dict[str, str]:
        """What needs the owner now, by alert key."""
        found: dict[str, str] = {}
        threshold = self.config.alerts.feed_failures
        for feed in await self.store.list_feed_states():
            if threshold and feed.consecutive_failures >= threshold:
                found[f"feed:{feed.name}"] = (
                    f"⚠️ Paperboy: the feed `{feed.name}` has failed {feed.consecutive_failures} polls "
                    f"in a row. Last error: {(feed.last_error or 'unknown')[:300]}. It backs off and "
                    f"tries again at {feed.next_poll} (UTC); `paperboy poll --feed {feed.name}` shows "
                    "the error now.")
        for channel in await self.store.list_channels():
            if channel.paused_reason:
                found[f"paused:{channel.channel_id}"] = (
                    f"⚠️ Paperboy: digests of <#{channel.channel_id}> (server {channel.guild_id}) are "
                    f"paused: {channel.paused_reason[:300]}. Nothing is lost; once the bot may post "
                    "there again, `/digest now` in that channel resumes it.")
        return found

    async def check(self) -> int:
        """Send what is new, close what is over; returns how many messages went out."""
        current = await self.problems()
        already = await self.store.open_alerts()
        sent = 0
        for key, text in current.items():
            if key in already:
                continue
            try:
                await self.notify(text)
            except Exception as exc:  # the owner's DMs closed, the ops channel gone: try next time
                log.warning("could not send the owner alert %s: %s", key, exc)
                continue
            await self.store.set_alert(key, True)
            sent += 1
        for key in already - current.keys():
            await self.store.set_alert(key, False)
        return sent
