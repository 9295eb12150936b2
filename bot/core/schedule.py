"""When a channel's next digest is due: its local time of day, in its time zone, daily or weekly.

Pure functions of a UTC instant; daylight-saving gaps and folds are handled by ``zoneinfo`` (a
08:00 that does not exist on a spring-forward day becomes the first valid instant after it).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.channel_rules import parse_clock


def next_due(after: datetime, digest_time: str, timezone: str, frequency: str,
             weekday: int | None = None) -> datetime | None:
    """The first digest instant strictly after ``after`` (UTC); None for instant channels."""
    if frequency == "instant":
        return None
    zone = ZoneInfo(timezone)
    clock = parse_clock(digest_time)
    local = after.astimezone(zone)
    day = local.date()
    for offset in range(0, 8 if frequency == "weekly" else 2):
        candidate_day = day + timedelta(days=offset)
        if frequency == "weekly" and candidate_day.weekday() != (weekday or 0):
            continue
        candidate = datetime.combine(candidate_day, clock, tzinfo=zone).astimezone(UTC)
        if candidate > after:
            return candidate
    # Only reached for weekly when today is the weekday but its time has passed.
    return datetime.combine(day + timedelta(days=7), clock, tzinfo=zone).astimezone(UTC)


def next_due_text(after: datetime, digest_time: str, timezone: str, frequency: str,
                  weekday: int | None = None) -> str | None:
    """:func:`next_due` as the ISO text the store keeps."""
    due = next_due(after, digest_time, timezone, frequency, weekday)
    return due.isoformat(timespec="seconds") if due else None
