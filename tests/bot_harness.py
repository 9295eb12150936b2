"""Running the real bot (``bot.process.launcher.run_bot``, what ``paperboy run`` calls) against
the doubles. ``FakeClock`` and ``started_bot`` live in :mod:`doubles.harness` (bench/ uses them too)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from bot.core.config import Config
from doubles.discord import DiscordDouble, RemoteDouble
from doubles.fixtures import make_config
from doubles.harness import FakeClock, started_bot  # noqa: F401 -- re-exported from doubles/
from tests.helpers import REPO

LINE_LINK = re.compile(r"\]\(<https://arxiv\.org/abs/([^\s/>)]+?)(?:v\d+)?>\)")
ABS_URL = re.compile(r"https://arxiv\.org/abs/([^\s/)]+?)(?:v\d+)?$")


def bot_config(tmp_path: Path, double: DiscordDouble, feed_port: int, **kwargs: Any) -> Config:
    """A config for the bot: store in ``tmp_path``, Discord at the double, feeds at the feed server."""
    discord = {"token": "test-token", "api_base": double.api_base, "gateway_url": double.gateway_url,
               **kwargs.pop("discord", {})}
    return make_config(tmp_path, feed_port, discord=discord, **kwargs)


def digest_messages(double: DiscordDouble, channel_id: int) -> list[dict[str, Any]]:
    """The bot's messages in a channel and in threads started from them, oldest first."""
    return [m for m in double.channel_messages(channel_id, include_threads=True)
            if m.get("author", {}).get("bot")]


def delivered_ids(messages: list[dict[str, Any]]) -> list[str]:
    """arXiv ids of the papers in these messages, in order (repeats kept): the paper cards' links,
    and the compact layout's ranked lines (``[Title](<abs link>)`` in the content and in embeds
    without a link of their own)."""
    ids = []
    for message in messages:
        ids += LINE_LINK.findall(message.get("content") or "")
        for embed in message.get("embeds", []):
            match = ABS_URL.match(embed.get("url", ""))
            if match:
                ids.append(match.group(1))
            elif "url" not in embed:
                ids += LINE_LINK.findall(embed.get("description") or "")
    return ids


# -- the bot in a process of its own (SIGKILL tests) ----------------------------------------------


def write_process_config(path: Path, config: Config, remote: RemoteDouble, **discord: object) -> Path:
    """A config file for ``paperboy run`` in a subprocess: the test's store and feed server, the
    standalone double, and ``discord`` keys (e.g. ``requests_per_second=3``)."""
    extra = "".join(f"{key} = {json.dumps(value)}\n" for key, value in discord.items())
    path.write_text(f'''feeds = []
[discord]
token = "test-token"
api_base = "{remote.api_base}"
gateway_url = "{remote.gateway_url}"
{extra}[storage]
path = "{config.storage.path}"
[arxiv]
rss_url = "{config.arxiv.rss_url}"
api_url = "{config.arxiv.api_url}"
request_interval = "0s"
categories = []
''', encoding="utf-8")
    return path


async def start_bot_process(config_path: Path) -> asyncio.subprocess.Process:
    """``paperboy run`` in a subprocess, its log appended to ``bot.log`` beside the config."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("PAPERBOY_DISCORD_TOKEN", None)
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(config_path), "run",
        env=env, stdout=asyncio.subprocess.DEVNULL, stderr=open(config_path.parent / "bot.log", "ab"))


async def remote_bot_messages(remote: RemoteDouble, channel_id: int) -> list[dict[str, Any]]:
    """The bot's messages in a channel of the standalone double and in its threads."""
    messages = await remote.channel_messages(channel_id, include_threads=True)
    return [m for m in messages if m.get("author", {}).get("bot")]


async def wait_for_remote_messages(remote: RemoteDouble, channel_id: int, count: int,
                                   timeout: float) -> list[dict[str, Any]]:
    """The bot's messages once there are ``count`` of them, or what there is at the timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        messages = await remote_bot_messages(remote, channel_id)
        if len(messages) >= count or loop.time() > deadline:
            return messages
        await asyncio.sleep(0.1)
