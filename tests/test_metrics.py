"""The opt-in Prometheus endpoint, scraped over HTTP while the bot runs against the doubles:
polls and items, digests and messages, Discord's 429s, the oldest due digest's lag, the fleet."""

from __future__ import annotations

import re
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from bot.core.config import ConfigError
from doubles.discord import MANAGER_PERMISSIONS, DiscordDouble, discord_double_fixture  # noqa: F401
from doubles.feed_server import FeedServer
from tests.bot_harness import FakeClock, bot_config, started_bot
from tests.helpers import arxiv_feed, arxiv_item, make_config

T0 = datetime(2024, 11, 28, 5, 0, tzinfo=UTC)
IDS = [f"2411.{n:05d}" for n in range(1, 13)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def scrape(port: int) -> dict[str, float]:
    """``name{labels} value`` lines of /metrics, without the comments."""
    url = f"http://127.0.0.1:{port}/metrics"
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 200
        text = await response.text()
    found = {}
    for line in text.splitlines():
        match = re.match(r"^(paperboy_[^\s]+) ([0-9.e+-]+)$", line)
        if match:
            found[match.group(1)] = float(match.group(2))
    return found


async def test_the_endpoint_counts_what_the_bot_does(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    double, port = discord_double, free_port()
    feed_server.serve("/rss/cs.LG", arxiv_feed(*(arxiv_item(i, title=f"Paper {i}") for i in IDS)))
    config = bot_config(tmp_path, double, feed_server.port, categories=[], metrics={"port": port})
    clock = FakeClock(T0)
    async with started_bot(config, clock) as bot:
        handle = await double.send_slash_command(double.guild_id, double.channel_id, "subscribe add",
                                                 {"topic": "cs.LG"}, user_permissions=MANAGER_PERMISSIONS)
        await handle.response(timeout=4.0)
        await bot.poll_jobs.poll_due()
        clock.set(T0 + timedelta(hours=5))  # two hours past the channel's 08:00 digest
        await bot.fleet_heartbeat()
        before = await scrape(port)
        assert before['paperboy_polls_total{status="ok"}'] == 1
        assert before['paperboy_items_ingested_total{kind="paper"}'] == len(IDS)
        assert before["paperboy_oldest_due_digest_lag_seconds"] == pytest.approx(2 * 3600, abs=60)
        assert before["paperboy_fleet_processes"] == 1
        double.inject_fault("/channels/*/messages", status=429, retry_after=0.05, count=2)
        report = await bot.dispatcher.run_due()
        after = await scrape(port)
        assert after["paperboy_digests_total"] == 1
        assert after["paperboy_messages_sent_total"] == report.messages > 0
        assert after["paperboy_discord_429_total"] == 2
        await bot.fleet_heartbeat()
        assert (await scrape(port))["paperboy_oldest_due_digest_lag_seconds"] == 0


def test_a_port_out_of_range_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"metrics\.port"):
        make_config(tmp_path, 1, metrics={"port": 70000})
