"""Polling: fetch each source, parse it in a thread, store its batch with its state in one go.

A failing feed never holds up the others: each is polled in its own task, and its failure is
recorded (count, last error) with a next poll that moves out exponentially up to a cap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import socket
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from bot.core.clock import Clock, utc_now
from bot.core.config import Config
from bot.core.feed_urls import FEED_DATE, feed_url
from bot.ingest.arxiv_client import ArxivApiClient
from bot.ingest.http import FetchError, FetchResult, HttpClient
from bot.ingest.sources import PARSERS, FeedParseError, ParsedFeed
from bot.ingest.sources.arxiv_api import ArxivApiError
from storage.base import FeedStore, IngestStore, LeaseStore
from storage.errors import StoreError
from storage.models import BatchResult, FeedState, PaperRecord

log = logging.getLogger(__name__)

STATUSES = ("ok", "not_modified", "empty", "error", "skipped")
POLLER_LEASE = "poller"
POLLER_LEASE_TTL = 60.0  # seconds; renewed every third of it while a poll round runs


_LABEL_PROCESS = re.compile(r"\(pid (\d+) on ([^()]+)\)")  # a fleet label goes on: "... shards 0 of 2"


def process_label(command: str = "run") -> str:
    """Who holds a lease, as an operator reads it: ``paperboy run (pid 4242 on host-1)``."""
    return f"paperboy {command} (pid {os.getpid()} on {socket.gethostname()})"


def died_here(label: str) -> bool:
    """Whether a lease holder was a process on this host that no longer runs (killed, crashed):
    its lease need not be waited out. A process of another host is never judged."""
    found = _LABEL_PROCESS.search(label)
    if found is None or found.group(2) != socket.gethostname():
        return False
    try:
        os.kill(int(found.group(1)), 0)
    except ProcessLookupError:
        return True
    except OSError:  # it exists, but is not ours to signal
        return False
    return False


class PollStore(IngestStore, FeedStore, LeaseStore, Protocol):
    """Feed batches with their state, the feeds' states, and the poller lease."""


class PollerBusy(Exception):
    """Another process holds the store's poller lease; the message says which, and until when."""


@dataclass(frozen=True)
class FeedSpec:
    """One source to poll: an arXiv category feed or a configured summary feed."""

    name: str
    kind: str  # arxiv | shortscience | rss | huggingface
    url: str  # may hold {date}: filled in when polled (feed_url)
    interval: float


@dataclass
class FeedReport:
    """What one poll of one feed did (the ``--json`` shape of ``paperboy poll``)."""

    name: str
    url: str
    status: str
    items: int = 0
    new_papers: int = 0
    updated_papers: int = 0
    new_summaries: int = 0
    updated_summaries: int = 0
    error: str | None = None

    def add(self, result: BatchResult) -> None:
        self.new_papers += result.new_papers
        self.updated_papers += result.updated_papers
        self.new_summaries += result.new_summaries
        self.updated_summaries += result.updated_summaries


def feed_specs(config: Config, extra_categories: Iterable[str] = ()) -> list[FeedSpec]:
    """Every source to poll: one feed per arXiv category (configured plus followed), then feeds."""
    categories = list(dict.fromkeys([*config.arxiv.categories, *extra_categories]))
    specs = [FeedSpec(name=f"arxiv:{c}", kind="arxiv",
                      url=config.arxiv.rss_url.replace("{categories}", c),
                      interval=config.arxiv.poll_interval) for c in categories]
    specs += [FeedSpec(name=f.name, kind=f.kind, url=f.url, interval=f.interval) for f in config.feeds]
    return specs


def state_for_url(state: FeedState, url: str, template: str) -> FeedState:
    """The state to poll ``url`` with. Validators of another URL mean nothing here, so another URL
    starts afresh, except a dated feed on a new day: it keeps its counts, not yesterday's validators."""
    if state.url == url:
        return state
    day = r"\d{4}-\d{2}-\d{2}"
    if template != url and re.fullmatch(day.join(map(re.escape, template.split(FEED_DATE))), state.url):
        return replace(state, url=url, etag=None, last_modified=None)
    return FeedState(name=state.name, url=url)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


class Ingestor:
    """Polls sources into the store."""

    def __init__(self, config: Config, store: PollStore, http: HttpClient, api: ArxivApiClient,
                 holder: str | None = None, *, clock: Clock = utc_now) -> None:
        self.config = config
        self.clock = clock  # the date in a feed's {date}
        self.store = store
        self.http = http
        self.api = api
        self.holder = holder or process_label()
        self.takeovers = 0  # poller leases taken from a dead process (the metrics report it)

    async def poll(self, specs: Sequence[FeedSpec]) -> list[FeedReport]:
        """Poll feeds concurrently (the per-host limiters keep arXiv's pace); one report each.

        One process polls a store at a time (the store's poller lease, renewed while polling), so
        arXiv sees one polite client however many processes share the store. When another process
        holds the lease, every feed is reported ``skipped`` with who holds it.
        """
        try:
            async with self.poller_lease():
                return list(await asyncio.gather(*(self.poll_feed(spec) for spec in specs)))
        except PollerBusy as busy:
            log.info("poll skipped: %s", busy)
            return [FeedReport(spec.name, spec.url, "skipped", error=str(busy)) for spec in specs]

    async def tidy_after(self, reports: Sequence[FeedReport]) -> None:
        """The store's index upkeep once a round has stored papers (see
        ``IngestStore.tidy_after_ingest``), after what had to come first (instant digests); a
        store that fails at it is said, and the round's papers stay stored."""
        if not any(r.new_papers or r.updated_papers for r in reports):
            return
        try:
            await self.store.tidy_after_ingest()
        except StoreError as exc:
            log.warning("index upkeep after the poll failed (the papers are stored): %s", exc)

    @contextlib.asynccontextmanager
    async def poller_lease(self) -> AsyncIterator[None]:
        """Hold the store's poller lease while the body runs; :class:`PollerBusy` if taken."""
        lease = await self.store.acquire_lease(POLLER_LEASE, self.holder, POLLER_LEASE_TTL)
        if not lease.acquired and died_here(lease.holder):
            log.info("taking over the poller lease of %s, which no longer runs", lease.holder)
            lease = await self.store.acquire_lease(POLLER_LEASE, self.holder, POLLER_LEASE_TTL,
                                                   replacing=lease.holder)
            self.takeovers += lease.acquired
        if not lease.acquired:
            raise PollerBusy(f"another process is polling this store: {lease.holder} (its lease "
                             f"runs until {lease.expires_at[:19]}Z unless renewed)")
        renewer = asyncio.create_task(self._renew_lease())
        try:
            yield
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
            await self.store.release_lease(POLLER_LEASE, self.holder)

    async def _renew_lease(self) -> None:
        while True:
            await asyncio.sleep(POLLER_LEASE_TTL / 3)
            lease = await self.store.acquire_lease(POLLER_LEASE, self.holder, POLLER_LEASE_TTL)
            if not lease.acquired:  # only after a stall longer than the lease: say so, go on
                log.warning("the poller lease passed to %s while this process was polling", lease.holder)

    async def poll_feed(self, spec: FeedSpec) -> FeedReport:
        """Poll one feed; never raises for the feed's own faults, they go into the report."""
        started = time.monotonic()
        template = spec.url
        spec = replace(spec, url=feed_url(template, self.clock()))
        state = await self.store.get_feed_state(spec.name) or FeedState(name=spec.name, url=spec.url)
        state = state_for_url(state, spec.url, template)
        state.last_attempt = _iso(utc_now())
        try:
            report = await self._poll(spec, state)
        except (FetchError, FeedParseError) as exc:
            retry_after = exc.retry_after if isinstance(exc, FetchError) else None
            report = await self._report_failure(spec, state, str(exc), retry_after)
        except Exception as exc:  # a parser bug must not take the other feeds down with it
            log.exception("unexpected failure while polling %s", spec.name)
            report = await self._report_failure(spec, state, f"internal error: {exc!r}", None)
        log.info("polled %s: %s, %d items, %d new and %d updated papers, %d new and %d updated "
                 "summaries in %.2fs%s", spec.name, report.status, report.items, report.new_papers,
                 report.updated_papers, report.new_summaries, report.updated_summaries,
                 time.monotonic() - started, f" ({report.error})" if report.error else "")
        return report

    async def _report_failure(self, spec: FeedSpec, state: FeedState, error: str,
                              retry_after: float | None) -> FeedReport:
        await self.store.save_feed_state(self._failed(state, error, retry_after))
        return FeedReport(spec.name, spec.url, "error", error=error)

    async def _poll(self, spec: FeedSpec, state: FeedState) -> FeedReport:
        response = await self.http.get(spec.url, etag=state.etag, last_modified=state.last_modified)
        if response.not_modified:
            await self.store.save_feed_state(self._succeeded(state, spec, response, "not_modified"))
            return FeedReport(spec.name, spec.url, "not_modified")
        parser = PARSERS[spec.kind]
        parsed = await asyncio.to_thread(parser, response.body or b"", response.content_type, spec.name)
        papers = parsed.papers + await self._complete_papers(parsed)
        status = "error" if parsed.problem else ("ok" if parsed.items else "empty")
        if parsed.problem:
            new_state = self._failed(state, parsed.problem, None)
        else:
            new_state = self._succeeded(state, spec, response, status)
        log.info("storing %d papers and %d summaries from %s", len(papers), len(parsed.summaries),
                 spec.name)
        result = await self.store.apply_feed_batch(new_state, papers, parsed.summaries)
        report = FeedReport(spec.name, spec.url, status, items=parsed.items, error=parsed.problem)
        report.add(result)
        return report

    async def _complete_papers(self, parsed: ParsedFeed) -> list[PaperRecord]:
        """Fetch from the arXiv API the papers that summaries point at and the store lacks."""
        linked = {s.arxiv_id for s in parsed.summaries if s.arxiv_id}
        if not linked and not parsed.summaries:
            return []
        missing = await self.store.missing_papers(linked)
        missing |= set(await self.store.summaries_without_paper())
        if not missing:
            return []
        try:
            return await self.api.fetch_by_ids(sorted(missing))
        except (FetchError, ArxivApiError) as exc:
            log.warning("could not complete %d paper(s) from the arXiv API: %s", len(missing), exc)
            return []

    def _succeeded(self, state: FeedState, spec: FeedSpec, response: FetchResult,
                   status: str) -> FeedState:
        now = utc_now()
        return replace(
            state, etag=response.etag or state.etag,
            last_modified=response.last_modified or state.last_modified,
            last_success=_iso(now), last_status=status, consecutive_failures=0, last_error=None,
            next_poll=_iso(now + timedelta(seconds=spec.interval)))

    def _failed(self, state: FeedState, error: str, retry_after: float | None) -> FeedState:
        """Count the failure and move the next poll out: base * 2^(n-1), capped, >= Retry-After."""
        failures = state.consecutive_failures + 1
        policy = self.config.poll
        delay = min(policy.failure_backoff * 2 ** (failures - 1), policy.failure_backoff_max)
        delay = max(delay, retry_after or 0.0)
        return replace(state, last_status="error", consecutive_failures=failures,
                       last_error=error[:500], next_poll=_iso(utc_now() + timedelta(seconds=delay)))


def totals(reports: Sequence[FeedReport]) -> dict[str, int]:
    keys = ("new_papers", "updated_papers", "new_summaries", "updated_summaries")
    return {k: sum(getattr(r, k) for r in reports) for k in keys}


def reports_json(reports: Sequence[FeedReport]) -> dict[str, object]:
    """The ``paperboy poll --json`` document."""
    return {"feeds": [asdict(r) for r in reports], "totals": totals(reports)}
