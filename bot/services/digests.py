"""What a channel's digest holds: the one path that builds digests, for every door.

Delivery (the dispatcher), ``/digest preview`` and ``paperboy preview`` all ask this service; it
builds with :class:`bot.core.digest.DigestBuilder` and the channels' subscriptions, and leaves
rendering to the Discord side. No Discord here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from bot.core.clock import Clock, iso_seconds, utc_now
from bot.core.digest import ChannelDigest, DigestBuilder, DigestStore, PlannedEntry
from bot.core.matching import Subscription
from bot.core.topics import Topic
from bot.services.ranking import RankingService
from bot.services.subscriptions import SubscriptionService
from storage.models import ChannelSettings

PREVIEW_CHANNEL = 0  # the channel of ``paperboy preview``, which exists only there


class DigestService:
    """Digests of stored channels, of a channel's next digest so far, and of a topic list."""

    def __init__(self, store: DigestStore, subscriptions: SubscriptionService,
                 ranking: RankingService | None = None, clock: Clock = utc_now) -> None:
        self.store = store
        self.builder = DigestBuilder(store)
        self.subscriptions = subscriptions
        self.ranking = ranking
        self.clock = clock

    async def build(self, channels: Sequence[ChannelSettings]) -> dict[int, ChannelDigest]:
        """Each channel's digest from its cursor, with its own subscriptions, ranked by its saves."""
        subscriptions = await self.subscriptions.all_subscriptions([c.channel_id for c in channels])
        digests = await self.builder.build(channels, subscriptions)
        if self.ranking is not None:
            for channel_id, digest in digests.items():
                if digest.entries:
                    digest.entries = await self.ranking.rank_entries(digest.entries, channel_id=channel_id)
        return digests

    async def next_digest(self, channel_id: int) -> tuple[ChannelSettings, ChannelDigest]:
        """What the channel's next digest holds so far (``/digest preview``); a user error when
        the channel follows nothing."""
        channel = await self.subscriptions.followed_channel(channel_id)
        return channel, (await self.build([channel]))[channel_id]

    async def for_topics(self, topics: Sequence[tuple[Topic, bool]], since_seconds: float,
                         saved_ids: Sequence[str] = ()) -> ChannelDigest:
        """What a channel following ``topics`` (topic, exclude) and having saved ``saved_ids``
        would get from the items ingested in the last ``since_seconds`` (``paperboy preview``)."""
        start = iso_seconds(self.clock() - timedelta(seconds=since_seconds))
        channel = ChannelSettings(channel_id=PREVIEW_CHANNEL, guild_id=0, digest_time="08:00",
                                  timezone="UTC", cursor_seq=await self.store.seq_before(start))
        subscriptions = [Subscription(PREVIEW_CHANNEL, topic, exclude) for topic, exclude in topics]
        digest = (await self.builder.build([channel], subscriptions))[PREVIEW_CHANNEL]
        if self.ranking is not None and digest.entries:
            digest.entries = await self.ranking.rank_entries(digest.entries, saved_ids=list(saved_ids))
        return digest


def entries_json(entries: Sequence[PlannedEntry]) -> list[dict[str, Any]]:
    """The items of a digest in order: ``[{"kind", "arxiv_id", "title", "matched"}]``."""
    items: list[dict[str, Any]] = []
    for planned in entries:
        entry = planned.entry
        ranked = ({"rank": len(items) + 1, "score": planned.ranked.score,
                   "reasons": list(planned.ranked.reasons)} if planned.ranked else {})
        if entry.event != "summary" and entry.paper is not None:
            items.append({"kind": "paper", "arxiv_id": entry.paper.arxiv_id, "title": entry.paper.title,
                          "matched": list(entry.matched), **ranked})
        for summary in entry.summaries:
            items.append({"kind": "summary", "arxiv_id": summary.arxiv_id, "title": summary.title,
                          "matched": list(entry.matched)})
    return items
