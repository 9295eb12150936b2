"""The jobs the bot runs on APScheduler: polls, the digest dispatcher (and later housekeeping).

- arXiv feeds: shortly after arXiv's daily rebuild (00:10 US Eastern) every arXiv feed is made due
  now; otherwise each feed is polled when its ``next_poll`` (interval or failure backoff) is due.
  Conditional GET keeps the hourly repeats cheap.
- summary feeds: at their configured interval, through the same ``next_poll``.
- the dispatcher: every minute, sends what is due. Due times live in the store, so a digest missed
  while the bot was down goes out when it is back.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.core.schedule import utc_now
from bot.discord_side.delivery import Dispatcher
from bot.ingest.poller import FeedReport, FeedSpec, Ingestor, feed_specs
from bot.services.wiring import Services

log = logging.getLogger(__name__)

ARXIV_REBUILD = CronTrigger(hour=0, minute=10, timezone="America/New_York")



class PollJobs:
    """Polls every feed whose next poll is due; arXiv's are all made due after the rebuild."""

    def __init__(self, services: Services, clock: Callable[[], datetime] = utc_now,
                 after_poll: Callable[[list[FeedReport]], Awaitable[None]] | None = None) -> None:
        self.services = services
        self.clock = clock
        self.after_poll = after_poll
        self._force_arxiv = True  # the first run after start polls arXiv too

    async def specs(self) -> list[FeedSpec]:
        """Configured sources plus every category or archive a channel follows."""
        followed = await self.services.store.followed_categories()
        return feed_specs(self.services.config, followed)

    async def poll_due(self) -> list[FeedReport]:
        ingestor: Ingestor = self.services.ingestor
        now = self.clock().isoformat(timespec="seconds")
        next_polls = {s.name: s.next_poll for s in await self.services.store.list_feed_states()}
        due = []
        for spec in await self.specs():
            next_poll = next_polls.get(spec.name)
            forced = self._force_arxiv and spec.kind == "arxiv"
            if forced or next_poll is None or next_poll <= now:
                due.append(spec)
        if not due:
            self._force_arxiv = False
            return []
        reports = await ingestor.poll(due)
        if all(r.status == "skipped" for r in reports):
            return reports  # another process polls this store now: try again on the next tick
        self._force_arxiv = False
        if self.after_poll is not None:
            await self.after_poll(reports)
        return reports

    def arxiv_rebuilt(self) -> None:
        """Called after arXiv's daily rebuild: the next poll takes every arXiv feed."""
        self._force_arxiv = True


class Housekeeping:
    """Prunes old delivery records and sent digest messages; see ``Store.prune``."""

    def __init__(self, services: Services, clock: Callable[[], datetime] = utc_now) -> None:
        self.services = services
        self.clock = clock

    async def run(self) -> dict[str, int]:
        keep = self.services.config.housekeeping
        now = self.clock()
        pruned = await self.services.store.prune(
            (now - timedelta(seconds=keep.keep_deliveries)).isoformat(timespec="seconds"),
            (now - timedelta(seconds=keep.keep_sent_messages)).isoformat(timespec="seconds"))
        log.info("housekeeping: pruned %(deliveries)d delivery records, %(sent_messages)d sent "
                 "messages, %(api_queries)d cached API queries", pruned)
        return pruned


def build_scheduler(poll_jobs: PollJobs, dispatcher: Dispatcher) -> AsyncIOScheduler:
    """The scheduler with its jobs; started by the bot's ``setup_hook``, shut down on close."""
    scheduler = AsyncIOScheduler(timezone=UTC)
    common = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
    scheduler.add_job(poll_jobs.poll_due, IntervalTrigger(minutes=1), id="poll",
                      next_run_time=datetime.now(UTC), **common)
    scheduler.add_job(poll_jobs.arxiv_rebuilt, ARXIV_REBUILD, id="arxiv-rebuild", **common)
    scheduler.add_job(dispatcher.run_due, IntervalTrigger(minutes=1), id="digests",
                      next_run_time=datetime.now(UTC), **common)
    return scheduler
