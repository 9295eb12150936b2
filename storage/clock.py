"""The store's one clock, and the text it keeps for an instant.

Every timestamp the store writes or compares comes from the :data:`Clock` it was opened with
(``open_store(path, clock=...)``), so a test that hands the store its own clock governs all of
them: ingest times, digest and delivery times, pauses, alerts, API query ages, subscription order
and leases. Only :func:`utc_now`, the default, reads the wall clock.
``bot.core.clock`` is this clock, re-exported for the bot.

Instants are stored as ISO 8601 UTC text (``2024-11-25T08:00:00+00:00``), which sorts as time
does as long as one column keeps one precision: seconds almost everywhere, milliseconds for
leases (a lease lives for seconds), microseconds for subscriptions (their ``created_at`` orders a
channel's topics, and several can be added within one second).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
"""Returns now as an aware datetime (UTC, or any zone: the store converts)."""


def utc_now() -> datetime:
    """Now, aware, in UTC: the default :data:`Clock`."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive datetime is refused, since its zone could only be guessed and
    its text would not compare with the store's."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"the store's clock returned a naive datetime ({moment!r}); it must be aware")
    return moment.astimezone(UTC)


def iso_seconds(moment: datetime) -> str:
    """The text most of the store's instants are kept in (UTC, seconds)."""
    return as_utc(moment).isoformat(timespec="seconds")


def iso_millis(moment: datetime) -> str:
    """Lease times (UTC, milliseconds)."""
    return as_utc(moment).isoformat(timespec="milliseconds")


def iso_micros(moment: datetime) -> str:
    """Subscription times (UTC, microseconds): they order a channel's topics."""
    return as_utc(moment).isoformat(timespec="microseconds")
