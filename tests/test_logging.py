"""What ``paperboy run`` logs at INFO: no voice warnings (Paperboy has no voice) and no APScheduler
line per job added or run; at DEBUG APScheduler's lines are back. The bot is started as ``paperboy
run`` starts it, scheduler on, against the Discord double."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import discord
import pytest
from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent

from bot.discord_side.client import Paperboy
from bot.process.launcher import run_bot
from bot.process.logs import setup_logging
from doubles.discord import DiscordDouble, discord_double_fixture  # noqa: F401
from doubles.feed_server import FeedServer
from tests.bot_harness import FakeClock, bot_config

VOICE = "voice will NOT be supported"


class Records(logging.Handler):
    """Every record that reaches the root logger's handlers."""

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self, prefix: str = "") -> list[str]:
        return [f"{r.levelname} {r.name}: {r.getMessage()}" for r in self.records
                if r.name.startswith(prefix)]


@pytest.fixture
def records() -> Iterator[Records]:
    """setup_logging replaces the root handlers and sets levels: put everything back afterwards."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    named = {name: logging.getLogger(name).level for name in ("discord", "apscheduler")}
    handler = Records()
    try:
        yield handler
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        for name, level in named.items():
            logging.getLogger(name).setLevel(level)


@pytest.fixture
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """discord.py warns about voice once per process: make it as if no client was built yet."""
    monkeypatch.setattr(discord.VoiceClient, "warn_nacl", True)
    monkeypatch.setattr(discord.VoiceClient, "warn_dave", True)


def _set_up(level: str, records: Records) -> None:
    setup_logging(level, token="test-token")
    logging.getLogger().addHandler(records)


async def _run_with_scheduler(config: Any) -> None:
    """Start the bot with its scheduler, wait until a job has run, and stop it."""
    holder: dict[str, Paperboy] = {}
    task = asyncio.create_task(run_bot(config, clock=FakeClock(datetime(2026, 11, 28, 9, 0, tzinfo=UTC)),
                                       started=lambda bot: holder.setdefault("bot", bot)))
    try:
        async with asyncio.timeout(30):
            while "bot" not in holder or not holder["bot"].is_ready():
                if task.done():
                    task.result()
                await asyncio.sleep(0.02)
            bot = holder["bot"]
            assert bot.scheduler is not None and bot.scheduler.running
            ran = asyncio.Event()

            def executed(event: JobExecutionEvent) -> None:  # after the executor logged the run
                if event.job_id == "probe":
                    ran.set()

            bot.scheduler.add_listener(executed, EVENT_JOB_EXECUTED)
            bot.scheduler.add_job(asyncio.sleep, args=[0], id="probe", name="probe")  # runs once, now
            await ran.wait()
            await bot.close()
            await task
    finally:
        if not task.done():
            task.cancel()


async def test_run_at_info_logs_no_voice_warning_and_no_job_chatter(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer,
        records: Records, fresh_process: None) -> None:
    _set_up("INFO", records)
    await _run_with_scheduler(bot_config(tmp_path, discord_double, feed_server.port, categories=[]))
    everything = records.messages()
    assert any("Paperboy is set up" in m and "scheduler running" in m for m in everything), everything
    assert not [m for m in everything if VOICE in m]
    chatter = [r for r in records.records if r.name.startswith("apscheduler") and r.levelno < logging.WARNING]
    assert not chatter, records.messages("apscheduler")


async def test_run_at_debug_shows_the_scheduler_s_lines(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer,
        records: Records, fresh_process: None) -> None:
    _set_up("DEBUG", records)
    await _run_with_scheduler(bot_config(tmp_path, discord_double, feed_server.port, categories=[]))
    scheduler_lines = records.messages("apscheduler")
    assert any('Added job "probe"' in m for m in scheduler_lines), scheduler_lines
    assert any("Running job" in m and "probe" in m for m in scheduler_lines), scheduler_lines
    assert any("executed successfully" in m for m in scheduler_lines), scheduler_lines
    assert not [m for m in records.messages() if VOICE in m]


async def test_paperboy_sync_prints_no_voice_warning(tmp_path: Path, discord_double: DiscordDouble) -> None:
    """The command line as an operator runs it: ``paperboy sync`` logs at INFO to stderr."""
    config = tmp_path / "config.toml"
    config.write_text(f'feeds = []\n[discord]\napi_base = "{discord_double.api_base}"\n'
                      f'gateway_url = "{discord_double.gateway_url}"\n[storage]\n'
                      f'path = "{tmp_path / "store.sqlite3"}"\n', encoding="utf-8")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(config), "sync", "--guild", str(discord_double.guild_id),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PAPERBOY_DISCORD_TOKEN": "test-token-123456"})
    _out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode()
    assert "Paperboy is set up" in err.decode(), "INFO lines reach stderr"
    assert VOICE not in err.decode(), err.decode()


def test_a_plain_discord_client_would_warn(records: Records, fresh_process: None) -> None:
    """The control: this is the warning Paperboy's constructor keeps from appearing."""
    _set_up("INFO", records)
    discord.Client(intents=discord.Intents.none())
    assert len([m for m in records.messages("discord") if VOICE in m]) == 2


@pytest.mark.parametrize(("level", "apscheduler", "discord_level"), [
    ("DEBUG", logging.DEBUG, logging.INFO),
    ("INFO", logging.WARNING, logging.INFO),
    ("WARNING", logging.WARNING, logging.WARNING),
    ("ERROR", logging.ERROR, logging.ERROR),
])
def test_library_loggers_follow_the_configured_level(
        records: Records, level: str, apscheduler: int, discord_level: int) -> None:
    setup_logging(level)
    assert logging.getLogger("apscheduler.executors.default").getEffectiveLevel() == apscheduler
    assert logging.getLogger("apscheduler.scheduler").getEffectiveLevel() == apscheduler
    assert logging.getLogger("discord.client").getEffectiveLevel() == discord_level
