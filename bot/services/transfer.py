"""Export and import: moving what channels follow (and their settings) between stores.

``paperboy export [--guild ID] > subs.json`` and ``paperboy import subs.json`` are thin wrappers
over these functions; the file format and its validation are :mod:`bot.services.export_format`.

Import rules
------------
* Everything is validated before anything is written; the first problem raises
  :class:`ImportFailure` naming the entry (``channels[3].topics[1]: unknown arXiv category
  'cs.lf'; did you mean cs.LG?``). Then one store transaction applies it all, or nothing.
* Hand-written files may leave out ``exported_at``, ``frequency`` (daily), ``weekday`` (null;
  Monday for weekly), ``max_items`` (10), ``include_replacements`` (false), ``paused_reason``
  (null) and ``topics`` (none), and may write a topic as a bare string: followed, or excluded
  when it starts with ``!`` (``"!cs.AI"``), the one topic syntax of every command.
  Unknown keys are errors, so a typo (``"timzone"``) is not silently ignored.
* A NEW channel starts at the importing store's current ingest sequence number: it gets what
  arrives from now on, not the store's backlog. Its next digest is due at its next digest time.
* An EXISTING channel keeps its cursor (nothing is delivered twice, nothing skipped), its last
  digest and its creation time. Its settings take the file's values, including the pause state
  (delete ``paused_reason`` to resume a channel); its next due time moves only if the schedule
  changed. A channel id that belongs to another guild in the store is an error.
* Topics merge: missing ones are added, one the channel has with the other exclude flag is flipped,
  none are removed. The per-channel and per-guild topic limits count what the store has plus what
  the file adds; entries that add nothing never fail on a limit.
* Importing the same file twice changes nothing the second time (:attr:`ImportReport.changed` is 0).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from bot.core.clock import Clock, iso_seconds, utc_now
from bot.core.config import Config
from bot.core.schedule import next_due_text
from bot.services.export_format import (
    FORMAT_KEY,
    FORMAT_VERSION,
    ImportEntry,
    ImportFailure,
    load_document,
    validate_document,
)
from storage.base import AdminStore, ChannelStore, IngestStore, SaveStore
from storage.models import SubscriptionRow


class TransferStore(ChannelStore, AdminStore, IngestStore, SaveStore, Protocol):
    """Channels, subscriptions and saves, read and merged in one transaction (``import_channels``)."""


@dataclass
class ImportReport:
    """What an import changed; ``changed`` is 0 when the store already held all of it."""

    channels_created: int = 0
    channels_updated: int = 0
    channels_unchanged: int = 0
    topics_added: int = 0
    topics_updated: int = 0  # followed <-> excluded
    topics_unchanged: int = 0
    saves_added: int = 0

    @property
    def changed(self) -> int:
        return (self.channels_created + self.channels_updated + self.topics_added + self.topics_updated
                + self.saves_added)

    def as_dict(self) -> dict[str, int]:
        return {**asdict(self), "changed": self.changed}


async def export_document(store: TransferStore, guild_id: int | None = None,
                          clock: Clock = utc_now) -> dict[str, Any]:
    """Every channel's settings and topics (one guild's with ``guild_id``), as version-1 JSON data."""
    channels = await store.list_channels(guild_id)
    channel_ids = [channel.channel_id for channel in channels]
    topics: dict[int, list[dict[str, Any]]] = {}
    for row in await store.list_subscriptions(channel_ids):
        topics.setdefault(row.channel_id, []).append({"topic": row.value, "exclude": row.exclude})
    saves: dict[int, list[dict[str, Any]]] = {}
    for save in await store.list_saves(channel_ids):
        saves.setdefault(save.channel_id, []).append(
            {"arxiv_id": save.arxiv_id, "user_id": str(save.user_id), "saved_at": save.saved_at})
    return {
        FORMAT_KEY: FORMAT_VERSION,
        "exported_at": iso_seconds(clock()),
        "channels": [
            {
                "guild_id": str(channel.guild_id),
                "channel_id": str(channel.channel_id),
                "digest_time": channel.digest_time,
                "timezone": channel.timezone,
                "frequency": channel.frequency,
                "weekday": channel.weekday,
                "max_items": channel.max_items,
                "include_replacements": bool(channel.include_replacements),
                "paused_reason": channel.paused_reason,
                "layout": channel.layout,
                "top": channel.top,
                "only_top": bool(channel.only_top),
                "topics": topics.get(channel.channel_id, []),
                "saves": saves.get(channel.channel_id, []),
            }
            for channel in channels
        ],
    }


def import_limits(config: Config) -> tuple[int, int]:
    """(topics per channel, topics per guild) from the configuration, for :func:`import_document`."""
    return config.digest.max_topics_per_channel, config.digest.max_topics_per_guild


def feed_names(config: Config) -> list[str]:
    """The configured feed names ``feed:`` topics may name."""
    return [feed.name for feed in config.feeds]


async def import_document(store: TransferStore, document: Any, feeds: Collection[str],
                          limits: tuple[int, int], *, clock: Clock = utc_now) -> ImportReport:
    """Validate a whole export (parsed JSON, or its text) against the store, then apply it at once.

    ``feeds`` are the configured feed names; ``limits`` is (topics per channel, topics per guild).
    Raises :class:`ImportFailure` naming the bad entry; then nothing has changed.
    """
    if isinstance(document, str | bytes | bytearray):
        document = load_document(bytes(document) if isinstance(document, bytearray) else document)
    entries = validate_document(document, feeds)
    await _check_against_store(store, entries, limits)
    moment = clock()
    settings = []
    for entry in entries:
        channel = entry.settings
        channel.next_due = next_due_text(moment, channel.digest_time, channel.timezone,
                                         channel.frequency, channel.weekday)
        settings.append(channel)
    rows = [SubscriptionRow(entry.settings.channel_id, topic.kind.value, topic.key, str(topic), exclude)
            for entry in entries for topic, exclude in entry.topics]
    saves = [save for entry in entries for save in entry.saves]
    had = {(s.channel_id, s.arxiv_id, s.user_id) for s in await store.list_saves(e.settings.channel_id
                                                                                 for e in entries)}
    try:
        created, updated, added, flipped = await store.import_channels(settings, rows, saves)
    except ValueError as exc:  # the store's own guard (a channel moved guilds since validation)
        raise ImportFailure("", str(exc)) from None
    return ImportReport(
        channels_created=created, channels_updated=updated,
        channels_unchanged=len(settings) - created - updated,
        topics_added=added, topics_updated=flipped, topics_unchanged=len(rows) - added - flipped,
        saves_added=sum(1 for s in saves if (s.channel_id, s.arxiv_id, s.user_id) not in had))


async def _check_against_store(store: TransferStore, entries: list[ImportEntry],
                               limits: tuple[int, int]) -> None:
    """Guild ownership and topic limits, counting what the store has plus what the file adds.

    An entry that adds no topic never fails a limit, so re-importing a file always succeeds even
    where a limit was lowered after the topics were added.
    """
    per_channel, per_guild = limits
    for entry in entries:
        existing = await store.get_channel(entry.settings.channel_id)
        if existing is not None and existing.guild_id != entry.settings.guild_id:
            raise ImportFailure(f"{entry.where}.guild_id",
                                f"channel {existing.channel_id} belongs to guild {existing.guild_id} in "
                                f"this store, not {entry.settings.guild_id}")
    stored: dict[int, set[tuple[str, str]]] = {}
    for row in await store.list_subscriptions([e.settings.channel_id for e in entries]):
        stored.setdefault(row.channel_id, set()).add((row.kind, row.key))
    guild_totals: dict[int, int] = {}
    for entry in entries:
        channel_id, guild_id = entry.settings.channel_id, entry.settings.guild_id
        have = stored.get(channel_id, set())
        new = {(topic.kind.value, topic.key) for topic, _ in entry.topics} - have
        if not new:
            continue
        total = len(have) + len(new)
        if total > per_channel:
            raise ImportFailure(f"{entry.where}.topics",
                                f"channel {channel_id} would have {total} topics ({len(have)} already, "
                                f"{len(new)} new); a channel can have at most {per_channel}")
        if guild_id not in guild_totals:
            guild_totals[guild_id] = await store.count_subscriptions(guild_id=guild_id)
        guild_totals[guild_id] += len(new)
        if guild_totals[guild_id] > per_guild:
            raise ImportFailure(f"{entry.where}.topics",
                                f"guild {guild_id} would have {guild_totals[guild_id]} topics across its "
                                f"channels by this entry; a server can have at most {per_guild}")
