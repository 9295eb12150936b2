"""Starting the bot and publishing its commands: kept apart from the bot class and the CLI.

``run_bot`` is what ``paperboy run`` calls (the tests start the bot through it too): it points
discord.py at the configured endpoints, opens the services, installs the SIGTERM handler and runs
until the bot is closed, then closes the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from datetime import datetime

import discord

from bot.app import Paperboy
from bot.config import Config
from bot.discordapi import point_discord_at
from bot.schedule import utc_now
from bot.services import open_services

log = logging.getLogger(__name__)


class MissingToken(Exception):
    """No bot token in the environment or the configuration."""



async def run_bot(config: Config, *, clock: Callable[[], datetime] = utc_now,
                  run_scheduler: bool = True,
                  started: Callable[[Paperboy], None] | None = None) -> None:
    """Run the bot until it is closed (SIGTERM, SIGINT or ``bot.close()``)."""
    token = config.token
    if not token:
        raise MissingToken("no Discord bot token: set PAPERBOY_DISCORD_TOKEN (or discord.token)")
    point_discord_at(config.discord.api_base, config.discord.gateway_url)
    async with open_services(config) as services:
        bot = Paperboy(services, clock=clock, run_scheduler=run_scheduler)
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
        bot = Paperboy(services, run_scheduler=False)
        async with bot:
            await bot.login(token)  # REST only: loads the cogs through setup_hook
            guild = discord.Object(id=guild_id) if guild_id else None
            if guild is not None:
                bot.tree.copy_global_to(guild=guild)
            synced = await bot.tree.sync(guild=guild)
    return [command.name for command in synced]
