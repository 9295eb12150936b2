"""Running the real bot (``bot.launcher.run_bot``, what ``paperboy run`` calls) against the doubles."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.app import Paperboy
from bot.config import Config
from bot.launcher import run_bot
from tests.doubles.discord_double import DiscordDouble
from tests.helpers import make_config

ABS_URL = re.compile(r"https://arxiv\.org/abs/([^\s/)]+?)(?:v\d+)?$")


class FakeClock:
    """The bot's clock, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, now: datetime) -> None:
        self.now = now.astimezone(UTC)


def bot_config(tmp_path: Path, double: DiscordDouble, feed_port: int, **kwargs: Any) -> Config:
    """A config for the bot: store in ``tmp_path``, Discord at the double, feeds at the feed server."""
    discord = {"token": "test-token", "api_base": double.api_base, "gateway_url": double.gateway_url,
               **kwargs.pop("discord", {})}
    return make_config(tmp_path, feed_port, discord=discord, **kwargs)


@contextlib.asynccontextmanager
async def started_bot(config: Config, clock: FakeClock, timeout: float = 30.0) -> AsyncIterator[Paperboy]:
    """Start the bot as ``paperboy run`` does (scheduler off: the test runs the jobs), sync its
    commands into the double, and close it (SIGTERM's path) afterwards."""
    holder: dict[str, Paperboy] = {}
    task = asyncio.create_task(run_bot(config, clock=clock, run_scheduler=False,
                                       started=lambda bot: holder.setdefault("bot", bot)))
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


def digest_messages(double: DiscordDouble, channel_id: int) -> list[dict[str, Any]]:
    """The bot's messages in a channel and in threads started from them, oldest first."""
    return [m for m in double.channel_messages(channel_id, include_threads=True)
            if m.get("author", {}).get("bot")]


def delivered_ids(messages: list[dict[str, Any]]) -> list[str]:
    """arXiv ids of the paper embeds in these messages, in order (repeats kept)."""
    ids = []
    for message in messages:
        for embed in message.get("embeds", []):
            match = ABS_URL.match(embed.get("url", ""))
            if match:
                ids.append(match.group(1))
    return ids
