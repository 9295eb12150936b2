"""The Discord double, driven by a real ``discord.ext.commands.Bot`` over discord.py's own code paths."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands

from bot.discord_side.endpoints import discord_endpoints, point_discord_at
from doubles.discord import (
    DEFAULT_BOT_PERMISSIONS,
    DEFAULT_MEMBER_PERMISSIONS,
    MANAGER_PERMISSIONS,
    DiscordDouble,
    DoubleProcess,
    Perm,
    check_autocomplete_choices,
    check_components,
    check_message_payload,
    discord_double_fixture,  # noqa: F401 -- registers the ``discord_double`` fixture
    running_bot,
)

T = TypeVar("T")
TOKEN = "test-token"
PAPERS = [f"Attention Is All You Need, part {i}" for i in range(40)]


async def within(awaitable: Awaitable[T], seconds: float = 10.0) -> T:
    """Every await on the bot or the double is bounded, so a bug fails instead of hanging."""
    return await asyncio.wait_for(awaitable, seconds)


def make_bot() -> commands.Bot:
    """An ordinary bot with one command group, as the cogs will build them."""
    bot = commands.Bot(
        command_prefix="!",
        intents=discord.Intents(guilds=True),
        allowed_mentions=discord.AllowedMentions.none(),
        guild_ready_timeout=0.1,  # READY comes 0.1 s after the last GUILD_CREATE instead of 2 s
    )
    group = app_commands.Group(name="probe", description="Commands that exercise the double")

    @group.command(name="ping", description="Answer at once")
    async def ping(interaction: discord.Interaction, word: str = "pong") -> None:
        manage = interaction.permissions.manage_channels
        await interaction.response.send_message(f"{word} (manage={manage}, channel={interaction.channel_id})")

    @group.command(name="slow", description="Defer, then answer with a followup")
    async def slow(interaction: discord.Interaction, count: int) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await asyncio.sleep(0.05)
        await interaction.followup.send(f"done {count}", ephemeral=True)
        await interaction.followup.send("and one more", ephemeral=True)

    @group.command(name="later", description="Defer, then edit the thinking message")
    async def later(interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        await asyncio.sleep(0.05)
        await interaction.edit_original_response(content="looked it up")

    @group.command(name="show", description="Look a paper up")
    async def show(interaction: discord.Interaction, query: str) -> None:
        await interaction.response.send_message(query)

    @show.autocomplete("query")
    async def show_autocomplete(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        hits = [p for p in PAPERS if current.lower() in p.lower()]
        return [app_commands.Choice(name=p, value=p[:100]) for p in hits[:25]]

    @group.command(name="silent", description="Never answers")
    async def silent(interaction: discord.Interaction) -> None:
        return None

    @group.command(name="button", description="Posts a message with a button")
    async def button(interaction: discord.Interaction) -> None:
        view = discord.ui.View(timeout=30)
        clicked = discord.ui.Button(label="More", custom_id="probe:more")

        async def on_click(click: discord.Interaction) -> None:
            await click.response.edit_message(content="expanded", view=None)

        clicked.callback = on_click  # type: ignore[method-assign]
        view.add_item(clicked)
        await interaction.response.send_message("collapsed", view=view)

    bot.tree.add_command(group)
    return bot


@pytest.fixture
async def running(discord_double: DiscordDouble) -> AsyncIterator[tuple[commands.Bot, DiscordDouble]]:
    async with running_bot(make_bot(), TOKEN) as bot:
        yield bot, discord_double


# --------------------------------------------------------------------------------------------------


async def test_bot_logs_in_and_sees_the_guild(running: tuple[commands.Bot, DiscordDouble]) -> None:
    bot, dd = running
    guild = bot.get_guild(dd.guild_id)
    assert guild is not None
    assert guild.name == "Paperboy Test Guild"
    assert [c.name for c in guild.text_channels] == ["general", "papers"]
    assert guild.me is not None and guild.me.id == dd.application_id
    assert bot.user is not None and bot.user.id == dd.application_id
    assert bot.application_id == dd.application_id
    # Guilds only, no privileged intents.
    assert dd.last_intents == discord.Intents(guilds=True).value
    assert dd.identifies[-1]["token"] == TOKEN
    assert [r["path"] for r in dd.requests[:2]] == ["/users/@me", "/oauth2/applications/@me"]


async def test_slash_command_gets_its_response(running: tuple[commands.Bot, DiscordDouble]) -> None:
    bot, dd = running
    guild = discord.Object(dd.guild_id)
    bot.tree.copy_global_to(guild=guild)
    synced = await within(bot.tree.sync(guild=guild))
    assert [c.name for c in synced] == ["probe"]
    assert [c["name"] for c in dd.commands(dd.guild_id)] == ["probe"]

    handle = await dd.send_slash_command(
        dd.guild_id, dd.channel_id, "probe ping", {"word": "hello"}, user_permissions=MANAGER_PERMISSIONS
    )
    callback = await handle.response()
    assert callback["type"] == 4
    assert callback["data"]["content"] == f"hello (manage=True, channel={dd.channel_id})"
    assert handle.payload["data"]["guild_id"] == str(dd.guild_id)  # routed to the guild command
    messages = dd.channel_messages(dd.channel_id)
    assert [m["content"] for m in messages] == [callback["data"]["content"]]
    assert messages[0]["interaction_metadata"]["id"] == str(handle.id)

    plain = await dd.send_slash_command(name="probe ping", user_permissions=DEFAULT_MEMBER_PERMISSIONS)
    assert (await plain.response())["data"]["content"].startswith("pong (manage=False")


async def test_deferred_response_then_followups(running: tuple[commands.Bot, DiscordDouble]) -> None:
    _bot, dd = running
    handle = await dd.send_slash_command(name="probe slow", options={"count": 3})
    callback = await handle.response()
    assert callback["type"] == 5
    assert handle.callback_latency is not None and handle.callback_latency < 3
    followups = await handle.wait_followups(2)
    # The first followup after a "thinking" deferral replaces the thinking message.
    assert followups[0]["id"] == str(handle.original_message_id)
    assert [m["content"] for m in followups] == ["done 3", "and one more"]
    assert all(m["flags"] & 64 for m in followups)
    assert dd.channel_messages(dd.channel_id) == []  # ephemeral: nobody else sees them
    assert len(dd.channel_messages(dd.channel_id, include_ephemeral=True)) == 2

    edited = await dd.send_slash_command(name="probe later")
    assert (await edited.response())["type"] == 5
    original = await edited.wait_original()
    assert original["content"] == "looked it up" and not original["flags"] & 128  # no longer "thinking"
    assert [m["content"] for m in dd.channel_messages(dd.channel_id)] == ["looked it up"]
    assert edited.original_edits[0]["allowed_mentions"] == {"parse": []}


async def test_autocomplete_round_trip(running: tuple[commands.Bot, DiscordDouble]) -> None:
    _bot, dd = running
    handle = await dd.send_autocomplete(name="probe show", options={"query": "part 1"}, focused="query")
    choices = await handle.wait_choices()
    assert choices[0] == {"name": PAPERS[1], "value": PAPERS[1]}
    assert len(choices) == 11  # part 1, part 10..19
    assert handle.payload["data"]["options"][0]["options"][0]["focused"] is True


async def test_component_click_updates_the_message(running: tuple[commands.Bot, DiscordDouble]) -> None:
    _bot, dd = running
    handle = await dd.send_slash_command(name="probe button")
    await handle.response()
    message = await handle.wait_original()
    assert message["components"][0]["components"][0]["custom_id"] == "probe:more"
    click = await dd.send_component(int(message["id"]), "probe:more")
    assert (await click.response())["type"] == 7
    assert dd.message(int(message["id"]))["content"] == "expanded"  # type: ignore[index]
    assert dd.message(int(message["id"]))["components"] == []  # type: ignore[index]


async def test_channel_message_and_thread_are_recorded(running: tuple[commands.Bot, DiscordDouble]) -> None:
    bot, dd = running
    channel = bot.get_channel(dd.text_channel_ids()[1])
    assert isinstance(channel, discord.TextChannel)
    sent = await within(channel.send("digest for today", embed=discord.Embed(title="1 new paper")))
    thread = await within(sent.create_thread(name="Discussion"))
    await within(thread.send("first reply"))
    recorded = dd.channel_messages(channel.id, include_threads=True)
    assert [m["content"] for m in recorded] == ["digest for today", "first reply"]
    assert recorded[0]["embeds"][0]["title"] == "1 new paper"
    assert thread.id == sent.id and dd.thread_for_message(sent.id)["type"] == 11  # type: ignore[index]
    posts = dd.requests_to(f"/channels/{channel.id}/messages", "POST")
    assert posts[0]["json"]["allowed_mentions"] == {"parse": []}


def test_point_discord_at_sets_both_endpoints_and_rejects_bad_urls() -> None:
    previous = discord_endpoints()
    try:
        point_discord_at("http://127.0.0.1:9/api/v10/", "ws://127.0.0.1:9/")
        assert discord_endpoints() == ("http://127.0.0.1:9/api/v10", "ws://127.0.0.1:9/")
        assert discord.http.Route("GET", "/users/@me").url == "http://127.0.0.1:9/api/v10/users/@me"
        with pytest.raises(ValueError, match="gateway URL"):
            point_discord_at("http://127.0.0.1:9/api/v10", "http://127.0.0.1:9/")
        with pytest.raises(ValueError, match="API base"):
            point_discord_at("127.0.0.1:9/api/v10", "ws://127.0.0.1:9/")
        assert discord_endpoints() == ("http://127.0.0.1:9/api/v10", "ws://127.0.0.1:9/")  # unchanged
    finally:
        point_discord_at(*previous)


def test_limit_checker_flags_each_breach() -> None:
    big = {
        "content": "x" * 2001,
        "embeds": [
            {"title": "t" * 257, "description": "d" * 4097, "fields": [{"name": "n", "value": "v"}] * 26}
        ]
        + [{"title": "ok"}] * 10,
        "allowed_mentions": {"parse": ["everyone"]},
        "nonce": "n" * 26,
    }
    fields = {p.field for p in check_message_payload(big)}
    assert {"content", "embeds", "embeds.0.title", "embeds.0.description", "embeds.0.fields"} <= fields
    assert {"allowed_mentions.parse", "nonce"} <= fields
    total = [{"description": "d" * 4000}, {"description": "d" * 2001}]
    assert [p.code for p in check_message_payload({"embeds": total, "allowed_mentions": {"parse": []}})] == [
        "MAX_EMBED_SIZE"
    ]
    assert check_message_payload({"content": "hi"})[0].field == "allowed_mentions"
    assert check_message_payload({"embeds": [{"title": "t"}]})[0].field == "allowed_mentions"
    assert check_message_payload({"embeds": []}, creating=False) == []  # an edit that cannot ping
    assert check_message_payload({"content": "hi", "allowed_mentions": {"parse": []}}) == []
    assert [p.code for p in check_message_payload({"content": "", "allowed_mentions": {"parse": []}})] == [
        "EMPTY_MESSAGE"
    ]
    too_many = [{"name": f"c{i}", "value": str(i)} for i in range(26)]
    assert {p.field for p in check_autocomplete_choices(too_many)} == {"data.choices"}
    assert check_autocomplete_choices([{"name": "n" * 101, "value": "v"}])[0].field == "data.choices.0.name"
    select = {
        "type": 3,
        "custom_id": "c" * 101,
        "options": [{"label": "l", "value": str(i)} for i in range(26)],
    }
    button = {"type": 2, "style": 1, "label": "b" * 81, "custom_id": "ok"}
    fields = {
        p.field
        for p in check_components([{"type": 1, "components": [select]}, {"type": 1, "components": [button]}])
    }
    assert fields == {
        "components.0.components.0.custom_id",
        "components.0.components.0.options",
        "components.1.components.0.label",
    }


async def test_over_limit_payload_is_rejected_and_recorded(discord_double: DiscordDouble) -> None:
    dd = discord_double
    async with aiohttp.ClientSession(headers={"Authorization": f"Bot {TOKEN}"}) as http:
        url = f"{dd.api_base}/channels/{dd.channel_id}/messages"
        async with http.post(
            url, json={"content": "y" * 2001, "allowed_mentions": {"parse": []}}
        ) as response:
            assert response.status == 400
            body = await response.json()
        async with http.post(f"{dd.api_base}/nowhere/at/all") as missing:
            assert missing.status == 404
            assert (await missing.json())["code"] == 0
    assert body["code"] == 50035 and "content" in body["errors"]
    assert dd.unknown_routes[0]["path"] == "/nowhere/at/all"
    violations = dd.take_violations()
    assert [(v.kind, v.field) for v in violations] == [("limit", "content")]
    assert dd.channel_messages(dd.channel_id) == []


async def test_429_is_retried_by_discord_py_and_delivered_once(
    running: tuple[commands.Bot, DiscordDouble],
) -> None:
    bot, dd = running
    channel = bot.get_channel(dd.channel_id)
    assert isinstance(channel, discord.TextChannel)
    dd.inject_fault(status=429, channel_id=dd.channel_id, method="POST", retry_after=0.2, count=1)
    message = await within(channel.send("hello"))
    assert [m["id"] for m in dd.channel_messages(dd.channel_id)] == [str(message.id)]
    statuses = [r["status"] for r in dd.requests_to(f"/channels/{dd.channel_id}/messages", "POST")]
    assert statuses == [429, 200]
    dd.clear_faults()
    dd.inject_fault(status=403, channel_id=dd.channel_id, code=50001)
    with pytest.raises(discord.Forbidden) as denied:
        await within(channel.send("again"))
    assert denied.value.code == 50001
    dd.set_bot_permissions(dd.channel_id, DEFAULT_BOT_PERMISSIONS & ~Perm.SEND_MESSAGES)
    with pytest.raises(discord.Forbidden) as missing:
        await within(channel.send("again"))
    assert missing.value.code == 50013


async def test_global_rate_limit_is_enforced_and_survived(
    running: tuple[commands.Bot, DiscordDouble],
) -> None:
    bot, dd = running
    channel = bot.get_channel(dd.channel_id)
    assert isinstance(channel, discord.TextChannel)
    dd.set_global_rate_limit(10)
    await within(asyncio.gather(*(channel.send(f"m{i}") for i in range(15))), 15)
    assert sorted(m["content"] for m in dd.channel_messages(dd.channel_id)) == sorted(
        f"m{i}" for i in range(15)
    )
    assert dd.rate_limited_count > 0
    limited = [r for r in dd.requests if r["outcome"] == "rate_limited"]
    assert limited and all(r["status"] == 429 for r in limited)
    accepted = sorted(
        r["time"] for r in dd.requests if r["status"] == 200 and r["path"].endswith("/messages")
    )
    assert all(b - a >= 0.99 for a, b in zip(accepted, accepted[10:], strict=False))  # sliding 1 s window


async def test_enforce_nonce_returns_the_first_message(running: tuple[commands.Bot, DiscordDouble]) -> None:
    bot, dd = running
    channel = bot.get_channel(dd.channel_id)
    assert isinstance(channel, discord.TextChannel)
    first = await within(channel.send("digest 1", nonce="digest-42"))
    again = await within(channel.send("digest 1 (retry)", nonce="digest-42"))
    other = await within(channel.send("digest 2", nonce="digest-43"))
    assert again.id == first.id and other.id != first.id
    assert [m["content"] for m in dd.channel_messages(dd.channel_id)] == ["digest 1", "digest 2"]
    assert dd.requests_to(f"/channels/{dd.channel_id}/messages")[1]["outcome"] == "deduplicated"


async def test_unanswered_interaction_is_flagged(running: tuple[commands.Bot, DiscordDouble]) -> None:
    _bot, dd = running
    assert dd.interaction_timeout == 3.0  # Discord's limit is the default
    dd.interaction_timeout = 0.3
    handle = await dd.send_slash_command(name="probe silent")
    with pytest.raises(AssertionError, match="did not respond"):
        await handle.response()
    violations = dd.take_violations()
    assert [v.kind for v in violations] == ["no_response"]
    assert "probe silent" in violations[0].message


async def test_gateway_resume_after_reconnect(running: tuple[commands.Bot, DiscordDouble]) -> None:
    _bot, dd = running
    await dd.gateway_reconnect()
    await dd.wait_until(lambda: dd.sessions[0]["resumes"] == 1 and dd.connected, 10, "a RESUME")
    assert len(dd.identifies) == 1
    handle = await dd.send_slash_command(name="probe ping")
    assert (await handle.response())["type"] == 4


BOT_PROCESS = """
import sys, discord
from discord.ext import commands
from bot.discord_side.endpoints import point_discord_at

api_base, gateway_url, name, channel_id = sys.argv[1:5]
point_discord_at(api_base, gateway_url)
bot = commands.Bot(command_prefix="!", intents=discord.Intents(guilds=True),
                   allowed_mentions=discord.AllowedMentions.none(), guild_ready_timeout=0.1)

@bot.tree.command(name="whoami", description="Say which process answers")
async def whoami(interaction: discord.Interaction) -> None:
    await interaction.response.send_message(f"process {name}")

@bot.event
async def on_ready() -> None:
    await bot.get_channel(int(channel_id)).send("good morning", nonce="startup-digest")

bot.run("test-token", log_handler=None)
"""


async def test_standalone_double_outlives_a_killed_bot(tmp_path: Any) -> None:
    """Double and bot in separate processes: SIGKILL the bot, start another, the record stays whole."""
    state_file = tmp_path / "discord.json"
    async with DoubleProcess(state_file=state_file) as remote:
        args = [sys.executable, "-c", BOT_PROCESS, remote.api_base, remote.gateway_url]
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}

        first = await asyncio.create_subprocess_exec(*args, "one", str(remote.channel_id), env=env)
        try:
            await remote.wait_for_messages(remote.channel_id, 1, timeout=15)
            answer = await remote.send_slash_command(name="whoami")
            assert (await answer.response())["data"]["content"] == "process one"
        finally:
            first.kill()  # SIGKILL: no clean gateway close, no goodbye
            await within(first.wait())

        second = await asyncio.create_subprocess_exec(*args, "two", str(remote.channel_id), env=env)
        try:
            await remote.wait_for_gateway(timeout=15)
            state = await remote.state()
            assert [s["connected"] for s in state["sessions"]] == [False, True]
            answer = await remote.send_slash_command(name="whoami")
            assert (await answer.response())["data"]["content"] == "process two"
        finally:
            second.terminate()
            await within(second.wait())

        messages = await remote.channel_messages(remote.channel_id)
        # The second "good morning" reused the nonce: Discord (and the double) dropped it.
        assert [m["content"] for m in messages] == ["good morning", "process one", "process two"]
        assert [i["intents"] for i in await remote.identifies()] == [1, 1]
        assert await remote.violations() == []
    saved = json.loads(state_file.read_text())
    assert [m["content"] for m in saved["messages"]] == ["good morning", "process one", "process two"]
