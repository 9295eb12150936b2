"""SIGKILL the bot in the middle of a multi-message digest: after a restart, every item exactly once."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.core.config import Config
from bot.ingest.poller import feed_specs
from bot.services.wiring import open_services
from doubles.discord import DoubleProcess
from doubles.feed_server import FeedServer
from storage.models import SubscriptionRow
from tests.bot_harness import (
    delivered_ids,
    remote_bot_messages,
    start_bot_process,
    wait_for_remote_messages,
    write_process_config,
)
from tests.helpers import BIG_FEED, make_config, shared_feed
from tests.test_bot_digest import expected_cs_lg


async def _prepare_store(config: Config, guild_id: int, channel_id: int) -> None:
    """A channel following cs.LG whose digest is overdue, and the big feed ingested after it."""
    async with open_services(config) as services:
        store = services.store
        overdue = (datetime.now(UTC) - timedelta(minutes=5)).isoformat(timespec="seconds")
        await store.ensure_channel(guild_id, channel_id, "08:00", "UTC", overdue)
        await store.update_channel(channel_id, layout="cards")  # a long digest: 19 messages
        await store.add_subscription(SubscriptionRow(channel_id, "category", "cs.LG", "cs.LG"))
        [report] = await services.ingestor.poll(feed_specs(config, ["cs.LG"]))
        assert report.new_papers > 1000


async def test_sigkill_mid_digest_then_restart_delivers_each_item_once(
        tmp_path: Path, feed_server: FeedServer) -> None:
    big = shared_feed(BIG_FEED)
    feed_server.serve("/rss/cs.LG", big)
    config = make_config(tmp_path, feed_server.port, categories=[])
    expected = expected_cs_lg(big)
    async with DoubleProcess(state_file=tmp_path / "discord.json") as remote:
        channel = remote.channel_id
        await _prepare_store(config, remote.guild_id, channel)
        config_path = write_process_config(tmp_path / "config.toml", config, remote, requests_per_second=3)

        first = await start_bot_process(config_path)
        try:
            partial = await wait_for_remote_messages(remote, channel, 4, timeout=60)
        finally:
            first.send_signal(signal.SIGKILL)
            await first.wait()
        assert len(partial) >= 4, "the digest had started"
        partial = await remote_bot_messages(remote, channel)
        total_messages = partial[0]["content"].rsplit("/", 1)[-1].rstrip(")")
        assert len(partial) < int(total_messages), "killed in the middle of the digest"

        second = await start_bot_process(config_path)
        try:
            done = await wait_for_remote_messages(remote, channel, int(total_messages), timeout=90)
            await asyncio.sleep(1.5)  # anything extra would show up now
            done = await remote_bot_messages(remote, channel)
        finally:
            second.send_signal(signal.SIGTERM)
            await asyncio.wait_for(second.wait(), 30)
        assert second.returncode == 0, "SIGTERM is a clean stop"
        assert await remote.violations() == []
    got = delivered_ids(done)
    assert len(done) == int(total_messages)
    assert Counter(got) == Counter(expected), "every item exactly once"
