"""The export file (version 1): its format, and reading one back with every entry checked.

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
          "layout": "compact",                 # compact | cards, or null (never chosen: compact)
          "top": 10,                           # compact: papers shown as full cards (0-50)
          "only_top": false,                   # compact: leave out the ranked lines after them
          "topics": [
            {"topic": "cs.LG", "exclude": false},
            {"topic": "author:Sergey Levine", "exclude": false},
            {"topic": "keyword:survey", "exclude": true}
          ],
          "saves": [                           # papers members saved for the channel (the ranking)
            {"arxiv_id": "1805.08296", "user_id": "80351110224678912",
             "saved_at": "2024-11-28T09:12:00+00:00"}
          ]
        }
      ]
    }

* Ids are strings of decimal digits: Discord snowflakes do not fit a double, and JSON numbers
  are doubles in many tools (``jq``, JavaScript), which would silently round them. An import
  rejects numbers rather than risk a rounded id.
* A topic is its canonical text in the one topic syntax (``bot.core.topics``), so it parses back to the
  same topic. ``feed:NAME`` only imports where a feed of that name is configured.
* Channels come in channel id order, topics in the order they were added, saves oldest first.
* ``layout``, ``top``, ``only_top`` and ``saves`` came after the first files of version 1; a file
  without them imports as before (layout never chosen, the top 10, no saves). An import adds saves
  the channel lacks and keeps the ones it has.
* Not exported: ingest cursors, next due times, the outbox and the delivery ledger. They describe
  what one store has served; in another store the sequence numbers mean nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from bot.core.channel_rules import (
    DEFAULT_FREQUENCY,
    DEFAULT_MAX_ITEMS,
    DEFAULT_TOP,
    MAX_PAUSE_REASON,
    ChannelRuleError,
    check_clock,
    check_frequency,
    check_layout,
    check_max_items,
    check_timezone,
    check_top,
    parse_weekday,
    weekday_for,
)
from bot.core.errors import UserError
from bot.core.ids import try_parse_arxiv_id
from bot.core.topics import Topic, TopicError, parse_subscription
from storage.models import ChannelSettings, Save

T = TypeVar("T")
FORMAT_KEY = "paperboy_export"
FORMAT_VERSION = 1

_SNOWFLAKE = re.compile(r"^[0-9]{1,20}$")
_MAX_SNOWFLAKE = 2**63 - 1  # SQLite INTEGER is signed 64-bit
_TOP_KEYS = {FORMAT_KEY, "exported_at", "channels"}
_CHANNEL_REQUIRED = ("guild_id", "channel_id", "digest_time", "timezone")
_CHANNEL_KEYS = {*_CHANNEL_REQUIRED, "frequency", "weekday", "max_items", "include_replacements",
                 "paused_reason", "layout", "top", "only_top", "topics", "saves"}
_TOPIC_KEYS = {"topic", "exclude"}
_SAVE_KEYS = {"arxiv_id", "user_id", "saved_at"}


class ImportFailure(UserError, ValueError):
    """An import file that cannot be imported; nothing was changed.

    The message starts with where the problem is (``channels[3].topics[1]``), also in ``where``.
    """

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}" if where else problem)
        self.where = where


@dataclass
class ImportEntry:
    """One validated channel of the file, with where it came from for error messages."""

    index: int
    settings: ChannelSettings
    topics: list[tuple[Topic, bool]]
    saves: list[Save]

    @property
    def where(self) -> str:
        return f"channels[{self.index}]"


# -- export ------------------------------------------------------------------------------------


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


def validate_document(document: Any, feeds: Collection[str]) -> list[ImportEntry]:
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
    entries: list[ImportEntry] = []
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


def _validate_channel(index: int, item: Any, feeds: Collection[str]) -> ImportEntry:
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
    frequency = _rule(check_frequency, item.get("frequency", DEFAULT_FREQUENCY), f"{where}.frequency")
    weekday = item.get("weekday")
    if weekday is not None:
        weekday = _rule(parse_weekday, weekday, f"{where}.weekday")
    weekday = weekday_for(frequency, weekday)  # as /digest schedule does
    max_items = _rule(check_max_items, item.get("max_items", DEFAULT_MAX_ITEMS), f"{where}.max_items")
    replacements = item.get("include_replacements", False)
    if not isinstance(replacements, bool):
        raise ImportFailure(f"{where}.include_replacements", f"expected true or false, got {replacements!r}")
    paused = item.get("paused_reason")
    if paused is not None and (not isinstance(paused, str) or not paused.strip()
                               or len(paused) > MAX_PAUSE_REASON):
        raise ImportFailure(f"{where}.paused_reason", f"expected null (not paused) or the reason as text "
                                                      f"of 1-{MAX_PAUSE_REASON} characters, got {paused!r}")
    layout = item.get("layout")
    if layout is not None:
        layout = _rule(check_layout, layout, f"{where}.layout")
    top = _rule(check_top, item.get("top", DEFAULT_TOP), f"{where}.top")
    only_top = item.get("only_top", False)
    if not isinstance(only_top, bool):
        raise ImportFailure(f"{where}.only_top", f"expected true or false, got {only_top!r}")
    settings = ChannelSettings(
        channel_id=channel_id, guild_id=guild_id, digest_time=digest_time, timezone=timezone,
        frequency=frequency, weekday=weekday, max_items=max_items, include_replacements=replacements,
        paused_reason=paused, layout=layout, top=top, only_top=only_top)
    return ImportEntry(index, settings, _validate_topics(item.get("topics", []), f"{where}.topics", feeds),
                       _validate_saves(channel_id, item.get("saves", []), f"{where}.saves"))


def _validate_saves(channel_id: int, items: Any, where: str) -> list[Save]:
    """Each save: an arXiv id (any style, stored in its base form), a member id, an ISO time."""
    if not isinstance(items, list):
        raise ImportFailure(where, f"expected a list of saves, got {_json_type(items)}")
    saves: dict[tuple[str, int], Save] = {}
    for index, item in enumerate(items):
        at = f"{where}[{index}]"
        if not isinstance(item, dict):
            raise ImportFailure(at, f"expected an object, got {_json_type(item)}")
        for key in sorted(_SAVE_KEYS):
            if key not in item:
                raise ImportFailure(at, f"missing {key!r}")
        _no_unknown_keys(item, _SAVE_KEYS, at)
        raw_id = item["arxiv_id"]
        arxiv_id = try_parse_arxiv_id(raw_id) if isinstance(raw_id, str) else None
        if arxiv_id is None:
            raise ImportFailure(f"{at}.arxiv_id", f"{raw_id!r} is not an arXiv id")
        user_id = _snowflake(item["user_id"], f"{at}.user_id")
        saved_at = _moment(item["saved_at"], f"{at}.saved_at")
        saves.setdefault((arxiv_id.base, user_id), Save(channel_id, arxiv_id.base, user_id, saved_at))
    return list(saves.values())


def _moment(value: Any, where: str) -> str:
    """An ISO 8601 time with its zone, as UTC text (how the store keeps times)."""
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ImportFailure(where, f"expected an ISO 8601 time with its zone such as "
                                   f"\"2024-11-28T09:12:00+00:00\", got {value!r}")
    return moment.astimezone(UTC).isoformat(timespec="seconds")


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


def _snowflake(value: Any, where: str) -> int:
    """A Discord id written as a string of digits, within SQLite's integer range."""
    if _is_int(value):
        raise ImportFailure(where, f"write ids as strings (\"{value}\"): JSON numbers lose the precision "
                                   f"of Discord ids in many tools")
    if not isinstance(value, str) or not _SNOWFLAKE.match(value) or not 0 < int(value) <= _MAX_SNOWFLAKE:
        raise ImportFailure(where, f"{value!r} is not a Discord id (a positive whole number as text)")
    return int(value)


def _rule(check: Callable[[Any], T], value: Any, where: str) -> T:
    """A channel rule's verdict, its message placed at ``where``."""
    try:
        return check(value)
    except ChannelRuleError as exc:
        raise ImportFailure(where, str(exc)) from None


def _clock(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ImportFailure(where, f"expected a time of day as \"HH:MM\", got {_json_type(value)}")
    return _rule(check_clock, value, where)


def _timezone(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ImportFailure(where, f"expected an IANA time zone name such as \"Europe/Berlin\", "
                                   f"got {value!r}")
    return _rule(check_timezone, value, where)


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
