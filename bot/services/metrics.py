"""Metrics for the operator of a fleet: an opt-in Prometheus endpoint per process.

``[metrics] port`` (0: off) serves ``/metrics`` on ``[metrics] address`` with the counters below,
from a registry of this process's own (``prometheus_client``'s default one would mix in every
library's). What is counted is read off the reports the jobs already return, so nothing in the
pipeline knows about metrics; Discord's 429s come from :mod:`bot.discord_side.rate_watch`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from bot.ingest.poller import FeedReport

log = logging.getLogger(__name__)

class Metrics:
    """This process's counters and gauges."""

    def __init__(self, holder: str) -> None:
        self.registry = CollectorRegistry()
        self.polls = Counter("paperboy_polls", "Feed polls, by outcome (ok, not_modified, error ...)",
                             ["status"], registry=self.registry)
        self.items = Counter("paperboy_items_ingested", "New papers and summaries stored", ["kind"],
                             registry=self.registry)
        self.digests = Counter("paperboy_digests", "Channel digests delivered (at least one message)",
                               registry=self.registry)
        self.messages = Counter("paperboy_messages_sent", "Digest messages sent", registry=self.registry)
        self.failures = Counter("paperboy_send_failures", "Digest sends that failed, by kind",
                                ["kind"], registry=self.registry)
        self.rate_limited = Counter("paperboy_discord_429", "429 answers from Discord (all retried)",
                                    registry=self.registry)
        self.global_limited = Counter("paperboy_discord_global_429", "Of those, the token's global limit",
                                      registry=self.registry)
        self.oldest_lag = Gauge("paperboy_oldest_due_digest_lag_seconds",
                                "How long the most overdue digest (due, not yet sent) has waited",
                                registry=self.registry)
        self.takeovers = Counter("paperboy_lease_takeovers", "Leases taken from a dead process",
                                 ["lease"], registry=self.registry)
        self.fleet_size = Gauge("paperboy_fleet_processes", "Live processes sharing the store",
                                registry=self.registry)
        self._takeovers_seen: dict[str, int] = {}
        info = Gauge("paperboy_process", "This process", ["holder"], registry=self.registry)
        info.labels(holder=holder).set(1)

    def serve(self, port: int, address: str) -> None:
        """Serve ``/metrics`` from a thread of its own (prometheus_client's server)."""
        start_http_server(port, addr=address, registry=self.registry)
        log.info("metrics on http://%s:%d/metrics", address, port)

    def count_polls(self, reports: Iterable[FeedReport]) -> None:
        for report in reports:
            self.polls.labels(status=report.status).inc()
            self.items.labels(kind="paper").inc(report.new_papers)
            self.items.labels(kind="summary").inc(report.new_summaries)

    def count_takeovers(self, lease: str, total: int) -> None:
        """Bring a takeover counter up to ``total`` (the holders count; this only reports)."""
        seen = self._takeovers_seen.get(lease, 0)
        if total > seen:
            self.takeovers.labels(lease=lease).inc(total - seen)
            self._takeovers_seen[lease] = total

    def count_delivery(self, digests: int, messages: int, failed: int, paused: int) -> None:
        self.digests.inc(digests)
        self.messages.inc(messages)
        if failed:
            self.failures.labels(kind="retry_later").inc(failed)
        if paused:
            self.failures.labels(kind="channel_paused").inc(paused)

    def note_lag(self, due_times: Iterable[str], now: datetime) -> None:
        """The oldest of the due channels' due times, as seconds waited (0 when none is due)."""
        waited = [(now - datetime.fromisoformat(due)).total_seconds() for due in due_times if due]
        self.oldest_lag.set(max([0.0, *waited]))
