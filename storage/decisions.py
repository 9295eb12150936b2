"""The store's decision rules, as pure functions of records and an explicit ``now``.

What makes a paper record news (a new paper, a new version, or the same version newly published
in a journal), what makes a summary an edit, which record of a batch wins, which seq numbers a
batch's events get, whether an API query is still fresh, whether a lease may be taken, and the
order stamps of new topics. The SQL code asks these functions and writes what they decide, so
the rules can be read and tested without a database (``tests/test_store_decisions.py``), the way
reader's update decider is handed its records and ``now``.

Nothing here reads the clock, the database or the network.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from storage.clock import as_utc
from storage.models import PaperRecord, SummaryRecord


@dataclass(frozen=True)
class KnownPaper:
    """What the store already holds of a paper, as far as the update rule needs it."""

    latest_version: int
    doi: str | None = None
    journal_ref: str | None = None


@dataclass(frozen=True)
class KnownSummary:
    """What the store already holds of a summary, as far as the edit rule needs it."""

    title: str
    text: str
    edited_at: str | None = None


@dataclass(frozen=True)
class PaperEvent:
    """A paper record that is news: it gets the ingest sequence number ``seq`` and an event."""

    seq: int
    paper: PaperRecord
    event: str  # the announce type, else "fetched" (new) or "updated" (an update)


@dataclass(frozen=True)
class PaperPlan:
    """What a batch of paper records does to the store (see :func:`plan_papers`)."""

    batch: list[PaperRecord]  # one record per paper: every one of them records its version
    new: list[PaperEvent]  # papers the store does not have: inserted
    updated: list[PaperEvent]  # news about known papers: they move to this record
    unchanged: list[PaperRecord]  # known and not news: they only fill the store's blanks
    last_seq: int  # the last sequence number used (the given one when nothing is news)


SummaryChange = Literal["new", "edited", "votes", "same"]


def dedupe_papers(papers: Sequence[PaperRecord]) -> list[PaperRecord]:
    """One record per paper: the highest version wins, the first of equals (pages of the arXiv
    API overlap, and an RSS feed lists a cross-list beside the original)."""
    best: dict[str, PaperRecord] = {}
    for paper in papers:
        current = best.get(paper.arxiv_id)
        if current is None or paper.version > current.version:
            best[paper.arxiv_id] = paper
    return list(best.values())


def dedupe_summaries(summaries: Sequence[SummaryRecord]) -> list[SummaryRecord]:
    """One record per (source, guid): the latest edit wins, the first of equals (some feeds
    repeat a guid)."""
    best: dict[tuple[str, str], SummaryRecord] = {}
    for summary in summaries:
        key = (summary.source, summary.guid)
        current = best.get(key)
        if current is None or (summary.edited_at or "") > (current.edited_at or ""):
            best[key] = summary
    return list(best.values())


def newly_published_elsewhere(paper: PaperRecord, known: KnownPaper) -> bool:
    """The same version, but now with a DOI or a journal reference the store lacked: the paper
    was published, which is news to a reader even though arXiv has no new version."""
    if paper.version != known.latest_version:
        return False
    return bool((paper.doi and not known.doi) or (paper.journal_ref and not known.journal_ref))


def is_paper_update(paper: PaperRecord, known: KnownPaper) -> bool:
    """A known paper's record is news when it is a higher version or newly published elsewhere;
    anything else (the same version again, an older one) only fills blanks, silently."""
    return paper.version > known.latest_version or newly_published_elsewhere(paper, known)


def plan_papers(papers: Sequence[PaperRecord], known: Mapping[str, KnownPaper], seq: int) -> PaperPlan:
    """Sort a batch into new papers, updates and the rest, numbering the news from ``seq + 1``.

    The batch is deduplicated first (:func:`dedupe_papers`); numbers follow the order in which
    papers first appear in it. ``known`` holds what the store has of the batch's papers.
    """
    batch = dedupe_papers(papers)
    new: list[PaperEvent] = []
    updated: list[PaperEvent] = []
    unchanged: list[PaperRecord] = []
    for paper in batch:
        stored = known.get(paper.arxiv_id)
        if stored is None:
            seq += 1
            new.append(PaperEvent(seq, paper, paper.announce_type or "fetched"))
        elif is_paper_update(paper, stored):
            seq += 1
            updated.append(PaperEvent(seq, paper, paper.announce_type or "updated"))
        else:
            unchanged.append(paper)
    return PaperPlan(batch, new, updated, unchanged, seq)


def is_summary_edit(summary: SummaryRecord, known: KnownSummary) -> bool:
    """A summary seen again is an edit when its edit time moved forward or its text or title
    changed (a feed that moves the date without touching the text still counts: the author
    saved it); a vote count alone is not news."""
    if summary.edited_at and known.edited_at and summary.edited_at > known.edited_at:
        return True
    return summary.text != known.text or summary.title != known.title


def summary_change(summary: SummaryRecord, known: KnownSummary | None) -> SummaryChange:
    """What a summary record does: ``new``, ``edited`` (news again), ``votes`` (only its vote
    count is stored) or ``same`` (nothing to write)."""
    if known is None:
        return "new"
    if is_summary_edit(summary, known):
        return "edited"
    return "votes" if summary.votes is not None else "same"


def query_is_fresh(fetched_at: str, now: datetime, max_age_seconds: float) -> bool:
    """Whether an API query made at ``fetched_at`` (stored text) is younger than the limit at
    ``now`` (arXiv asks not to repeat a query within a day)."""
    return as_utc(now) - datetime.fromisoformat(fetched_at) < timedelta(seconds=max_age_seconds)


def may_take_lease(current_holder: str | None, expires_at: str | None, holder: str,
                   replacing: str | None, now: datetime) -> bool:
    """Whether ``holder`` may take (or renew) a lease: nobody holds it, ``holder`` does already,
    it expired at ``now``, or its holder is ``replacing`` (a process known to be dead, whose
    lease need not run out first)."""
    if current_holder is None or current_holder == holder:
        return True
    if replacing is not None and current_holder == replacing:
        return True
    return expires_at is None or datetime.fromisoformat(expires_at) <= as_utc(now)


def topic_stamp(now: datetime, latest: str | None, position: int = 0) -> datetime:
    """The ``created_at`` of a channel's next topic (the ``position``-th of a batch).

    Topics are listed in the order they were added, by this stamp, so it must grow: it is
    ``now``, unless the newest stamp already stored (``latest``) is not older -- a clock set back,
    or a test's frozen clock -- and then one microsecond after it. A batch's topics follow one
    microsecond apart.
    """
    start = as_utc(now)
    if latest is not None:
        start = max(start, datetime.fromisoformat(latest) + timedelta(microseconds=1))
    return start + timedelta(microseconds=position)
