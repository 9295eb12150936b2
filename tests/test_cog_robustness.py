"""The cogs with input and interaction data they must not trust, through the Discord double.

* ``/paper search``'s category goes through the one topic parser in the lookup service: a typo gets
  "did you mean", a keyword is refused, a lower-case id is normalised before it reaches arXiv; and
  the search buttons (whose custom ids carry the category) are checked the same way.
* Channel commands answer a DM, or a server Paperboy is not in, with an ephemeral explanation,
  never an AssertionError (the cogs hold no ``assert`` on interaction data: ``python -O`` drops them).
"""

from __future__ import annotations

import ast
import copy
import logging
import re
from collections.abc import Collection
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import discord
import pytest

from bot.services.lookup import LookupFailure, read_category
from bot.services.subscriptions import UserError
from cogs.checks import NOT_IN_SERVER, SERVER_CHANNELS_ONLY, server_channel
from doubles.discord import (  # noqa: F401
    DEFAULT_USER_ID,
    MANAGER_PERMISSIONS,
    DiscordDouble,
    InteractionHandle,
    discord_double_fixture,
)
from doubles.feed_server import FeedServer
from tests.bot_harness import FakeClock, bot_config, started_bot

CLOCK = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
COGS = Path(__file__).resolve().parent.parent / "cogs"
EMPTY_API_PAGE = (b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom" '
                  b'xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/"><title>arXiv Query</title>'
                  b"<opensearch:totalResults>0</opensearch:totalResults></feed>")


def _text(message: dict[str, Any] | None) -> str:
    message = message or {}
    return " ".join([message.get("content") or "", *(str(e) for e in message.get("embeds") or [])])


@pytest.fixture
def config(tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> Any:
    feed_server.serve("/api/query", EMPTY_API_PAGE)
    return bot_config(tmp_path, discord_double, feed_server.port, categories=[])


def _errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


# -- /paper search: the category filter ------------------------------------------------------------

@pytest.mark.parametrize(("category", "expected"), [
    ("cs.lf", "did you mean cs.LG?"),
    ("stats.ML", "did you mean stat.ML?"),
    ("graph", "graph is not an arXiv category"),
    ("author:Sergey Levine", "is not an arXiv category"),
    ("feed:shortscience", "is not an arXiv category"),
    ("cs.LG, stat.ML", "is not an arXiv category"),
])
async def test_search_with_a_bad_category_is_explained_and_asks_nothing_of_arxiv(
        config: Any, discord_double: DiscordDouble, feed_server: FeedServer,
        caplog: pytest.LogCaptureFixture, category: str, expected: str) -> None:
    async with started_bot(config, FakeClock(CLOCK)):
        handle = await discord_double.send_slash_command(
            discord_double.guild_id, discord_double.channel_id, "paper search",
            {"query": "graph neural networks", "category": category})
        answer = await handle.wait_original()
    text = _text(answer)
    assert handle.ephemeral, text
    assert expected in text, text
    assert "Something went wrong" not in text and "write keyword:" not in text, text
    assert not feed_server.hits("/api/query"), "a refused filter is never sent to arXiv"
    assert not _errors(caplog), [r.getMessage() for r in _errors(caplog)]


@pytest.mark.parametrize(("category", "shown", "api_term"), [
    ("cs.lg", "cs.LG", "cat:cs.LG"),
    ("CS", "cs", "cat:cs.*"),  # an archive: every category in it
    ("cs.NA", "math.NA", "cat:math.NA"),  # an alias resolves to its canonical id
])
async def test_search_normalises_the_category_for_the_store_and_arxiv(
        config: Any, discord_double: DiscordDouble, feed_server: FeedServer,
        category: str, shown: str, api_term: str) -> None:
    async with started_bot(config, FakeClock(CLOCK)):
        handle = await discord_double.send_slash_command(
            discord_double.guild_id, discord_double.channel_id, "paper search",
            {"query": "graph neural networks", "category": category})
        answer = await handle.wait_original()
    assert f"in {shown}" in _text(answer), _text(answer)
    [request] = feed_server.hits("/api/query")
    assert request.query["search_query"].endswith(f" AND {api_term}"), request.query


async def _post_search_button(bot: Any, channel_id: int, custom_id: str) -> int:
    """A message with one search button, as an older Paperboy (or a forged id) may have left it."""
    view = discord.ui.View(timeout=None)
    view.add_item(discord.ui.Button(label="Next ▶", custom_id=custom_id))
    view.stop()  # the bot's dynamic items answer the click, as for the buttons /paper search posts
    channel = bot.get_channel(channel_id)
    message = await channel.send("an old search page", view=view)
    return message.id


@pytest.mark.parametrize(("custom_id", "expected"), [
    ("pb:search:1:cs.lf:graph neural networks", "did you mean cs.LG?"),
    ("pb:search:1:graph:neural networks", "graph is not an arXiv category"),
])
async def test_search_buttons_check_the_category_in_their_custom_id(
        config: Any, discord_double: DiscordDouble, caplog: pytest.LogCaptureFixture,
        custom_id: str, expected: str) -> None:
    async with started_bot(config, FakeClock(CLOCK)) as bot:
        message_id = await _post_search_button(bot, discord_double.channel_id, custom_id)
        click = await discord_double.send_component(message_id, custom_id)
        await click.response()
        answer = await click.wait_original()
        assert discord_double.message(message_id)["content"] == "an old search page", "not edited"
    text = _text(answer)
    assert click.ephemeral and expected in text, text
    assert "Something went wrong" not in text
    assert not _errors(caplog), [r.getMessage() for r in _errors(caplog)]


async def test_a_search_button_with_a_lower_case_category_pages_normalised(
        config: Any, discord_double: DiscordDouble) -> None:
    async with started_bot(config, FakeClock(CLOCK)) as bot:
        custom_id = "pb:search:0:cs.lg:graph neural networks"
        message_id = await _post_search_button(bot, discord_double.channel_id, custom_id)
        click = await discord_double.send_component(message_id, custom_id)
        await click.response()
        page = discord_double.message(message_id)
    assert "in cs.LG" in _text(page), _text(page)


def test_read_category_is_the_topic_parser_limited_to_arxiv_ids() -> None:
    assert read_category("cs.lg") == "cs.LG"
    assert read_category(" Hep-Th ") == "hep-th"
    assert read_category("math.*") == "math"
    for bad in ("graph", "keyword:cs.LG", "venue:nips", "x" * 500, "cs.lf", "hep-tx"):
        with pytest.raises(LookupFailure) as caught:
            read_category(bad)
        assert len(str(caught.value)) < 600 and "write keyword:" not in str(caught.value)


# -- channel commands outside a server channel -----------------------------------------------------

def _dm_interaction(double: DiscordDouble, name: str, options: dict[str, Any]) -> dict[str, Any]:
    """A slash command sent from the user's DM with the bot (context 1), as Discord sends it.

    The double's ``send_slash_command`` always sends from a server channel (``guild_id=None`` means
    its default guild), so the payload is built from its server-channel one, without the guild.
    """
    data = double._command_data(double.guild_id, name, options, None, False)
    payload = double._base_interaction(2, double.guild_id, double.channel_id, data, user_id=None,
                                       user_permissions=MANAGER_PERMISSIONS, locale="en-US",
                                       app_permissions=None)
    user = payload.pop("member")["user"]
    for key in ("guild_id", "guild", "guild_locale"):
        payload.pop(key)
    dm_id = double.snowflake()
    payload.update(user=user, channel_id=str(dm_id), context=1, app_permissions="0",
                   channel={"id": str(dm_id), "type": 1, "recipients": [copy.deepcopy(user)],
                            "last_message_id": None, "flags": 0},
                   authorizing_integration_owners={"0": "0"})
    return payload


def _user_installed_interaction(double: DiscordDouble, name: str, options: dict[str, Any]) -> dict[str, Any]:
    """A slash command in a server Paperboy is not in, through an install to the user's account."""
    data = double._command_data(double.guild_id, name, options, None, False)
    payload = double._base_interaction(2, double.guild_id, double.channel_id, data, user_id=None,
                                       user_permissions=MANAGER_PERMISSIONS, locale="en-US",
                                       app_permissions=None)
    foreign_guild, foreign_channel = double.snowflake(), double.snowflake()
    payload.update(guild_id=str(foreign_guild), channel_id=str(foreign_channel),
                   guild={"id": str(foreign_guild), "locale": "en-US", "features": []},
                   authorizing_integration_owners={"1": str(DEFAULT_USER_ID)})
    payload["channel"].update(id=str(foreign_channel), guild_id=str(foreign_guild))
    return payload


@pytest.mark.parametrize("where", ["dm", "user-installed"])
@pytest.mark.parametrize(("name", "options"), [
    ("subscribe add", {"topic": "cs.LG"}),
    ("subscribe remove", {"topic": "cs.LG"}),
    ("subscribe list", {}),
    ("digest schedule", {"time": "08:00"}),
    ("digest preview", {}),
    ("digest now", {}),
])
async def test_channel_commands_outside_a_server_channel_answer_clearly(
        config: Any, discord_double: DiscordDouble, caplog: pytest.LogCaptureFixture,
        where: str, name: str, options: dict[str, Any]) -> None:
    build = _dm_interaction if where == "dm" else _user_installed_interaction
    async with started_bot(config, FakeClock(CLOCK)) as bot:
        handle: InteractionHandle = await discord_double._send_interaction(
            build(discord_double, name, options), f"/{name} ({where})")
        await handle.response()
        answer = await handle.wait_original()
        assert await bot.services.store.list_channels() == [], "nothing was stored"
    text = _text(answer)
    assert handle.ephemeral, text
    assert (SERVER_CHANNELS_ONLY if where == "dm" else NOT_IN_SERVER) in text, text
    assert not _errors(caplog), [r.getMessage() for r in _errors(caplog)]


def _fake_interaction(guild_id: int | None, channel_id: int | None, *, installed: bool = True,
                      member_of: Collection[int] = ()) -> Any:
    client = SimpleNamespace(get_guild=lambda gid: object() if gid in member_of else None)
    return SimpleNamespace(guild_id=guild_id, channel_id=channel_id, client=client,
                           is_guild_integration=lambda: installed and guild_id is not None)


def test_server_channel_returns_the_ids_or_refuses() -> None:
    assert server_channel(_fake_interaction(1, 2)) == (1, 2)
    assert server_channel(_fake_interaction(1, 2, installed=False, member_of={1})) == (1, 2)
    for interaction, message in [
        (_fake_interaction(None, 2), SERVER_CHANNELS_ONLY),  # a DM or group DM
        (_fake_interaction(1, None), SERVER_CHANNELS_ONLY),  # a channel discord.py could not read
        (_fake_interaction(1, 2, installed=False), NOT_IN_SERVER),  # installed to the user only
    ]:
        with pytest.raises(UserError, match=re.escape(message)):
            server_channel(interaction)


def test_cogs_do_not_assert() -> None:
    """``assert`` is no way to check data from Discord: ``python -O`` drops it."""
    found = [f"{path.name}:{node.lineno}" for path in sorted(COGS.glob("*.py"))
             for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
             if isinstance(node, ast.Assert)]
    assert not found, found
