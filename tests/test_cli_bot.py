"""The command line around the bot: preview, sync, run without a token."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from bot.discord_side.limits import payload_violations
from doubles.discord import DiscordDouble, discord_double_fixture  # noqa: F401
from doubles.feed_server import FeedServer
from tests.helpers import BIG_FEED, make_config, shared_feed, write_config
from tests.test_bot_digest import expected_cs_lg


async def paperboy(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env={**os.environ, **(env or {})})
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_preview_json_shows_exact_payloads_and_items(tmp_path: Path, feed_server: FeedServer) -> None:
    big = shared_feed(BIG_FEED)
    feed_server.serve("/rss/cs.LG", big)
    config_path = write_config(tmp_path / "config.toml", make_config(tmp_path, feed_server.port))
    code, _out, err = await paperboy("--config", str(config_path), "poll")
    assert code == 0, err
    code, out, err = await paperboy("--config", str(config_path), "preview", "--follow", "cs.LG",
                                    "--since", "24h", "--json")
    assert code == 0, err
    document = json.loads(out)
    assert {item["kind"] for item in document["items"]} == {"paper"}
    assert sorted(i["arxiv_id"] for i in document["items"]) == sorted(expected_cs_lg(big))
    assert all(item["matched"] == ["cs.LG"] for item in document["items"])
    assert len(document["messages"]) > 1
    for payload in document["messages"]:
        assert payload_violations(payload) == []
        assert payload["allowed_mentions"] == {"parse": []}
    # An exclusion removes matching items; a window before the poll holds nothing.
    code, out, _ = await paperboy("--config", str(config_path), "preview", "--follow", "cs.LG",
                                  "--follow", "!cs.AI", "--json")
    narrowed = json.loads(out)["items"]
    assert 0 < len(narrowed) < len(document["items"])
    code, out, _ = await paperboy("--config", str(config_path), "preview", "--follow", "cs.LG")
    assert code == 0 and "arXiv:" in out
    code, _out, err = await paperboy("--config", str(config_path), "preview", "--follow", "cs.lf")
    assert code == 2 and "cs.LG" in err


async def test_sync_publishes_commands_to_a_guild(tmp_path: Path, discord_double: DiscordDouble) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'feeds = []\n[discord]\napi_base = "{discord_double.api_base}"\n'
                      f'gateway_url = "{discord_double.gateway_url}"\n[storage]\n'
                      f'path = "{tmp_path / "store.sqlite3"}"\n', encoding="utf-8")
    code, out, err = await paperboy("--config", str(config), "sync", "--guild", str(discord_double.guild_id),
                                    env={"PAPERBOY_DISCORD_TOKEN": "secret-token-123456"})
    assert code == 0, err
    names = {c["name"] for c in discord_double.commands(discord_double.guild_id)}
    assert {"subscribe", "digest", "paperboy"} <= names
    assert "secret-token-123456" not in out + err


async def test_run_without_token_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'feeds = []\n[storage]\npath = "{tmp_path / "s.sqlite3"}"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PAPERBOY_DISCORD_TOKEN"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(config), "run",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env)
    _out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2
    assert b"PAPERBOY_DISCORD_TOKEN" in err


async def test_lookup_prints_the_card_and_json(tmp_path: Path, feed_server: FeedServer) -> None:
    from tests.helpers import OWN_FIXTURES

    feed_server.serve("/api/query", OWN_FIXTURES / "arxiv_api_1805.08296.atom")
    config_path = write_config(tmp_path / "config.toml", make_config(tmp_path, feed_server.port))
    code, out, err = await paperboy("--config", str(config_path), "lookup", "arXiv:1805.08296v2")
    assert code == 0, err
    assert "Data-Efficient Hierarchical Reinforcement Learning" in out and "Sergey Levine" in out
    code, out, err = await paperboy("--config", str(config_path), "lookup", "1805.08296", "--json")
    assert code == 0, err
    record = json.loads(out)
    assert "1805.08296" in json.dumps(record) and len(feed_server.hits("/api/query")) == 1
    code, _out, err = await paperboy("--config", str(config_path), "lookup", "1805.0829")
    assert code == 1 and "not an arXiv identifier" in err


async def test_export_import_backup_commands(tmp_path: Path, feed_server: FeedServer) -> None:
    from storage.models import SubscriptionRow
    from storage.sqlite import open_store

    feed_server.serve("/rss/cs.LG", b"")
    source = write_config(tmp_path / "a.toml", make_config(tmp_path / "a", feed_server.port))
    target = write_config(tmp_path / "b.toml", make_config(tmp_path / "b", feed_server.port))
    store = await open_store(tmp_path / "a" / "paperboy.sqlite3")
    await store.ensure_channel(11, 22, "07:30", "Europe/Berlin", None)
    await store.add_subscription(SubscriptionRow(22, "category", "cs.LG", "cs.LG"))
    await store.add_subscription(SubscriptionRow(22, "keyword", "diffusion", "diffusion", exclude=True))
    await store.close()

    code, exported, err = await paperboy("--config", str(source), "export")
    assert code == 0, err
    (tmp_path / "subs.json").write_text(exported)
    code, out, err = await paperboy("--config", str(target), "import", str(tmp_path / "subs.json"))
    assert code == 0 and json.loads(out)["topics_added"] == 2, err
    code, out, err = await paperboy("--config", str(target), "import", str(tmp_path / "subs.json"))
    assert code == 0 and json.loads(out)["topics_added"] == 0
    code, again, _ = await paperboy("--config", str(target), "export")
    assert json.loads(again)["channels"] == json.loads(exported)["channels"]

    bad = json.loads(exported)
    bad["channels"][0]["topics"].append({"topic": "cs.lf", "exclude": False})
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    code, _, err = await paperboy("--config", str(target), "import", str(tmp_path / "bad.json"))
    assert code == 1 and "channels[0].topics[2]" in err and "cs.LG" in err

    code, out, err = await paperboy("--config", str(source), "backup", str(tmp_path / "copy.sqlite3"))
    assert code == 0 and json.loads(out)["integrity"] == "ok", err


async def test_run_with_a_rejected_token_or_no_discord_says_so(tmp_path: Path) -> None:
    from doubles.discord import DoubleProcess

    async with DoubleProcess(extra_args=["--token", "the-right-token"]) as remote:
        config = tmp_path / "config.toml"
        config.write_text(f'feeds = []\n[discord]\napi_base = "{remote.api_base}"\n'
                          f'gateway_url = "{remote.gateway_url}"\n[storage]\n'
                          f'path = "{tmp_path / "s.sqlite3"}"\n[arxiv]\ncategories = []\n', encoding="utf-8")
        code, _out, err = await paperboy("--config", str(config), "run",
                                         env={"PAPERBOY_DISCORD_TOKEN": "a-wrong-token-0000"})
        assert code == 1 and "rejected the bot token" in err
        assert "a-wrong-token-0000" not in err
    code, _out, err = await paperboy("--config", str(config), "run",
                                     env={"PAPERBOY_DISCORD_TOKEN": "a-wrong-token-0000"})
    assert code == 1 and "cannot reach Discord" in err and "Traceback" not in err
