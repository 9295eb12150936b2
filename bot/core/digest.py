"""What a channel gets: the items ingested after its cursor that match its topics, once each.

Items are deduplicated by paper (a paper and a new summary of it make one entry) and ordered:
papers by primary category, then summaries. A paper already delivered to the channel is not
delivered again for a new version or a cross-list unless the channel includes replacements.
No Discord here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot.core.matching import Subscription, SubscriptionIndex, matchable
from bot.core.ranking import Ranked
from bot.core.topics import Topic
from storage.base import DeliveryStore, IngestStore
from storage.models import ChannelSettings, IngestedItem, StoredPaper, StoredSummary


@dataclass
class DigestEntry:
    """One item of a digest: a paper (with any new summaries of it) or a summary without a paper.

    ``matched`` are the topic texts (``str(topic)``) the item matched; ``event`` is the paper's
    announce type (new, cross, replace, replace-cross, fetched, updated) or ``summary``/``edited``
    when the entry is there for its summaries.
    """

    paper: StoredPaper | None
    summaries: list[StoredSummary] = field(default_factory=list)
    matched: list[str] = field(default_factory=list)
    event: str = "new"


class DigestStore(IngestStore, DeliveryStore, Protocol):
    """The items after a cursor (ingest) and what each channel already got (delivery)."""


PAPER_EVENTS = frozenset({"new", "cross"})
REPLACEMENT_EVENTS = frozenset({"replace", "replace-cross", "updated"})

DeliveryKey = tuple[str, str, int]  # (kind, key, version)


@dataclass
class PlannedEntry:
    """A digest entry, the delivery keys it settles, and (once ranked) its place and reasons."""

    entry: DigestEntry
    keys: list[DeliveryKey] = field(default_factory=list)
    seq: int = 0
    ranked: Ranked | None = None


@dataclass
class ChannelDigest:
    """Everything one channel should receive now, and how far that takes its cursor."""

    channel: ChannelSettings
    entries: list[PlannedEntry]
    cursor: int


def wanted(item: IngestedItem, channel: ChannelSettings) -> bool:
    """Whether an event is news for the channel: new and cross-listed papers, new summaries."""
    if item.kind == "paper":
        return item.event in PAPER_EVENTS or (
            channel.include_replacements and item.event in REPLACEMENT_EVENTS)
    return item.event == "new" or (channel.include_replacements and item.event == "edited")


def _entry_key(item: IngestedItem) -> str:
    if item.paper is not None:
        return f"paper:{item.paper.arxiv_id}"
    assert item.summary is not None
    return f"paper:{item.summary.arxiv_id}" if item.summary.arxiv_id else f"summary:{item.summary.id}"


def _delivery_key(item: IngestedItem) -> DeliveryKey:
    if item.kind == "paper":
        assert item.paper is not None
        return ("paper", item.paper.arxiv_id, item.paper.latest_version)
    assert item.summary is not None
    version = item.seq if item.event == "edited" else 0
    return ("summary", str(item.summary.id), version)


class DigestBuilder:
    """Builds digests for many channels at once: one index, one pass over the items."""

    def __init__(self, store: DigestStore) -> None:
        self.store = store

    async def build(self, channels: Sequence[ChannelSettings],
                    subscriptions: Iterable[Subscription]) -> dict[int, ChannelDigest]:
        if not channels:
            return {}
        by_id = {c.channel_id: c for c in channels}
        since = min(c.cursor_seq for c in channels)
        items = await self.store.items_since(since)
        old_news = await self.store.old_news_seq()
        upto = max([since, *(i.seq for i in items)])
        index = SubscriptionIndex([s for s in subscriptions if s.channel_id in by_id])
        matched: dict[int, list[tuple[IngestedItem, frozenset[Topic]]]] = {c: [] for c in by_id}
        for item in items:
            for channel_id, topics in index.match(matchable(item)).items():
                channel = by_id[channel_id]
                if item.seq > channel.cursor_seq and wanted(item, channel) and not (
                        item.kind == "paper" and item.paper and item.paper.first_seq <= old_news):
                    matched[channel_id].append((item, topics))
        keys = {(kind, key) for hits in matched.values() for item, _t in hits
                for kind, key, _v in [_delivery_key(item)]}
        delivered = await self.store.delivered(by_id, keys)
        digests = {}
        for channel_id, hits in matched.items():
            entries = self._entries(by_id[channel_id], hits, delivered.get(channel_id, {}))
            digests[channel_id] = ChannelDigest(by_id[channel_id], entries, upto)
        return digests

    def _entries(self, channel: ChannelSettings, hits: list[tuple[IngestedItem, frozenset[Topic]]],
                 delivered: dict[tuple[str, str], set[int]]) -> list[PlannedEntry]:
        """Group hits by paper, drop what the channel already has, order papers then summaries."""
        grouped: dict[str, PlannedEntry] = {}
        for item, topics in hits:
            key = _delivery_key(item)
            versions = delivered.get((key[0], key[1]), set())
            if versions and (not channel.include_replacements or key[2] in versions):
                continue
            planned = grouped.setdefault(_entry_key(item), PlannedEntry(
                DigestEntry(paper=None, summaries=[], matched=[], event="summary"), seq=item.seq))
            self._merge(planned, item, topics, key)
        return sorted(grouped.values(), key=_order)

    @staticmethod
    def _merge(planned: PlannedEntry, item: IngestedItem, topics: frozenset[Topic],
               key: DeliveryKey) -> None:
        entry = planned.entry
        entry.paper = entry.paper or item.paper
        if item.kind == "paper":
            entry.event = item.event
        elif item.summary is not None:
            entry.summaries.append(item.summary)
        entry.matched = sorted({*entry.matched, *(str(t) for t in topics)})
        planned.keys.append(key)


def _order(planned: PlannedEntry) -> tuple[int, str, int]:
    """Papers first, by primary category; then entries that only bring summaries."""
    entry = planned.entry
    is_paper_event = entry.event != "summary"
    primary = entry.paper.categories[0] if entry.paper and entry.paper.categories else "~"
    return (0 if is_paper_event else 1, primary if is_paper_event else "", planned.seq)
