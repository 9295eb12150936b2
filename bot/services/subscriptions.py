"""What a channel follows and when it gets its digest: the service behind /subscribe and /digest.

No Discord here: the cogs pass ids and text in and show the :class:`UserError` messages out.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core import channel_rules as rules
from bot.core.clock import Clock, utc_now
from bot.core.config import Config
from bot.core.errors import UserError
from bot.core.matching import Subscription
from bot.core.schedule import next_due_text
from bot.core.topics import Topic, TopicKind, parse_subscription, parse_topic
from storage.base import ChannelStore
from storage.models import ChannelSettings, SubscriptionRow

NOT_FOLLOWING = ("This channel follows nothing yet. A member with Manage Channels can start with "
                 "`/subscribe add topic:cs.LG`.")


def topic_of(row: SubscriptionRow) -> Topic:
    """A stored subscription as a Topic, without re-parsing (the key was computed when added)."""
    return Topic(kind=TopicKind(row.kind), value=row.value, key=row.key)


def subscription_of(row: SubscriptionRow) -> Subscription:
    return Subscription(channel_id=row.channel_id, topic=topic_of(row), exclude=row.exclude)


@dataclass
class ScheduleRequest:
    """The options of ``/digest schedule``; None keeps the current value."""

    time: str | None = None
    timezone: str | None = None
    frequency: str | None = None
    weekday: str | None = None
    max_items: int | None = None
    include_replacements: bool | None = None
    layout: str | None = None
    top: int | None = None
    only_top: bool | None = None


class SubscriptionService:
    """Subscriptions and channel settings, with the limits and validation users see."""

    def __init__(self, config: Config, store: ChannelStore,
                 clock: Clock = utc_now) -> None:
        self.config = config
        self.store = store
        self.clock = clock

    @property
    def feed_names(self) -> list[str]:
        return [feed.name for feed in self.config.feeds]

    def parse(self, text: str) -> Topic:
        """The one topic parser, with this bot's feed names (a :class:`TopicError` is a user error)."""
        return parse_topic(text, self.feed_names)

    def parse_subscription(self, text: str) -> tuple[Topic, bool]:
        """``(topic, exclude)``: a leading ``!`` excludes, as in every door."""
        return parse_subscription(text, self.feed_names)

    async def channel(self, guild_id: int, channel_id: int) -> ChannelSettings:
        """The channel's settings, created with the configured default schedule on first use."""
        existing = await self.store.get_channel(channel_id)
        if existing is not None:
            return existing
        digest = self.config.digest
        due = next_due_text(self.clock(), digest.time, digest.timezone, "daily")
        return await self.store.ensure_channel(guild_id, channel_id, digest.time, digest.timezone, due)

    async def add(self, guild_id: int, channel_id: int, text: str,
                  exclude: bool = False) -> tuple[Topic, bool]:
        """Follow (or exclude: ``exclude`` or a leading ``!``) a topic, within the limits.

        Returns the topic as read and whether the channel now excludes it.
        """
        topic, excluded = self.parse_subscription(text)
        exclude = exclude or excluded
        await self.channel(guild_id, channel_id)
        current = {topic_of(r): r for r in await self.store.list_subscriptions([channel_id])}
        if topic in current and current[topic].exclude == exclude:
            raise UserError(f"This channel already {'excludes' if exclude else 'follows'} {topic}.")
        if topic not in current:
            await self._check_limits(guild_id, channel_id)
        await self.store.add_subscription(SubscriptionRow(channel_id, topic.kind.value, topic.key,
                                                          str(topic), exclude))
        return topic, exclude

    async def _check_limits(self, guild_id: int, channel_id: int) -> None:
        limits = self.config.digest
        if await self.store.count_subscriptions(channel_id=channel_id) >= limits.max_topics_per_channel:
            raise UserError(f"This channel already has {limits.max_topics_per_channel} topics, the "
                            "most a channel can have. Remove one with /subscribe remove first.")
        if await self.store.count_subscriptions(guild_id=guild_id) >= limits.max_topics_per_guild:
            raise UserError(f"This server already has {limits.max_topics_per_guild} topics across its "
                            "channels, the most a server can have. Remove some first.")

    async def remove(self, channel_id: int, text: str) -> Topic:
        rows = await self.store.list_subscriptions([channel_id])
        stored = {r.value: r for r in rows}
        row = stored.get(text.strip())
        topic = topic_of(row) if row else self.parse(text)
        if not await self.store.remove_subscription(channel_id, topic.kind.value, topic.key):
            raise UserError(f"This channel does not follow {topic}. /subscribe list shows what it follows.")
        return topic

    async def topics(self, channel_id: int) -> list[SubscriptionRow]:
        return await self.store.list_subscriptions([channel_id])

    async def settings(self, channel_id: int) -> ChannelSettings | None:
        """The channel's settings, or None when it was never set up."""
        return await self.store.get_channel(channel_id)

    async def followed_channel(self, channel_id: int) -> ChannelSettings:
        """The settings of a channel that follows something; a :class:`UserError` otherwise."""
        channel = await self.store.get_channel(channel_id)
        if channel is None:
            raise UserError(NOT_FOLLOWING)
        return channel

    async def all_subscriptions(self, channel_ids: list[int] | None = None) -> list[Subscription]:
        return [subscription_of(r) for r in await self.store.list_subscriptions(channel_ids)]

    async def schedule(self, guild_id: int, channel_id: int, request: ScheduleRequest) -> ChannelSettings:
        """Change when and how the channel gets digests; the next due time follows."""
        channel = await self.channel(guild_id, channel_id)
        changes = self._validated(request, channel)
        merged = {**channel.__dict__, **changes}
        changes["next_due"] = next_due_text(self.clock(), merged["digest_time"], merged["timezone"],
                                            merged["frequency"], merged["weekday"])
        await self.store.update_channel(channel_id, **changes)
        updated = await self.store.get_channel(channel_id)
        assert updated is not None
        return updated

    def _validated(self, request: ScheduleRequest, channel: ChannelSettings) -> dict[str, object]:
        """The request's changes, each through the one channel rule for it."""
        changes: dict[str, object] = {}
        if request.time is not None:
            changes["digest_time"] = rules.check_clock(request.time)
        if request.timezone is not None:
            changes["timezone"] = rules.check_timezone(request.timezone)
        if request.frequency is not None:
            changes["frequency"] = rules.check_frequency(request.frequency)
        if request.weekday is not None:
            changes["weekday"] = rules.parse_weekday(request.weekday)
        weekday = rules.weekday_for(str(changes.get("frequency", channel.frequency)),
                              changes.get("weekday", channel.weekday))  # type: ignore[arg-type]
        if weekday != channel.weekday:
            changes["weekday"] = weekday
        if request.max_items is not None:
            changes["max_items"] = rules.check_max_items(request.max_items)
        if request.include_replacements is not None:
            changes["include_replacements"] = int(request.include_replacements)
        if request.layout is not None:
            changes["layout"] = rules.check_layout(request.layout)
        if request.top is not None:
            changes["top"] = rules.check_top(request.top)
        if request.only_top is not None:
            changes["only_top"] = int(request.only_top)
        return changes


def describe_schedule(channel: ChannelSettings) -> str:
    """One line: when this channel's digests come."""
    return rules.describe_schedule(channel.frequency, channel.digest_time, channel.timezone,
                                   channel.weekday, channel.max_items, channel.include_replacements,
                                   channel.layout, channel.top, channel.only_top)
