"""Digest delivery after an attempt Discord may have answered: the history check, and the log.

In-process, with the bot started as ``paperboy run`` does and the test moving its clock: a send is
cut off while the double holds Discord's answer (the message exists, the bot never heard), then
the dispatcher runs again after the bot's nonce window. The subprocess version with a real SIGKILL
is tests/test_bot_late_restart.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from pathlib import Path

import pytest

from doubles.discord import (  # noqa: F401
    DEFAULT_BOT_PERMISSIONS,
    DiscordDouble,
    Perm,
    discord_double_fixture,
)
from doubles.feed_server import FeedServer
from tests.bot_harness import digest_messages
from tests.test_bot_delivery_faults import IDS, MESSAGES, Setup, assert_each_once, command, digest_ready


async def _cut_off_while_held(s: Setup, skip: int) -> None:
    """Run the dispatcher until the double holds a message's answer, then stop it dead."""
    s.double.hold_next_message(skip=skip)
    run = asyncio.create_task(s.bot.dispatcher.run_due())
    await s.double.wait_held(1, timeout=10)
    run.cancel()  # the process "dies": the send never returns, nothing is recorded
    with contextlib.suppress(asyncio.CancelledError):
        await run
    s.double.release_held()


@pytest.mark.parametrize("skip", [0, 1], ids=["header", "follow-up"])
async def test_a_message_posted_but_not_recorded_is_found_after_the_window(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer, skip: int,
        caplog: pytest.LogCaptureFixture) -> None:
    discord_double.set_nonce_window(1.0)
    async with digest_ready(tmp_path, discord_double, feed_server) as s:
        await _cut_off_while_held(s, skip)
        assert len(digest_messages(s.double, s.channel)) == skip + 1
        discord_double.age_nonces(10)  # Discord has forgotten the nonce
        s.clock.set(s.clock.now + timedelta(minutes=10))  # and so has the bot's window
        with caplog.at_level(logging.INFO, logger="bot.discord_side.delivery"):
            report = await s.bot.dispatcher.run_due()
        assert report.messages == MESSAGES - skip
        assert_each_once(s.double, s.channel)
        assert len(digest_messages(s.double, s.channel)) == MESSAGES
        assert len(s.double.threads(s.channel)) == 1
        assert "already posted in channel" in caplog.text


async def test_within_the_window_the_nonce_is_trusted(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    async with digest_ready(tmp_path, discord_double, feed_server) as s:
        await _cut_off_while_held(s, 1)
        before = len(s.double.requests_to("/channels/*/messages", method="GET"))
        report = await s.bot.dispatcher.run_due()  # the same instant: no history read
        assert report.messages == MESSAGES - 1
        assert len(s.double.requests_to("/channels/*/messages", method="GET")) == before
        assert_each_once(s.double, s.channel)


async def test_without_read_message_history_the_message_is_sent_again_and_said(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer,
        caplog: pytest.LogCaptureFixture) -> None:
    discord_double.set_nonce_window(1.0)
    async with digest_ready(tmp_path, discord_double, feed_server) as s:
        await _cut_off_while_held(s, 2)  # the second follow-up, after one recorded in the thread
        discord_double.age_nonces(10)
        s.clock.set(s.clock.now + timedelta(minutes=10))
        thread = s.double.threads(s.channel)[0]["id"]
        s.double.set_bot_permissions(s.channel, DEFAULT_BOT_PERMISSIONS & ~Perm.READ_MESSAGE_HISTORY)
        with caplog.at_level(logging.WARNING, logger="bot.discord_side.delivery"):
            report = await s.bot.dispatcher.run_due()
        assert (report.messages, report.paused) == (1, 0)
        assert "cannot read the history" in caplog.text and "may show twice" in caplog.text
        in_thread = [m for m in digest_messages(s.double, s.channel) if m["channel_id"] == thread]
        assert len(in_thread) == 3, "the held follow-up shows twice: sent again rather than lost"


async def test_each_digest_run_and_every_pause_and_resume_is_logged(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer,
        caplog: pytest.LogCaptureFixture) -> None:
    async with digest_ready(tmp_path, discord_double, feed_server) as s:
        s.double.set_bot_permissions(s.channel, DEFAULT_BOT_PERMISSIONS & ~Perm.SEND_MESSAGES)
        with caplog.at_level(logging.INFO, logger="bot.discord_side.delivery"):
            await s.bot.dispatcher.run_due()
            s.double.set_bot_permissions(s.channel, DEFAULT_BOT_PERMISSIONS)
            await command(s.double, "digest now")
        server = f"(server {s.double.guild_id})"
        lines = [r.getMessage() for r in caplog.records if r.name == "bot.discord_side.delivery"]
        assert any(line.startswith(f"pausing digests of channel {s.channel} {server}") for line in lines)
        assert any(line.startswith(f"resumed digests of channel {s.channel} {server}") for line in lines)
        runs = [line for line in lines if line.startswith(f"digest for channel {s.channel} {server}")]
        assert len(runs) == 2, lines
        assert "0 of 3 message(s) sent, 0 item(s)" in runs[0] and runs[0].endswith("fresh")
        assert f"3 of 3 message(s) sent, {len(IDS)} item(s)" in runs[1]
        assert runs[1].endswith("resumed from the outbox")
        assert_each_once(s.double, s.channel)
