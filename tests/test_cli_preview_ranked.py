"""``paperboy preview`` ranked and laid out: --layout compact|cards, --top N, --saved ID ... and --json
(the payloads, and the items in ranked order with rank, score and reasons), through the real command
line (``bot.process.cli.main``, the ``paperboy`` entry point; ``python -m bot`` for the refusals)
with a config file, a loopback feed server and an SQLite store in tmp_path."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.discord_side.limits import payload_violations
from bot.process import cli
from doubles.discord import check_message_payload
from doubles.feed_server import FeedServer
from tests.helpers import GRAPH, OTHERS, SUBJECTS, arxiv_feed, arxiv_item, make_config, write_config

OTHER_IDS = [f"2411.{n:05d}" for n in range(1, 31)]
GRAPH_IDS = [f"2411.{n:05d}" for n in range(31, 36)]  # listed last: unranked, they would come last
ABS = re.compile(r"https://arxiv\.org/abs/([0-9]{4}\.[0-9]{5})")


def day_feed() -> bytes:
    items = [arxiv_item(pid, title=OTHERS[i % 4][0].format(x=SUBJECTS[i % 7]),
                        abstract=OTHERS[i % 4][1].format(x=SUBJECTS[i % 7]))
             for i, pid in enumerate(OTHER_IDS)]
    items += [arxiv_item(pid, title=GRAPH[0].format(x=SUBJECTS[i]), abstract=GRAPH[1].format(x=SUBJECTS[i]))
              for i, pid in enumerate(GRAPH_IDS)]
    return arxiv_feed(*items)


@pytest.fixture
async def config_path(tmp_path: Path, feed_server: FeedServer) -> Path:
    """A config file whose store (in tmp_path) has been filled by ``paperboy poll`` from the day."""
    feed_server.serve("/rss/cs.LG", day_feed())
    path = write_config(tmp_path / "config.toml", make_config(tmp_path, feed_server.port))
    code, _out, err = await run_main("--config", str(path), "poll")
    assert code == 0, err
    return path


_CAPTURE_LOCK = asyncio.Lock()


async def run_main(*args: str) -> tuple[int, str, str]:
    """``paperboy ARGS`` in this process (its own event loop, in a thread, so the feed server of the
    test's loop keeps answering); (exit status, stdout, stderr)."""
    async with _CAPTURE_LOCK:
        out, err = io.StringIO(), io.StringIO()

        def call() -> int:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    return cli.main(list(args))
                except SystemExit as exit_:  # argparse's usage errors
                    return int(exit_.code or 0)

        code = await asyncio.to_thread(call)
    return code, out.getvalue(), err.getvalue()


async def preview_json(config: Path, *args: str) -> dict[str, Any]:
    code, out, err = await run_main("--config", str(config), "preview", "--follow", "cs.LG", *args, "--json")
    assert code == 0, err
    document = json.loads(out)
    for payload in document["messages"]:
        assert payload_violations(payload) == []
        assert [str(p) for p in check_message_payload(payload)] == []
    return document


def cards(payload: dict[str, Any]) -> list[str]:
    return [ABS.findall(e["url"])[0] for e in payload.get("embeds", []) if e.get("url")]


def shown(messages: list[dict[str, Any]]) -> list[str]:
    """Every paper the messages show, cards and lines alike, in reading order."""
    found: list[str] = []
    for payload in messages:
        found += ABS.findall(payload.get("content") or "")
        for embed in payload.get("embeds", []):
            text = embed["url"] if embed.get("url") else embed.get("description", "")
            found += ABS.findall(text)
    return found


# -- layouts ----------------------------------------------------------------------------------------


async def test_compact_by_default_and_cards_on_request(config_path: Path) -> None:
    compact = await preview_json(config_path)
    laid_out = await preview_json(config_path, "--layout", "cards")
    explicit = await preview_json(config_path, "--layout", "compact")
    everything = sorted(OTHER_IDS + GRAPH_IDS)
    assert sorted(i["arxiv_id"] for i in compact["items"]) == everything
    # Compact: ten cards, then 25 lines; cards: 35 cards, ten a message at most.
    assert len(compact["messages"]) == 2, [len(m["embeds"]) for m in compact["messages"]]
    assert len(cards(compact["messages"][0])) == 10
    assert sum(len(cards(m)) for m in compact["messages"]) == 10
    assert len(laid_out["messages"]) >= 4
    assert sum(len(cards(m)) for m in laid_out["messages"]) == 35
    assert all(len(m["embeds"]) == len(cards(m)) for m in laid_out["messages"]), "cards only"
    for document in (compact, laid_out):
        assert sorted(shown(document["messages"])) == everything, "every paper once"
        assert shown(document["messages"]) == [i["arxiv_id"] for i in document["items"]], "ranked order"
    assert explicit["messages"] == compact["messages"]


async def test_top_sets_how_many_cards(config_path: Path) -> None:
    three = await preview_json(config_path, "--top", "3")
    first = three["messages"][0]
    assert cards(first) == [i["arxiv_id"] for i in three["items"][:3]]
    assert sum(len(cards(m)) for m in three["messages"]) == 3
    assert [e["description"].split("\n", 1)[0][:6] for e in first["embeds"][:3]] == ["**#1**", "**#2**",
                                                                                      "**#3**"]
    assert len(three["messages"]) == 1, "three cards and 32 lines fit one message"
    none = await preview_json(config_path, "--top", "0")
    assert sum(len(cards(m)) for m in none["messages"]) == 0
    assert sorted(shown(none["messages"])) == sorted(OTHER_IDS + GRAPH_IDS)


# -- ranking by saves --------------------------------------------------------------------------------


async def test_saved_papers_bring_papers_like_them_first(config_path: Path) -> None:
    cold = await preview_json(config_path)
    cold_order = [i["arxiv_id"] for i in cold["items"]]
    assert cold_order[-5:] == GRAPH_IDS, "a cold start keeps the listing's order, graphs last"
    assert [i["rank"] for i in cold["items"]] == list(range(1, 36))
    assert all(i["reasons"] == [] for i in cold["items"])

    saved = await preview_json(config_path, "--saved", GRAPH_IDS[0], "--saved", f"arXiv:{GRAPH_IDS[1]}v1")
    items = saved["items"]
    order = [i["arxiv_id"] for i in items]
    assert sorted(order) == sorted(cold_order), "ranking only orders: every paper once"
    assert set(order[:5]) == set(GRAPH_IDS), order
    assert [i["rank"] for i in items] == list(range(1, 36))
    scores = [i["score"] for i in items]
    assert scores == sorted(scores, reverse=True) and scores[0] > scores[-1]
    for item in items[:5]:
        like = [r for r in item["reasons"] if r.startswith("like *")]
        assert like and re.fullmatch(r"like \*Message passing graph neural networks for .+\* \(saved here\)",
                                     like[0]), item
    # The payloads follow the same order, and the top cards say why.
    assert shown(saved["messages"]) == order
    first_card = saved["messages"][0]["embeds"][0]
    assert first_card["description"].startswith("**#1** · like *Message passing graph neural networks")


async def test_saved_order_shows_in_the_text_preview(config_path: Path) -> None:
    code, out, err = await run_main("--config", str(config_path), "preview", "--follow", "cs.LG",
                                    "--saved", GRAPH_IDS[0], "--saved", GRAPH_IDS[1])
    assert code == 0, err
    blocks = out.split("\n\n#")
    assert out.startswith("#1 · like *Message passing graph neural networks"), out[:200]
    assert len(blocks) == 35
    assert all(GRAPH[0].split(" {x}")[0] in block for block in blocks[:5])


# -- bad values: one clear line, exit 2, no traceback -------------------------------------------------


async def paperboy_process(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


BAD = {
    "layout grid": (["--layout", "grid"], "invalid choice: 'grid'"),
    "saved not an id": (["--saved", "not-an-id"], "'not-an-id' is not an arXiv identifier"),
    "saved one good one bad": (["--saved", GRAPH_IDS[0], "--saved", "2411.1"], "'2411.1'"),
    "top negative": (["--top", "-1"], "--top"),
    "top not a number": (["--top", "many"], "invalid int value: 'many'"),
}


def assert_one_clear_line(case: str, code: int, out: str, err: str, fragment: str) -> None:
    assert code == 2, (case, code, err)
    assert out == "", case
    assert "Traceback" not in err, (case, err)
    # argparse adds its usage lines before the one line that says what is wrong.
    problems = [line for line in err.splitlines() if line.strip() and not line.startswith(("usage:", " "))]
    assert len(problems) == 1, (case, err)
    assert fragment in problems[0] and problems[0].startswith("paperboy"), (case, problems)


@pytest.mark.parametrize("case", list(BAD))
async def test_bad_values_are_one_clear_line_and_exit_2(config_path: Path, case: str) -> None:
    args, fragment = BAD[case]
    code, out, err = await run_main("--config", str(config_path), "preview", "--follow", "cs.LG", *args)
    assert_one_clear_line(case, code, out, err, fragment)


async def test_a_bad_saved_id_in_a_real_process_has_no_traceback(config_path: Path) -> None:
    """The same through ``python -m bot``: what the process prints and its exit status."""
    args, fragment = BAD["saved not an id"]
    code, out, err = await paperboy_process("--config", str(config_path), "preview", "--follow", "cs.LG",
                                            *args, "--json")
    assert_one_clear_line("process", code, out, err, fragment)


async def test_top_over_the_channel_rule_is_refused(config_path: Path) -> None:
    code, out, err = await run_main("--config", str(config_path), "preview", "--follow", "cs.LG",
                                    "--top", "99", "--json")
    assert code == 2, out[:200]
    assert "50" in err and "Traceback" not in err


async def test_top_far_over_the_range_is_refused(config_path: Path) -> None:
    code, out, err = await run_main("--config", str(config_path), "preview", "--follow", "cs.LG",
                                    "--top", "101")
    assert (code, out) == (2, "")
    assert [line for line in err.splitlines() if line.strip()] == [
        "paperboy: --top: 101: the number of top papers shown as cards must be between 0 and 50"]
