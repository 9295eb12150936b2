"""Running the real bot (``bot.process.launcher.run_bot``, what ``paperboy run`` calls) in this process,
on a clock the caller moves."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from bot.core.config import Config
from bot.discord_side.client import Paperboy
from bot.process.launcher import run_bot


class FakeClock:
    """The bot's clock, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, now: datetime) -> None:
        self.now = now.astimezone(UTC)


@contextlib.asynccontextmanager
async def started_bot(config: Config, clock: FakeClock, timeout: float = 30.0) -> AsyncIterator[Paperboy]:
    """Start the bot as ``paperboy run`` does (scheduler off: the test runs the jobs), sync its
    commands into the double, and close it (SIGTERM's path) afterwards."""
    holder: dict[str, Paperboy] = {}

    def started(bot: Paperboy) -> None:
        holder.setdefault("bot", bot)

    task = asyncio.create_task(run_bot(config, clock=clock, run_scheduler=False, started=started))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while "bot" not in holder or not holder["bot"].is_ready():
        if task.done():
            task.result()
            raise RuntimeError("the bot stopped before it was ready")
        if loop.time() > deadline:
            task.cancel()
            raise TimeoutError("the bot did not become ready")
        await asyncio.sleep(0.02)
    bot = holder["bot"]
    await bot.tree.sync()
    try:
        yield bot
    finally:
        await asyncio.wait_for(bot.close(), timeout)
        await asyncio.wait_for(task, timeout)
