"""A bot killed while Discord holds the answer to a digest message, back after the nonce window.

Discord drops a repeated nonce only for a few minutes. The double models that window; the bot
stores when it first sent each message and, past its own ``discord.nonce_window``, looks for the
message in the thread's history instead of sending it again. Every paper arrives exactly once, and
the thread is started once, whether the double's window has passed or is "forever".
"""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

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
from tests.helpers import arxiv_feed, arxiv_item, make_config

PAPERS = [f"2411.{n:05d}" for n in range(1, 26)]
PER_MESSAGE = 5  # 25 papers: a header and four follow-ups in its thread


async def _prepare_store(config: Config, guild_id: int, channel_id: int) -> None:
    async with open_services(config) as services:
        store = services.store
        overdue = (datetime.now(UTC) - timedelta(minutes=5)).isoformat(timespec="seconds")
        await store.ensure_channel(guild_id, channel_id, "08:00", "UTC", overdue)
        await store.update_channel(channel_id, max_items=PER_MESSAGE, layout="cards")
        await store.add_subscription(SubscriptionRow(channel_id, "category", "cs.LG", "cs.LG"))
        [report] = await services.ingestor.poll(feed_specs(config, ["cs.LG"]))
        assert report.new_papers == len(PAPERS)


@pytest.mark.parametrize("double_window", [2.0, None], ids=["window-passed", "window-forever"])
async def test_sigkill_while_discord_holds_a_message_then_a_late_restart(
        tmp_path: Path, feed_server: FeedServer, double_window: float | None) -> None:
    feed_server.serve("/rss/cs.LG", arxiv_feed(*(arxiv_item(i) for i in PAPERS)))
    config = make_config(tmp_path, feed_server.port, categories=[])
    total = len(PAPERS) // PER_MESSAGE
    async with DoubleProcess(state_file=tmp_path / "discord.json", nonce_window=double_window) as remote:
        channel = remote.channel_id
        await _prepare_store(config, remote.guild_id, channel)
        config_path = write_process_config(tmp_path / "config.toml", config, remote,
                                           requests_per_second=20, nonce_window="1s")
        await remote.hold_next_message(skip=2)  # the header, one follow-up, then hold the next

        first = await start_bot_process(config_path)
        try:
            await remote.wait_held(1, timeout=60)
        finally:
            first.send_signal(signal.SIGKILL)
            await first.wait()
        created = await remote_bot_messages(remote, channel)
        assert len(created) == 3, "the held message was created; Discord's answer never arrived"
        await asyncio.sleep(2.5)  # past the bot's window (1 s) and the double's (2 s, or forever)

        second = await start_bot_process(config_path)
        try:
            await wait_for_remote_messages(remote, channel, total, timeout=60)
            await asyncio.sleep(1.5)  # a message sent twice would show up now
            done = await remote_bot_messages(remote, channel)
        finally:
            second.send_signal(signal.SIGTERM)
            await asyncio.wait_for(second.wait(), 30)
        threads = await remote.threads(parent_id=channel)
        assert await remote.violations() == []
    log = (tmp_path / "bot.log").read_text()
    assert len(done) == total, log[-3000:]
    assert Counter(delivered_ids(done)) == Counter(PAPERS), "every paper exactly once"
    assert len(threads) == 1, "the thread was started once"
    assert "already posted in channel" in log, "found in the history, not sent again"
