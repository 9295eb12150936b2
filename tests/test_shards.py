"""Gateway shards: two bot processes' worth of bots on one store, each connecting only its shard of
two, against a Discord double that routes each guild to its shard. An interaction is answered by
the bot whose shard received it; a digest is delivered once, by whichever process claims it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.config import ConfigError
from bot.discord_side.endpoints import discord_endpoints, point_discord_at
from doubles.discord import MANAGER_PERMISSIONS, DiscordDouble
from doubles.discord.model import ChannelSpec, GuildSpec
from doubles.feed_server import FeedServer
from tests.bot_harness import FakeClock, bot_config, delivered_ids, digest_messages, started_bot
from tests.helpers import arxiv_feed, arxiv_item, make_config

T0 = datetime(2024, 11, 28, 5, 0, tzinfo=UTC)
# Discord puts a guild on shard (guild_id >> 22) % shard_count.
GUILD_A, GUILD_B = 2 << 22, 3 << 22  # shards 0 and 1 of 2
CHANNEL_A, CHANNEL_B = 1_100_000_000_000_000_001, 1_100_000_000_000_000_002
IDS = [f"2411.{n:05d}" for n in range(1, 7)]


@pytest.fixture
async def sharded_double() -> AsyncIterator[DiscordDouble]:
    previous = discord_endpoints()
    double = DiscordDouble(shards=2, guilds=[
        GuildSpec(GUILD_A, "Shard zero", [ChannelSpec(CHANNEL_A, "papers")]),
        GuildSpec(GUILD_B, "Shard one", [ChannelSpec(CHANNEL_B, "papers")])])
    await double.start()
    point_discord_at(double.api_base, double.gateway_url)
    try:
        yield double
        await double.settle()
    finally:
        point_discord_at(*previous)
        await double.stop()
    assert not double.violations, double.violations_report()


async def test_each_process_connects_its_shard_and_answers_its_guilds(
        tmp_path: Path, sharded_double: DiscordDouble, feed_server: FeedServer) -> None:
    double = sharded_double
    feed_server.serve("/rss/cs.LG", arxiv_feed(*(arxiv_item(i, title=f"Paper {i}") for i in IDS)))
    clock = FakeClock(T0)
    async with AsyncExitStack() as stack:
        bots = []
        for shard in (0, 1):
            config = bot_config(tmp_path, double, feed_server.port, categories=[],
                                discord={"shard_count": 2, "shard_ids": [shard]})
            bots.append(await stack.enter_async_context(started_bot(config, clock)))
        assert [sorted(bot.shards) for bot in bots] == [[0], [1]]
        assert [[g.id for g in bot.guilds] for bot in bots] == [[GUILD_A], [GUILD_B]]
        assert "shards 0 of 2" in bots[0].fleet.holder and "shards 1 of 2" in bots[1].fleet.holder
        for guild, channel in ((GUILD_A, CHANNEL_A), (GUILD_B, CHANNEL_B)):
            handle = await double.send_slash_command(guild, channel, "subscribe add", {"topic": "cs.LG"},
                                                     user_permissions=MANAGER_PERMISSIONS)
            await handle.response(timeout=3.0)  # answered by the one process that got it
        stored = await bots[0].services.store.list_subscriptions()
        assert sorted(r.channel_id for r in stored) == [CHANNEL_A, CHANNEL_B]
        await bots[0].poll_jobs.poll_due()  # its after-poll run of due channels finds none due yet
        for bot in bots:
            await bot.fleet_heartbeat()
        assert all(bot.sender.pacer.rate == bot.services.config.discord.requests_per_second / 2
                   for bot in bots)
        # Either process may deliver either channel; each channel's digest comes once.
        reports = [await bots[1].dispatcher.run_now(CHANNEL_A), await bots[0].dispatcher.run_now(CHANNEL_B)]
        assert all(r.messages >= 1 for r in reports)
        for channel in (CHANNEL_A, CHANNEL_B):
            assert sorted(delivered_ids(digest_messages(double, channel))) == IDS


@pytest.mark.parametrize("discord", [{}, {"shard_count": 2}], ids=["recommended", "count-only"])
async def test_one_process_without_shard_ids_connects_every_shard(
        tmp_path: Path, sharded_double: DiscordDouble, feed_server: FeedServer,
        discord: dict[str, object]) -> None:
    """Without ``shard_ids`` one process runs every shard: as many as Discord recommends
    (``/gateway/bot``), or ``shard_count``; it answers the guilds of each."""
    double = sharded_double
    config = bot_config(tmp_path, double, feed_server.port, categories=[], discord=discord)
    async with started_bot(config, FakeClock(T0)) as bot:
        assert sorted(bot.shards) == [0, 1] and bot.shard_count == 2
        assert sorted(g.id for g in bot.guilds) == [GUILD_A, GUILD_B]
        for guild, channel in ((GUILD_A, CHANNEL_A), (GUILD_B, CHANNEL_B)):
            handle = await double.send_slash_command(guild, channel, "subscribe add", {"topic": "cs.LG"},
                                                     user_permissions=MANAGER_PERMISSIONS)
            await handle.response(timeout=3.0)
        assert sorted(r.channel_id for r in await bot.services.store.list_subscriptions()) == \
            [CHANNEL_A, CHANNEL_B]


@pytest.mark.parametrize(("discord", "says"), [
    ({"shard_ids": [0]}, "needs discord.shard_count"),
    ({"shard_count": 2, "shard_ids": [2]}, "2 is not a shard of 2"),
    ({"shard_count": 2, "shard_ids": [1, 1]}, "lists a shard twice"),
    ({"shard_count": -1}, "discord.shard_count"),
])
def test_shard_settings_are_checked(tmp_path: Path, discord: dict[str, object], says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        make_config(tmp_path, 1, discord=discord)
