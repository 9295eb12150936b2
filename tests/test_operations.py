"""Running for months: owner alerts, the owner's status, housekeeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from doubles.discord import (  # noqa: F401
    DEFAULT_OWNER_ID,
    MANAGER_PERMISSIONS,
    DiscordDouble,
    discord_double_fixture,
)
from doubles.feed_server import FeedServer
from tests.bot_harness import FakeClock, bot_config, digest_messages, started_bot
from tests.helpers import arxiv_feed, arxiv_item


async def test_a_feed_failing_n_times_gives_exactly_one_owner_message(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    feed_server.fault("/rss/cs.LG", status=500)
    config = bot_config(tmp_path, discord_double, feed_server.port, categories=["cs.LG"],
                        alerts={"feed_failures": 3})
    clock = FakeClock(datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
    async with started_bot(config, clock) as bot:
        for _ in range(6):
            [report] = await bot.services.ingestor.poll(await bot.poll_jobs.specs())
            assert report.status == "error"
            await bot.alerts.check()
        dms = discord_double.dm_messages(DEFAULT_OWNER_ID)
        assert len(dms) == 1, [m["content"] for m in dms]
        assert "arxiv:cs.LG" in dms[0]["content"] and "failed" in dms[0]["content"]
        # Recovery closes the alert; a new failure streak is news again.
        feed_server.serve("/rss/cs.LG", arxiv_feed(arxiv_item("2411.00001")))
        await bot.services.ingestor.poll(await bot.poll_jobs.specs())
        await bot.alerts.check()
        assert await bot.services.store.open_alerts() == set()
        feed_server.fault("/rss/cs.LG", status=500)
        for _ in range(3):
            await bot.services.ingestor.poll(await bot.poll_jobs.specs())
            await bot.alerts.check()
        assert len(discord_double.dm_messages(DEFAULT_OWNER_ID)) == 2


async def test_paused_channel_alerts_the_ops_channel_once_and_owner_sees_status(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    double = discord_double
    papers_channel, ops_channel = double.text_channel_ids()[0], double.text_channel_ids()[1]
    feed_server.serve("/rss/cs.LG", arxiv_feed(arxiv_item("2411.00001")))
    config = bot_config(tmp_path, double, feed_server.port, categories=[],
                        discord={"ops_channel_id": ops_channel})
    clock = FakeClock(datetime(2026, 11, 28, 5, 0, tzinfo=UTC))
    async with started_bot(config, clock) as bot:
        handle = await double.send_slash_command(double.guild_id, papers_channel, "subscribe add",
                                                 {"topic": "cs.LG"}, user_permissions=MANAGER_PERMISSIONS)
        await handle.response()
        await bot.poll_jobs.poll_due()
        double.inject_fault("/channels/*/messages", status=403, channel_id=papers_channel, count=None)
        clock.set(datetime(2026, 11, 28, 8, 1, tzinfo=UTC))
        await bot.dispatcher.run_due()
        for _ in range(3):
            await bot.alerts.check()
        alerts = digest_messages(double, ops_channel)
        assert len(alerts) == 1 and "paused" in alerts[0]["content"]
        status = await double.send_slash_command(double.guild_id, ops_channel, "paperboy status", {},
                                                 user_id=DEFAULT_OWNER_ID)
        answer = await status.wait_original()
        assert "Owner view" in str(answer) and "arxiv:cs.LG" in str(answer)


async def test_housekeeping_prunes_without_redelivering_old_items(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    double = discord_double
    channel = double.channel_id
    feed_server.serve("/rss/cs.LG", arxiv_feed(arxiv_item("2411.00001", categories=("cs.LG", "stat.ML"))))
    config = bot_config(tmp_path, double, feed_server.port, categories=[],
                        housekeeping={"keep_deliveries": "0s", "keep_sent_messages": "0s"})
    clock = FakeClock(datetime.now(UTC))
    async with started_bot(config, clock) as bot:
        for topic in ("cs.LG", "stat.ML"):
            handle = await double.send_slash_command(double.guild_id, channel, "subscribe add",
                                                     {"topic": topic}, user_permissions=MANAGER_PERMISSIONS)
            await handle.response()
        await bot.poll_jobs.poll_due()
        clock.set(clock.now + timedelta(days=1))
        await bot.dispatcher.run_due()
        assert len(digest_messages(double, channel)) == 1
        clock.set(clock.now + timedelta(seconds=5))
        pruned = await bot.housekeeping.run()
        assert pruned["deliveries"] == 1 and pruned["sent_messages"] == 1
        # The same paper comes back as a cross-list: after pruning it is still old news.
        feed_server.serve("/rss/stat.ML", arxiv_feed(arxiv_item("2411.00001", announce="cross",
                                                                categories=("cs.LG", "stat.ML"))))
        await bot.services.ingestor.poll(await bot.poll_jobs.specs())
        clock.set(clock.now + timedelta(days=1))
        await bot.dispatcher.run_due()
        assert len(digest_messages(double, channel)) == 1


async def test_start_up_objects_are_left_out_of_later_garbage_collections(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    """Once set up, the bot freezes what start-up made (gc.freeze), so a full collection during
    a feed parse in a worker thread does not walk every module's objects while holding the GIL."""
    import gc

    gc.unfreeze()  # (as in a new process)
    config = bot_config(tmp_path, discord_double, feed_server.port, categories=[])
    try:
        async with started_bot(config, FakeClock(datetime(2026, 11, 28, 9, 0, tzinfo=UTC))):
            assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
