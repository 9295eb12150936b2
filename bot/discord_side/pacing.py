"""Pacing Discord requests under the bot token's global limit (50 requests/s, shared by every
process of a fleet: each paces at its share, set again at every fleet heartbeat)."""

from __future__ import annotations

import asyncio
import time


class Pacer:
    """Spaces requests to stay under Discord's global limit instead of running into its 429s."""

    def __init__(self, per_second: float) -> None:
        self.interval = 0.0
        self.set_rate(per_second)
        self._next = 0.0
        self._lock = asyncio.Lock()

    def set_rate(self, per_second: float) -> None:
        """A new rate, from the next request on (0 or less: no pacing)."""
        self.interval = 1.0 / per_second if per_second > 0 else 0.0

    @property
    def rate(self) -> float:
        return 1.0 / self.interval if self.interval else 0.0

    async def wait(self) -> None:
        async with self._lock:
            now = time.monotonic()
            if self._next > now:
                await asyncio.sleep(self._next - now)
            self._next = max(now, self._next) + self.interval
