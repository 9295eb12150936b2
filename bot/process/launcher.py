"""Starting the bot and publishing its commands: kept apart from the bot class and the CLI.

``run_bot`` is what ``paperboy run`` calls (the tests start the bot through it too): it points
discord.py at the configured endpoints, opens the services, installs the SIGTERM handler and runs
until the bot is closed, then closes the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import signal
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import aiohttp
import discord

from bot.core.clock import utc_now
from bot.core.config import Config
from bot.discord_side.client import Paperboy
from bot.discord_side.endpoints import point_discord_at
from bot.process.scheduler import build_scheduler
from bot.services.wiring import open_services

log = logging.getLogger(__name__)


class MissingToken(Exception):
    """No bot token in the environment or the configuration."""


def discord_failure(exc: BaseException, api_base: str) -> str | None:
    """One line for an operator when talking to Discord failed, or None when ``exc`` is not that.

    ``paperboy run`` and ``paperboy sync`` both say these; the usual first mistakes are a
    mistyped token (401), no network, and an ``api_base`` that is not Discord's API.
    """
    if isinstance(exc, discord.LoginFailure):
        return "Discord rejected the bot token (401 Unauthorized): check PAPERBOY_DISCORD_TOKEN"
    if isinstance(exc, discord.Forbidden):
        return (f"Discord refused the request ({exc.status}: {exc.text or 'Forbidden'}): is the bot "
                "in that server, invited with the applications.commands scope?")
    if isinstance(exc, discord.HTTPException):
        text = exc.text if exc.text and not exc.text.lstrip().startswith("<") else (
            "an HTML page, not Discord's API")
        return (f"Discord at {api_base} answered {exc.status} ({text[:200]}): check discord.api_base "
                "(normally https://discord.com/api/v10), or try again later")
    if isinstance(exc, discord.GatewayNotFound | discord.ConnectionClosed):
        return f"cannot hold a connection to Discord's gateway: {exc}"
    if isinstance(exc, aiohttp.ClientError | OSError | TimeoutError):
        reason = str(exc) or type(exc).__name__
        return f"cannot reach Discord at {api_base}: {reason} (is the network up, is discord.api_base right?)"
    return None


def start_jobs(bot: Paperboy) -> None:
    """Once the bot has logged in (its REST calls work), its timed jobs start."""
    bot.scheduler = build_scheduler(bot)
    bot.scheduler.start()


def freeze_start_up_objects() -> None:
    """Leave what start-up made (modules, the bot, its extensions) out of every later garbage
    collection (``gc.freeze``). A full collection walks every object and holds the GIL: one that
    fell during a feed parse (in a worker thread) stopped the event loop for 80 ms, and with
    start-up's objects left out it took 20 (bench/ingest.py)."""
    gc.collect()
    gc.freeze()


def set_up(bot: Paperboy, *, run_scheduler: bool) -> None:
    """Once the bot has logged in and loaded its extensions: its jobs start (unless the caller
    runs them), and start-up's objects are frozen."""
    if run_scheduler:
        start_jobs(bot)
    freeze_start_up_objects()


async def run_bot(config: Config, *, clock: Callable[[], datetime] = utc_now,
                  run_scheduler: bool = True,
                  started: Callable[[Paperboy], None] | None = None) -> None:
    """Run the bot until it is closed (SIGTERM, SIGINT or ``bot.close()``)."""
    token = config.token
    if not token:
        raise MissingToken("no Discord bot token: set PAPERBOY_DISCORD_TOKEN (or discord.token)")
    point_discord_at(config.discord.api_base, config.discord.gateway_url)
    async with open_services(config, clock=clock) as services:
        if services.store.created:
            log.info("created a new, empty store at %s (storage.path, from %s)",
                     Path(config.storage.path).expanduser().absolute(), config.source)
        bot = Paperboy(services, clock=clock, on_setup=functools.partial(set_up, run_scheduler=run_scheduler))
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, lambda: asyncio.ensure_future(bot.close()))
        if started is not None:
            started(bot)
        try:
            async with bot:
                await bot.start(token)
        finally:
            for signum in (signal.SIGTERM, signal.SIGINT):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(signum)
    log.info("Paperboy stopped; the store is closed")


async def sync_commands(config: Config, guild_id: int | None = None) -> list[str]:
    """Publish the slash commands (globally, or to one guild at once); returns their names."""
    token = config.token
    if not token:
        raise MissingToken("no Discord bot token: set PAPERBOY_DISCORD_TOKEN (or discord.token)")
    point_discord_at(config.discord.api_base, config.discord.gateway_url)
    async with open_services(config) as services:
        bot = Paperboy(services)
        async with bot:
            await bot.login(token)  # REST only: loads the cogs through setup_hook
            guild = discord.Object(id=guild_id) if guild_id else None
            if guild is not None:
                bot.tree.copy_global_to(guild=guild)
            synced = await bot.tree.sync(guild=guild)
    return [command.name for command in synced]
