"""Ingest on PostgreSQL: papers and summaries into the store, each change numbered in the log.

A batch is one transaction, so a crash or a lost connection leaves all or nothing of it. Its
first statement locks the one row of ``ingest_counter`` (``FOR UPDATE``) and holds it to the
commit: writers take sequence numbers one transaction after another, in commit order, so a
digest cursor at N never passes a number below N that commits later (with a plain sequence,
concurrent transactions could commit out of order). What is news is decided by
:mod:`storage.decisions`; this module writes it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from storage.clock import iso_seconds
from storage.decisions import KnownPaper, PaperPlan, dedupe_summaries, plan_papers, summary_change
from storage.models import BatchResult, FeedState, IngestedItem, PaperRecord, SummaryRecord
from storage.postgres.feeds import FeedsMixin
from storage.postgres.lookup import LookupMixin
from storage.postgres.rows import PAPER_COLUMNS, known_paper, known_summary, paper_values, search_values
from storage.postgres.search import SEARCH_VECTOR

Rows = list[tuple[Any, ...]]

_LOG = "INSERT INTO ingest_log (seq, kind, item_key, event, feed, at) VALUES ($1, $2, $3, $4, $5, $6)"
_N = len(PAPER_COLUMNS)
_INSERT_PAPER = (f"INSERT INTO papers ({', '.join(PAPER_COLUMNS)}, first_seq, seq, first_seen, search,"
                 f" title_plain, title_search) VALUES ({', '.join(f'${n}' for n in range(1, _N + 4))},"
                 f" {SEARCH_VECTOR.format(f'${_N + 4}')}, ${_N + 5}, to_tsvector('simple', ${_N + 5}))")
# A new version replaces the text; what the new record lacks (a DOI, a comment) is kept.
_UPDATE_PAPER = ("UPDATE papers SET title = $1, authors = $2, abstract = $3, categories = $4,"
                 " primary_category = $5, latest_version = $6, announce_type = $7,"
                 " doi = coalesce($8, doi), journal_ref = coalesce($9, journal_ref),"
                 " comment = coalesce($10, comment), published = coalesce(published, $11),"
                 " updated = coalesce($12, updated), category_keys = $13, seq = $14,"
                 f" search = {SEARCH_VECTOR.format('$15')}, title_plain = $16,"
                 " title_search = to_tsvector('simple', $16)"
                 " WHERE arxiv_id = $17")
# A record that is not news only fills the store's blanks, silently.
_FILL_PAPER = ("UPDATE papers SET announce_type = coalesce(announce_type, $1),"
               " comment = coalesce(comment, $2), published = coalesce(published, $3),"
               " doi = coalesce(doi, $4), journal_ref = coalesce(journal_ref, $5) WHERE arxiv_id = $6")
_VERSION = ("INSERT INTO paper_versions (arxiv_id, version, announce_type, seen_at) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT DO NOTHING")
SEARCH_INDEXES = ("papers_search_gin", "papers_title_gin")  # (migrations 0004, 0005)
_SUMMARY_FIELDS = "title, text, author, link, arxiv_id, doi, bibtex_key, votes, edited_at, comments"


class IngestMixin(FeedsMixin, LookupMixin):
    """:class:`storage.base.IngestStore` on PostgreSQL."""

    async def apply_feed_batch(
        self, state: FeedState, papers: Sequence[PaperRecord], summaries: Sequence[SummaryRecord]
    ) -> BatchResult:
        result = BatchResult()
        now = iso_seconds(self._now())
        async with self._transaction():
            start = await self._take_counter()
            seq = await self._store_papers(papers, state.name, now, start, result)
            seq = await self._store_summaries(dedupe_summaries(summaries), state.name, now, seq, result)
            await self._write_feed_state(state)
            await self._release_counter(start, seq)
        return _numbered(result, start, seq)

    async def store_papers(self, papers: Sequence[PaperRecord], source: str = "arxiv-api") -> BatchResult:
        """Store papers that came without a feed (arXiv API lookups); same rules as a feed batch."""
        result = BatchResult()
        now = iso_seconds(self._now())
        async with self._transaction():
            start = await self._take_counter()
            seq = await self._store_papers(papers, source, now, start, result)
            await self._release_counter(start, seq)
        return _numbered(result, start, seq)

    async def _take_counter(self) -> int:
        """Lock the sequence counter until the transaction ends; the last number handed out."""
        return await self._scalar("SELECT last_seq FROM ingest_counter WHERE id FOR UPDATE")

    async def _release_counter(self, start: int, seq: int) -> None:
        """Record the numbers this transaction used (the lock goes with the commit)."""
        if seq > start:
            await self._execute("UPDATE ingest_counter SET last_seq = $1 WHERE id", seq)

    async def _known_papers(self, ids: Sequence[str]) -> dict[str, KnownPaper]:
        rows = await self._fetch("SELECT arxiv_id, latest_version, doi, journal_ref FROM papers"
                                 " WHERE arxiv_id = ANY($1::text[])", list(ids))
        return {row["arxiv_id"]: known_paper(row) for row in rows}

    async def _store_papers(self, papers: Sequence[PaperRecord], feed: str, now: str, seq: int,
                            result: BatchResult) -> int:
        """Insert new papers, move updated ones to their new version; returns the last seq used."""
        known = await self._known_papers(sorted({p.arxiv_id for p in papers}))
        # Sorting 2,000 records into rows (and spelling their words) is CPU work: off the loop.
        plan, (log_rows, inserts, updates, fills, versions) = await asyncio.to_thread(
            _paper_rows, papers, known, feed, now, seq)
        result.new_papers += len(plan.new)
        result.updated_papers += len(plan.updated)
        await self._executemany(_LOG, log_rows)
        await self._executemany(_INSERT_PAPER, inserts)
        await self._executemany(_UPDATE_PAPER, updates)
        await self._executemany(_FILL_PAPER, fills)
        await self._executemany(_VERSION, versions)
        return plan.last_seq

    async def _store_summaries(self, summaries: Sequence[SummaryRecord], feed: str, now: str, seq: int,
                               result: BatchResult) -> int:
        """Insert new summaries; a known guid with a newer edit or new text is an update."""
        for summary in summaries:
            row = await self._fetchrow("SELECT id, text, title, edited_at FROM summaries"
                                       " WHERE source = $1 AND guid = $2", summary.source, summary.guid)
            change = summary_change(summary, known_summary(row) if row else None)
            fields = (summary.title, summary.text, summary.author, summary.link, summary.arxiv_id,
                      summary.doi, summary.bibtex_key, summary.votes, summary.edited_at, summary.comments)
            if change == "new":
                seq += 1
                result.new_summaries += 1
                new_id = await self._scalar(
                    f"INSERT INTO summaries (source, guid, {_SUMMARY_FIELDS}, first_seq, seq) VALUES"
                    " ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
                    summary.source, summary.guid, *fields, seq, seq)
                await self._execute(_LOG, seq, "summary", str(new_id), "new", feed, now)
            elif change == "edited" and row is not None:
                seq += 1
                result.updated_summaries += 1
                await self._execute(
                    "UPDATE summaries SET title = $1, text = $2, author = $3, link = $4,"
                    " arxiv_id = coalesce($5, arxiv_id), doi = coalesce($6, doi),"
                    " bibtex_key = coalesce($7, bibtex_key), votes = $8, edited_at = $9, comments = $10,"
                    " seq = $11 WHERE id = $12", *fields, seq, row["id"])
                await self._execute(_LOG, seq, "summary", str(row["id"]), "edited", feed, now)
            elif change == "votes" and row is not None:
                await self._execute("UPDATE summaries SET votes = $1, comments = coalesce($2, comments)"
                                    " WHERE id = $3", summary.votes, summary.comments, row["id"])
        return seq

    # -- reading the log ---------------------------------------------------------------------

    async def max_seq(self) -> int:
        return await self._scalar("SELECT coalesce(max(seq), 0) FROM ingest_log")

    async def seq_before(self, moment: str) -> int:
        """The last sequence number ingested before ``moment`` (ISO 8601 UTC), for time windows."""
        return await self._scalar("SELECT coalesce(max(seq), 0) FROM ingest_log WHERE at < $1", moment)

    async def tidy_after_ingest(self) -> None:
        """Merge the search indexes' pending entries into them (``gin_clean_pending_list``).

        A GIN index takes new entries into an unsorted pending list and merges the list once it
        passes ``gin_pending_list_limit``, inside whichever insert passes it. On a million papers
        that merge takes a second for one day's batch, so the limit is raised (migration 0005)
        and the merge is done here, after the batch has committed. Until then a search reads the
        round's pending entries too (about 2 ms for a day's papers)."""
        for index in SEARCH_INDEXES:
            await self._scalar("SELECT gin_clean_pending_list($1::regclass)", index)

    async def old_news_seq(self) -> int:
        """Papers first ingested at or before this sequence number are never delivered again
        (moved by :meth:`storage.postgres.admin.AdminMixin.prune`)."""
        return await self._scalar("SELECT value::bigint FROM meta WHERE key = 'old_news_seq'")

    async def items_since(self, seq: int, limit: int | None = None) -> list[IngestedItem]:
        """Items with events after ``seq``, each once (at its latest event), in seq order."""
        rows = await self._fetch(
            "SELECT l.seq, l.kind, l.item_key, l.event, l.feed FROM ingest_log l"
            " JOIN (SELECT kind, item_key, max(seq) AS seq FROM ingest_log WHERE seq > $1"
            " GROUP BY kind, item_key) last ON last.seq = l.seq ORDER BY l.seq LIMIT $2", seq, limit)
        papers = await self._papers_by_id(r["item_key"] for r in rows if r["kind"] == "paper")
        summaries = await self._summaries_by_id(int(r["item_key"]) for r in rows if r["kind"] == "summary")
        papers.update(await self._papers_by_id(
            {s.arxiv_id for s in summaries.values() if s.arxiv_id} - set(papers)))
        items = []
        for row in rows:
            if row["kind"] == "paper":
                items.append(IngestedItem(int(row["seq"]), "paper", row["event"], row["feed"],
                                          paper=papers.get(row["item_key"])))
            else:
                summary = summaries.get(int(row["item_key"]))
                paper = papers.get(summary.arxiv_id) if summary and summary.arxiv_id else None
                items.append(IngestedItem(int(row["seq"]), "summary", row["event"], row["feed"],
                                          paper=paper, summary=summary))
        return [i for i in items if i.paper is not None or i.summary is not None]

    # -- what ingest still has to fetch --------------------------------------------------------

    async def missing_papers(self, arxiv_ids: Iterable[str]) -> set[str]:
        wanted = sorted(set(arxiv_ids))
        return set(wanted) - set(await self._known_papers(wanted))

    async def summaries_without_paper(self, limit: int = 100) -> list[str]:
        rows = await self._fetch(
            "SELECT arxiv_id FROM summaries s WHERE arxiv_id IS NOT NULL AND NOT EXISTS"
            " (SELECT 1 FROM papers p WHERE p.arxiv_id = s.arxiv_id)"
            " GROUP BY arxiv_id ORDER BY min(first_seq) LIMIT $1", limit)
        return [str(row[0]) for row in rows]


def _numbered(result: BatchResult, start: int, seq: int) -> BatchResult:
    """The batch's result with the seq numbers its events took (none when nothing was news)."""
    if seq > start:
        result.first_seq, result.last_seq = start + 1, seq
    return result


def _paper_rows(papers: Sequence[PaperRecord], known: Mapping[str, KnownPaper], feed: str, now: str,
                seq: int) -> tuple[PaperPlan, tuple[Rows, Rows, Rows, Rows, Rows]]:
    """The plan of a batch (:func:`storage.decisions.plan_papers`) and the rows that write it:
    log rows, inserts, updates, blank fills and version rows."""
    plan = plan_papers(papers, known, seq)
    log_rows = [(e.seq, "paper", e.paper.arxiv_id, e.event, feed, now)
                for e in sorted(plan.new + plan.updated, key=lambda e: e.seq)]
    inserts = [(*paper_values(e.paper), e.seq, e.seq, now, *search_values(e.paper)) for e in plan.new]
    updates = [(*paper_values(e.paper)[1:], e.seq, *search_values(e.paper), e.paper.arxiv_id)
               for e in plan.updated]
    fills = [(p.announce_type, p.comment, p.published, p.doi, p.journal_ref, p.arxiv_id)
             for p in plan.unchanged]
    versions = [(p.arxiv_id, p.version, p.announce_type, now) for p in plan.batch]
    return plan, (log_rows, inserts, updates, fills, versions)
