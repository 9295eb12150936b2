"""Every job the running bot does on a timer, registered in this one place.

The launcher builds the scheduler after the bot has logged in (``Paperboy.on_setup``) and shuts
it down before the bot closes. Due times live in the store, so work missed while the bot was down
is done when it is back; ``coalesce`` and ``max_instances=1`` keep a slow run from piling up.
"""

from __future__ import annotations

from datetime import UTC

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.core.clock import utc_now
from bot.discord_side.client import Paperboy
from bot.services.fleet import HEARTBEAT_EVERY

ARXIV_REBUILD = CronTrigger(hour=0, minute=10, timezone="America/New_York")  # after arXiv's rebuild
HOUSEKEEPING = CronTrigger(hour=4, minute=17)
EVERY_MINUTE = IntervalTrigger(minutes=1)
HEARTBEAT = IntervalTrigger(seconds=30)
FLEET_HEARTBEAT = IntervalTrigger(seconds=HEARTBEAT_EVERY)  # the fleet's live processes and rate shares


def build_scheduler(bot: Paperboy) -> AsyncIOScheduler:
    """The scheduler with all of the bot's jobs; not started."""
    scheduler = AsyncIOScheduler(timezone=UTC)
    once = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
    now = utc_now()  # the first poll and digest run right away
    scheduler.add_job(bot.poll_jobs.poll_due, EVERY_MINUTE, id="poll", next_run_time=now, **once)
    scheduler.add_job(bot.poll_jobs.arxiv_rebuilt, ARXIV_REBUILD, id="arxiv-rebuild", **once)
    scheduler.add_job(bot.dispatcher.run_due, EVERY_MINUTE, id="digests", next_run_time=now, **once)
    scheduler.add_job(bot.heartbeat, HEARTBEAT, id="heartbeat")
    scheduler.add_job(bot.fleet_heartbeat, FLEET_HEARTBEAT, id="fleet-heartbeat", **once)
    scheduler.add_job(bot.alerts.check, EVERY_MINUTE, id="alerts", **once)
    scheduler.add_job(bot.housekeeping.run, HOUSEKEEPING, id="housekeeping", **once)
    return scheduler
