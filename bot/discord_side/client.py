"""The bot: a ``commands.Bot`` whose ``setup_hook`` loads the cogs and starts the scheduler.

The launcher (:mod:`bot.process.launcher`) opens the services and the logging; this class only wires the
Discord side to them. Intents: guilds only.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import datetime

import discord
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from discord import app_commands
from discord.ext import commands

from bot.core.digest import DigestBuilder
from bot.core.schedule import utc_now
from bot.discord_side.delivery import DiscordSender, Dispatcher, new_nonce
from bot.services.alerts import OwnerAlerts
from bot.services.health import write_heartbeat
from bot.services.jobs import Housekeeping, PollJobs, build_scheduler
from bot.services.subscriptions import SubscriptionService, UserError
from bot.services.wiring import Services

log = logging.getLogger(__name__)

EXTENSIONS = (
    "cogs.subscriptions",
    "cogs.digests",
    "cogs.admin",
    "cogs.papers",
)



class Paperboy(commands.Bot):
    """Paperboy's Discord client."""

    def __init__(self, services: Services, *, clock: Callable[[], datetime] = utc_now,
                 run_scheduler: bool = True) -> None:
        # No voice (guilds intent only): without this, building the client warns on every start that
        # PyNaCl and davey are not installed. discord.py checks (and clears) these flags itself.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents(guilds=True),
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
        )
        self.services = services
        self.clock = clock
        self.run_scheduler = run_scheduler
        self.subscriptions = SubscriptionService(services.config, services.store, clock)
        self.digests = DigestBuilder(services.store)
        sender = DiscordSender(self, services.config.discord.requests_per_second)
        self.dispatcher = Dispatcher(services.store, self.digests, sender,
                                     self.subscriptions.all_subscriptions, clock,
                                     nonce_window=services.config.discord.nonce_window)
        self.poll_jobs = PollJobs(services, clock, after_poll=self._after_poll)
        self.housekeeping = Housekeeping(services, clock)
        self.alerts = OwnerAlerts(services.store, services.config, self.notify_owner)
        self.owner_ids: set[int] = set()
        self.scheduler: AsyncIOScheduler | None = None
        self.started_at = clock()

    async def setup_hook(self) -> None:
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        self.tree.on_error = self.on_app_command_error
        if self.run_scheduler:
            self.scheduler = build_scheduler(self.poll_jobs, self.dispatcher)
            self.scheduler.add_job(self.heartbeat, IntervalTrigger(seconds=30), id="heartbeat")
            self.scheduler.add_job(self.alerts.check, IntervalTrigger(minutes=1), id="alerts",
                                   max_instances=1, coalesce=True)
            self.scheduler.add_job(self.housekeeping.run, CronTrigger(hour=4, minute=17), id="housekeeping",
                                   max_instances=1, coalesce=True)
            self.scheduler.start()
        log.info("Paperboy is set up: %d extensions, scheduler %s", len(EXTENSIONS),
                 "running" if self.scheduler else "off")

    def heartbeat(self) -> None:
        """Prove to ``paperboy health`` that the bot is connected and its loop is turning."""
        if self.is_ready() and not self.is_closed():
            write_heartbeat(self.services.config.heartbeat_path,
                            {"pid": os.getpid(), "guilds": len(self.guilds),
                             "latency_ms": round(self.latency * 1000, 1)})

    async def on_ready(self) -> None:
        log.info("connected to Discord as %s, in %d server(s)", self.user, len(self.guilds))
        self.heartbeat()

    async def _after_poll(self, _reports: object) -> None:
        """Instant channels get what a poll brought right away; failing feeds may need the owner."""
        await self.dispatcher.run_due()
        await self.alerts.check()

    async def owners(self) -> set[int]:
        """The application's owner (or its team's members), asked once."""
        if not self.owner_ids:
            info = await self.application_info()
            if info.team is not None:
                self.owner_ids = {member.id for member in info.team.members}
            elif info.owner is not None:
                self.owner_ids = {info.owner.id}
        return self.owner_ids

    async def notify_owner(self, text: str) -> None:
        """An alert to the ops channel when one is configured, else by DM to the owner."""
        channel_id = self.services.config.discord.ops_channel_id
        if not channel_id:
            info = await self.application_info()
            owner = info.team.owner if info.team is not None else info.owner
            if owner is None:
                raise RuntimeError("the application has no owner to alert")
            channel_id = (await owner.create_dm()).id
        await self.dispatcher.sender.send(channel_id, {"content": text[:2000]}, new_nonce())

    async def close(self) -> None:
        """Stop taking new work, let the message in flight finish, then disconnect."""
        self.dispatcher.stopping = True
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await self.dispatcher.wait_idle()
        await super().close()

    async def on_app_command_error(self, interaction: discord.Interaction,
                                   error: app_commands.AppCommandError) -> None:
        """One place for command errors: users get an ephemeral explanation, never a traceback."""
        original = getattr(error, "original", error)
        if isinstance(original, UserError):
            message = str(original)
        elif isinstance(error, app_commands.CheckFailure):
            message = str(error) or "You cannot use this command here."
        else:
            log.error("command %s failed", interaction.command and interaction.command.qualified_name,
                      exc_info=original)
            message = "Something went wrong on Paperboy's side; the error was logged. Please try again."
        await send_ephemeral(interaction, message)


async def send_ephemeral(interaction: discord.Interaction, message: str) -> None:
    """Answer (or follow up) ephemerally, mentions disabled."""
    none = discord.AllowedMentions.none()
    if interaction.response.is_done():
        await interaction.followup.send(message, ephemeral=True, allowed_mentions=none)
    else:
        await interaction.response.send_message(message, ephemeral=True, allowed_mentions=none)
