"""The slash commands as a Discord user meets them, through the Discord double, with the bot started
as `paperboy run` does (scheduler off: the test runs the poll and the dispatcher).

/subscribe add|remove|list (with autocomplete, validation, exclusions and limits), /digest
schedule|preview|now, /paperboy status|about, instant and weekly digests, the gateway intents, and
the 3 s answer rule (the double flags any interaction left unanswered; the fixture fails the test
on that and on any payload over Discord's limits).
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.core.config import Config
from bot.discord_side.client import Paperboy
from doubles.discord import (  # noqa: F401
    DEFAULT_MEMBER_PERMISSIONS,
    MANAGER_PERMISSIONS,
    DiscordDouble,
    InteractionHandle,
    discord_double_fixture,
)
from doubles.feed_server import FeedServer
from tests.bot_harness import FakeClock, bot_config, delivered_ids, digest_messages, started_bot
from tests.helpers import arxiv_feed, arxiv_item

T0 = datetime(2024, 11, 28, 5, 0, tzinfo=UTC)  # Thursday 28 Nov 2024, 05:00 UTC
EPOCH = re.compile(r"<t:(\d+):F>")


def feed(ids: list[str], category: str = "cs.LG") -> bytes:
    return arxiv_feed(*(arxiv_item(i, title=f"Paper {i}", categories=(category,)) for i in ids))


def ids(first: int, count: int) -> list[str]:
    return [f"2411.{n:05d}" for n in range(first, first + count)]


def config_for(tmp_path: Path, double: DiscordDouble, feed_server: FeedServer, **kwargs: Any) -> Config:
    return bot_config(tmp_path, double, feed_server.port, categories=[], **kwargs)


async def command(double: DiscordDouble, name: str, options: dict[str, Any] | None = None,
                  channel: int | None = None, permissions: int = MANAGER_PERMISSIONS
                  ) -> tuple[InteractionHandle, str]:
    """Run a slash command; its handle and the text of its final answer (content and embeds)."""
    handle = await double.send_slash_command(double.guild_id, channel or double.channel_id, name,
                                             options or {}, user_permissions=permissions)
    await handle.response(timeout=4.0)
    original = await handle.wait_original(timeout=8.0)
    embeds = " ".join(str(e) for e in original.get("embeds", []))
    return handle, f"{original.get('content') or ''} {embeds}".strip()


async def ephemeral_answer(double: DiscordDouble, name: str, options: dict[str, Any] | None = None,
                           channel: int | None = None, permissions: int = MANAGER_PERMISSIONS) -> str:
    handle, text = await command(double, name, options, channel, permissions)
    assert handle.ephemeral, f"/{name} answers ephemerally"
    return text


async def choices(double: DiscordDouble, name: str, option: str, typed: str,
                  channel: int | None = None) -> list[dict[str, Any]]:
    handle = await double.send_autocomplete(double.guild_id, channel or double.channel_id, name,
                                            {option: typed}, focused=option,
                                            user_permissions=MANAGER_PERMISSIONS)
    found = await handle.wait_choices(timeout=4.0)
    assert len(found) <= 25
    for choice in found:
        assert 1 <= len(choice["name"]) <= 100 and 1 <= len(str(choice["value"])) <= 100, choice
    return found


async def stored_topics(bot: Paperboy, channel: int | None = None) -> list[tuple[str, bool]]:
    rows = await bot.services.store.list_subscriptions(None if channel is None else [channel])
    return [(r.value, r.exclude) for r in rows]


def assert_answered_in_time(double: DiscordDouble) -> None:
    assert double.interactions, "some interactions were sent"
    for handle in double.interactions.values():
        assert handle.answered and not handle.expired, handle.label
        assert handle.callback_latency is not None and handle.callback_latency < 3.0, \
            (handle.label, handle.callback_latency)


# -- identity --------------------------------------------------------------------------------------

async def test_bot_identifies_with_the_guilds_intent_only(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    async with started_bot(config_for(tmp_path, discord_double, feed_server), FakeClock(T0)):
        assert discord_double.last_intents == 1
        assert all(i.get("intents") == 1 for i in discord_double.identifies)


# -- autocomplete ----------------------------------------------------------------------------------

async def test_subscribe_autocomplete_offers_named_categories_and_the_channels_own_topics(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    double = discord_double
    other = double.text_channel_ids()[1]
    async with started_bot(config_for(tmp_path, double, feed_server), FakeClock(T0)):
        found = await choices(double, "subscribe add", "topic", "cs.L")
        assert found[0] == {"name": "cs.LG — Machine Learning", "value": "cs.LG"}, found
        assert {c["value"] for c in found} >= {"cs.LG", "cs.LO"}
        assert all(c["value"].startswith("cs.L") for c in found)
        assert len(await choices(double, "subscribe add", "topic", "")) == 25, "at most 25, and 25 offered"
        by_name = [c["value"] for c in await choices(double, "subscribe add", "topic", "machine learn")]
        assert "cs.LG" in by_name and "stat.ML" in by_name

        for topic, exclude in (("cs.LG", False), ("author:Sergey Levine", False), ("survey", True)):
            await command(double, "subscribe add", {"topic": topic, "exclude": exclude})
        await command(double, "subscribe add", {"topic": "math.CA"}, channel=other)
        own = {c["value"]: c["name"] for c in await choices(double, "subscribe remove", "topic", "")}
        assert set(own) == {"cs.LG", "author:Sergey Levine", "survey"}, own
        assert own["survey"].startswith("exclude") and own["cs.LG"] == "cs.LG", "an exclusion says so"
        assert [c["value"] for c in await choices(double, "subscribe remove", "topic", "lev")] == \
            ["author:Sergey Levine"]
        assert [c["value"] for c in await choices(double, "subscribe remove", "topic", "", other)] == \
            ["math.CA"]

        # What autocomplete offers, remove accepts.
        text = await ephemeral_answer(double, "subscribe remove", {"topic": "author:Sergey Levine"})
        assert "no longer follows" in text and "Sergey Levine" in text
        text = await ephemeral_answer(double, "subscribe remove", {"topic": "stat.ML"})
        assert "does not follow" in text
    assert_answered_in_time(double)


async def test_schedule_timezone_autocomplete(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    async with started_bot(config_for(tmp_path, discord_double, feed_server), FakeClock(T0)):
        found = await choices(discord_double, "digest schedule", "timezone", "berl")
        assert {"name": "Europe/Berlin", "value": "Europe/Berlin"} in found
        assert len(await choices(discord_double, "digest schedule", "timezone", "")) == 25


# -- /subscribe add: validation, duplicates, exclusions, limits --------------------------------------

async def test_subscribe_add_errors_are_ephemeral_and_helpful(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    double = discord_double
    feeds = [{"name": "shortscience", "kind": "shortscience", "url": feed_server.url("/ss.xml")},
             {"name": "labblog", "kind": "rss", "url": feed_server.url("/lab.xml")}]
    config = config_for(tmp_path, double, feed_server, feeds=feeds)
    async with started_bot(config, FakeClock(T0)) as bot:
        text = await ephemeral_answer(double, "subscribe add", {"topic": "cs.lf"})
        assert "cs.lf" in text and "cs.LG" in text, text
        text = await ephemeral_answer(double, "subscribe add", {"topic": "feed:nope"})
        assert "nope" in text and "feed:shortscience" in text and "feed:labblog" in text, text
        assert await stored_topics(bot) == []

        text = await ephemeral_answer(double, "subscribe add", {"topic": "cs.LG"})
        assert "now follows" in text and "cs.LG" in text
        for again in ("cs.LG", "CS.LG"):
            text = await ephemeral_answer(double, "subscribe add", {"topic": again})
            assert "already follows cs.LG" in text, text
        text = await ephemeral_answer(double, "subscribe add", {"topic": "feed:shortscience"})
        assert "now follows" in text
        text = await ephemeral_answer(double, "subscribe add", {"topic": "survey", "exclude": True})
        assert "now excludes" in text and "survey" in text, text
        text = await ephemeral_answer(double, "subscribe add", {"topic": "survey", "exclude": True})
        assert "already excludes" in text
        assert sorted(await stored_topics(bot)) == [("cs.LG", False), ("feed:shortscience", False),
                                                    ("survey", True)]

        # Anyone may read the list: follows, then exclusions, then the schedule.
        text = await ephemeral_answer(double, "subscribe list", permissions=DEFAULT_MEMBER_PERMISSIONS)
        follows, _, excludes = text.partition("excludes")
        assert "cs.LG" in follows and "feed:shortscience" in follows and "survey" not in follows, text
        assert "survey" in excludes, text
        assert "daily at 08:00 UTC" in text
        text = await ephemeral_answer(double, "subscribe list", channel=double.text_channel_ids()[1])
        assert "follows nothing yet" in text
    assert_answered_in_time(double)


async def test_subscribe_list_shows_topics_in_the_order_they_were_added(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    double = discord_double
    added = ["transformers", "cs.LG", "author:Yann LeCun"]  # keyword, category, author
    async with started_bot(config_for(tmp_path, double, feed_server), FakeClock(T0)):
        for topic in added:
            await command(double, "subscribe add", {"topic": topic})
        text = await ephemeral_answer(double, "subscribe list")
        listed = re.findall(r"^• (.+)$", text, re.MULTILINE)
        assert listed == added, text
        offered = [c["value"] for c in await choices(double, "subscribe remove", "topic", "")]
        assert offered == added


async def test_topic_limits_refuse_clearly_and_store_nothing_more(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    double = discord_double
    first, second = double.text_channel_ids()[:2]
    config = config_for(tmp_path, double, feed_server,
                        digest={"max_topics_per_channel": 3, "max_topics_per_guild": 4})
    async with started_bot(config, FakeClock(T0)) as bot:
        for topic in ("cs.LG", "cs.AI", "stat.ML"):
            assert "now follows" in await ephemeral_answer(double, "subscribe add", {"topic": topic},
                                                           channel=first)
        text = await ephemeral_answer(double, "subscribe add", {"topic": "cs.CV"}, channel=first)
        assert "3" in text and "channel" in text and "/subscribe remove" in text, text
        text = await ephemeral_answer(double, "subscribe add", {"topic": "gans", "exclude": True},
                                      channel=first)
        assert "3" in text and "channel" in text, "an exclusion is a topic too"
        assert sorted(await stored_topics(bot, first)) == [("cs.AI", False), ("cs.LG", False),
                                                           ("stat.ML", False)]

        assert "now follows" in await ephemeral_answer(double, "subscribe add", {"topic": "math.CA"},
                                                       channel=second)
        text = await ephemeral_answer(double, "subscribe add", {"topic": "hep-th"}, channel=second)
        assert "4" in text and "server" in text, text
        assert await stored_topics(bot, second) == [("math.CA", False)]
        assert len(await stored_topics(bot)) == 4

        # Removing one makes room again.
        await ephemeral_answer(double, "subscribe remove", {"topic": "cs.AI"}, channel=first)
        assert "now follows" in await ephemeral_answer(double, "subscribe add", {"topic": "hep-th"},
                                                       channel=second)
    assert_answered_in_time(double)


# -- /digest schedule ------------------------------------------------------------------------------

async def test_digest_schedule_answers(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    double = discord_double
    channel = double.channel_id
    async with started_bot(config_for(tmp_path, double, feed_server), FakeClock(T0)) as bot:
        await command(double, "subscribe add", {"topic": "cs.LG"})
        store = bot.services.store
        before = await store.get_channel(channel)

        for bad in ("25:00", "8am", "08:61"):
            text = await ephemeral_answer(double, "digest schedule", {"time": bad})
            assert bad in text and "HH:MM" in text, text
        text = await ephemeral_answer(double, "digest schedule", {"timezone": "Berlin"})
        assert "not a time zone" in text and "Europe/Berlin" in text, text
        text = await ephemeral_answer(double, "digest schedule", {"timezone": "New York"})
        assert "America/New_York" in text, text
        text = await ephemeral_answer(double, "digest schedule", {"max_items": 0})
        assert "between 1 and 50" in text
        assert await store.get_channel(channel) == before, "a refused schedule changes nothing"

        text = await ephemeral_answer(double, "digest schedule", {
            "time": "09:30", "timezone": "Europe/Berlin", "frequency": "weekly", "weekday": "monday"})
        assert "weekly on Monday at 09:30 Europe/Berlin" in text, text
        [epoch] = EPOCH.findall(text)
        assert int(epoch) == int(datetime(2024, 12, 2, 8, 30, tzinfo=UTC).timestamp())
        settings = await store.get_channel(channel)
        assert settings is not None and (settings.frequency, settings.weekday) == ("weekly", 0)

        text = await ephemeral_answer(double, "digest schedule", {"frequency": "instant"})
        assert "instant" in text and "<t:" not in text, text
        settings = await store.get_channel(channel)
        assert settings is not None and settings.frequency == "instant" and settings.next_due is None

        text = await ephemeral_answer(double, "digest schedule", {"frequency": "daily", "time": "07:00",
                                                                  "timezone": "UTC"})
        assert "daily at 07:00 UTC" in text
        [epoch] = EPOCH.findall(text)
        assert int(epoch) == int(datetime(2024, 11, 28, 7, 0, tzinfo=UTC).timestamp())

        text = await ephemeral_answer(double, "digest schedule", {"time": "09:00"},
                                      permissions=DEFAULT_MEMBER_PERMISSIONS)
        assert "Manage Channels" in text
    assert_answered_in_time(double)


async def test_digest_schedule_suggests_a_zone_for_a_misspelt_one(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    """A typo in a zone name gets a suggestion, as a typo in a category does (cs.lf -> cs.LG)."""
    async with started_bot(config_for(tmp_path, discord_double, feed_server), FakeClock(T0)):
        text = await ephemeral_answer(discord_double, "digest schedule", {"timezone": "America/New_Yrok"})
        assert "America/New_York" in text, text


# -- /digest preview, /paperboy about|status ------------------------------------------------------

async def test_digest_preview_shows_the_first_message_and_sends_nothing(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    double = discord_double
    channel = double.channel_id
    papers = ids(1, 12)
    feed_server.serve("/rss/cs.LG", feed(papers))
    clock = FakeClock(T0)
    async with started_bot(config_for(tmp_path, double, feed_server), clock) as bot:
        text = await ephemeral_answer(double, "digest preview", permissions=DEFAULT_MEMBER_PERMISSIONS)
        assert "follows nothing yet" in text
        await command(double, "subscribe add", {"topic": "cs.LG"})
        text = await ephemeral_answer(double, "digest preview")
        assert "Nothing new" in text
        await bot.poll_jobs.poll_due()

        handle, text = await command(double, "digest preview", permissions=DEFAULT_MEMBER_PERMISSIONS)
        assert handle.ephemeral
        original = handle.original
        assert original is not None
        assert "Paperboy digest" in original["content"] and "12 new papers" in original["content"]
        assert "1 more message" in original["content"]
        shown = delivered_ids([original])
        assert shown == papers[:10], "the first message of the real digest: ten papers"
        assert digest_messages(double, channel) == [], "a preview posts nothing in the channel"

        clock.set(datetime(2024, 11, 28, 8, 0, 5, tzinfo=UTC))
        await bot.dispatcher.run_due()
        assert Counter(delivered_ids(digest_messages(double, channel))) == Counter(papers), \
            "a preview consumes nothing"
    assert_answered_in_time(double)


async def test_paperboy_about_and_status(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    double = discord_double
    feed_server.serve("/rss/cs.LG", feed(ids(1, 3)))
    feed_server.fault("/rss/stat.ML", status=500)
    async with started_bot(config_for(tmp_path, double, feed_server), FakeClock(T0)) as bot:
        text = await ephemeral_answer(double, "paperboy about", permissions=DEFAULT_MEMBER_PERMISSIONS)
        assert "Thank you to arXiv for use of its open access interoperability." in text

        text = await ephemeral_answer(double, "paperboy status", permissions=DEFAULT_MEMBER_PERMISSIONS)
        assert "This channel" in text and "follows nothing yet" in text, text

        await command(double, "subscribe add", {"topic": "cs.LG"})
        await command(double, "subscribe add", {"topic": "stat.ML"})
        await bot.poll_jobs.poll_due()
        text = await ephemeral_answer(double, "paperboy status", permissions=DEFAULT_MEMBER_PERMISSIONS)
        assert "1 healthy, 1 failing" in text, text
        assert "arxiv:stat.ML" in text and "failure" in text, text
        assert "arxiv:cs.LG" not in text, "healthy feeds are counted, failing ones named"
        assert "last poll <t:" in text
        assert "daily at 08:00 UTC" in text and "Next digest <t:" in text, text
        assert "Paused" not in text
    assert_answered_in_time(double)


# -- frequencies -----------------------------------------------------------------------------------

async def test_instant_channel_gets_new_items_right_after_a_poll(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    double = discord_double
    channel = double.channel_id
    first, second = ids(1, 3), ids(4, 2)
    feed_server.serve("/rss/cs.LG", feed(first))
    clock = FakeClock(T0)  # 05:00 UTC: nowhere near a digest time
    async with started_bot(config_for(tmp_path, double, feed_server), clock) as bot:
        await command(double, "subscribe add", {"topic": "cs.LG"})
        await command(double, "digest schedule", {"frequency": "instant"})
        await bot.poll_jobs.poll_due()  # the poll itself triggers the dispatcher
        assert Counter(delivered_ids(digest_messages(double, channel))) == Counter(first)

        clock.set(datetime(2024, 11, 28, 5, 30, tzinfo=UTC))
        feed_server.serve("/rss/cs.LG", feed(first + second))
        bot.poll_jobs.arxiv_rebuilt()
        await bot.poll_jobs.poll_due()
        assert Counter(delivered_ids(digest_messages(double, channel))) == Counter(first + second)
        assert (await bot.dispatcher.run_due()).messages == 0
        clock.set(datetime(2024, 11, 28, 8, 0, 5, tzinfo=UTC))
        assert (await bot.dispatcher.run_due()).messages == 0, "no daily digest on top"
    assert Counter(delivered_ids(digest_messages(double, channel))) == Counter(first + second)


async def test_the_store_is_tidied_after_a_round_that_stored_papers(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    """The poll job asks the store for its index upkeep once a round stored papers (after the
    instant digests), and not after a round that brought nothing new."""
    double = discord_double
    feed_server.serve("/rss/cs.LG", feed(ids(1, 3)))
    clock = FakeClock(T0)
    async with started_bot(config_for(tmp_path, double, feed_server), clock) as bot:
        store = bot.services.store
        tidied: list[int] = []
        tidy = store.tidy_after_ingest

        async def counted() -> None:
            tidied.append(len(digest_messages(double, double.channel_id)))
            await tidy()

        store.tidy_after_ingest = counted  # type: ignore[method-assign]
        await command(double, "subscribe add", {"topic": "cs.LG"})
        await command(double, "digest schedule", {"frequency": "instant"})
        await bot.poll_jobs.poll_due()
        assert len(tidied) == 1 and tidied[0] > 0, "once, after the instant digest went out"
        clock.set(datetime(2024, 11, 28, 5, 30, tzinfo=UTC))
        bot.poll_jobs.arxiv_rebuilt()
        await bot.poll_jobs.poll_due()  # the same feed again: nothing new
        assert len(tidied) == 1


async def test_weekly_channel_gets_its_digest_on_the_weekday_at_the_time_only(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    double = discord_double
    channel = double.channel_id
    first, second = ids(1, 3), ids(4, 2)
    feed_server.serve("/rss/cs.LG", feed(first))
    clock = FakeClock(T0)  # Thursday
    async with started_bot(config_for(tmp_path, double, feed_server), clock) as bot:
        await command(double, "subscribe add", {"topic": "cs.LG"})
        _, text = await command(double, "digest schedule", {"frequency": "weekly", "weekday": "friday",
                                                             "time": "09:00", "timezone": "UTC"})
        assert "weekly on Friday at 09:00 UTC" in text
        await bot.poll_jobs.poll_due()
        for moment in (datetime(2024, 11, 28, 9, 0, 5, tzinfo=UTC),  # Thursday at the time
                       datetime(2024, 11, 28, 23, 59, tzinfo=UTC),
                       datetime(2024, 11, 29, 8, 59, 59, tzinfo=UTC)):  # Friday, just before
            clock.set(moment)
            assert (await bot.dispatcher.run_due()).messages == 0, moment
        assert digest_messages(double, channel) == []
        clock.set(datetime(2024, 11, 29, 9, 0, 5, tzinfo=UTC))
        assert (await bot.dispatcher.run_due()).messages == 1
        assert Counter(delivered_ids(digest_messages(double, channel))) == Counter(first)

        # More papers on Saturday wait for the next Friday.
        clock.set(datetime(2024, 11, 30, 6, 0, tzinfo=UTC))
        feed_server.serve("/rss/cs.LG", feed(second))
        bot.poll_jobs.arxiv_rebuilt()
        await bot.poll_jobs.poll_due()
        for moment in (datetime(2024, 11, 30, 9, 0, 5, tzinfo=UTC),
                       datetime(2024, 12, 2, 9, 0, 5, tzinfo=UTC),
                       datetime(2024, 12, 5, 9, 0, 5, tzinfo=UTC),
                       datetime(2024, 12, 6, 8, 59, tzinfo=UTC)):
            clock.set(moment)
            assert (await bot.dispatcher.run_due()).messages == 0, moment
        clock.set(datetime(2024, 12, 6, 9, 0, 5, tzinfo=UTC))
        assert (await bot.dispatcher.run_due()).messages == 1
    assert Counter(delivered_ids(digest_messages(double, channel))) == Counter(first + second)


# -- /digest now and the 3 s rule ------------------------------------------------------------------

async def test_every_command_is_answered_within_three_seconds(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    double = discord_double
    feed_server.serve("/rss/cs.LG", feed(ids(1, 25)))
    async with started_bot(config_for(tmp_path, double, feed_server), FakeClock(T0)) as bot:
        await command(double, "subscribe add", {"topic": "cs.LG"})
        await bot.poll_jobs.poll_due()
        text = await ephemeral_answer(double, "digest now")
        assert "Sent 2 digest message(s)" in text, text  # compact: header + 10 cards, then lines
        text = await ephemeral_answer(double, "digest now")
        assert "Nothing new" in text
        for name, options in (("subscribe list", {}), ("digest preview", {}), ("paperboy status", {}),
                              ("paperboy about", {}), ("digest schedule", {"time": "10:00"}),
                              ("subscribe remove", {"topic": "cs.LG"})):
            await ephemeral_answer(double, name, options)
        await choices(double, "subscribe add", "topic", "cs")
        await choices(double, "subscribe remove", "topic", "")
        await choices(double, "digest schedule", "timezone", "Europe")
    assert Counter(delivered_ids(digest_messages(double, double.channel_id))) == Counter(ids(1, 25))
    assert_answered_in_time(double)
    assert not [v for v in double.violations if v.kind == "no_response"]
