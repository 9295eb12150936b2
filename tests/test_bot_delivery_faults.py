"""Digest delivery when Discord misbehaves, through the Discord double, with the bot started as
`paperboy run` does (scheduler off: the test runs the poll and the dispatcher).

What must hold whatever Discord answers: every item is delivered exactly once; a channel the bot
cannot post in (403 Missing Permissions / Missing Access, 404 Unknown Channel) is paused with the
reason shown in `/paperboy status` and `/subscribe list`, keeps its messages in the outbox, is not
retried by the dispatcher, and a manager's `/digest now` resumes it; 429 and 5xx only delay the
digest. Every payload is checked against Discord's limits by the double (the fixture fails a test
on any violation).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import discord.http
import pytest

from bot.discord_side.client import Paperboy
from doubles.discord import (  # noqa: F401
    DEFAULT_BOT_PERMISSIONS,
    MANAGER_PERMISSIONS,
    DiscordDouble,
    InteractionHandle,
    Perm,
    discord_double_fixture,
)
from doubles.feed_server import FeedServer
from tests.bot_harness import FakeClock, bot_config, delivered_ids, digest_messages, started_bot
from tests.helpers import arxiv_feed, arxiv_item

T0 = datetime(2024, 11, 28, 5, 0, tzinfo=UTC)  # a Thursday; digests are due at 08:00 UTC
DUE = datetime(2024, 11, 28, 8, 0, 5, tzinfo=UTC)
IDS = [f"2411.{n:05d}" for n in range(1, 6)]
MAX_ITEMS = 2  # five papers, two per message: a header and two follow-ups
MESSAGES = 3
MESSAGE_POSTS = "/channels/*/messages"
THREAD_POSTS = "/channels/*/messages/*/threads"


def feed(ids: list[str]) -> bytes:
    return arxiv_feed(*(arxiv_item(i, title=f"Paper {i}", categories=("cs.LG",)) for i in ids))


@dataclass
class Setup:
    bot: Paperboy
    double: DiscordDouble
    clock: FakeClock
    channel: int


async def command(double: DiscordDouble, name: str, options: dict[str, Any] | None = None,
                  channel: int | None = None, permissions: int = MANAGER_PERMISSIONS,
                  timeout: float = 10.0) -> tuple[InteractionHandle, str]:
    """Run a slash command; its handle and the text of its (final) answer."""
    handle = await double.send_slash_command(double.guild_id, channel or double.channel_id, name,
                                             options or {}, user_permissions=permissions)
    await handle.response(timeout=4.0)
    original = await handle.wait_original(timeout=timeout)
    return handle, str(original.get("content") or "")


@asynccontextmanager
async def digest_ready(tmp_path: Path, double: DiscordDouble, feed_server: FeedServer,
                       ids: list[str] = IDS) -> AsyncIterator[Setup]:
    """A bot whose first channel follows cs.LG (daily 08:00 UTC, one card per paper, two per
    message) and has polled ``ids``; the clock is at the due time and nothing has been sent yet."""
    feed_server.serve("/rss/cs.LG", feed(ids))
    clock = FakeClock(T0)
    config = bot_config(tmp_path, double, feed_server.port, categories=[])
    channel = double.channel_id
    async with started_bot(config, clock) as bot:
        await command(double, "subscribe add", {"topic": "cs.LG"})
        _, text = await command(double, "digest schedule", {"time": "08:00", "timezone": "UTC",
                                                            "max_items": MAX_ITEMS, "layout": "cards"})
        assert "08:00" in text
        [report] = await bot.poll_jobs.poll_due()
        assert report.new_papers == len(ids)
        assert digest_messages(double, channel) == []
        clock.set(DUE)
        yield Setup(bot, double, clock, channel)


async def timed(coro: Any, limit: float = 12.0) -> tuple[Any, float]:
    start = time.monotonic()
    result = await asyncio.wait_for(coro, limit)
    return result, time.monotonic() - start


def assert_each_once(double: DiscordDouble, channel: int, ids: list[str] = IDS) -> None:
    got = delivered_ids(digest_messages(double, channel))
    assert Counter(got) == Counter(ids), f"every item exactly once, got {got}"


async def pending_items(bot: Paperboy, channel: int) -> list[str]:
    """arXiv ids still in the channel's outbox (not sent)."""
    outbox = await bot.services.store.pending_outbox(channel)
    return [key for m in outbox if m.status == "pending" for _kind, key, _v in m.items]


async def delivered_in_store(bot: Paperboy, channel: int) -> set[str]:
    found = (await bot.services.store.delivered([channel], [("paper", i) for i in IDS])).get(channel, {})
    return {key for _kind, key in found}


# -- 429 -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("is_global", [False, True], ids=["route", "global"])
async def test_429_on_send_waits_and_delivers_every_item_once(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer, is_global: bool) -> None:
    async with digest_ready(tmp_path, discord_double, feed_server) as s:
        fault = s.double.inject_fault(MESSAGE_POSTS, status=429, method="POST", count=1, retry_after=1.0,
                                      is_global=is_global)
        report, elapsed = await timed(s.bot.dispatcher.run_due())
        assert fault.hits == 1
        assert elapsed >= 0.9, "the bot waited for Retry-After before sending again"
        assert (report.messages, report.paused, report.failed) == (MESSAGES, 0, 0)
        assert_each_once(s.double, s.channel)
        assert await pending_items(s.bot, s.channel) == []
        assert await delivered_in_store(s.bot, s.channel) == set(IDS)
        assert (await s.bot.dispatcher.run_due()).messages == 0
        channel = await s.bot.services.store.get_channel(s.channel)
        assert channel is not None and channel.paused_reason is None
    assert len(digest_messages(discord_double, discord_double.channel_id)) == MESSAGES


# -- 403 / 404: pause, keep everything, resume with /digest now -----------------------------------

def _no_send(double: DiscordDouble, channel: int) -> Callable[[], None]:
    double.set_bot_permissions(channel, DEFAULT_BOT_PERMISSIONS & ~Perm.SEND_MESSAGES)
    return lambda: double.set_bot_permissions(channel, DEFAULT_BOT_PERMISSIONS)


def _no_view(double: DiscordDouble, channel: int) -> Callable[[], None]:
    double.set_bot_permissions(channel, DEFAULT_BOT_PERMISSIONS & ~Perm.VIEW_CHANNEL)
    return lambda: double.set_bot_permissions(channel, DEFAULT_BOT_PERMISSIONS)


def _fault_403_missing_access(double: DiscordDouble, channel: int) -> Callable[[], None]:
    fault = double.inject_fault("*", status=403, code=50001, count=None, channel_id=channel)
    return lambda: double.faults.remove(fault)


def _fault_403_missing_permissions(double: DiscordDouble, channel: int) -> Callable[[], None]:
    fault = double.inject_fault("*", status=403, code=50013, count=None, channel_id=channel)
    return lambda: double.faults.remove(fault)


def _fault_404_unknown_channel(double: DiscordDouble, channel: int) -> Callable[[], None]:
    fault = double.inject_fault("*", status=404, count=None, channel_id=channel)
    return lambda: double.faults.remove(fault)


BREAKAGES = [
    pytest.param(_no_send, "Missing Permissions", id="perms-no-send-50013"),
    pytest.param(_no_view, "Missing Access", id="perms-no-view-50001"),
    pytest.param(_fault_403_missing_permissions, "Missing Permissions", id="fault-403-50013"),
    pytest.param(_fault_403_missing_access, "Missing Access", id="fault-403-50001"),
    pytest.param(_fault_404_unknown_channel, "Unknown Channel", id="fault-404-10003"),
]


@pytest.mark.parametrize(("breakage", "reason"), BREAKAGES)
async def test_unpostable_channel_is_paused_keeps_items_and_resumes_with_digest_now(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer,
        breakage: Callable[[DiscordDouble, int], Callable[[], None]], reason: str) -> None:
    double = discord_double
    async with digest_ready(tmp_path, double, feed_server) as s:
        restore = breakage(double, s.channel)
        report, _ = await timed(s.bot.dispatcher.run_due())
        assert (report.messages, report.paused) == (0, 1)
        assert len(double.requests_to(f"/channels/{s.channel}/messages", "POST")) == 1, \
            "the first refusal stops the digest: no try with the other messages"

        # Paused, with the reason, and nothing lost.
        channel = await s.bot.services.store.get_channel(s.channel)
        assert channel is not None and channel.paused_reason, "the channel is paused"
        assert reason in channel.paused_reason
        assert digest_messages(double, s.channel) == []
        assert sorted(await pending_items(s.bot, s.channel)) == IDS, "every item stays in the outbox"
        assert await delivered_in_store(s.bot, s.channel) == set()

        # The reason is shown to the people of the channel.
        _, status = await command(double, "paperboy status", channel=s.channel)
        assert "Paused" in status and reason in status, status
        _, listing = await command(double, "subscribe list", channel=s.channel)
        assert "paused" in listing.lower() and reason in listing, listing
        assert "/digest now" in listing

        # The dispatcher leaves it alone: no request to the channel, not even at the next due time.
        before = len(double.requests_to(f"/channels/{s.channel}*"))
        for moment in (datetime(2024, 11, 28, 8, 5, tzinfo=UTC), datetime(2024, 11, 29, 8, 0, 5, tzinfo=UTC),
                       datetime(2024, 11, 30, 8, 0, 5, tzinfo=UTC)):
            s.clock.set(moment)
            again = await s.bot.dispatcher.run_due()
            assert again.messages == 0 and again.paused == 0
        assert len(double.requests_to(f"/channels/{s.channel}*")) == before, "no hammering a paused channel"
        assert sorted(await pending_items(s.bot, s.channel)) == IDS

        # Permissions fixed: a manager's /digest now resumes and delivers everything once.
        restore()
        handle, text = await command(double, "digest now", channel=s.channel)
        assert handle.ephemeral
        assert "resumed" in text.lower() and f"Sent {MESSAGES}" in text, text
        assert_each_once(double, s.channel)
        channel = await s.bot.services.store.get_channel(s.channel)
        assert channel is not None and channel.paused_reason is None
        assert await pending_items(s.bot, s.channel) == []
        assert await delivered_in_store(s.bot, s.channel) == set(IDS)
        _, status = await command(double, "paperboy status", channel=s.channel)
        assert "Paused" not in status
        assert (await s.bot.dispatcher.run_due()).messages == 0
    assert_each_once(double, double.channel_id)


async def test_items_that_arrive_while_paused_follow_after_the_resume(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    double = discord_double
    later = [f"2411.{n:05d}" for n in range(6, 9)]
    async with digest_ready(tmp_path, double, feed_server) as s:
        restore = _no_send(double, s.channel)
        assert (await s.bot.dispatcher.run_due()).paused == 1
        s.clock.set(datetime(2024, 11, 29, 6, 0, tzinfo=UTC))  # the next day's papers come in
        feed_server.serve("/rss/cs.LG", feed(later))
        s.bot.poll_jobs.arxiv_rebuilt()
        await s.bot.poll_jobs.poll_due()
        s.clock.set(datetime(2024, 11, 29, 9, 0, tzinfo=UTC))  # fixed after that day's digest time
        restore()
        _, text = await command(double, "digest now", channel=s.channel)
        assert "resumed" in text.lower(), text
        for minute in range(1, 3):  # the scheduler's next runs
            s.clock.set(datetime(2024, 11, 29, 9, minute, tzinfo=UTC))
            await s.bot.dispatcher.run_due()
        assert_each_once(double, s.channel, IDS + later)
        s.clock.set(datetime(2024, 11, 30, 8, 0, 5, tzinfo=UTC))
        assert (await s.bot.dispatcher.run_due()).messages == 0


async def test_digest_now_while_still_broken_keeps_the_pause_and_says_what_to_do(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    double = discord_double
    async with digest_ready(tmp_path, double, feed_server) as s:
        _no_send(double, s.channel)
        await s.bot.dispatcher.run_due()
        handle, text = await command(double, "digest now", channel=s.channel)
        assert handle.ephemeral
        assert "Still cannot post here" in text and "Send Messages" in text, text
        channel = await s.bot.services.store.get_channel(s.channel)
        assert channel is not None and channel.paused_reason
        assert sorted(await pending_items(s.bot, s.channel)) == IDS
        assert digest_messages(double, s.channel) == []


async def test_deleted_channel_is_paused_and_shown_in_the_other_channels_status(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    double = discord_double
    other = double.text_channel_ids()[1]
    async with digest_ready(tmp_path, double, feed_server) as s:
        await double.delete_channel(s.channel)
        await asyncio.sleep(0.1)  # CHANNEL_DELETE reaches the bot
        report = await s.bot.dispatcher.run_due()
        assert (report.messages, report.paused) == (0, 1)
        channel = await s.bot.services.store.get_channel(s.channel)
        assert channel is not None and channel.paused_reason and "Unknown Channel" in channel.paused_reason
        assert sorted(await pending_items(s.bot, s.channel)) == IDS
        _, status = await command(double, "paperboy status", channel=other)
        assert f"<#{s.channel}>" in status and "paused" in status and "Unknown Channel" in status, status
        before = len(double.requests_to(f"/channels/{s.channel}*"))
        s.clock.set(datetime(2024, 11, 29, 8, 0, 5, tzinfo=UTC))
        assert (await s.bot.dispatcher.run_due()).messages == 0
        assert len(double.requests_to(f"/channels/{s.channel}*")) == before


async def test_forbidden_in_the_thread_pauses_and_resume_continues_in_the_same_thread(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    """The header and its thread are made, the first follow-up gets 403 in the thread: paused with
    the header recorded; after the fix, /digest now sends only the follow-ups, into that thread."""
    double = discord_double
    async with digest_ready(tmp_path, double, feed_server) as s:
        double.set_bot_permissions(s.channel, DEFAULT_BOT_PERMISSIONS & ~Perm.SEND_MESSAGES_IN_THREADS)
        report = await s.bot.dispatcher.run_due()
        assert (report.messages, report.paused) == (1, 1)
        [header] = digest_messages(double, s.channel)
        [thread] = double.threads(s.channel)
        channel = await s.bot.services.store.get_channel(s.channel)
        assert channel is not None and channel.paused_reason
        assert len(await pending_items(s.bot, s.channel)) == len(IDS) - MAX_ITEMS
        double.set_bot_permissions(s.channel, DEFAULT_BOT_PERMISSIONS)
        _, text = await command(double, "digest now", channel=s.channel)
        assert "resumed" in text.lower() and f"Sent {MESSAGES - 1}" in text, text
        messages = digest_messages(double, s.channel)
        assert messages[0]["id"] == header["id"] and len(messages) == MESSAGES
        assert [t["id"] for t in double.threads(s.channel)] == [thread["id"]], "no second thread"
        assert [m["channel_id"] for m in messages[1:]] == [thread["id"]] * (MESSAGES - 1)
        assert_each_once(double, s.channel)


# -- 5xx -----------------------------------------------------------------------------------------

async def test_500_once_is_retried_by_discord_py_and_delivered_once(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    async with digest_ready(tmp_path, discord_double, feed_server) as s:
        fault = s.double.inject_fault(MESSAGE_POSTS, status=500, method="POST", count=1)
        report, elapsed = await timed(s.bot.dispatcher.run_due())
        assert fault.hits == 1 and elapsed >= 0.9  # discord.py slept 1 s and sent again
        assert (report.messages, report.paused, report.failed) == (MESSAGES, 0, 0)
        assert_each_once(s.double, s.channel)
        assert await pending_items(s.bot, s.channel) == []


async def test_5xx_not_retried_by_discord_py_stays_in_outbox_for_the_next_run(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    """503 is a 5xx discord.py raises at once (it only retries 500/502/504/524): SendFailed."""
    async with digest_ready(tmp_path, discord_double, feed_server) as s:
        fault = s.double.inject_fault(MESSAGE_POSTS, status=503, method="POST", count=1)
        report = await s.bot.dispatcher.run_due()
        assert fault.hits == 1
        assert (report.messages, report.paused, report.failed) == (0, 0, 1)
        assert digest_messages(s.double, s.channel) == []
        assert sorted(await pending_items(s.bot, s.channel)) == IDS
        channel = await s.bot.services.store.get_channel(s.channel)
        assert channel is not None and channel.paused_reason is None, "a 5xx does not pause"
        s.clock.set(datetime(2024, 11, 28, 8, 1, 5, tzinfo=UTC))  # the next dispatcher minute
        report = await s.bot.dispatcher.run_due()
        assert (report.messages, report.failed) == (MESSAGES, 0)
        assert_each_once(s.double, s.channel)
        assert (await s.bot.dispatcher.run_due()).messages == 0


class _FastSleepAsyncio:
    """discord.py's view of ``asyncio`` with its retry sleeps shortened 50 times."""

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    @staticmethod
    async def sleep(delay: float, result: Any = None) -> Any:
        return await asyncio.sleep(delay / 50, result)


async def test_500_past_discord_py_retries_stays_in_outbox_for_the_next_run(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Five 500s in a row: discord.py gives up (after 1+3+5+7+9 s of sleeps, here shortened 50x so
    the test stays short) and the message waits in the outbox for the next dispatcher run."""
    async with digest_ready(tmp_path, discord_double, feed_server) as s:
        monkeypatch.setattr(discord.http, "asyncio", _FastSleepAsyncio())
        fault = s.double.inject_fault(MESSAGE_POSTS, status=500, method="POST", count=5)
        report, _ = await timed(s.bot.dispatcher.run_due())
        assert fault.hits == 5
        assert (report.messages, report.paused, report.failed) == (0, 0, 1)
        assert digest_messages(s.double, s.channel) == []
        assert sorted(await pending_items(s.bot, s.channel)) == IDS
        report = await s.bot.dispatcher.run_due()
        assert (report.messages, report.failed) == (MESSAGES, 0)
        assert_each_once(s.double, s.channel)


async def test_failure_after_the_header_resumes_in_the_same_thread_without_repeating(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    """The header is sent, starting the thread fails (503): the next run starts the thread from the
    same header and sends only the follow-ups."""
    async with digest_ready(tmp_path, discord_double, feed_server) as s:
        s.double.inject_fault(THREAD_POSTS, status=503, method="POST", count=1)
        report = await s.bot.dispatcher.run_due()
        assert (report.messages, report.failed) == (1, 1)
        [header] = digest_messages(s.double, s.channel)
        report = await s.bot.dispatcher.run_due()
        assert (report.messages, report.failed) == (MESSAGES - 1, 0)
        messages = digest_messages(s.double, s.channel)
        assert messages[0]["id"] == header["id"] and len(messages) == MESSAGES
        [thread] = s.double.threads(s.channel)
        assert thread["id"] == header["id"], "the follow-ups are in the header's thread"
        assert [m["channel_id"] for m in messages[1:]] == [thread["id"]] * (MESSAGES - 1)
        assert_each_once(s.double, s.channel)


# -- no threads allowed --------------------------------------------------------------------------

async def test_without_create_public_threads_follow_ups_go_to_the_channel(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    double = discord_double
    async with digest_ready(tmp_path, double, feed_server) as s:
        double.set_bot_permissions(s.channel, DEFAULT_BOT_PERMISSIONS & ~Perm.CREATE_PUBLIC_THREADS)
        report = await s.bot.dispatcher.run_due()
        assert (report.messages, report.paused, report.failed) == (MESSAGES, 0, 0)
        assert double.threads(s.channel) == []
        in_channel = [m for m in double.channel_messages(s.channel) if m["author"].get("bot")]
        assert len(in_channel) == MESSAGES, "header and follow-ups, all in the channel"
        assert all(m["channel_id"] == str(s.channel) for m in in_channel)
        assert "(1/3)" in in_channel[0]["content"]
        assert_each_once(double, s.channel)
        assert len(double.requests_to(THREAD_POSTS, "POST")) == 1, "one try at a thread, not one per message"
        channel = await s.bot.services.store.get_channel(s.channel)
        assert channel is not None and channel.paused_reason is None, "no threads is not a reason to pause"
        assert await pending_items(s.bot, s.channel) == []
