"""`paperboy health`: the store opens, the bot's heartbeat is fresh, a poll succeeded lately."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bot.ingest.poller import feed_specs
from bot.services.wiring import open_services
from doubles.discord import DiscordDouble, discord_double_fixture  # noqa: F401
from doubles.feed_server import FeedServer
from tests.bot_harness import FakeClock, bot_config, started_bot
from tests.helpers import arxiv_feed, arxiv_item, make_config, write_config


async def health(config_path: Path) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(config_path), "health",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode()


async def test_health_follows_store_heartbeat_and_polls(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.serve("/rss/cs.LG", arxiv_feed(arxiv_item("2411.00001")))
    config = make_config(tmp_path, feed_server.port)
    config_path = write_config(tmp_path / "config.toml", config)
    heartbeat = Path(config.heartbeat_path)

    code, out = await health(config_path)
    assert code == 1 and "does not exist" in out, "no store yet"

    async with open_services(config) as services:
        await services.ingestor.poll(feed_specs(config))
    code, out = await health(config_path)
    assert code == 1 and "heartbeat" in out, "the bot is not running"

    from bot.services.health import write_heartbeat

    write_heartbeat(heartbeat, {"pid": 1})
    code, out = await health(config_path)
    assert code == 0, out

    stale = time.time() - 600
    os.utime(heartbeat, (stale, stale))
    code, out = await health(config_path)
    assert code == 1 and "stale" in out

    write_heartbeat(heartbeat, {"pid": 1})
    Path(config.storage.path).write_bytes(b"this is not a database" * 100)
    for suffix in ("-wal", "-shm"):
        Path(config.storage.path + suffix).unlink(missing_ok=True)
    code, out = await health(config_path)
    assert code == 1 and "is not an SQLite database" in out and "left it untouched" in out
    assert out.count(config.storage.path) == 1, "the store is named once, not once per layer"


async def test_running_bot_writes_its_heartbeat(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    config = bot_config(tmp_path, discord_double, feed_server.port, categories=[])
    clock = FakeClock(datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
    async with started_bot(config, clock) as bot:
        bot.heartbeat()
        beat = json.loads(Path(config.heartbeat_path).read_text())
        assert beat["pid"] == os.getpid() and beat["guilds"] == 1
