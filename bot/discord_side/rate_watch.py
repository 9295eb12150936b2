"""Discord's 429s, as discord.py reports them: it retries a 429 itself and tells no one but its
log ("We are being rate limited ... responded with 429", then "Global rate limit has been hit"
for the token's global limit), so a handler on its ``discord.http`` logger is where they are seen.
The metrics count them; a global one slows the whole fleet down (:meth:`Fleet.slow_down`)."""

from __future__ import annotations

import logging
from collections.abc import Callable

DISCORD_HTTP_LOGGER = "discord.http"


class RateLimitWatch(logging.Handler):
    """Calls ``on_limited`` for every 429 and ``on_global`` for each global one."""

    def __init__(self, on_limited: Callable[[], None], on_global: Callable[[], None]) -> None:
        super().__init__(level=logging.DEBUG)
        self.on_limited = on_limited
        self.on_global = on_global

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if "responded with 429" in text:
            self.on_limited()
        elif text.startswith("Global rate limit has been hit"):
            self.on_global()

    def install(self) -> RateLimitWatch:
        logging.getLogger(DISCORD_HTTP_LOGGER).addHandler(self)
        return self

    def remove(self) -> None:
        logging.getLogger(DISCORD_HTTP_LOGGER).removeHandler(self)
