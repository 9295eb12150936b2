"""What a channel's digest settings may be: one home for the rules every door checks.

``/digest schedule``, an import file, the configuration's defaults and the commands' choice lists
all read these, so a rule (a range, a spelling, a default) is written once. Each check returns
the canonical value or raises :class:`ChannelRuleError` with a message that names no place; the
caller says where (``channels[3].weekday: ...``, ``digest.timezone: ...``).
"""

from __future__ import annotations

import difflib
from datetime import time
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.core.errors import UserError

FREQUENCIES = ("daily", "weekly", "instant")
DEFAULT_FREQUENCY = "daily"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKLY_DEFAULT_WEEKDAY = 0  # weekly without a day means Mondays
MAX_ITEMS_RANGE = (1, 50)
DEFAULT_MAX_ITEMS = 10
MAX_PAUSE_REASON = 300  # what the store keeps of a pause reason
LAYOUTS = ("compact", "cards")  # compact: top cards + ranked lines; cards: one card per paper
DEFAULT_LAYOUT = "compact"  # for channels that never chose
TOP_RANGE = (0, 50)
DEFAULT_TOP = 10
DEFAULT_TOPICS_PER_CHANNEL = 25
DEFAULT_TOPICS_PER_GUILD = 500


class ChannelRuleError(UserError):
    """A digest setting that breaks a rule; the message says what is allowed."""


def parse_clock(text: str) -> time:
    """``HH:MM`` (24-hour) as a time."""
    try:
        hours, minutes = text.strip().split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise ChannelRuleError(f"{text!r} is not a time of day as HH:MM, e.g. 08:00 or 17:30") from None


def check_clock(text: str) -> str:
    """A time of day in its canonical spelling (``8:5`` -> ``08:05``)."""
    return parse_clock(text).strftime("%H:%M")


def check_frequency(value: Any) -> str:
    if value not in FREQUENCIES:
        raise ChannelRuleError(f"{value!r} is not a frequency: one of {', '.join(FREQUENCIES)}")
    return str(value)


def parse_weekday(value: Any) -> int:
    """A weekday as 0 (Monday) to 6: its number, its name or a prefix of three letters or more."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 6:
        return value
    if isinstance(value, str):
        day = value.strip().lower()
        matches = [i for i, name in enumerate(WEEKDAYS) if name.startswith(day[:3])] if day else []
        if len(matches) == 1:
            return matches[0]
    raise ChannelRuleError(f"{value!r} is not a weekday: monday ... sunday, or 0 (Monday) to 6 (Sunday)")


def weekday_for(frequency: str, weekday: int | None) -> int | None:
    """The weekday a schedule keeps: weekly needs one (Monday unless chosen)."""
    if frequency == "weekly" and weekday is None:
        return WEEKLY_DEFAULT_WEEKDAY
    return weekday


def check_max_items(value: Any) -> int:
    low, high = MAX_ITEMS_RANGE
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ChannelRuleError(f"{value!r}: items per message must be between {low} and {high}")
    return value


def check_layout(value: Any) -> str:
    if value not in LAYOUTS:
        raise ChannelRuleError(f"{value!r} is not a layout: compact (the top papers as cards, the rest "
                               "as ranked lines) or cards (one card per paper)")
    return str(value)


def check_top(value: Any) -> int:
    low, high = TOP_RANGE
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ChannelRuleError(f"{value!r}: the number of top papers shown as cards must be between "
                               f"{low} and {high}")
    return value


def check_timezone(name: str) -> str:
    """An IANA zone name (case forgiven), or an error that suggests close ones."""
    name = name.strip()
    try:
        ZoneInfo(name)
        return name
    except (ZoneInfoNotFoundError, ValueError):
        pass
    lowered = _zones_by_lower_name()
    if name.lower() in lowered:
        return lowered[name.lower()]
    wanted = name.lower().replace(" ", "_")
    close = sorted(z for z in lowered.values() if wanted and wanted in z.lower())[:5]
    if not close:  # a typo rather than a part: America/New_Yrok
        close = [lowered[z] for z in difflib.get_close_matches(wanted, list(lowered), 3, 0.8)]
    hint = f" Did you mean {', '.join(close)}?" if close else " Use an IANA name such as Europe/Berlin."
    raise ChannelRuleError(f"{name!r} is not a time zone.{hint}")


def search_timezones(typed: str, limit: int = 25) -> list[str]:
    """Zone names containing the typed text, for autocomplete."""
    needle = typed.strip().lower().replace(" ", "_")
    return [z for z in sorted(_zones_by_lower_name().values()) if needle in z.lower()][:limit]


@lru_cache(maxsize=1)
def _zones_by_lower_name() -> dict[str, str]:
    return {zone.lower(): zone for zone in available_timezones()}


def describe_schedule(frequency: str, digest_time: str, timezone: str, weekday: int | None,
                      max_items: int, include_replacements: bool, layout: str | None = None,
                      top: int = DEFAULT_TOP, only_top: bool = False) -> str:
    """One line: when a channel's digests come."""
    if frequency == "instant":
        when = "after every poll (instant)"
    elif frequency == "weekly":
        when = f"weekly on {WEEKDAYS[weekday or 0].title()} at {digest_time} {timezone}"
    else:
        when = f"daily at {digest_time} {timezone}"
    extra = ", replacements included" if include_replacements else ""
    if (layout or DEFAULT_LAYOUT) == "compact":
        rest = "only those" if only_top else "the rest as ranked lines"
        shape = f"the top {top} papers as cards, {rest}"
    else:
        shape = f"one card per paper, up to {max_items} per message"
    return f"Digests: {when}, {shape}{extra}."
