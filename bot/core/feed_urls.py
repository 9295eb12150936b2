"""Dated feed URLs: a feed URL may hold ``{date}`` (Hugging Face's daily papers take a date), which
is today's date in UTC when the feed is polled. The rule for the configuration and the filling-in
for the poller, in one place."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

FEED_DATE = "{date}"  # today's date (UTC, YYYY-MM-DD), filled in at each poll
_PLACEHOLDER = re.compile(r"\{[A-Za-z_]+\}")


def feed_url_problem(url: str) -> str | None:
    """Why a feed URL's placeholders are wrong (only ``{date}``, in the path or query), or None."""
    unknown = sorted(p for p in set(_PLACEHOLDER.findall(url)) if p != FEED_DATE)
    if unknown:
        return f"unknown placeholder {unknown[0]}: only {FEED_DATE} is filled in"
    if FEED_DATE in urlsplit(url).netloc:
        return f"{FEED_DATE} may be in the URL's path or query, not its host"
    return None


def feed_url(template: str, now: datetime) -> str:
    """The URL to fetch: ``{date}`` replaced by ``now``'s date in UTC (``2026-06-12``); a URL
    without it is fetched as it is."""
    return template.replace(FEED_DATE, now.astimezone(UTC).strftime("%Y-%m-%d"))
