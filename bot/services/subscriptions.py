"""What a channel follows and when it gets its digest: the service behind /subscribe and /digest.

No Discord here: the cogs pass ids and text in and show the :class:`UserError` messages out.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.core.config import Config
from bot.core.matching import Subscription
from bot.core.schedule import WEEKDAYS, next_due_text, parse_clock, utc_now
from bot.core.topics import Topic, TopicError, TopicKind, parse_subscription, parse_topic
from storage.base import Store
from storage.models import ChannelSettings, SubscriptionRow

FREQUENCIES = ("daily", "weekly", "instant")
MAX_ITEMS_RANGE = (1, 50)


class UserError(Exception):
    """Something the user asked that cannot be done; the message says what to do instead."""



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


class SubscriptionService:
    """Subscriptions and channel settings, with the limits and validation users see."""

    def __init__(self, config: Config, store: Store,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self.config = config
        self.store = store
        self.clock = clock

    @property
    def feed_names(self) -> list[str]:
        return [feed.name for feed in self.config.feeds]

    def parse(self, text: str) -> Topic:
        """The one topic parser, with this bot's feed names; errors become :class:`UserError`."""
        try:
            return parse_topic(text, self.feed_names)
        except TopicError as exc:
            raise UserError(str(exc)) from None

    def parse_subscription(self, text: str) -> tuple[Topic, bool]:
        """``(topic, exclude)``: a leading ``!`` excludes, as in every door."""
        try:
            return parse_subscription(text, self.feed_names)
        except TopicError as exc:
            raise UserError(str(exc)) from None

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
        changes: dict[str, object] = {}
        if request.time is not None:
            try:
                clock = parse_clock(request.time)
            except ValueError as exc:
                raise UserError(str(exc)) from None
            changes["digest_time"] = clock.strftime("%H:%M")
        if request.timezone is not None:
            changes["timezone"] = validate_timezone(request.timezone)
        if request.frequency is not None:
            if request.frequency not in FREQUENCIES:
                raise UserError(f"Frequency must be one of {', '.join(FREQUENCIES)}.")
            changes["frequency"] = request.frequency
        if request.weekday is not None:
            day = request.weekday.strip().lower()
            matches = [i for i, name in enumerate(WEEKDAYS) if name.startswith(day[:3])] if day else []
            if len(matches) != 1:
                raise UserError(f"{request.weekday!r} is not a weekday (monday ... sunday).")
            changes["weekday"] = matches[0]
        if (changes.get("frequency", channel.frequency) == "weekly"
                and changes.get("weekday", channel.weekday) is None):
            changes["weekday"] = 0
        if request.max_items is not None:
            low, high = MAX_ITEMS_RANGE
            if not low <= request.max_items <= high:
                raise UserError(f"max_items must be between {low} and {high}.")
            changes["max_items"] = request.max_items
        if request.include_replacements is not None:
            changes["include_replacements"] = int(request.include_replacements)
        return changes


def validate_timezone(name: str) -> str:
    """An IANA zone name, or a :class:`UserError` that suggests close ones."""
    name = name.strip()
    try:
        ZoneInfo(name)
        return name
    except (ZoneInfoNotFoundError, ValueError):
        pass
    lowered = {zone.lower(): zone for zone in available_timezones()}
    if name.lower() in lowered:
        return lowered[name.lower()]
    wanted = name.lower().replace(" ", "_")
    close = sorted(z for z in lowered.values() if wanted in z.lower())[:5]
    if not close:  # a typo rather than a part: America/New_Yrok
        close = [lowered[z] for z in difflib.get_close_matches(wanted, list(lowered), 3, 0.8)]
    hint = f" Did you mean {', '.join(close)}?" if close else " Use an IANA name such as Europe/Berlin."
    raise UserError(f"{name!r} is not a time zone.{hint}")


def search_timezones(prefix: str, limit: int = 25) -> list[str]:
    """Zone names containing the typed text, for autocomplete."""
    needle = prefix.strip().lower().replace(" ", "_")
    zones = sorted(available_timezones())
    return [z for z in zones if needle in z.lower()][:limit]


def describe_schedule(channel: ChannelSettings) -> str:
    """One line: when this channel's digests come."""
    if channel.frequency == "instant":
        when = "after every poll (instant)"
    elif channel.frequency == "weekly":
        when = (f"weekly on {WEEKDAYS[channel.weekday or 0].title()} at {channel.digest_time} "
                f"{channel.timezone}")
    else:
        when = f"daily at {channel.digest_time} {channel.timezone}"
    extra = ", replacements included" if channel.include_replacements else ""
    return f"Digests: {when}, up to {channel.max_items} items per message{extra}."
