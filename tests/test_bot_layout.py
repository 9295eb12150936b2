"""A channel's digest layout through the Discord double, with the bot started as `paperboy run` does
(scheduler off: the test runs the poll and the dispatcher): `/digest schedule layout top only_top`
answered ephemerally and stored, shown by `/subscribe list`, followed by the next digest (cards: one
embed per paper; compact with only_top: the top cards and a count of the rest), and a `top` out of
range refused with a clear ephemeral answer that changes nothing."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from doubles.discord import DEFAULT_MEMBER_PERMISSIONS, DiscordDouble, discord_double_fixture  # noqa: F401
from doubles.feed_server import FeedServer
from tests.bot_harness import ABS_URL, FakeClock, bot_config, delivered_ids, digest_messages, started_bot
from tests.test_bot_commands import command, ephemeral_answer, feed, ids

T0 = datetime(2024, 11, 28, 5, 0, tzinfo=UTC)
DAY2 = datetime(2024, 11, 29, 5, 0, tzinfo=UTC)
LINK = re.compile(r"\]\(<https://arxiv\.org/abs/")


def cards(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for m in messages for e in m.get("embeds", []) if ABS_URL.match(e.get("url", ""))]


def line_count(messages: list[dict[str, Any]]) -> int:
    """Ranked lines: masked links in contents and in embeds without a link of their own."""
    texts = [m.get("content") or "" for m in messages]
    texts += [e.get("description") or "" for m in messages for e in m.get("embeds", []) if "url" not in e]
    return sum(len(LINK.findall(t)) for t in texts)


async def test_schedule_layout_top_only_top_answered_stored_and_listed(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    double, channel = discord_double, discord_double.channel_id
    config = bot_config(tmp_path, double, feed_server.port, categories=[])
    async with started_bot(config, FakeClock(T0)) as bot:
        store = bot.services.store
        await command(double, "subscribe add", {"topic": "cs.LG"})
        fresh = await store.get_channel(channel)
        assert fresh is not None and (fresh.layout, fresh.digest_layout, fresh.top, fresh.only_top) \
            == (None, "compact", 10, False)
        listed = await ephemeral_answer(double, "subscribe list", permissions=DEFAULT_MEMBER_PERMISSIONS)
        assert "the top 10 papers as cards, the rest as ranked lines" in listed, listed

        text = await ephemeral_answer(double, "digest schedule",
                                      {"layout": "cards", "top": 3, "only_top": True})
        assert "one card per paper, up to 10 per message" in text, text
        settings = await store.get_channel(channel)
        assert settings is not None
        assert (settings.layout, settings.top, bool(settings.only_top)) == ("cards", 3, True)
        listed = await ephemeral_answer(double, "subscribe list", permissions=DEFAULT_MEMBER_PERMISSIONS)
        assert "one card per paper" in listed, listed

        # Back to compact: the top and only_top chosen before still hold.
        text = await ephemeral_answer(double, "digest schedule", {"layout": "compact"})
        assert "the top 3 papers as cards, only those" in text, text
        text = await ephemeral_answer(double, "digest schedule", {"only_top": False})
        assert "the top 3 papers as cards, the rest as ranked lines" in text, text
        listed = await ephemeral_answer(double, "subscribe list")
        assert "the top 3 papers as cards, the rest as ranked lines" in listed, listed
        settings = await store.get_channel(channel)
        assert settings is not None and (settings.layout, settings.top, bool(settings.only_top)) \
            == ("compact", 3, False)


async def test_a_top_out_of_range_is_a_clear_ephemeral_answer_that_changes_nothing(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    double, channel = discord_double, discord_double.channel_id
    config = bot_config(tmp_path, double, feed_server.port, categories=[])
    async with started_bot(config, FakeClock(T0)) as bot:
        store = bot.services.store
        await command(double, "subscribe add", {"topic": "cs.LG"})
        await command(double, "digest schedule", {"layout": "compact", "top": 5})
        before = await store.get_channel(channel)
        for bad in (99, 51, -1):
            text = await ephemeral_answer(double, "digest schedule", {"top": bad, "layout": "cards"})
            assert f"{bad}: the number of top papers shown as cards must be between 0 and 50" in text, text
            assert "went wrong" not in text.lower() and "sorry" not in text.lower(), text
        assert await store.get_channel(channel) == before, "a refused schedule changes nothing"
        for edge in (0, 50):
            text = await ephemeral_answer(double, "digest schedule", {"top": edge})
            assert f"the top {edge} papers as cards" in text, text
        text = await ephemeral_answer(double, "digest schedule", {"top": 3},
                                      permissions=DEFAULT_MEMBER_PERMISSIONS)
        assert "Manage Channels" in text
        assert (await store.get_channel(channel)).top == 50  # type: ignore[union-attr]


async def test_the_next_digest_follows_the_layout(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    double, channel = discord_double, discord_double.channel_id
    config = bot_config(tmp_path, double, feed_server.port, categories=[])
    first_day, second_day, third_day = ids(1, 14), ids(100, 14), ids(200, 14)
    feed_server.serve("/rss/cs.LG", feed(first_day))
    clock = FakeClock(T0)
    async with started_bot(config, clock) as bot:
        await command(double, "subscribe add", {"topic": "cs.LG"})
        await command(double, "digest schedule", {"layout": "cards", "top": 3, "only_top": True})
        await bot.poll_jobs.poll_due()
        assert (await bot.dispatcher.run_now(channel)).messages == 2
        sent = digest_messages(double, channel)
        # Cards: one embed per paper, every paper (only_top is the compact layout's), no lines.
        assert len(cards(sent)) == sum(len(m.get("embeds", [])) for m in sent) == 14
        assert Counter(delivered_ids(sent)) == Counter(first_day)
        assert line_count(sent) == 0
        assert all(len(m.get("embeds", [])) <= 10 for m in sent)

        # Compact with only the top 3: three cards, and how many more there were and where.
        await command(double, "digest schedule", {"layout": "compact"})
        clock.set(DAY2)
        feed_server.serve("/rss/cs.LG", feed(second_day))
        bot.poll_jobs.arxiv_rebuilt()
        before = len(digest_messages(double, channel))
        await bot.poll_jobs.poll_due()  # yesterday's 08:00 digest is overdue: the poll's run sends it
        await bot.dispatcher.run_now(channel)
        sent = digest_messages(double, channel)[before:]
        assert len(sent) == 1, [m.get("content") for m in sent]
        [message] = sent
        assert [ABS_URL.match(c["url"]).group(1) for c in cards(sent)] == second_day[:3]  # type: ignore[union-attr]
        assert [c["description"][:6] for c in cards(sent)] == ["**#1**", "**#2**", "**#3**"]
        assert line_count(sent) == 0
        assert "Top 3 of 14; 11 more ranked lower today." in message["content"], message["content"]
        assert "<https://arxiv.org/list/cs.LG/new>" in message["content"]
        options = [o["value"] for row in message.get("components", []) for c in row["components"]
                   for o in c["options"]]
        assert options == second_day[:3], "the save select offers the papers shown"
        assert (await bot.dispatcher.run_now(channel)).messages == 0, "the rest do not come later"

        # Compact with the lines again: three cards, then eleven lines, every paper once.
        await command(double, "digest schedule", {"only_top": False})
        clock.set(datetime(2024, 11, 30, 5, 0, tzinfo=UTC))
        feed_server.serve("/rss/cs.LG", feed(third_day))
        bot.poll_jobs.arxiv_rebuilt()
        before = len(digest_messages(double, channel))
        await bot.poll_jobs.poll_due()  # yesterday's 08:00 digest is overdue: the poll's run sends it
        await bot.dispatcher.run_now(channel)
        sent = digest_messages(double, channel)[before:]
        assert len(cards(sent)) == 3 and line_count(sent) == 11
        assert delivered_ids(sent) == third_day, "cold start: the listing's order"
