"""The core job end to end, through the Discord double, with the bot started as `paperboy run` does."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from doubles.discord import (  # noqa: F401
    DEFAULT_MEMBER_PERMISSIONS,
    MANAGER_PERMISSIONS,
    DiscordDouble,
    discord_double_fixture,
)
from doubles.feed_server import FeedServer
from tests.bot_harness import FakeClock, bot_config, delivered_ids, digest_messages, started_bot
from tests.helpers import BIG_FEED, arxiv_feed, arxiv_item, shared_feed

ITEM = re.compile(r"<item>(.*?)</item>", re.DOTALL)


def expected_cs_lg(feed: Path) -> list[str]:
    """New and cross-listed items of the file whose categories include cs.LG, read directly."""
    ids = []
    for item in ITEM.findall(feed.read_text(encoding="utf-8")):
        announce = re.search(r"<arxiv:announce_type>([\w-]+)<", item).group(1)  # type: ignore[union-attr]
        categories = re.findall(r"<category>([^<]+)</category>", item)
        if announce in ("new", "cross") and "cs.LG" in categories:
            ids.append(re.search(r"oai:arXiv\.org:(\S+?)v\d+<", item).group(1))  # type: ignore[union-attr]
    return ids


async def test_cs_lg_digest_at_eight_berlin_exactly_once(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    big = shared_feed(BIG_FEED)
    feed_server.serve("/rss/cs.LG", big)
    double = discord_double
    channel = double.channel_id
    clock = FakeClock(datetime(2024, 11, 28, 5, 0, tzinfo=UTC))
    config = bot_config(tmp_path, double, feed_server.port, categories=[])

    async with started_bot(config, clock) as bot:
        added = await double.send_slash_command(double.guild_id, channel, "subscribe add",
                                                {"topic": "cs.LG"}, user_permissions=MANAGER_PERMISSIONS)
        await added.response()
        scheduled = await double.send_slash_command(
            double.guild_id, channel, "digest schedule", {"time": "08:00", "timezone": "Europe/Berlin"},
            user_permissions=MANAGER_PERMISSIONS)
        await scheduled.response()
        [report] = await bot.poll_jobs.poll_due()  # cs.LG is polled because the channel follows it
        assert report.name == "arxiv:cs.LG" and report.new_papers > 1000
        clock.set(datetime(2024, 11, 28, 7, 59, tzinfo=UTC).replace(hour=6, minute=59))
        assert (await bot.dispatcher.run_due()).messages == 0, "not due before 08:00 Berlin"
        clock.set(datetime(2024, 11, 28, 7, 0, 5, tzinfo=UTC))  # 08:00:05 in Berlin
        await bot.dispatcher.run_due()

    expected = expected_cs_lg(big)
    got = delivered_ids(digest_messages(double, channel))
    assert len(expected) > 100
    assert Counter(got) == Counter(expected), "every new and cross-listed cs.LG paper, once"
    messages = digest_messages(double, channel)
    assert len(messages) > 1 and double.threads(channel), "a long digest goes into a thread"

    # A restart and another dispatcher run send nothing.
    async with started_bot(config, clock) as bot:
        clock.set(datetime(2024, 11, 28, 7, 30, tzinfo=UTC))
        assert (await bot.dispatcher.run_due()).messages == 0
        await bot.poll_jobs.poll_due()
        assert (await bot.dispatcher.run_due()).messages == 0
    assert len(digest_messages(double, channel)) == len(messages)


async def test_cross_listed_paper_once_and_no_new_version_by_default(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    double = discord_double
    channel = double.channel_id
    feed_server.serve("/rss/cs.LG", arxiv_feed(arxiv_item("2411.00001", categories=("cs.LG", "stat.ML")),
                                               arxiv_item("2411.00002")))
    feed_server.serve("/rss/stat.ML", arxiv_feed(
        arxiv_item("2411.00001", announce="cross", categories=("cs.LG", "stat.ML"))))
    clock = FakeClock(datetime(2024, 11, 28, 5, 0, tzinfo=UTC))
    config = bot_config(tmp_path, double, feed_server.port, categories=[])
    async with started_bot(config, clock) as bot:
        for topic in ("cs.LG", "stat.ML"):
            handle = await double.send_slash_command(double.guild_id, channel, "subscribe add",
                                                     {"topic": topic}, user_permissions=MANAGER_PERMISSIONS)
            await handle.response()
        handle = await double.send_slash_command(double.guild_id, channel, "digest now", {},
                                                 user_permissions=MANAGER_PERMISSIONS)
        await handle.wait_followups(1)
        await bot.poll_jobs.poll_due()
        clock.set(datetime(2024, 11, 28, 8, 1, tzinfo=UTC))
        await bot.dispatcher.run_due()
        first = delivered_ids(digest_messages(double, channel))
        assert sorted(first) == ["2411.00001", "2411.00002"]
        [embed] = [e for m in digest_messages(double, channel) for e in m["embeds"]
                   if e["url"].endswith("2411.00001")]
        assert "cs.LG" in str(embed) and "stat.ML" in str(embed)
        # Next day: v2 of a delivered paper.
        feed_server.serve("/rss/cs.LG", arxiv_feed(arxiv_item("2411.00001", 2, "replace",
                                                              categories=("cs.LG", "stat.ML"))))
        feed_server.serve("/rss/stat.ML", arxiv_feed())
        await bot.poll_jobs.poll_due()
        clock.set(datetime(2024, 11, 29, 8, 1, tzinfo=UTC))
        await bot.dispatcher.run_due()
        assert delivered_ids(digest_messages(double, channel)) == first


async def test_member_without_manage_channels_is_refused(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    double = discord_double
    clock = FakeClock(datetime(2024, 11, 28, 5, 0, tzinfo=UTC))
    config = bot_config(tmp_path, double, feed_server.port, categories=[])
    async with started_bot(config, clock) as bot:
        for name, options in (("subscribe add", {"topic": "cs.LG"}),
                              ("digest schedule", {"time": "09:00"}), ("digest now", {})):
            handle = await double.send_slash_command(double.guild_id, double.channel_id, name, options,
                                                     user_permissions=DEFAULT_MEMBER_PERMISSIONS)
            await handle.response()
            assert handle.ephemeral, name
            assert "Manage Channels" in str(handle.original or handle.callback), name
        assert await bot.services.store.list_channels() == []
        assert await bot.services.store.list_subscriptions() == []


async def test_a_restart_polls_arxiv_only_when_it_missed_a_rebuild(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    """arXiv lists new papers once a day, after its rebuild (00:10 in New York, 05:10 UTC in
    November). A bot started after a poll that followed the rebuild has nothing to catch up, so
    its first round leaves arXiv alone until the feed is due; one whose last poll came before
    the rebuild (it was down then) polls at once, however long until the feed is due."""
    feed_server.serve("/rss/cs.LG", arxiv_feed(arxiv_item("2411.00001")))
    config = bot_config(tmp_path, discord_double, feed_server.port, categories=["cs.LG"])
    clock = FakeClock(datetime(2024, 11, 28, 5, 20, tzinfo=UTC))  # 00:20 in New York

    async def restart_after_a_poll_at(moment: str) -> list[str]:
        """Start the bot after the feed's last poll at ``moment`` (not due for a long time yet);
        the feeds its first round polls."""
        async with started_bot(config, clock) as bot:
            [state] = await bot.services.store.list_feed_states()
            await bot.services.store.apply_feed_batch(
                replace(state, last_success=moment, next_poll="2024-11-29T05:00:00+00:00"), [], [])
        async with started_bot(config, clock) as bot:
            return [report.name for report in await bot.poll_jobs.poll_due()]

    async with started_bot(config, clock) as bot:
        await bot.poll_jobs.poll_due()
    assert len(feed_server.hits("/rss/cs.LG")) == 1
    assert await restart_after_a_poll_at("2024-11-28T05:05:00+00:00") == ["arxiv:cs.LG"]  # it missed it
    assert len(feed_server.hits("/rss/cs.LG")) == 2
    assert await restart_after_a_poll_at("2024-11-28T05:15:00+00:00") == []  # it did not
    assert len(feed_server.hits("/rss/cs.LG")) == 2


def test_the_last_rebuild_follows_new_york_time() -> None:
    from bot.services.jobs import last_arxiv_rebuild

    def utc(*parts: int) -> datetime:
        return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]

    assert last_arxiv_rebuild(utc(2024, 11, 28, 5, 10)) == utc(2024, 11, 28, 5, 10)
    assert last_arxiv_rebuild(utc(2024, 11, 28, 5, 9)) == utc(2024, 11, 27, 5, 10)
    assert last_arxiv_rebuild(utc(2024, 7, 2, 12, 0)) == utc(2024, 7, 2, 4, 10)  # summer time
    # The night the clocks go back (3 November 2024): the rebuild was at 00:10 summer time.
    assert last_arxiv_rebuild(utc(2024, 11, 3, 12, 0)) == utc(2024, 11, 3, 4, 10)
