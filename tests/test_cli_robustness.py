"""Everything a user meets on the command line ends in one clear line and an exit status.

Each case runs the real ``paperboy`` command in a subprocess: a store that cannot be used (in
every command that opens one), Discord unreachable or refusing the token, a reader that closes the
pipe early, ``--config`` after the command, and processes that open or poll one store at once.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import json
import os
import sqlite3
import stat
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.ingest.poller import feed_specs
from bot.services.wiring import open_services
from doubles.discord import DiscordDouble, discord_double_fixture  # noqa: F401
from doubles.feed_server import FeedServer
from storage import open_store
from storage.sqlite import _migrations
from storage.sqlite_file import APPLICATION_ID
from tests.helpers import REPO, arxiv_feed, arxiv_item, make_config, write_config

STORE_COMMANDS: dict[str, list[str]] = {
    "run": ["run"],
    "poll": ["poll"],
    "preview": ["preview", "--follow", "cs.LG"],
    "export": ["export"],
    "import": ["import", "IMPORT_FILE"],
    "lookup": ["lookup", "1805.08296"],
    "backup": ["backup", "BACKUP_TARGET"],
}


async def paperboy(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
                   timeout: float = 60) -> tuple[int, str, str]:
    environment = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    environment.pop("PAPERBOY_CONFIG", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env=environment, cwd=cwd)
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def assert_one_clear_line(err: str, *needles: str) -> None:
    """No traceback, and the problem in one ``paperboy:`` line naming what it is about."""
    assert "Traceback" not in err and "Event loop is closed" not in err, err
    lines = [line for line in err.splitlines() if line.startswith("paperboy:")]
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], err


def _config(tmp_path: Path, store: Path, api_base: str = "http://127.0.0.1:9/api/v10") -> Path:
    path = tmp_path / "paperboy.toml"
    path.write_text(f'feeds = []\n[discord]\napi_base = "{api_base}"\n'
                    'gateway_url = "ws://127.0.0.1:9/"\n'
                    f'[storage]\npath = "{store}"\n[arxiv]\nrss_url = "http://127.0.0.1:9/rss/{{categories}}"\n'
                    'api_url = "http://127.0.0.1:9/api/query"\nrequest_interval = "0s"\ncategories = []\n'
                    '[http]\ntimeout = "2s"\nretries = 0\n', encoding="utf-8")
    return path


def _foreign_database(path: Path) -> None:
    db = sqlite3.connect(path)
    db.executescript("CREATE TABLE ingest_log (id INTEGER PRIMARY KEY, line TEXT);"
                     "CREATE TABLE people (name TEXT); INSERT INTO people VALUES ('Ada');")
    db.commit()
    db.close()


def _our_store(path: Path) -> None:
    """A Paperboy store at ``path`` (made in a thread of its own: the tests run in an event loop)."""
    async def make() -> None:
        store = await open_store(path)
        await store.close()
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, make()).result()


def _read_only_store(path: Path) -> None:
    _our_store(path)
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)


def _in_locked_folder(path: Path) -> None:
    path.parent.mkdir()
    _our_store(path)
    path.parent.chmod(stat.S_IRUSR | stat.S_IXUSR)


BAD_STORES: dict[str, tuple[Callable[[Path], None], str]] = {
    "a directory": (lambda p: p.mkdir(), "is a directory"),
    "not SQLite": (lambda p: p.write_bytes(b"ceci n'est pas une base\n" * 50), "not an SQLite database"),
    "another program's database": (_foreign_database, "another program's SQLite database"),
    "a read-only store": (_read_only_store, "read-only"),
    "a folder that cannot be written": (_in_locked_folder, "not writable"),
}


@pytest.fixture
def unlock(tmp_path: Path) -> Iterator[None]:
    yield
    for path in tmp_path.rglob("*"):  # let pytest clean up what the test locked
        if path.is_dir():
            path.chmod(0o755)


@pytest.mark.parametrize("problem", list(BAD_STORES))
@pytest.mark.parametrize("command", list(STORE_COMMANDS))
async def test_a_store_that_cannot_be_used_is_one_line(tmp_path: Path, command: str, problem: str,
                                                       unlock: None) -> None:
    make, needle = BAD_STORES[problem]
    store = tmp_path / "data" / "paperboy.sqlite3" if "folder" in problem else tmp_path / "paperboy.sqlite3"
    make(store)
    before = _fingerprint(store)
    import_file = tmp_path / "import.json"
    import_file.write_text(json.dumps({"paperboy_export": 1, "channels": []}))
    args = [a.replace("IMPORT_FILE", str(import_file)).replace("BACKUP_TARGET", str(tmp_path / "copy.db"))
            for a in STORE_COMMANDS[command]]
    code, out, err = await paperboy("--config", str(_config(tmp_path, store)), *args,
                                    env={"PAPERBOY_DISCORD_TOKEN": "token-for-the-test"})
    assert code == 1, (out, err)
    assert_one_clear_line(err, needle, str(store))
    assert _fingerprint(store) == before, "nothing was written"
    if store.is_file():
        assert not Path(f"{store}-wal").exists() and not Path(f"{store}-journal").exists()


def _fingerprint(path: Path) -> str:
    if path.is_dir():
        return "dir:" + ",".join(sorted(p.name for p in path.iterdir()))
    if not path.exists():
        return "absent"
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def test_foreign_database_is_byte_identical_and_not_switched_to_wal(tmp_path: Path) -> None:
    store = tmp_path / "theirs.db"
    _foreign_database(store)
    before = store.read_bytes()
    code, _, err = await paperboy("--config", str(_config(tmp_path, store)), "poll")
    assert code == 1
    assert_one_clear_line(err, "another program's SQLite database", "left it untouched")
    assert store.read_bytes() == before
    db = sqlite3.connect(f"{store.as_uri()}?mode=ro", uri=True)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    db.close()


async def test_old_stores_of_this_project_are_accepted_and_marked(tmp_path: Path) -> None:
    """A store made before the application id (schema 6) opens, keeps its data, gets the mark."""
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    for number, _name, sql in _migrations():
        if number <= 6:
            db.executescript(f"BEGIN;\n{sql}\nPRAGMA user_version = {number};\nCOMMIT;")
    db.execute("INSERT INTO feeds (name, url) VALUES ('arxiv:cs.LG', 'http://x/rss/cs.LG')")
    db.commit()
    db.close()
    store = await open_store(path)
    try:
        assert not store.created
        assert [f.name for f in await store.list_feed_states()] == ["arxiv:cs.LG"]
    finally:
        await store.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert db.execute("PRAGMA user_version").fetchone()[0] == _migrations()[-1][0]
    db.close()


async def test_a_store_of_a_newer_paperboy_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    _our_store(path)
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 999")
    db.commit()
    db.close()
    code, _, err = await paperboy("--config", str(_config(tmp_path, path)), "preview", "--follow", "cs.LG")
    assert code == 1
    assert_one_clear_line(err, "newer Paperboy")


async def test_a_new_store_is_named_and_an_empty_one_explained(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code, out, err = await paperboy("preview", "--follow", "cs.LG", cwd=elsewhere)
    assert code == 0, err
    created = elsewhere / "paperboy.sqlite3"
    assert f"created a new, empty store at {created}" in err
    assert "is empty" in out and "paperboy poll" in out
    code, out, err = await paperboy("preview", "--follow", "cs.LG", cwd=elsewhere)
    assert code == 0 and "created" not in err, "only a new store is announced"
    assert "INFO" not in err, "no migration chatter at INFO"


async def test_config_is_accepted_after_the_command(tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite3"
    config = _config(tmp_path, store)
    for args in (["check-config", "--config", str(config)], ["--config", str(config), "check-config"],
                 ["--config", "/nonexistent.toml", "check-config", "--config", str(config)]):
        code, out, err = await paperboy(*args)
        assert code == 0, err
        assert str(store) in out and str(config) in out


async def test_a_number_for_a_duration_says_what_is_expected(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[arxiv]\nrequest_interval = 3\n", encoding="utf-8")
    code, _, err = await paperboy("--config", str(config), "check-config")
    assert code == 2
    assert_one_clear_line(err, "arxiv.request_interval", '"3s"')


@pytest.mark.parametrize("command", [["check-config"], ["preview", "--follow", "cs.LG"],
                                     ["export"], ["lookup", "2411.00001"]])
async def test_a_reader_that_stops_early_gets_a_quiet_exit(tmp_path: Path, feed_server: FeedServer,
                                                           command: list[str]) -> None:
    feed_server.serve("/rss/cs.LG", arxiv_feed(*(arxiv_item(f"2411.{i:05d}") for i in range(1, 40))))
    config = make_config(tmp_path, feed_server.port)
    async with open_services(config) as services:
        await services.ingestor.poll(feed_specs(config))
    config_path = write_config(tmp_path / "config.toml", config)
    read_end, write_end = os.pipe()
    os.close(read_end)  # like `| head` that has already stopped reading
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(config_path), *command, stdout=write_end,
        stderr=asyncio.subprocess.PIPE, env=environment)
    os.close(write_end)
    _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 1
    assert "Traceback" not in err.decode() and "BrokenPipe" not in err.decode(), err.decode()
    assert "Exception ignored" not in err.decode(), err.decode()


# -- Discord unreachable or refusing -------------------------------------------------------------


def _html_404(feed_server: FeedServer) -> str:
    """An API base on a web server that is not Discord: its answer is an HTML 404 page."""
    feed_server.fault("/api/v10/users/@me", status=404, content_type="text/html",
                      error_body=b"<html><body><h1>Not Found</h1></body></html>")
    return feed_server.url("/api/v10")


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again when the block ends: nothing listens


@pytest.mark.parametrize("command", [["sync"], ["sync", "--guild", "1"], ["run"]])
async def test_discord_refusing_the_connection_is_one_line(tmp_path: Path, command: list[str]) -> None:
    config = _config(tmp_path, tmp_path / "s.sqlite3", f"http://127.0.0.1:{_closed_port()}/api/v10")
    code, _, err = await paperboy("--config", str(config), *command, env={"PAPERBOY_DISCORD_TOKEN": "abc"})
    assert code == 1
    assert_one_clear_line(err, "cannot reach Discord")


@pytest.mark.parametrize("command", [["sync"], ["run"]])
async def test_an_html_404_for_an_api_base_is_one_line(tmp_path: Path, feed_server: FeedServer,
                                                      command: list[str]) -> None:
    config = _config(tmp_path, tmp_path / "s.sqlite3", _html_404(feed_server))
    code, _, err = await paperboy("--config", str(config), *command, env={"PAPERBOY_DISCORD_TOKEN": "abc"})
    assert code == 1
    assert_one_clear_line(err, "404", "discord.api_base", "HTML page")


@pytest.mark.parametrize("command", [["sync"], ["run"]])
async def test_a_rejected_token_is_one_line(tmp_path: Path, discord_double: DiscordDouble,
                                            command: list[str]) -> None:
    discord_double.inject_fault("/users/@me", status=401, count=None)
    config = _config(tmp_path, tmp_path / "s.sqlite3", discord_double.api_base)
    code, _, err = await paperboy("--config", str(config), *command,
                                  env={"PAPERBOY_DISCORD_TOKEN": "mistyped"})
    assert code == 1
    assert_one_clear_line(err, "rejected the bot token", "PAPERBOY_DISCORD_TOKEN")
    assert "mistyped" not in err, "the token is never printed"


# -- several processes on one store --------------------------------------------------------------


async def test_processes_opening_a_new_store_at_once_take_turns(tmp_path: Path) -> None:
    config = _config(tmp_path, tmp_path / "fresh.sqlite3")
    results = await asyncio.gather(*(paperboy("--config", str(config), "preview", "--follow", "cs.LG")
                                     for _ in range(4)))
    for code, _out, err in results:
        assert code == 0, err
        assert "Traceback" not in err
    db = sqlite3.connect(tmp_path / "fresh.sqlite3")
    assert db.execute("PRAGMA user_version").fetchone()[0] == _migrations()[-1][0]
    db.close()


async def test_two_polls_at_once_fetch_each_arxiv_url_once(tmp_path: Path, feed_server: FeedServer) -> None:
    for category in ("cs.LG", "cs.AI"):
        feed_server.serve(f"/rss/{category}", arxiv_feed(arxiv_item("2411.00001")), delay=3)
    config = make_config(tmp_path, feed_server.port, categories=["cs.LG", "cs.AI"])
    config_path = write_config(tmp_path / "config.toml", config)
    _our_store(Path(config.storage.path))  # both processes start on an existing store
    first, second = await asyncio.gather(paperboy("--config", str(config_path), "poll"),
                                         paperboy("--config", str(config_path), "poll", "--json"))
    assert sorted(r.path for r in feed_server.requests) == ["/rss/cs.AI", "/rss/cs.LG"]
    skipped = [result for result in (first, second) if result[0] == 1]
    polled = [result for result in (first, second) if result[0] == 0]
    assert len(skipped) == 1 and len(polled) == 1, (first, second)
    code, out, err = skipped[0]
    if out.strip().startswith("{"):
        statuses = {feed["status"] for feed in json.loads(out)["feeds"]}
        assert statuses == {"skipped"}
        assert "another process is polling this store: paperboy poll (pid" in out
    else:
        assert_one_clear_line(err, "poll skipped", "another process is polling this store",
                              "paperboy poll (pid")
    # The lease is given back: a poll afterwards runs.
    code, _, err = await paperboy("--config", str(config_path), "poll")
    assert code == 0, err


# -- backup --------------------------------------------------------------------------------------


async def test_backup_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite3"
    _our_store(store)
    config = _config(tmp_path, store)
    target = tmp_path / "copy.db"
    target.write_bytes(b"precious")
    code, _, err = await paperboy("--config", str(config), "backup", str(target))
    assert code == 1
    assert_one_clear_line(err, str(target), "--force")
    assert target.read_bytes() == b"precious"
    code, out, err = await paperboy("--config", str(config), "backup", str(target), "--force")
    assert code == 0, err
    assert json.loads(out)["integrity"] == "ok"


async def test_a_failed_backup_names_the_users_path(tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite3"
    _our_store(store)
    (tmp_path / "a-file").write_text("x")
    target = tmp_path / "a-file" / "copy.db"
    code, _, err = await paperboy("--config", str(_config(tmp_path, store)), "backup", str(target))
    assert code == 1
    assert_one_clear_line(err, f"backup to {target} failed")
    assert ".tmp" not in err


async def test_a_new_store_in_a_folder_that_cannot_be_written_is_one_line(tmp_path: Path,
                                                                          unlock: None) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    store = folder / "paperboy.sqlite3"
    code, _, err = await paperboy("--config", str(_config(tmp_path, store)), "poll")
    assert code == 1
    assert_one_clear_line(err, "cannot be created", str(folder), "not writable")
    assert not store.exists()


async def test_backup_and_export_of_a_missing_store_create_nothing(tmp_path: Path) -> None:
    store = tmp_path / "missing.sqlite3"
    for command in (["backup", str(tmp_path / "copy.db")], ["export"]):
        code, _, err = await paperboy("--config", str(_config(tmp_path, store)), *command)
        assert code == 1
        assert_one_clear_line(err, "no store at", str(store))
    assert not store.exists()
