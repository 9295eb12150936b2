"""The storage interface: what the pipeline may ask of a store, whatever database is behind it.

The interface is cut into role protocols, one per kind of work, so each part of the bot can say
(and a test double can implement) only the role it needs: :class:`IngestStore`,
:class:`FeedStore`, :class:`ChannelStore`, :class:`DeliveryStore`, :class:`LeaseStore`,
:class:`LookupStore` and :class:`AdminStore`. :class:`Store` is all of them together plus the
store's lifecycle: what :func:`storage.open_store` returns and what wiring passes around.

Timestamps are ISO 8601 UTC text; the store takes its own from the clock it was opened with.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

from storage.models import (
    BatchResult,
    ChannelSettings,
    FeedState,
    IngestedItem,
    Lease,
    OutboxMessage,
    PaperRecord,
    Save,
    StoredPaper,
    StoredSummary,
    SubscriptionRow,
    SummaryRecord,
)


class IngestStore(Protocol):
    """The ingest log: storing what sources found, numbering every change, reading it back.

    Every new or changed paper or summary gets the next sequence number; digests follow the log
    by number. Used by the poller (``bot/ingest/poller.py``: batches, what is still missing),
    the lookup service (``bot/services/lookup.py``: papers fetched from the arXiv API), digest
    building (``bot/core/digest.py``, ``bot/services/digests.py``: items since a cursor, time
    windows, the old-news horizon) and the command line (``bot/process/cli.py``: the last seq).
    """

    async def apply_feed_batch(
        self, state: FeedState, papers: Sequence[PaperRecord], summaries: Sequence[SummaryRecord]
    ) -> BatchResult:
        """Store a feed's items and its new state in one transaction: all of it or nothing."""

    async def store_papers(self, papers: Sequence[PaperRecord], source: str = "arxiv-api") -> BatchResult:
        """Store papers that came without a feed (arXiv API lookups); same rules as a feed batch."""

    async def tidy_after_ingest(self) -> None:
        """Index upkeep after a round of batches, outside their transactions (the poll job calls
        it once a round has stored something): what a batch left for later, done now."""

    async def missing_papers(self, arxiv_ids: Iterable[str]) -> set[str]:
        """Which of these ids the store has no paper for (the poller fetches them)."""

    async def summaries_without_paper(self, limit: int = 100) -> list[str]:
        """arXiv ids that summaries point at but no stored paper has, oldest first."""

    async def max_seq(self) -> int:
        """The last ingest sequence number (0 when nothing was ingested)."""

    async def seq_before(self, moment: str) -> int:
        """The last sequence number ingested before ``moment`` (ISO 8601 UTC), for time windows."""

    async def items_since(self, seq: int, limit: int | None = None) -> list[IngestedItem]:
        """Items with events after ``seq``, each once (at its latest event), in seq order."""

    async def old_news_seq(self) -> int:
        """Papers first ingested at or before this sequence number are never delivered again."""


class FeedStore(Protocol):
    """What the store remembers between polls: each feed's state, and the arXiv API queries made.

    Used by the poller (``bot/ingest/poller.py``: a feed's state before and after a poll), the
    arXiv API client (``bot/ingest/sources/arxiv_api.py``: not repeating a query within a day)
    and everything that reports on feeds (``bot/services/jobs.py``, ``status.py``, ``health.py``,
    ``alerts.py``, ``cogs/admin.py``: the list of feed states).
    """

    async def save_feed_state(self, state: FeedState) -> None:
        """Record a poll that produced no items (a failure, a 304)."""

    async def get_feed_state(self, name: str) -> FeedState | None:
        """The state saved by the last poll of a feed, if it was ever polled."""

    async def list_feed_states(self) -> list[FeedState]:
        """Every feed the store has seen, by name."""

    async def api_query_fresh(self, query: str, max_age_seconds: float) -> bool:
        """Whether the same arXiv API query was already made within ``max_age_seconds``."""

    async def record_api_query(self, query: str, results: int) -> None:
        """Remember that an arXiv API query was made (arXiv asks not to repeat one within a day)."""


class ChannelStore(Protocol):
    """Channels and what they follow: digest settings, subscriptions, the categories to poll.

    Used by the subscription service (``bot/services/subscriptions.py``: setting a channel up,
    its topics and settings), export (``bot/services/transfer.py``), status and alerts
    (``bot/services/status.py``, ``alerts.py``, ``cogs/admin.py``: the channels), delivery
    (``bot/discord_side/delivery.py``: a channel's settings) and the poll jobs
    (``bot/services/jobs.py``: the followed categories, polled too).
    """

    async def ensure_channel(self, guild_id: int, channel_id: int, digest_time: str, timezone: str,
                             next_due: str | None) -> ChannelSettings:
        """The channel's settings, created with the given defaults; a new channel starts from now."""

    async def get_channel(self, channel_id: int) -> ChannelSettings | None:
        """A channel's settings, if the channel was ever set up."""

    async def list_channels(self, guild_id: int | None = None) -> list[ChannelSettings]:
        """Every channel (or those of one guild), by channel id."""

    async def update_channel(self, channel_id: int, **changes: Any) -> None:
        """Change settings columns (digest_time, timezone, ...); ValueError for unknown names."""

    async def add_subscription(self, row: SubscriptionRow) -> bool:
        """Follow (or exclude) a topic; False when the channel already had it the same way."""

    async def remove_subscription(self, channel_id: int, kind: str, key: str) -> bool:
        """Drop a channel's topic; False when it did not have it."""

    async def list_subscriptions(self, channel_ids: Iterable[int] | None = None) -> list[SubscriptionRow]:
        """Subscriptions of some channels (all when None), in the order they were added."""

    async def count_subscriptions(self, channel_id: int | None = None, guild_id: int | None = None) -> int:
        """How many topics one channel has, or (when no channel is given) all of a guild's channels."""

    async def followed_categories(self) -> list[str]:
        """Every category or archive some channel follows (they are polled too)."""


class DeliveryStore(Protocol):
    """Digests on their way to Discord: who is due, the outbox, what each channel received.

    Used by delivery (``bot/discord_side/delivery.py``: due channels, planning a digest into the
    outbox, recording attempts and sent messages, moving cursors, pausing a channel Discord
    refuses) and digest building (``bot/core/digest.py``: what a channel already got).
    """

    async def due_channels(self, now: str) -> list[ChannelSettings]:
        """Channels whose digest is due, instant channels with news, and any with unsent messages."""

    async def delivered(self, channel_ids: Iterable[int], keys: Iterable[tuple[str, str]]
                        ) -> dict[int, dict[tuple[str, str], set[int]]]:
        """For (kind, key) pairs: per channel, the versions already delivered (absent: none)."""

    async def channels_with_pending(self, channel_ids: Iterable[int]) -> set[int]:
        """Which of these channels have digest messages in the outbox still to send."""

    async def plan_digest(self, channel_id: int, digest_id: str,
                          messages: Sequence[tuple[str, dict[str, Any], list[tuple[str, str, int]]]],
                          cursor_seq: int, next_due: str | None) -> list[OutboxMessage]:
        """Store a digest's messages and move the cursor in one transaction: a crash loses nothing."""

    async def pending_outbox(self, channel_id: int) -> list[OutboxMessage]:
        """The unsent messages of a channel's oldest unfinished digest, plus its header if sent."""

    async def record_sent(self, message: OutboxMessage, message_id: int, target_channel_id: int) -> None:
        """Record a sent message and mark its items delivered, in one transaction."""

    async def record_attempt(self, message: OutboxMessage, target_channel_id: int, at: str) -> None:
        """Remember when (first) and where a message was handed to Discord, before it is sent."""

    async def advance_cursor(self, channel_id: int, cursor_seq: int, next_due: str | None) -> None:
        """A digest with nothing to send still moves the cursor and the next due time."""

    async def pause_channel(self, channel_id: int, reason: str) -> None:
        """Stop a channel's digests, keeping the first 300 characters of the reason."""

    async def resume_channel(self, channel_id: int) -> None:
        """Clear a channel's pause."""


class LeaseStore(Protocol):
    """Named roles held by one process at a time, so processes sharing a store poll once.

    Used by the poller (``bot/ingest/poller.py``): it polls only while it holds the poll lease.
    """

    async def acquire_lease(self, name: str, holder: str, ttl_seconds: float,
                            replacing: str | None = None) -> Lease:
        """Take (or renew) the lease ``name`` for ``ttl_seconds`` unless another holder's is live;
        ``replacing`` names a holder known to be dead, whose lease is taken at once."""

    async def release_lease(self, name: str, holder: str) -> None:
        """Give the lease up (only if ``holder`` still holds it)."""

    async def live_leases(self, prefix: str) -> list[Lease]:
        """The leases whose names start with ``prefix`` and have not expired, by name (the fleet's
        process heartbeats ``process:…``, its digest claims ``digest:…``)."""


class LookupStore(Protocol):
    """Reading papers and summaries for people: by id or DOI, full-text search, autocomplete.

    Used by the lookup service (``bot/services/lookup.py``: /paper, ``paperboy lookup``) and the
    papers cog (``cogs/papers``: autocomplete, summary listings by paper or venue).
    """

    async def get_paper(self, arxiv_id: str) -> StoredPaper | None:
        """A paper by its arXiv id without version, with its list of versions."""

    async def papers_by_ids(self, arxiv_ids: Iterable[str]) -> dict[str, StoredPaper]:
        """Several papers at once, by id (without their version lists); unknown ids are absent."""

    async def paper_by_doi(self, doi: str) -> StoredPaper | None:
        """A paper by its DOI (case-insensitive), if one has it."""

    async def search_papers(self, text: str, *, category: str | None = None,
                            limit: int = 25) -> list[StoredPaper]:
        """Papers matching every word of ``text`` (title, authors, abstract), best first."""

    async def autocomplete_papers(self, text: str, limit: int = 25) -> list[tuple[str, str]]:
        """(arxiv_id, title) for what is being typed: an id prefix, or title words (newest first)."""

    async def summaries_for_paper(self, arxiv_id: str) -> list[StoredSummary]:
        """The summaries linked to a paper, most voted first."""

    async def latest_summaries(self, *, arxiv_id: str | None = None, venue: str | None = None,
                               limit: int = 25, offset: int = 0) -> list[StoredSummary]:
        """Summaries newest first: all, of one paper, or of one venue (a bibtex key prefix)."""

    async def count_summaries(self, *, arxiv_id: str | None = None, venue: str | None = None) -> int:
        """How many summaries :meth:`latest_summaries` would page through with the same filter."""

    async def venue_summaries(self, venue: str) -> list[StoredSummary]:
        """Every summary of a venue (``nips`` matches bibtex keys ``conf/nips/...``), newest first."""

    async def summaries_by_bibtex_key(self, key: str) -> list[StoredSummary]:
        """The summaries with exactly this bibtex key, most voted first."""


class SaveStore(Protocol):
    """Saves: a member saves a paper for a channel (the digest buttons, ``/paper save``); the
    ranking and ``/paper saved`` read them."""

    async def toggle_save(self, channel_id: int, arxiv_id: str, user_id: int) -> bool:
        """Save the paper for the channel as this member, or take their save back; True when saved."""

    async def list_saves(self, channel_ids: Iterable[int] | None = None) -> list[Save]:
        """Saves of some channels (all when None), oldest first."""


class CorpusStore(Protocol):
    """What ranking reads: the newest papers as a text corpus, and the summaries of many papers
    (their votes and upvotes are popularity)."""

    async def recent_papers(self, limit: int) -> list[StoredPaper]:
        """The ``limit`` most recently ingested papers (without version lists), newest first."""

    async def summaries_of(self, arxiv_ids: Iterable[str]) -> dict[str, list[StoredSummary]]:
        """The summaries linked to each of these papers, most voted first (absent: none)."""


class AdminStore(Protocol):
    """Looking after the store: owner alerts, pruning, sizes and counts, import and backup.

    Used by alerts (``bot/services/alerts.py``: alerts sent once until the problem is over),
    housekeeping (``bot/services/jobs.py``: prune), status (``bot/services/status.py``,
    ``cogs/admin.py``: counts and size) and transfer (``bot/services/transfer.py``: import,
    backup).
    """

    async def open_alerts(self) -> set[str]:
        """The keys of the alerts that were sent and whose problem is not over."""

    async def set_alert(self, key: str, is_open: bool) -> None:
        """Open an alert (it was sent) or close it (the problem is over)."""

    async def prune(self, deliveries_before: str, sent_before: str) -> dict[str, int]:
        """Drop delivery records and sent messages older than the cutoffs; moves the old-news horizon."""

    async def counts(self) -> dict[str, int]:
        """Row counts (papers, versions, summaries, feeds, log) for status and tests."""

    async def size_bytes(self) -> int:
        """The store's size on disk (pages in use), for status and the size estimate."""

    async def import_channels(self, channels: Sequence[ChannelSettings],
                              subscriptions: Sequence[SubscriptionRow],
                              saves: Sequence[Save] = ()) -> tuple[int, int, int, int]:
        """Merge channel settings, subscriptions and saves in one transaction;
        (created, updated, topics added, topics flipped)."""

    async def backup_to(self, path: str | Path) -> None:
        """Copy the store to ``path`` while in use: the old file or a complete, checked snapshot."""


class Store(IngestStore, FeedStore, ChannelStore, DeliveryStore, LeaseStore, LookupStore, SaveStore,
            CorpusStore, AdminStore, Protocol):
    """A durable store of papers, summaries and feed state (the SQLite file, or PostgreSQL): every
    role, plus the store's lifecycle.

    Opening one is the implementation's business (:func:`storage.open_store`); everything after
    that goes through these methods. A store method raises :class:`storage.errors.StoreError`
    for a problem the operator must fix (see that module).
    """

    created: bool  # this open made a new, empty store (the command line says where)

    async def close(self) -> None:
        """Finish pending work and release the database."""
