"""The bot: a ``commands.Bot`` whose ``setup_hook`` loads the cogs listed in :data:`EXTENSIONS`.

The launcher (:mod:`bot.process.launcher`) opens the services and the logging and owns the
scheduler (:mod:`bot.process.scheduler`); this class wires the Discord side to the services and
gives the cogs what :class:`bot.discord_side.context.PaperboyBot` promises. Intents: guilds only.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Sequence
from typing import Any

import discord
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from discord.ext import commands

from bot.core.clock import Clock, utc_now
from bot.discord_side.context import PaperboyBot
from bot.discord_side.delivery import Dispatcher, new_nonce
from bot.discord_side.discord_sender import DiscordSender
from bot.discord_side.errors import on_app_command_error
from bot.discord_side.rate_watch import RateLimitWatch
from bot.ingest.poller import FeedReport
from bot.services.alerts import OwnerAlerts
from bot.services.fleet import Fleet
from bot.services.health import write_heartbeat
from bot.services.jobs import Housekeeping, PollJobs
from bot.services.metrics import Metrics
from bot.services.wiring import Services

log = logging.getLogger(__name__)

EXTENSIONS = (
    "cogs.subscriptions",
    "cogs.digests",
    "cogs.admin",
    "cogs.papers",
)


def shard_options(count: int, ids: Sequence[int]) -> dict[str, Any]:
    """discord.py's shard arguments: Discord's recommendation unless configured; a fleet splits the
    shards between its processes by ``shard_ids``."""
    options: dict[str, Any] = {}
    if count:
        options["shard_count"] = count
    if ids:
        options["shard_ids"] = list(ids)
    return options


class Paperboy(PaperboyBot):
    """Paperboy's Discord client."""

    def __init__(self, services: Services, *, clock: Clock = utc_now,
                 on_setup: Callable[[Paperboy], None] | None = None) -> None:
        # No voice (guilds intent only): without this, building the client warns on every start that
        # PyNaCl and davey are not installed. discord.py checks (and clears) these flags itself.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents(guilds=True),
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
            **shard_options(services.config.discord.shard_count, services.config.discord.shard_ids),
        )
        self.services = services
        self.clock = clock
        self.on_setup = on_setup
        config, store = services.config, services.store
        self.subscriptions = services.subscriptions
        self.lookup = services.lookup
        self.digests = services.digests
        self.status_service = services.status
        self.ranking = services.ranking
        self.saves = services.saves
        self.sender = DiscordSender(self, config.discord.requests_per_second)
        self.fleet = Fleet(store, services.ingestor.holder)
        self.dispatcher = Dispatcher(store, self.digests, self.sender, clock,
                                     nonce_window=config.discord.nonce_window, fleet=self.fleet)
        self.metrics = Metrics(self.fleet.holder) if config.metrics.port else None
        self.rate_watch = RateLimitWatch(self._rate_limited, self._globally_limited)
        if self.metrics is not None:
            metrics = self.metrics
            self.dispatcher.on_report = lambda r: metrics.count_delivery(r.digests, r.messages, r.failed,
                                                                          r.paused)
        self.poll_jobs = PollJobs(services, clock, after_poll=self._after_poll)
        self.housekeeping = Housekeeping(services, clock)
        self.alerts = OwnerAlerts(store, config, self.notify_owner)
        self.owner_ids: set[int] = set()
        self.scheduler: AsyncIOScheduler | None = None  # the launcher's, while it runs
        self.started_at = clock()
        self._background: set[asyncio.Task[None]] = set()

    async def setup_hook(self) -> None:
        if self.metrics is not None:
            self.metrics.serve(self.services.config.metrics.port, self.services.config.metrics.address)
        self.rate_watch.install()
        await self.fleet_heartbeat()  # this process's share of the rate budget, before any send
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        self.tree.error(on_app_command_error)
        if self.on_setup is not None:
            self.on_setup(self)
        log.info("Paperboy is set up: %d extensions, scheduler %s", len(EXTENSIONS),
                 "running" if self.scheduler else "off")

    def heartbeat(self) -> None:
        """Prove to ``paperboy health`` that the bot is connected and its loop is turning."""
        if self.is_ready() and not self.is_closed():
            write_heartbeat(self.services.config.heartbeat_path,
                            {"pid": os.getpid(), "guilds": len(self.guilds),
                             "latency_ms": round(self.latency * 1000, 1)})

    async def fleet_heartbeat(self) -> None:
        """Tell the fleet this process lives, and pace at its share of the token's request budget."""
        size = await self.fleet.heartbeat()
        if self._pace_by_share():
            log.info("fleet of %d process(es): pacing Discord requests at %.1f/s", size,
                     self.sender.pacer.rate)
        if self.metrics is not None:
            self.metrics.fleet_size.set(size)
            self.metrics.count_takeovers("digest", self.fleet.takeovers)
            self.metrics.count_takeovers("poller", self.services.ingestor.takeovers)
            due = await self.services.store.due_channels(self.clock().isoformat(timespec="seconds"))
            self.metrics.note_lag((c.next_due or "" for c in due), self.clock())

    def _pace_by_share(self) -> bool:
        """Pace at this process's share of the token's budget; True when that changed the pace."""
        rate = self.fleet.share(self.services.config.discord.requests_per_second)
        if abs(rate - self.sender.pacer.rate) <= 1e-9:
            return False
        self.sender.pacer.set_rate(rate)
        return True

    def _rate_limited(self) -> None:
        if self.metrics is not None:
            self.metrics.rate_limited.inc()

    def _globally_limited(self) -> None:
        """The token's global limit, hit again: every process slows down (the store tells the others)."""
        if self.metrics is not None:
            self.metrics.global_limited.inc()
        if not self.fleet.global_limited():
            return
        self.fleet.slowing()
        self._pace_by_share()
        task = self.loop.create_task(self.fleet.slow_down())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def on_ready(self) -> None:
        log.info("connected to Discord as %s, in %d server(s)", self.user, len(self.guilds))
        self.heartbeat()

    async def _after_poll(self, reports: list[FeedReport]) -> None:
        """Instant channels get what a poll brought right away; failing feeds may need the owner."""
        if self.metrics is not None:
            self.metrics.count_polls(reports)
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
            channel_id = (await self.create_dm(owner)).id
        await self.dispatcher.sender.send(channel_id, {"content": text[:2000]}, new_nonce())

    async def close(self) -> None:
        """Stop taking new work, let the message in flight finish, then disconnect."""
        self.dispatcher.stopping = True
        if self.scheduler is not None and self.scheduler.running:  # the launcher's jobs stop first
            self.scheduler.shutdown(wait=False)
        await self.dispatcher.wait_idle()
        self.rate_watch.remove()
        try:
            await self.fleet.leave()
        except Exception as exc:  # a store already closed or gone: the leases simply expire
            log.warning("could not leave the fleet cleanly (its leases will expire): %s", exc)
        await super().close()
