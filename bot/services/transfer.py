"""Export, import and backup: moving what channels follow between stores, and copying a store.

``paperboy export [--guild ID] > subs.json``, ``paperboy import subs.json`` and
``paperboy backup PATH`` are thin wrappers over :func:`export_document`, :func:`import_document`
and :func:`backup`.

The export format (version 1)
-----------------------------
One JSON object::

    {
      "paperboy_export": 1,
      "exported_at": "2024-11-28T09:00:00+00:00",
      "channels": [
        {
          "guild_id": "81384788765712384",
          "channel_id": "381870553235193857",
          "digest_time": "08:00",              # HH:MM, 24-hour, in the channel's time zone
          "timezone": "Europe/Berlin",         # IANA name
          "frequency": "weekly",               # daily | weekly | instant
          "weekday": 4,                        # 0 = Monday ... 6 = Sunday, or null
          "max_items": 10,                     # 1-50
          "include_replacements": false,
          "paused_reason": null,               # why deliveries stopped (e.g. lost access), or null
          "topics": [
            {"topic": "cs.LG", "exclude": false},
            {"topic": "author:Sergey Levine", "exclude": false},
            {"topic": "keyword:survey", "exclude": true}
          ]
        }
      ]
    }

* Ids are strings of decimal digits: Discord snowflakes do not fit a double, and JSON numbers
  are doubles in many tools (``jq``, JavaScript), which would silently round them. An import
  rejects numbers rather than risk a rounded id.
* A topic is its canonical text in the one topic syntax (``bot.core.topics``), so it parses back to the
  same topic. ``feed:NAME`` only imports where a feed of that name is configured.
* Channels come in channel id order, topics in the order they were added.
* Not exported: ingest cursors, next due times, the outbox and the delivery ledger. They describe
  what one store has served; in another store the sequence numbers mean nothing.

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

Backup
------
:func:`backup` copies the live store with SQLite's online backup (see
:meth:`storage.sqlite.SQLiteStore.backup_to`): consistent while the bot and a poll write, written
beside the target and renamed into place, then checked with ``PRAGMA integrity_check``.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sqlite3
from collections.abc import Collection, Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.core.config import Config
from bot.core.schedule import next_due_text, parse_clock
from bot.core.topics import Topic, TopicError, parse_subscription
from bot.services.subscriptions import FREQUENCIES, MAX_ITEMS_RANGE, UserError, validate_timezone
from storage.base import Store
from storage.models import ChannelSettings, SubscriptionRow
from storage.sqlite import utc_now

FORMAT_KEY = "paperboy_export"
FORMAT_VERSION = 1
MAX_PAUSE_REASON = 300  # what Store.pause_channel keeps

_SNOWFLAKE = re.compile(r"^[0-9]{1,20}$")
_MAX_SNOWFLAKE = 2**63 - 1  # SQLite INTEGER is signed 64-bit
_TOP_KEYS = {FORMAT_KEY, "exported_at", "channels"}
_CHANNEL_REQUIRED = ("guild_id", "channel_id", "digest_time", "timezone")
_CHANNEL_KEYS = {*_CHANNEL_REQUIRED, "frequency", "weekday", "max_items", "include_replacements",
                 "paused_reason", "topics"}
_TOPIC_KEYS = {"topic", "exclude"}


class ImportFailure(ValueError):
    """An import file that cannot be imported; nothing was changed.

    The message starts with where the problem is (``channels[3].topics[1]``), also in ``where``.
    """

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}" if where else problem)
        self.where = where


class BackupFailure(RuntimeError):
    """A backup copy that did not pass ``PRAGMA integrity_check``."""


@dataclass
class ImportReport:
    """What an import changed; ``changed`` is 0 when the store already held all of it."""

    channels_created: int = 0
    channels_updated: int = 0
    channels_unchanged: int = 0
    topics_added: int = 0
    topics_updated: int = 0  # followed <-> excluded
    topics_unchanged: int = 0

    @property
    def changed(self) -> int:
        return self.channels_created + self.channels_updated + self.topics_added + self.topics_updated

    def as_dict(self) -> dict[str, int]:
        return {**asdict(self), "changed": self.changed}


@dataclass
class _Entry:
    """One validated channel of the file, with where it came from for error messages."""

    index: int
    settings: ChannelSettings
    topics: list[tuple[Topic, bool]]

    @property
    def where(self) -> str:
        return f"channels[{self.index}]"


# -- export ------------------------------------------------------------------------------------


async def export_document(store: Store, guild_id: int | None = None) -> dict[str, Any]:
    """Every channel's settings and topics (one guild's with ``guild_id``), as version-1 JSON data."""
    channels = await store.list_channels(guild_id)
    rows = await store.list_subscriptions([channel.channel_id for channel in channels])
    topics: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        topics.setdefault(row.channel_id, []).append({"topic": row.value, "exclude": row.exclude})
    return {
        FORMAT_KEY: FORMAT_VERSION,
        "exported_at": utc_now(),
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
                "topics": topics.get(channel.channel_id, []),
            }
            for channel in channels
        ],
    }


def dump_document(document: dict[str, Any]) -> str:
    """The export as text: indented (diff- and edit-friendly), non-ASCII kept readable."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def load_document(text: str | bytes) -> Any:
    """Parse an export file's text; :class:`ImportFailure` when it is not JSON."""
    try:
        if isinstance(text, bytes | bytearray):
            text = bytes(text).decode("utf-8-sig")
        return json.loads(text.removeprefix("\ufeff"))
    except UnicodeDecodeError as exc:
        raise ImportFailure("", f"not a Paperboy export: the file is not UTF-8 text ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise ImportFailure("", f"not a Paperboy export: not JSON (line {exc.lineno}, column "
                                f"{exc.colno}: {exc.msg})") from None


# -- import ------------------------------------------------------------------------------------


def import_limits(config: Config) -> tuple[int, int]:
    """(topics per channel, topics per guild) from the configuration, for :func:`import_document`."""
    return config.digest.max_topics_per_channel, config.digest.max_topics_per_guild


def feed_names(config: Config) -> list[str]:
    """The configured feed names ``feed:`` topics may name."""
    return [feed.name for feed in config.feeds]


async def import_document(store: Store, document: Any, feeds: Collection[str],
                          limits: tuple[int, int], *, now: datetime | None = None) -> ImportReport:
    """Validate a whole export (parsed JSON, or its text) against the store, then apply it at once.

    ``feeds`` are the configured feed names; ``limits`` is (topics per channel, topics per guild).
    Raises :class:`ImportFailure` naming the bad entry; then nothing has changed.
    """
    if isinstance(document, str | bytes | bytearray):
        document = load_document(document)
    entries = _validate_document(document, feeds)
    await _check_against_store(store, entries, limits)
    moment = now or datetime.now(UTC)
    settings = []
    for entry in entries:
        channel = entry.settings
        channel.next_due = next_due_text(moment, channel.digest_time, channel.timezone,
                                         channel.frequency, channel.weekday)
        settings.append(channel)
    rows = [SubscriptionRow(entry.settings.channel_id, topic.kind.value, topic.key, str(topic), exclude)
            for entry in entries for topic, exclude in entry.topics]
    try:
        created, updated, added, flipped = await store.import_channels(settings, rows)
    except ValueError as exc:  # the store's own guard (a channel moved guilds since validation)
        raise ImportFailure("", str(exc)) from None
    return ImportReport(
        channels_created=created, channels_updated=updated,
        channels_unchanged=len(settings) - created - updated,
        topics_added=added, topics_updated=flipped, topics_unchanged=len(rows) - added - flipped)


def _validate_document(document: Any, feeds: Collection[str]) -> list[_Entry]:
    """Every channel entry checked and normalised, or the first problem as :class:`ImportFailure`."""
    if not isinstance(document, dict):
        raise ImportFailure("", f"not a Paperboy export: expected a JSON object, got "
                                f"{_json_type(document)}")
    if FORMAT_KEY not in document:
        raise ImportFailure("", f"not a Paperboy export: no {FORMAT_KEY!r} key "
                                f"(make one with `paperboy export`)")
    version = document[FORMAT_KEY]
    if not _is_int(version) or version != FORMAT_VERSION:
        raise ImportFailure(FORMAT_KEY, f"this file is format version {version!r}; this Paperboy "
                                        f"reads version {FORMAT_VERSION}")
    _no_unknown_keys(document, _TOP_KEYS, "")
    exported_at = document.get("exported_at")
    if exported_at is not None and not isinstance(exported_at, str):
        raise ImportFailure("exported_at", f"expected text or null, got {_json_type(exported_at)}")
    channels = document.get("channels")
    if not isinstance(channels, list):
        raise ImportFailure("channels", f"expected a list of channels, got {_json_type(channels)}")
    entries: list[_Entry] = []
    seen: dict[int, int] = {}
    for index, item in enumerate(channels):
        entry = _validate_channel(index, item, feeds)
        channel_id = entry.settings.channel_id
        if channel_id in seen:
            raise ImportFailure(f"channels[{index}].channel_id", f"channel {channel_id} is already "
                                f"channels[{seen[channel_id]}]; each channel may appear once")
        seen[channel_id] = index
        entries.append(entry)
    return entries


def _validate_channel(index: int, item: Any, feeds: Collection[str]) -> _Entry:
    where = f"channels[{index}]"
    if not isinstance(item, dict):
        raise ImportFailure(where, f"expected an object, got {_json_type(item)}")
    for key in _CHANNEL_REQUIRED:
        if key not in item:
            raise ImportFailure(where, f"missing {key!r}")
    _no_unknown_keys(item, _CHANNEL_KEYS, where)
    guild_id = _snowflake(item["guild_id"], f"{where}.guild_id")
    channel_id = _snowflake(item["channel_id"], f"{where}.channel_id")
    digest_time = _clock(item["digest_time"], f"{where}.digest_time")
    timezone = _timezone(item["timezone"], f"{where}.timezone")
    frequency = item.get("frequency", "daily")
    if frequency not in FREQUENCIES:
        raise ImportFailure(f"{where}.frequency", f"{frequency!r} is not one of {', '.join(FREQUENCIES)}")
    weekday = item.get("weekday")
    if weekday is not None and (not _is_int(weekday) or not 0 <= weekday <= 6):
        raise ImportFailure(f"{where}.weekday", f"{weekday!r} is not a weekday: 0 (Monday) to 6 "
                                                f"(Sunday), or null")
    if frequency == "weekly" and weekday is None:
        weekday = 0  # as /digest schedule does: weekly without a day means Mondays
    max_items = item.get("max_items", 10)
    low, high = MAX_ITEMS_RANGE
    if not _is_int(max_items) or not low <= max_items <= high:
        raise ImportFailure(f"{where}.max_items", f"{max_items!r} is not a whole number from {low} to {high}")
    replacements = item.get("include_replacements", False)
    if not isinstance(replacements, bool):
        raise ImportFailure(f"{where}.include_replacements", f"expected true or false, got {replacements!r}")
    paused = item.get("paused_reason")
    if paused is not None and (not isinstance(paused, str) or not paused.strip()
                               or len(paused) > MAX_PAUSE_REASON):
        raise ImportFailure(f"{where}.paused_reason", f"expected null (not paused) or the reason as text "
                                                      f"of 1-{MAX_PAUSE_REASON} characters, got {paused!r}")
    settings = ChannelSettings(
        channel_id=channel_id, guild_id=guild_id, digest_time=digest_time, timezone=timezone,
        frequency=frequency, weekday=weekday, max_items=max_items, include_replacements=replacements,
        paused_reason=paused)
    return _Entry(index, settings, _validate_topics(item.get("topics", []), f"{where}.topics", feeds))


def _validate_topics(items: Any, where: str, feeds: Collection[str]) -> list[tuple[Topic, bool]]:
    """Each topic through the one parser; the same topic twice in a channel is an error."""
    if not isinstance(items, list):
        raise ImportFailure(where, f"expected a list of topics, got {_json_type(items)}")
    topics: dict[Topic, int] = {}
    result: list[tuple[Topic, bool]] = []
    for index, item in enumerate(items):
        at = f"{where}[{index}]"
        explicit: bool | None = None
        if isinstance(item, str):
            text = item
        elif isinstance(item, dict):
            if "topic" not in item:
                raise ImportFailure(at, "missing 'topic'")
            _no_unknown_keys(item, _TOPIC_KEYS, at)
            text, explicit = item["topic"], item.get("exclude")
            if explicit is not None and not isinstance(explicit, bool):
                raise ImportFailure(f"{at}.exclude", f"expected true or false, got {explicit!r}")
        else:
            raise ImportFailure(at, f"expected {{\"topic\": ..., \"exclude\": ...}} or text, "
                                    f"got {_json_type(item)}")
        if not isinstance(text, str):
            raise ImportFailure(at, f"a topic is text, got {_json_type(text)}")
        try:
            topic, exclude = parse_subscription(text, feeds)  # "!cs.AI" excludes, as everywhere
        except TopicError as exc:
            message, shown = str(exc), text.strip()
            named = shown and shown in message  # most parser messages quote the text already
            raise ImportFailure(at, message if named else f"{text!r}: {message}") from None
        if explicit is not None and explicit != exclude:
            if exclude:
                raise ImportFailure(f"{at}.exclude", f"{text!r} starts with '!', which excludes it, "
                                                     "but exclude is false: write one or the other")
            exclude = explicit
        if topic in topics:
            raise ImportFailure(at, f"{text!r} is the same topic as {where}[{topics[topic]}] ({topic}); "
                                    f"list each topic once")
        topics[topic] = index
        result.append((topic, exclude))
    return result


async def _check_against_store(store: Store, entries: list[_Entry], limits: tuple[int, int]) -> None:
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


def _snowflake(value: Any, where: str) -> int:
    """A Discord id written as a string of digits, within SQLite's integer range."""
    if _is_int(value):
        raise ImportFailure(where, f"write ids as strings (\"{value}\"): JSON numbers lose the precision "
                                   f"of Discord ids in many tools")
    if not isinstance(value, str) or not _SNOWFLAKE.match(value) or not 0 < int(value) <= _MAX_SNOWFLAKE:
        raise ImportFailure(where, f"{value!r} is not a Discord id (a positive whole number as text)")
    return int(value)


def _clock(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ImportFailure(where, f"expected a time of day as \"HH:MM\", got {_json_type(value)}")
    try:
        return parse_clock(value).strftime("%H:%M")
    except ValueError as exc:
        raise ImportFailure(where, str(exc)) from None


def _timezone(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ImportFailure(where, f"expected an IANA time zone name such as \"Europe/Berlin\", "
                                   f"got {value!r}")
    try:
        return validate_timezone(value)
    except UserError as exc:
        raise ImportFailure(where, str(exc)) from None


def _no_unknown_keys(item: dict[str, Any], allowed: Iterable[str], where: str) -> None:
    unknown = sorted(set(item) - set(allowed))
    if unknown:
        raise ImportFailure(where, f"unknown key {unknown[0]!r} (known: {', '.join(sorted(allowed))})")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "text", bool: "true/false", int: "a number",
             float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


# -- backup ------------------------------------------------------------------------------------


async def backup(store: Store, path: str | Path) -> dict[str, Any]:
    """Copy the live store to ``path`` and prove the copy: ``{path, bytes, papers, integrity}``.

    Raises ValueError for the live file itself, :class:`BackupFailure` when the copy fails
    ``PRAGMA integrity_check`` (the full check, not only the quick one the copy passed before it
    was renamed into place).
    """
    await store.backup_to(path)
    return await asyncio.to_thread(inspect_copy, Path(path).expanduser().absolute())


def inspect_copy(path: Path) -> dict[str, Any]:
    """Open a copy read-only, run ``PRAGMA integrity_check`` and count its papers."""
    db = sqlite3.connect(path.as_uri() + "?mode=ro", uri=True)
    try:
        problems = [row[0] for row in db.execute("PRAGMA integrity_check")]
        if problems != ["ok"]:
            raise BackupFailure(f"{path} failed PRAGMA integrity_check: {'; '.join(problems[:5])}")
        (papers,) = db.execute("SELECT count(*) FROM papers").fetchone()
    finally:
        db.close()
    return {"path": str(path), "bytes": os.path.getsize(path), "papers": int(papers), "integrity": "ok"}
