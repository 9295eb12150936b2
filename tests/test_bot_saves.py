"""Saving papers through the Discord double: the ⭐ select under a digest message, the card's ⭐ Save
button, /paper save|saved|similar, and the next digest ranked by what the channel saved.

The bot runs as `paperboy run` does (scheduler off: the test runs poll and dispatcher); saves go
into the real SQLite store, the components are clicked as a member would, and the bot is restarted
between two clicks on the same old message.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from doubles.discord import MANAGER_PERMISSIONS, DiscordDouble, discord_double_fixture  # noqa: F401
from doubles.feed_server import FeedServer
from tests.bot_harness import FakeClock, bot_config, delivered_ids, digest_messages, started_bot
from tests.helpers import GRAPH, OTHERS, SUBJECTS, arxiv_feed, arxiv_item

T0 = datetime(2024, 11, 28, 5, 0, tzinfo=UTC)
DAY2 = datetime(2024, 11, 29, 5, 0, tzinfo=UTC)
ALICE, BOB = 1001, 1002
EPHEMERAL = 64


def paper(arxiv_id: str, kind: tuple[str, str], subject: str) -> str:
    title, abstract = kind
    return arxiv_item(arxiv_id, title=title.format(x=subject), abstract=abstract.format(x=subject),
                      categories=("cs.LG",))


def day_feed(start: int, graphs: int, others: int) -> tuple[bytes, list[str], list[str]]:
    """A day of cs.LG: the graph papers listed last (an unranked digest would show them last)."""
    other_ids = [f"2411.{n:05d}" for n in range(start, start + others)]
    graph_ids = [f"2411.{n:05d}" for n in range(start + others, start + others + graphs)]
    items = [paper(pid, OTHERS[i % len(OTHERS)], SUBJECTS[i % len(SUBJECTS)])
             for i, pid in enumerate(other_ids)]
    items += [paper(pid, GRAPH, SUBJECTS[i % len(SUBJECTS)]) for i, pid in enumerate(graph_ids)]
    return arxiv_feed(*items), graph_ids, other_ids


async def slash(double: DiscordDouble, name: str, options: dict[str, Any],
                user_id: int = ALICE) -> dict[str, Any]:
    handle = await double.send_slash_command(double.guild_id, double.channel_id, name, options,
                                             user_id=user_id, user_permissions=MANAGER_PERMISSIONS)
    await handle.response(timeout=3.0)  # Discord's deadline for the first answer
    return await handle.wait_original(timeout=8.0)


async def pick(double: DiscordDouble, message_id: int, custom_id: str, value: str | None,
               user_id: int) -> str:
    """A member picks ``value`` in a select (or clicks a button); the text only they see."""
    handle = await double.send_component(message_id, custom_id, [value] if value else None, user_id=user_id)
    callback = await handle.response(timeout=3.0)
    data = callback.get("data") or {}
    assert callback["type"] == 4 and data.get("flags", 0) & EPHEMERAL, callback
    return str(data.get("content") or "")


def save_select(messages: list[dict[str, Any]], arxiv_id: str) -> tuple[int, str]:
    """The message and select that offer ``arxiv_id`` for saving."""
    for message in messages:
        for row in message.get("components") or []:
            for component in row["components"]:
                if component["type"] == 3 and component["custom_id"].startswith("pb:save:") and any(
                        o["value"] == arxiv_id for o in component["options"]):
                    return int(message["id"]), component["custom_id"]
    raise AssertionError(f"no save select offers {arxiv_id}")


async def saved_rows(bot: Any, channel: int) -> list[tuple[str, int]]:
    return sorted((s.arxiv_id, s.user_id) for s in await bot.services.store.list_saves([channel]))


async def test_saves_from_a_digest_rank_the_next_digest(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    double, channel = discord_double, discord_double.channel_id
    config = bot_config(tmp_path, double, feed_server.port, categories=[])
    body, graphs, _ = day_feed(1, graphs=3, others=9)
    feed_server.serve("/rss/cs.LG", body)
    clock = FakeClock(T0)
    async with started_bot(config, clock) as bot:
        await slash(double, "subscribe add", {"topic": "cs.LG"})
        await bot.poll_jobs.poll_due()
        assert (await bot.dispatcher.run_now(channel)).messages >= 1
        first_day = digest_messages(double, channel)
        message_id, custom_id = save_select(first_day, graphs[0])
        text = await pick(double, message_id, custom_id, graphs[0], ALICE)
        assert text.startswith("⭐ Saved **Message passing graph neural networks"), text
    # A restart: the old message's select still works, its state is in its custom id.
    async with started_bot(config, clock) as bot:
        message_id, custom_id = save_select(first_day, graphs[1])
        assert "Saved" in await pick(double, message_id, custom_id, graphs[1], ALICE)
        # A second member's save of the same paper counts once for them, and twice is undone.
        assert "1 other member saved it too" in await pick(double, message_id, custom_id, graphs[1], BOB)
        assert (await saved_rows(bot, channel)) == sorted([(graphs[0], ALICE), (graphs[1], ALICE),
                                                          (graphs[1], BOB)])
        assert (await pick(double, message_id, custom_id, graphs[1], BOB)).startswith("Unsaved")
        assert (await saved_rows(bot, channel)) == sorted([(graphs[0], ALICE), (graphs[1], ALICE)])
        listing = await slash(double, "paper saved", {})
        text = str(listing["embeds"])
        assert graphs[0] in text and graphs[1] in text and "2 saved" in text

        # The next day: two more graph papers listed last among nine others. The channel's
        # digest (08:00) is overdue, so the poll's run of due channels delivers it.
        body, new_graphs, new_others = day_feed(100, graphs=2, others=9)
        feed_server.serve("/rss/cs.LG", body)
        clock.set(DAY2)
        bot.poll_jobs.arxiv_rebuilt()
        before = len(digest_messages(double, channel))
        await bot.poll_jobs.poll_due()
        second_day = digest_messages(double, channel)[before:]
        order = delivered_ids(second_day)
        assert sorted(order) == sorted(new_graphs + new_others)  # every paper once
        assert set(order[:2]) == set(new_graphs), order  # the papers like the saves come first
        first_card = next(e for m in second_day for e in m.get("embeds", [])
                          if e.get("url", "").endswith(order[0]))
        assert re.search(r"like \*Message passing graph neural networks .*\* \(saved here\)",
                         first_card["description"]), first_card["description"]


async def test_the_card_save_button_and_paper_save_toggle(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    double, channel = discord_double, discord_double.channel_id
    body, graphs, _ = day_feed(1, graphs=3, others=5)
    feed_server.serve("/rss/cs.LG", body)
    config = bot_config(tmp_path, double, feed_server.port, categories=["cs.LG"])
    async with started_bot(config, FakeClock(T0)) as bot:
        await bot.poll_jobs.poll_due()
        card = await slash(double, "paper show", {"query": graphs[0]})
        button = next(c for row in card["components"] for c in row["components"] if c.get("label") == "Save")
        assert button["custom_id"] == f"pb:save1:{graphs[0]}"
        assert "Saved" in await pick(double, int(card["id"]), button["custom_id"], None, ALICE)
        answer = await slash(double, "paper save", {"query": graphs[0]})
        assert answer["content"].startswith("Unsaved") and answer["flags"] & EPHEMERAL
        assert await saved_rows(bot, channel) == []
        answer = await slash(double, "paper save", {"query": f"arXiv:{graphs[2]}v1"})
        assert answer["content"].startswith("⭐ Saved")
        assert await saved_rows(bot, channel) == [(graphs[2], ALICE)]
        missing = await slash(double, "paper save", {"query": "2411.99999"})
        assert "2411.99999" in str(missing) or "not" in missing["content"].lower()


async def test_paper_similar_answers_in_time_with_related_papers(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    double = discord_double
    body, graphs, _ = day_feed(1, graphs=4, others=8)
    feed_server.serve("/rss/cs.LG", body)
    config = bot_config(tmp_path, double, feed_server.port, categories=["cs.LG"])
    async with started_bot(config, FakeClock(T0)) as bot:
        await bot.poll_jobs.poll_due()
        answer = await slash(double, "paper similar", {"query": graphs[0]})
        embed = answer["embeds"][0]
        assert embed["title"].startswith("🧭 Like: Message passing graph neural networks")
        listed = re.findall(r"arxiv\.org/abs/(\d{4}\.\d{5})", embed["description"])
        assert graphs[0] not in listed
        assert set(listed[:3]) == set(graphs[1:]), listed  # the other graph papers, nearest first
        handle = await double.send_autocomplete(double.guild_id, double.channel_id, "paper similar",
                                                {"query": "message passing"}, focused="query")
        choices = await handle.wait_choices(timeout=3.0)
        assert {c["value"] for c in choices} >= set(graphs)
