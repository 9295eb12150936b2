"""Plain records the store takes and gives back; sources build them, nothing here knows HTTP."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class PaperRecord:
    """One arXiv paper as a source saw it (one version of it)."""

    arxiv_id: str  # without version: the store's key
    version: int
    title: str
    authors: list[str]
    abstract: str
    categories: list[str]  # primary first
    announce_type: str | None = None  # new | cross | replace | replace-cross (RSS only)
    doi: str | None = None
    journal_ref: str | None = None
    comment: str | None = None
    published: str | None = None  # v1's date, ISO 8601, when the source says
    updated: str | None = None  # this version's date, when the source says

    @property
    def primary_category(self) -> str | None:
        return self.categories[0] if self.categories else None


@dataclass
class SummaryRecord:
    """One summary of a paper (ShortScience or another summary feed), keyed by (source, guid)."""

    source: str
    guid: str
    title: str
    text: str  # markdown
    author: str | None = None
    link: str | None = None
    arxiv_id: str | None = None  # without version
    doi: str | None = None
    bibtex_key: str | None = None
    votes: int | None = None
    edited_at: str | None = None  # ISO 8601: ShortScience moves pubDate on every edit
    comments: int | None = None  # where the source counts them (Hugging Face Daily Papers)


@dataclass
class FeedState:
    """What the store remembers of a feed between polls; saved with the items it produced."""

    name: str
    url: str
    etag: str | None = None
    last_modified: str | None = None
    last_attempt: str | None = None
    last_success: str | None = None
    last_status: str | None = None
    consecutive_failures: int = 0
    last_error: str | None = None
    next_poll: str | None = None


@dataclass
class BatchResult:
    """What one stored batch changed."""

    new_papers: int = 0
    updated_papers: int = 0
    new_summaries: int = 0
    updated_summaries: int = 0
    first_seq: int | None = None
    last_seq: int | None = None


@dataclass
class StoredPaper:
    """A paper as the store holds it: its latest version and what is known of all versions."""

    arxiv_id: str
    title: str
    authors: list[str]
    abstract: str
    categories: list[str]
    latest_version: int
    announce_type: str | None
    doi: str | None
    journal_ref: str | None
    comment: str | None
    published: str | None
    updated: str | None
    seq: int
    versions: list[int] = field(default_factory=list)
    first_seq: int = 0


@dataclass
class StoredSummary:
    """A summary as the store holds it."""

    source: str
    guid: str
    title: str
    text: str
    author: str | None
    link: str | None
    arxiv_id: str | None
    doi: str | None
    bibtex_key: str | None
    votes: int | None
    edited_at: str | None
    seq: int
    id: int = 0
    comments: int | None = None


@dataclass
class IngestedItem:
    """One entry of the ingest log with what it is about: the unit digests are built from.

    ``event`` is the paper's announce type (new, cross, replace, replace-cross), ``fetched`` for a
    paper that came from the arXiv API, ``updated`` for a paper that gained a DOI or journal ref;
    for summaries ``new`` or ``edited``. ``feed`` is the configured feed that produced the event.
    A summary carries its paper when the store has it.
    """

    seq: int
    kind: str  # paper | summary
    event: str
    feed: str
    paper: StoredPaper | None = None
    summary: StoredSummary | None = None


@dataclass
class ChannelSettings:
    """A channel that follows topics: its digest schedule, options, cursor and pause state."""

    channel_id: int
    guild_id: int
    digest_time: str
    timezone: str
    frequency: str = "daily"  # daily | weekly | instant
    weekday: int | None = None  # 0 = Monday
    max_items: int = 10
    include_replacements: bool = False
    cursor_seq: int = 0
    next_due: str | None = None
    last_digest_at: str | None = None
    paused_reason: str | None = None
    paused_at: str | None = None
    created_at: str = ""
    layout: str | None = None  # compact | cards; None: never chosen, read as compact
    top: int = 10  # compact: this many papers as full cards, the rest as ranked lines
    only_top: bool = False  # compact: drop the lines, with a count and a way to see them

    @property
    def digest_layout(self) -> str:
        """The layout the channel gets: its choice, else compact."""
        return self.layout or "compact"


@dataclass(frozen=True)
class Save:
    """A member saved a paper for a channel (the channel's ranking learns from its saves)."""

    channel_id: int
    arxiv_id: str
    user_id: int
    saved_at: str


@dataclass(frozen=True)
class SubscriptionRow:
    """A topic a channel follows (or excludes), as stored."""

    channel_id: int
    kind: str
    key: str
    value: str
    exclude: bool = False


@dataclass
class OutboxMessage:
    """A planned digest message: its nonce is stored before it is sent."""

    id: int
    channel_id: int
    digest_id: str
    position: int
    nonce: str
    payload: dict[str, Any]
    items: list[tuple[str, str, int]]  # (kind, key, version) delivered by this message
    status: str = "pending"
    target_channel_id: int | None = None
    message_id: int | None = None
    attempted_at: str | None = None  # first handed to Discord (ISO 8601 UTC), None if never
    attempt_target: int | None = None  # the channel (or thread) it was sent to then


@dataclass(frozen=True)
class Lease:
    """A named role (e.g. the poller) and the process holding it until ``expires_at``."""

    name: str
    holder: str
    expires_at: str
    acquired: bool  # True when the caller holds it now; False: ``holder`` does
