"""The work behind the bot's periodic jobs: polling what is due, and housekeeping.

When each runs is decided in one place, :mod:`bot.process.scheduler`:

- arXiv feeds: shortly after arXiv's daily rebuild every arXiv feed is made due now; otherwise
  each feed is polled when its ``next_poll`` (interval or failure backoff) is due. Conditional GET
  keeps the hourly repeats cheap.
- summary feeds: at their configured interval, through the same ``next_poll``.
- housekeeping: daily, prunes what the store no longer needs (see ``Store.prune``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.clock import utc_now
from bot.ingest.poller import FeedReport, FeedSpec, Ingestor, feed_specs
from bot.services.wiring import Services
from storage.models import FeedState

log = logging.getLogger(__name__)
ARXIV_TIME_ZONE = ZoneInfo("America/New_York")
ARXIV_REBUILD_AT = time(0, 10)  # local time of the day's rebuild, after which new papers are listed



def last_arxiv_rebuild(now: datetime) -> datetime:
    """The latest of arXiv's daily rebuilds (the scheduler's ``ARXIV_REBUILD`` time, 00:10 in New
    York) at or before ``now``, in UTC: a feed read before it may have missed an announcement
    (the bot was down at the rebuild), one read after it has not."""
    local = now.astimezone(ARXIV_TIME_ZONE)
    day = local.date() if local.time() >= ARXIV_REBUILD_AT else local.date() - timedelta(days=1)
    return datetime.combine(day, ARXIV_REBUILD_AT, ARXIV_TIME_ZONE).astimezone(UTC)


class PollJobs:
    """Polls every feed whose next poll is due; arXiv's are all made due after the rebuild."""

    def __init__(self, services: Services, clock: Callable[[], datetime] = utc_now,
                 after_poll: Callable[[list[FeedReport]], Awaitable[None]] | None = None) -> None:
        self.services = services
        self.clock = clock
        self.after_poll = after_poll
        self._force_arxiv = False  # set by arxiv_rebuilt: the next run polls every arXiv feed
        self._started = True  # the first run: an arXiv feed last read before the rebuild is due

    async def specs(self) -> list[FeedSpec]:
        """Configured sources plus every category or archive a channel follows."""
        followed = await self.services.store.followed_categories()
        return feed_specs(self.services.config, followed)

    async def poll_due(self) -> list[FeedReport]:
        ingestor: Ingestor = self.services.ingestor
        clock = self.clock()
        now = clock.isoformat(timespec="seconds")
        rebuilt = last_arxiv_rebuild(clock).isoformat(timespec="seconds")
        states = {s.name: s for s in await self.services.store.list_feed_states()}
        due = [spec for spec in await self.specs() if self._is_due(spec, states.get(spec.name), now, rebuilt)]
        self._force_arxiv = self._started = False
        if not due:
            return []
        reports = await ingestor.poll(due)
        if all(r.status == "skipped" for r in reports):
            return reports  # another process polls this store now (arXiv included): it does the work
        if self.after_poll is not None:
            await self.after_poll(reports)
        await ingestor.tidy_after(reports)
        return reports

    def _is_due(self, spec: FeedSpec, state: FeedState | None, now: str, rebuilt: str) -> bool:
        """Due by the feed's own schedule; an arXiv feed also after the rebuild, and on the first
        round when its last poll came before the latest rebuild (``now``, ``rebuilt``: ISO UTC)."""
        if state is None or state.next_poll is None or state.next_poll <= now:
            return True
        missed = self._started and (state.last_success or "") < rebuilt
        return spec.kind == "arxiv" and (self._force_arxiv or missed)

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
