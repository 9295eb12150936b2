"""A poll killed with SIGKILL leaves all or nothing of its batch; the next poll takes the rest."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import sys
from pathlib import Path

import pytest

from doubles.feed_server import FeedServer
from tests.helpers import BIG_FEED, make_config, shared_feed, write_config


async def _poll_process(config_path: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(config_path), "poll",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def _kill_when(process: asyncio.subprocess.Process, marker: str) -> bool:
    """SIGKILL the process as soon as ``marker`` shows in its log; False if it ended first."""
    assert process.stderr is not None
    while line := await asyncio.wait_for(process.stderr.readline(), timeout=60):
        if marker in line.decode():
            process.send_signal(signal.SIGKILL)
            await process.wait()
            return True
    await process.wait()
    return False


def _state(db_path: str) -> tuple[int, int, int]:
    db = sqlite3.connect(db_path)
    try:
        papers = db.execute("SELECT count(*) FROM papers").fetchone()[0]
        distinct_log = db.execute("SELECT count(DISTINCT item_key) FROM ingest_log").fetchone()[0]
        log_rows = db.execute("SELECT count(*) FROM ingest_log").fetchone()[0]
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return papers, distinct_log, log_rows
    finally:
        db.close()


@pytest.mark.parametrize("kill_at", ["storing 1504 papers", "applying store migration"])
async def test_sigkill_mid_poll_loses_and_duplicates_nothing(
        tmp_path: Path, feed_server: FeedServer, kill_at: str) -> None:
    feed_server.serve("/rss/cs.LG", shared_feed(BIG_FEED))
    config = make_config(tmp_path, feed_server.port)
    config_path = write_config(tmp_path / "config.toml", config)
    if kill_at == "applying store migration":  # migrations are logged one by one at DEBUG only
        config_path.write_text(config_path.read_text() + '[logging]\nlevel = "DEBUG"\n')

    killed = await _kill_when(await _poll_process(config_path), kill_at)
    assert killed, "the poll finished before it could be killed"
    db = sqlite3.connect(config.storage.path)
    tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    db.close()
    if "papers" in tables:  # killed after the migration committed
        papers, _, _ = _state(config.storage.path)
        assert papers in (0, 1504), "a killed batch is all or nothing"

    process = await _poll_process(config_path)
    _out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, err.decode()[-2000:]
    assert _state(config.storage.path) == (1504, 1504, 1504)
