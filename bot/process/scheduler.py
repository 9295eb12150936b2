"""Every job the running bot does on a timer, registered in this one place.

The launcher builds the scheduler after the bot has logged in (``Paperboy.on_setup``) and shuts
it down before the bot closes. Due times live in the store, so work missed while the bot was down
is done when it is back; ``coalesce`` and ``max_instances=1`` keep a slow run from piling up.
"""

from __future__ import annotations

from datetime import UTC, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.core.clock import utc_now
from bot.discord_side.client import Paperboy
from bot.services.fleet import HEARTBEAT_EVERY
from bot.services.jobs import ARXIV_REBUILD_AT, ARXIV_TIME_ZONE

ARXIV_REBUILD = CronTrigger(hour=ARXIV_REBUILD_AT.hour, minute=ARXIV_REBUILD_AT.minute,
                            timezone=ARXIV_TIME_ZONE)  # after arXiv's rebuild
HOUSEKEEPING = CronTrigger(hour=4, minute=17)
EVERY_MINUTE = IntervalTrigger(minutes=1)
HEARTBEAT = IntervalTrigger(seconds=30)
FLEET_HEARTBEAT = IntervalTrigger(seconds=HEARTBEAT_EVERY)  # the fleet's live processes and rate shares
FIRST_RUN_AFTER = timedelta(seconds=HEARTBEAT_EVERY + 1)


def build_scheduler(bot: Paperboy) -> AsyncIOScheduler:
    """The scheduler with all of the bot's jobs; not started."""
    scheduler = AsyncIOScheduler(timezone=UTC)
    once = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
    # The first poll and digests run just after the first fleet heartbeat (whose job runs
    # HEARTBEAT_EVERY after the start): by then every other process of the fleet has renewed its
    # heartbeat since this one joined, so each paces at its share of the token's limit counting
    # this one, and this one counts them. Sending at once would pace by a fleet that has not seen
    # the others yet (three processes started together: 48 + 24 + 16 requests/s for up to 10 s,
    # global 429s, and the fleet's slowdown for a minute after them; bench/fleet.py).
    first = utc_now() + FIRST_RUN_AFTER
    scheduler.add_job(bot.poll_jobs.poll_due, EVERY_MINUTE, id="poll", next_run_time=first, **once)
    scheduler.add_job(bot.poll_jobs.arxiv_rebuilt, ARXIV_REBUILD, id="arxiv-rebuild", **once)
    scheduler.add_job(bot.dispatcher.run_due, EVERY_MINUTE, id="digests", next_run_time=first, **once)
    scheduler.add_job(bot.heartbeat, HEARTBEAT, id="heartbeat")
    scheduler.add_job(bot.fleet_heartbeat, FLEET_HEARTBEAT, id="fleet-heartbeat", **once)
    scheduler.add_job(bot.alerts.check, EVERY_MINUTE, id="alerts", **once)
    scheduler.add_job(bot.housekeeping.run, HOUSEKEEPING, id="housekeeping", **once)
    return scheduler
