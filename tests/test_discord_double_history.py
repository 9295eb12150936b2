"""The double's nonce window, its message history and its held answers.

These model what a bot needs to survive a crash between "Discord created the message" and "the bot
learnt its id": ``enforce_nonce`` deduplicates only for a while, so after that the bot must read the
channel's history -- which, like Discord's, carries no nonces -- to see whether the message exists.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import discord
import pytest
from discord.ext import commands

from doubles.discord import (
    DEFAULT_BOT_PERMISSIONS,
    DISCORD_EPOCH_MS,
    DiscordDouble,
    DoubleProcess,
    Perm,
    discord_double_fixture,  # noqa: F401 -- registers the ``discord_double`` fixture
    running_bot,
)

T = TypeVar("T")
TOKEN = "test-token"
NO_PINGS = {"parse": []}


async def within(awaitable: Awaitable[T], seconds: float = 10.0) -> T:
    """Every await on the bot or the double is bounded, so a bug fails instead of hanging."""
    return await asyncio.wait_for(awaitable, seconds)


def make_bot() -> commands.Bot:
    return commands.Bot(
        command_prefix="!",
        intents=discord.Intents(guilds=True),
        allowed_mentions=discord.AllowedMentions.none(),
        guild_ready_timeout=0.1,
    )


@pytest.fixture
async def running(discord_double: DiscordDouble) -> AsyncIterator[tuple[commands.Bot, DiscordDouble]]:
    async with running_bot(make_bot(), TOKEN) as bot:
        yield bot, discord_double


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A bare HTTP client: no retries, so each request is one request."""
    async with aiohttp.ClientSession(headers={"Authorization": f"Bot {TOKEN}"}) as session:
        yield session


async def post(
    http: aiohttp.ClientSession,
    api_base: str,
    channel_id: int,
    content: str,
    nonce: str | None = None,
    *,
    enforce: bool = True,
) -> tuple[int, Any]:
    body: dict[str, Any] = {"content": content, "allowed_mentions": NO_PINGS}
    if nonce is not None:
        body.update(nonce=nonce, enforce_nonce=enforce)
    async with http.post(f"{api_base}/channels/{channel_id}/messages", json=body) as response:
        return response.status, await response.json()


async def get(http: aiohttp.ClientSession, url: str, **params: Any) -> tuple[int, Any]:
    async with http.get(url, params={k: str(v) for k, v in params.items()}) as response:
        return response.status, await response.json()


def text_channel(bot: commands.Bot, channel_id: int) -> discord.TextChannel:
    channel = bot.get_channel(channel_id)
    assert isinstance(channel, discord.TextChannel)
    return channel


# --------------------------------------------------------------------------------------------------
# The nonce window.
# --------------------------------------------------------------------------------------------------


async def test_a_repeated_nonce_is_deduplicated_only_inside_the_window(
    discord_double: DiscordDouble, http: aiohttp.ClientSession
) -> None:
    dd = discord_double
    assert dd.nonce_window is None  # forever, unless a test says otherwise
    dd.set_nonce_window(0.4)
    _, first = await post(http, dd.api_base, dd.channel_id, "digest", "n-1")
    assert first["nonce"] == "n-1"  # the create response echoes it
    _, again = await post(http, dd.api_base, dd.channel_id, "digest (retry)", "n-1")
    assert again["id"] == first["id"]
    [registered] = dd.nonces()
    assert registered["message_id"] == first["id"] and registered["live"]
    assert abs(registered["created"] - time.time()) < 5  # wall clock: it survives restarts

    await asyncio.sleep(0.5)
    assert not dd.nonces()[0]["live"]
    _, late = await post(http, dd.api_base, dd.channel_id, "digest (late retry)", "n-1")
    assert late["id"] != first["id"], "past the window the same nonce makes a new message"
    _, late_again = await post(http, dd.api_base, dd.channel_id, "digest (again)", "n-1")
    assert late_again["id"] == late["id"], "and the new message is the one deduplicated against"
    assert [m["content"] for m in dd.channel_messages(dd.channel_id)] == ["digest", "digest (late retry)"]
    outcomes = [r["outcome"] for r in dd.requests_to(f"/channels/{dd.channel_id}/messages", "POST")]
    assert outcomes == ["ok", "deduplicated", "ok", "deduplicated"]


async def test_nonce_window_none_is_forever_and_aging_passes_a_window(
    discord_double: DiscordDouble, http: aiohttp.ClientSession
) -> None:
    dd = discord_double
    _, first = await post(http, dd.api_base, dd.channel_id, "one", "n-2")
    dd.age_nonces(10 * 365 * 86400)
    _, again = await post(http, dd.api_base, dd.channel_id, "one", "n-2")
    assert again["id"] == first["id"]
    dd.set_nonce_window(300)  # Discord's "few minutes"
    _, later = await post(http, dd.api_base, dd.channel_id, "one", "n-2")
    assert later["id"] != first["id"]
    # Without enforce_nonce Discord never deduplicates; other channels have their own nonces.
    _, loose = await post(http, dd.api_base, dd.channel_id, "two", "n-2", enforce=False)
    assert loose["id"] != later["id"]
    other = dd.text_channel_ids()[1]
    _, elsewhere = await post(http, dd.api_base, other, "one", "n-2")
    assert elsewhere["channel_id"] == str(other)
    with pytest.raises(ValueError):
        dd.set_nonce_window(-1)


async def test_nonce_times_survive_the_state_file_and_old_files_still_load(tmp_path: Path) -> None:
    state_file = tmp_path / "discord.json"
    async with DiscordDouble(state_file=state_file, nonce_window=60) as dd:
        async with aiohttp.ClientSession(headers={"Authorization": f"Bot {TOKEN}"}) as http:
            _, first = await post(http, dd.api_base, dd.channel_id, "kept", "n-3")
        created = dd.nonces()[0]["created"]
    saved = json.loads(state_file.read_text())
    assert saved["nonces"] == [[dd.channel_id, "n-3", int(first["id"]), created]]

    again = DiscordDouble(state_file=state_file, nonce_window=60)
    assert again.nonces() == dd.nonces()

    # A state file written before nonce times: the message id says when the message was made.
    ten_minutes_ago = int((time.time() - 600) * 1000) - DISCORD_EPOCH_MS
    mid = ten_minutes_ago << 22
    saved["nonces"] = [[dd.channel_id, "n-3", int(first["id"])], [dd.channel_id, "n-old", mid]]
    saved["messages"].append({**saved["messages"][0], "id": str(mid), "nonce": "n-old"})
    saved["channel_index"][str(dd.channel_id)].insert(0, mid)
    state_file.write_text(json.dumps(saved))
    old = DiscordDouble(state_file=state_file, nonce_window=60)
    recent, entry = old.nonces()
    assert abs(recent["created"] - created) < 1 and recent["live"]
    assert abs(entry["created"] - (time.time() - 600)) < 5 and not entry["live"]
    async with old, aiohttp.ClientSession(headers={"Authorization": f"Bot {TOKEN}"}) as http:
        _, resent = await post(http, old.api_base, old.channel_id, "resent", "n-old")
        old.set_nonce_window(None)
        _, kept = await post(http, old.api_base, old.channel_id, "kept", "n-3")
    assert resent["id"] != str(mid), "ten minutes is past a 60 s window"
    assert kept["id"] == first["id"]


# --------------------------------------------------------------------------------------------------
# Reading a channel's history.
# --------------------------------------------------------------------------------------------------


async def test_history_through_discord_py_pages_as_discord_does(
    running: tuple[commands.Bot, DiscordDouble],
) -> None:
    bot, dd = running
    channel = text_channel(bot, dd.channel_id)
    sent = [await within(channel.send(f"m{i}", nonce=f"nonce-{i}")) for i in range(7)]
    assert sent[0].nonce == "nonce-0"  # the create response carries the nonce ...

    newest = [m async for m in channel.history(limit=5)]
    assert [m.id for m in newest] == [m.id for m in reversed(sent[2:])]
    assert all(m.nonce is None for m in newest)  # ... the history does not
    assert (await within(channel.fetch_message(sent[3].id))).nonce is None

    assert [m.content async for m in channel.history(limit=None, oldest_first=True)] == [
        f"m{i}" for i in range(7)
    ]
    assert [m.content async for m in channel.history(limit=3, after=sent[1])] == ["m2", "m3", "m4"]
    assert [m.content async for m in channel.history(limit=2, before=sent[5])] == ["m4", "m3"]
    assert [m.content async for m in channel.history(limit=3, around=sent[3])] == ["m4", "m3", "m2"]
    assert [m.content async for m in channel.history(limit=1, around=sent[6])] == ["m6"]

    raw_after = await within(bot.http.logs_from(channel.id, 2, after=sent[0].id))
    assert [m["content"] for m in raw_after] == ["m2", "m1"]  # right after the id, newest first
    raw_before = await within(bot.http.logs_from(channel.id, 100, before=sent[2].id))
    assert [m["content"] for m in raw_before] == ["m1", "m0"]
    assert await within(bot.http.logs_from(channel.id, 10, after=sent[6].id)) == []
    assert not any("nonce" in m for m in raw_after + raw_before)
    raw_default = await within(bot.http.logs_from(channel.id, 50))
    assert len(raw_default) == 7 and raw_default[0]["id"] == str(sent[6].id)
    assert dd.channel_messages(dd.channel_id)[0]["nonce"] == "nonce-0"  # the test still sees it


async def test_history_pages_past_a_hundred_messages(
    running: tuple[commands.Bot, DiscordDouble], http: aiohttp.ClientSession
) -> None:
    bot, dd = running
    channel = text_channel(bot, dd.channel_id)
    for i in range(130):
        await post(http, dd.api_base, channel.id, f"p{i}")
    contents = [m.content async for m in channel.history(limit=None)]
    assert contents == [f"p{i}" for i in reversed(range(130))]
    pages = [r["query"] for r in dd.requests_to(f"/channels/{channel.id}/messages", "GET")]
    assert [p["limit"] for p in pages] == ["100", "100"] and "before" in pages[1]


async def test_thread_history_and_permissions(
    running: tuple[commands.Bot, DiscordDouble],
) -> None:
    bot, dd = running
    channel = text_channel(bot, dd.text_channel_ids()[1])
    head = await within(channel.send("digest (1/3)", nonce="d-1"))
    thread = await within(head.create_thread(name="More papers"))
    await within(thread.send("digest (2/3)", nonce="d-2"))
    await within(thread.send("digest (3/3)", nonce="d-3"))
    in_thread = [m async for m in thread.history(limit=10)]
    assert [m.content for m in in_thread] == ["digest (3/3)", "digest (2/3)"]
    assert all(m.nonce is None for m in in_thread)
    assert [m.content async for m in channel.history(limit=10)] == ["digest (1/3)"]
    raw = await within(bot.http.logs_from(thread.id, 1))
    assert [m["content"] for m in raw] == ["digest (3/3)"] and raw[0]["channel_id"] == str(thread.id)

    # No Read Message History: Discord answers 200 with no messages, not an error.
    dd.set_bot_permissions(channel.id, DEFAULT_BOT_PERMISSIONS & ~Perm.READ_MESSAGE_HISTORY)
    assert [m async for m in channel.history(limit=10)] == []
    assert [m async for m in thread.history(limit=10)] == []  # a thread has its parent's permissions
    with pytest.raises(discord.Forbidden) as denied:
        await within(channel.fetch_message(head.id))  # one message by id: 50013
    assert denied.value.code == 50013
    # No View Channel: 403 Missing Access.
    dd.set_bot_permissions(channel.id, DEFAULT_BOT_PERMISSIONS & ~Perm.VIEW_CHANNEL)
    with pytest.raises(discord.Forbidden) as hidden:
        await within(bot.http.logs_from(thread.id, 10))
    assert hidden.value.code == 50001
    dd.set_bot_permissions(channel.id, DEFAULT_BOT_PERMISSIONS)
    assert len([m async for m in channel.history(limit=10)]) == 1


async def test_history_query_rules(discord_double: DiscordDouble, http: aiohttp.ClientSession) -> None:
    dd = discord_double
    url = f"{dd.api_base}/channels/{dd.channel_id}/messages"
    ids = [int((await post(http, dd.api_base, dd.channel_id, f"q{i}"))[1]["id"]) for i in range(4)]
    for bad in (0, 101, "lots"):
        status, body = await get(http, url, limit=bad)
        assert status == 400 and body["code"] == 50035 and "limit" in body["errors"]
    assert [v.field for v in dd.take_violations()] == ["limit", "limit", "limit"]
    status, page = await get(http, url, before=ids[3], after=ids[0])
    assert status == 200 and [m["content"] for m in page] == ["q3", "q2", "q1"]  # honours after
    [violation] = dd.take_violations()
    assert violation.kind == "query" and "mutually exclusive" in violation.message
    status, page = await get(http, url, around=ids[1], limit=4)
    assert [m["content"] for m in page] == ["q3", "q2", "q1", "q0"]
    status, missing = await get(http, f"{dd.api_base}/channels/1/messages")
    assert status == 404 and missing["code"] == 10003
    status, one = await get(http, f"{url}/{ids[0]}")
    assert status == 200 and one["content"] == "q0"


# --------------------------------------------------------------------------------------------------
# Holding the answer to a message.
# --------------------------------------------------------------------------------------------------


async def test_a_held_message_exists_before_the_bot_learns_its_id(
    running: tuple[commands.Bot, DiscordDouble],
) -> None:
    bot, dd = running
    channel = text_channel(bot, dd.channel_id)
    fault = dd.hold_next_message(skip=1)  # let the first post through, hold the second
    await within(channel.send("part 1", nonce="h-1"))
    sending = asyncio.create_task(channel.send("part 2", nonce="h-2"))
    [record] = await dd.wait_held()
    assert record["outcome"] == "held" and record["hold"] == "holding" and record["status"] is None
    assert record["held_status"] == 200 and record["held_outcome"] == "ok"
    held_id = record["held_response"]["id"]
    assert not sending.done()
    # Discord has the message: it is stored, listed and its nonce registered.
    assert [m["content"] for m in dd.channel_messages(dd.channel_id)] == ["part 1", "part 2"]
    listed = await within(bot.http.logs_from(channel.id, 10))
    assert listed[0]["id"] == held_id and "nonce" not in listed[0]
    assert any(n["nonce"] == "h-2" and n["message_id"] == held_id for n in dd.nonces())
    assert (fault.seen, fault.hits, fault.remaining) == (2, 1, 0)

    assert dd.release_held() == 1
    message = await within(sending)
    assert str(message.id) == held_id
    assert record["hold"] == "answered" and record["status"] == 200 and record["outcome"] == "held"
    third = await within(channel.send("part 3", nonce="h-3"))  # count=1: only one was held
    assert [r["json"]["content"] for r in dd.held()] == ["part 2"]
    assert third.content == "part 3"


async def test_a_hold_for_seconds_and_an_error_after_a_hold(
    discord_double: DiscordDouble, http: aiohttp.ClientSession
) -> None:
    dd = discord_double
    dd.hold_next_message(dd.channel_id, seconds=0.3)
    started = time.monotonic()
    status, body = await post(http, dd.api_base, dd.channel_id, "slow", "s-1")
    assert status == 200 and time.monotonic() - started >= 0.3
    assert dd.held()[0]["hold"] == "answered" and body["id"] == dd.held()[0]["held_response"]["id"]

    # A held error answer is an error: nothing is created, the 500 just comes late.
    dd.inject_fault("/channels/*/messages", status=500, method="POST", hold=0.2)
    status, _ = await post(http, dd.api_base, dd.channel_id, "fails", "s-2")
    assert status == 500 and dd.held()[1]["held_outcome"] == "fault"
    # skip works for ordinary faults too: the third matching post fails, the first two do not.
    dd.inject_fault("/channels/*/messages", status=503, method="POST", skip=2)
    statuses = [(await post(http, dd.api_base, dd.channel_id, f"x{i}"))[0] for i in range(4)]
    assert statuses == [200, 200, 503, 200]
    assert [m["content"] for m in dd.channel_messages(dd.channel_id)] == ["slow", "x0", "x1", "x3"]


async def test_a_held_answer_to_a_client_that_goes_away(discord_double: DiscordDouble) -> None:
    dd = discord_double
    dd.set_nonce_window(120)
    dd.hold_next_message()
    async with aiohttp.ClientSession(headers={"Authorization": f"Bot {TOKEN}"}) as doomed:
        sending = asyncio.create_task(post(doomed, dd.api_base, dd.channel_id, "lost", "g-1"))
        [record] = await dd.wait_held()
        sending.cancel()
        with pytest.raises(asyncio.CancelledError):
            await sending
    await dd.wait_until(lambda: record["hold"] == "disconnected", 5, "the hold to notice the client left")
    assert record["status"] is None  # never answered
    held_id = record["held_response"]["id"]
    assert [m["id"] for m in dd.channel_messages(dd.channel_id)] == [held_id]
    async with aiohttp.ClientSession(headers={"Authorization": f"Bot {TOKEN}"}) as http:
        _, soon = await post(http, dd.api_base, dd.channel_id, "lost (resent)", "g-1")
        assert soon["id"] == held_id, "inside the window the resend finds the held message"
        dd.age_nonces(121)
        _, late = await post(http, dd.api_base, dd.channel_id, "lost (resent late)", "g-1")
    assert late["id"] != held_id, "after it, a blind resend duplicates -- hence reading the history"


async def test_stop_releases_what_is_held(http: aiohttp.ClientSession) -> None:
    dd = DiscordDouble()
    await dd.start()
    try:
        dd.hold_next_message()
        sending = asyncio.create_task(post(http, dd.api_base, dd.channel_id, "held at stop"))
        await dd.wait_held()
    finally:
        await within(dd.stop(), 5)  # does not wait for a hold that would never end
    status, _ = await within(sending, 5)
    assert status == 200


HOLD_BOT = """
import sys, discord
from discord.ext import commands
from bot.discord_side.endpoints import point_discord_at

api_base, gateway_url, channel_id = sys.argv[1:4]
point_discord_at(api_base, gateway_url)
bot = commands.Bot(command_prefix="!", intents=discord.Intents(guilds=True),
                   allowed_mentions=discord.AllowedMentions.none(), guild_ready_timeout=0.1)

@bot.event
async def on_ready() -> None:
    head = await bot.get_channel(int(channel_id)).send("digest (1/3)", nonce="digest-1")
    thread = await head.create_thread(name="More papers")
    await thread.send("digest (2/3)", nonce="digest-2")
    await thread.send("digest (3/3)", nonce="digest-3")

bot.run("test-token", log_handler=None)
"""


async def test_kill_the_bot_while_the_double_holds_a_follow_up_in_a_thread(tmp_path: Path) -> None:
    state_file = tmp_path / "discord.json"
    async with DoubleProcess(state_file=state_file, nonce_window=60) as remote:
        assert await remote.nonce_window() == 60
        await remote.hold_next_message(skip=2)  # the 3rd post: the second follow-up, in the thread
        args = [sys.executable, "-c", HOLD_BOT, remote.api_base, remote.gateway_url, str(remote.channel_id)]
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        bot = await asyncio.create_subprocess_exec(*args, env=env)
        try:
            [record] = await remote.wait_held(timeout=20)
        finally:
            bot.kill()  # SIGKILL while the double holds the answer
            await within(bot.wait())
        [thread] = await remote.threads(remote.channel_id)
        assert record["path"] == f"/channels/{thread['id']}/messages"
        assert record["json"]["content"] == "digest (3/3)" and record["outcome"] == "held"

        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while (await remote.held())[0]["hold"] != "disconnected":
            assert loop.time() < deadline, "the double did not notice the bot was gone"
            await asyncio.sleep(0.05)
        messages = await remote.channel_messages(remote.channel_id, include_threads=True)
        assert [m["content"] for m in messages] == ["digest (1/3)", "digest (2/3)", "digest (3/3)"]
        assert (await remote.state())["holding"] == 0

        # What a restarted bot would find: the message is in the thread's history, without nonce.
        async with aiohttp.ClientSession(headers={"Authorization": f"Bot {TOKEN}"}) as http:
            status, page = await get(http, f"{remote.api_base}/channels/{thread['id']}/messages", limit=5)
            assert status == 200 and [m["content"] for m in page] == ["digest (3/3)", "digest (2/3)"]
            assert all("nonce" not in m for m in page)
            _, soon = await post(http, remote.api_base, int(thread["id"]), "digest (3/3)", "digest-3")
            assert soon["id"] == record["held_response"]["id"]
            await remote.age_nonces(61)
            assert not any(n["live"] for n in await remote.nonces())
            await remote.set_nonce_window(None)
            _, forever = await post(http, remote.api_base, int(thread["id"]), "digest (3/3)", "digest-3")
            assert forever["id"] == soon["id"]
            await remote.set_nonce_window(60)
            _, late = await post(http, remote.api_base, int(thread["id"]), "digest (3/3)", "digest-3")
            assert late["id"] != soon["id"]
        assert await remote.release_held() == 0
        assert await remote.violations() == []
    saved = json.loads(state_file.read_text())
    assert all(len(entry) == 4 for entry in saved["nonces"])
    assert [r["hold"] for r in saved["requests"] if r["outcome"] == "held"] == ["disconnected"]
