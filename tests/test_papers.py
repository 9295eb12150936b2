"""/paper through the Discord double: cards from the store and the arXiv API, buttons, bad input."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from doubles.discord import DiscordDouble, discord_double_fixture  # noqa: F401
from doubles.feed_server import FeedServer
from tests.bot_harness import FakeClock, bot_config, started_bot
from tests.helpers import OWN_FIXTURES, shared_feed

HIRO = "Data-Efficient Hierarchical Reinforcement Learning"


def _embeds(message: dict[str, Any] | None) -> list[dict[str, Any]]:
    return (message or {}).get("embeds") or []


def _text(message: dict[str, Any] | None) -> str:
    return str(message)


def _buttons(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Buttons of a message by label."""
    found = {}
    for row in message.get("components") or []:
        for component in row.get("components") or []:
            if component.get("type") == 2:
                found[component.get("label", "")] = component
    return found


async def _show(double: DiscordDouble, query: str) -> dict[str, Any]:
    handle = await double.send_slash_command(double.guild_id, double.channel_id, "paper show",
                                             {"query": query})
    return await handle.wait_original()


@pytest.fixture
def shortscience(tmp_path: Path, feed_server: FeedServer, discord_double: DiscordDouble) -> Any:
    feed_server.serve("/ss.xml", shared_feed("shortscience_rss_sample.xml"))
    feed_server.serve("/api/query", OWN_FIXTURES / "arxiv_api_1805.08296.atom")
    return bot_config(tmp_path, discord_double, feed_server.port, categories=[],
                      feeds=[{"name": "shortscience", "kind": "shortscience",
                              "url": feed_server.url("/ss.xml")}])


async def test_show_hiro_card_with_summary_more_less_and_restart(
        shortscience: Any, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    double = discord_double
    clock = FakeClock(datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
    async with started_bot(shortscience, clock) as bot:
        await bot.poll_jobs.poll_due()
        card = await _show(double, "1805.08296")
        [embed, *_] = _embeds(card)
        assert embed["title"] == HIRO and embed["url"] == "https://arxiv.org/abs/1805.08296"
        assert "davidstutz" in _text(card) and "Keypoints" in _text(card)
        assert "Sergey Levine" in _text(card)
        collapsed = len(_text(card))
        more = _buttons(card)["More"]
        click = await double.send_component(int(card["id"]), more["custom_id"])
        await click.response()
        expanded = double.message(int(card["id"]))
        assert expanded is not None and len(_text(expanded)) > collapsed
        assert "Less" in _buttons(expanded)
        less = _buttons(expanded)["Less"]
    # After a restart the buttons on the old message still work.
    async with started_bot(shortscience, clock):
        click = await double.send_component(int(card["id"]), less["custom_id"])
        await click.response()
        again = double.message(int(card["id"]))
        assert again is not None and "More" in _buttons(again)
        assert len(_text(again)) < len(_text(expanded))


async def test_show_fetches_unknown_id_from_the_api_once(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    feed_server.serve("/api/query", shared_feed("arxiv_api_id_list_1111.2011v2_2016-10-09.atom"))
    config = bot_config(tmp_path, discord_double, feed_server.port, categories=[])
    clock = FakeClock(datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
    async with started_bot(config, clock) as bot:
        card = await _show(discord_double, "arXiv:1111.2011v2")
        assert "Quantum Criticality for Extended Nodes" in _embeds(card)[0]["title"]
        assert len(feed_server.hits("/api/query")) == 1
        assert feed_server.hits("/api/query")[0].query["id_list"] == "1111.2011"
        assert await bot.services.store.get_paper("1111.2011") is not None
        second = await _show(discord_double, "https://arxiv.org/abs/1111.2011")
        assert _embeds(second)[0]["title"] == _embeds(card)[0]["title"]
        assert len(feed_server.hits("/api/query")) == 1, "the second lookup needs no request"


async def test_venue_nips_draws_bars_and_lists_summaries(
        shortscience: Any, discord_double: DiscordDouble) -> None:
    clock = FakeClock(datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
    async with started_bot(shortscience, clock) as bot:
        await bot.poll_jobs.poll_due()
        handle = await discord_double.send_slash_command(
            discord_double.guild_id, discord_double.channel_id, "paper venue", {"name": "nips"})
        page = await handle.wait_original()
    text = _text(page)
    assert "2018" in text and "█" in text
    assert "Generalized Cross Entropy" in text and "Thwarting Adversarial Examples" in text
    assert HIRO not in text, "only conf/nips summaries"


@pytest.mark.parametrize("query", [
    "1805.0829", "abc", "10.1000/odd(chars)<>;\"'", '"', "*", "NEAR(", "AND", "-", "x" * 2000,
    "arXiv:9999.99999", "2411.99999",
])
async def test_bad_queries_get_a_clear_ephemeral_answer(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer, query: str) -> None:
    empty = (b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom" '
             b'xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/"><title>arXiv Query</title>'
             b"<opensearch:totalResults>0</opensearch:totalResults></feed>")
    feed_server.serve("/api/query", empty)
    config = bot_config(tmp_path, discord_double, feed_server.port, categories=[])
    clock = FakeClock(datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
    async with started_bot(config, clock):
        handle = await discord_double.send_slash_command(
            discord_double.guild_id, discord_double.channel_id, "paper show", {"query": query[:2000]})
        answer = await handle.wait_original()
        assert handle.ephemeral, query
        text = _text(answer)
        assert "Traceback" not in text and "Something went wrong" not in text
        assert any(word in text for word in ("not an arXiv identifier", "no paper", "No paper", "no words",
                                             "DOI", "Type an arXiv id")), text


async def test_lookup_while_arxiv_answers_503(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    feed_server.fault("/api/query", status=503, headers={"Retry-After": "120"})
    config = bot_config(tmp_path, discord_double, feed_server.port, categories=[])
    clock = FakeClock(datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
    async with started_bot(config, clock):
        handle = await discord_double.send_slash_command(
            discord_double.guild_id, discord_double.channel_id, "paper show", {"query": "2411.17700"})
        answer = await handle.wait_original()
        assert handle.ephemeral
        assert "arXiv did not answer" in _text(answer)


async def test_search_pages_and_select_opens_a_card(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    feed_server.serve("/rss/cs.LG", shared_feed("arxiv_rss2024_all_archives_2024-11-28.xml"))
    config = bot_config(tmp_path, discord_double, feed_server.port, categories=["cs.LG"])
    clock = FakeClock(datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
    async with started_bot(config, clock) as bot:
        await bot.poll_jobs.poll_due()
        handle = await discord_double.send_slash_command(
            discord_double.guild_id, discord_double.channel_id, "paper search",
            {"query": "graph neural networks", "category": "cs.lg"})
        page = await handle.wait_original()
        first_titles = _text(page)
        buttons = _buttons(page)
        next_button = next(b for label, b in buttons.items() if "Next" in label)
        click = await discord_double.send_component(int(page["id"]), next_button["custom_id"])
        await click.response()
        second = discord_double.message(int(page["id"]))
        assert second is not None and _text(second) != first_titles
        select = next(c for row in page["components"] for c in row["components"] if c["type"] == 3)
        assert 1 <= len(select["options"]) <= 25
        chosen = select["options"][0]["value"]
        opened = await discord_double.send_component(int(page["id"]), select["custom_id"], [chosen])
        await opened.response()
        card = opened.original
        assert card is not None and int(card["id"]) != int(page["id"]), "a new (ephemeral) message"
        assert _embeds(card)[0]["url"] == f"https://arxiv.org/abs/{chosen}"
        assert not feed_server.hits("/api/query"), "enough results in the store: no arXiv request"


async def test_autocomplete_and_summaries(shortscience: Any, discord_double: DiscordDouble) -> None:
    clock = FakeClock(datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
    async with started_bot(shortscience, clock) as bot:
        await bot.poll_jobs.poll_due()
        for typed in ("1805.08", "hierarch", "data efficient hier", ""):
            handle = await discord_double.send_autocomplete(
                discord_double.guild_id, discord_double.channel_id, "paper show", {"query": typed},
                focused="query")
            choices = await handle.wait_choices()
            assert len(choices) <= 25 and all(len(c["name"]) <= 100 for c in choices)
            if typed:
                assert choices and choices[0]["value"] == "1805.08296", typed
        handle = await discord_double.send_slash_command(
            discord_double.guild_id, discord_double.channel_id, "paper summaries", {})
        page = await handle.wait_original()
        assert "davidstutz" in _text(page) and "of 4" in page["content"], "newest first, paged"
        next_button = next(b for label, b in _buttons(page).items() if "Next" in label)
        click = await discord_double.send_component(int(page["id"]), next_button["custom_id"])
        await click.response()
        assert "jpcohen" in _text(discord_double.message(int(page["id"])))
        handle = await discord_double.send_slash_command(
            discord_double.guild_id, discord_double.channel_id, "paper summaries", {"query": "1805.08296"})
        page = await handle.wait_original()
        assert "davidstutz" in _text(page) and "jpcohen" not in _text(page)
