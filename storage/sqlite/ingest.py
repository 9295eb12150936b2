"""Ingest: papers and summaries into the store, each change numbered in the ingest log.

A batch is one transaction (``BEGIN IMMEDIATE`` in :meth:`SQLiteBase._transaction`), so a crash
leaves all or nothing of it. Sequence numbers are taken inside that transaction from
``sqlite_sequence``, so they only grow, and digests follow the log by number. What is news is
decided by :mod:`storage.decisions`; this module writes it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from storage.clock import iso_seconds
from storage.decisions import KnownPaper, PaperPlan, dedupe_summaries, plan_papers, summary_change
from storage.models import BatchResult, FeedState, IngestedItem, PaperRecord, SummaryRecord
from storage.sqlite.feeds import FeedsMixin
from storage.sqlite.lookup import LookupMixin
from storage.sqlite.rows import PAPER_COLUMNS, known_paper, known_summary, paper_values

Rows = list[tuple[Any, ...]]

_LOG = "INSERT INTO ingest_log (seq, kind, item_key, event, feed, at) VALUES (?, ?, ?, ?, ?, ?)"
_INSERT_PAPER = (f"INSERT INTO papers ({', '.join(PAPER_COLUMNS)}, first_seq, seq, first_seen)"
                 f" VALUES ({', '.join('?' * (len(PAPER_COLUMNS) + 3))})")
# A new version replaces the text; what the new record lacks (a DOI, a comment) is kept.
_UPDATE_PAPER = ("UPDATE papers SET title = ?, authors = ?, abstract = ?, categories = ?,"
                 " primary_category = ?, latest_version = ?, announce_type = ?,"
                 " doi = coalesce(?, doi), journal_ref = coalesce(?, journal_ref),"
                 " comment = coalesce(?, comment), published = coalesce(published, ?),"
                 " updated = coalesce(?, updated), seq = ? WHERE arxiv_id = ?")
# A record that is not news only fills the store's blanks, silently.
_FILL_PAPER = ("UPDATE papers SET announce_type = coalesce(announce_type, ?),"
               " comment = coalesce(comment, ?), published = coalesce(published, ?),"
               " doi = coalesce(doi, ?), journal_ref = coalesce(journal_ref, ?) WHERE arxiv_id = ?")
_SUMMARY_FIELDS = "title, text, author, link, arxiv_id, doi, bibtex_key, votes, edited_at, comments"


class IngestMixin(FeedsMixin, LookupMixin):
    """:class:`storage.base.IngestStore` on SQLite."""

    async def apply_feed_batch(
        self, state: FeedState, papers: Sequence[PaperRecord], summaries: Sequence[SummaryRecord]
    ) -> BatchResult:
        result = BatchResult()
        now = iso_seconds(self._now())
        async with self._transaction():
            start = await self._last_seq()
            seq = await self._store_papers(papers, state.name, now, start, result)
            seq = await self._store_summaries(dedupe_summaries(summaries), state.name, now, seq, result)
            await self._write_feed_state(state)
        return _numbered(result, start, seq)

    async def store_papers(self, papers: Sequence[PaperRecord], source: str = "arxiv-api") -> BatchResult:
        """Store papers that came without a feed (arXiv API lookups); same rules as a feed batch."""
        result = BatchResult()
        now = iso_seconds(self._now())
        async with self._transaction():
            start = await self._last_seq()
            seq = await self._store_papers(papers, source, now, start, result)
        return _numbered(result, start, seq)

    async def _last_seq(self) -> int:
        """The last sequence number handed out (0 when none): read inside the write transaction."""
        return await self._scalar("SELECT seq FROM sqlite_sequence WHERE name = 'ingest_log'")

    async def _known_papers(self, ids: Sequence[str]) -> dict[str, KnownPaper]:
        rows = await self._fetch_in("SELECT arxiv_id, latest_version, doi, journal_ref FROM papers"
                                    " WHERE arxiv_id IN ({marks})", ids)
        return {row["arxiv_id"]: known_paper(row) for row in rows}

    async def _store_papers(self, papers: Sequence[PaperRecord], feed: str, now: str, seq: int,
                            result: BatchResult) -> int:
        """Insert new papers, move updated ones to their new version; returns the last seq used."""
        first_seq = seq
        known = await self._known_papers(sorted({p.arxiv_id for p in papers}))
        # Sorting 2,000 records into rows is CPU work: keep it off the event loop.
        plan, (log_rows, inserts, updates, fills, versions) = await asyncio.to_thread(
            _paper_rows, papers, known, feed, now, seq)
        result.new_papers += len(plan.new)
        result.updated_papers += len(plan.updated)
        db = self._db
        await self._unindex_papers([event.paper.arxiv_id for event in plan.updated])
        await db.executemany(_LOG, log_rows)
        await db.executemany(_INSERT_PAPER, inserts)
        await db.executemany(_UPDATE_PAPER, updates)
        await db.executemany(_FILL_PAPER, fills)
        await db.executemany("INSERT OR IGNORE INTO paper_versions (arxiv_id, version, announce_type,"
                             " seen_at) VALUES (?, ?, ?, ?)", versions)
        # New and changed papers are indexed set-wise: much faster than a trigger per row.
        await db.execute("INSERT INTO papers_fts (rowid, title, authors, abstract, cats)"
                         " SELECT rowid, title, authors, abstract, cats FROM papers_search"
                         " WHERE rowid IN (SELECT rowid FROM papers WHERE seq > ?)", (first_seq,))
        await db.execute("INSERT INTO papers_title_fts (rowid, title)"
                         " SELECT rowid, title FROM papers WHERE seq > ?", (first_seq,))
        return plan.last_seq

    async def _unindex_papers(self, arxiv_ids: Sequence[str]) -> None:
        """Take papers about to change out of the full-text indexes (they need the old text)."""
        await self._execute_in(
            "INSERT INTO papers_fts (papers_fts, rowid, title, authors, abstract, cats)"
            " SELECT 'delete', rowid, title, authors, abstract, cats FROM papers_search"
            " WHERE rowid IN (SELECT rowid FROM papers WHERE arxiv_id IN ({marks}))", arxiv_ids)
        await self._execute_in(
            "INSERT INTO papers_title_fts (papers_title_fts, rowid, title)"
            " SELECT 'delete', rowid, title FROM papers WHERE arxiv_id IN ({marks})", arxiv_ids)

    async def _store_summaries(self, summaries: Sequence[SummaryRecord], feed: str, now: str, seq: int,
                               result: BatchResult) -> int:
        """Insert new summaries; a known guid with a newer edit or new text is an update."""
        db = self._db
        for summary in summaries:
            row = await self._fetchone("SELECT id, text, title, edited_at FROM summaries"
                                       " WHERE source = ? AND guid = ?", (summary.source, summary.guid))
            change = summary_change(summary, known_summary(row) if row else None)
            fields = (summary.title, summary.text, summary.author, summary.link, summary.arxiv_id,
                      summary.doi, summary.bibtex_key, summary.votes, summary.edited_at, summary.comments)
            if change == "new":
                seq += 1
                result.new_summaries += 1
                cursor = await db.execute(
                    f"INSERT INTO summaries (source, guid, {_SUMMARY_FIELDS}, first_seq, seq)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (summary.source, summary.guid, *fields, seq, seq))
                await db.execute(_LOG, (seq, "summary", str(cursor.lastrowid), "new", feed, now))
            elif change == "edited" and row is not None:
                seq += 1
                result.updated_summaries += 1
                await db.execute(
                    "UPDATE summaries SET title = ?, text = ?, author = ?, link = ?,"
                    " arxiv_id = coalesce(?, arxiv_id), doi = coalesce(?, doi),"
                    " bibtex_key = coalesce(?, bibtex_key), votes = ?, edited_at = ?, comments = ?, seq = ?"
                    " WHERE id = ?", (*fields, seq, row["id"]))
                await db.execute(_LOG, (seq, "summary", str(row["id"]), "edited", feed, now))
            elif change == "votes" and row is not None:
                await db.execute("UPDATE summaries SET votes = ?, comments = coalesce(?, comments)"
                                 " WHERE id = ?", (summary.votes, summary.comments, row["id"]))
        return seq

    # -- reading the log ---------------------------------------------------------------------

    async def max_seq(self) -> int:
        return await self._scalar("SELECT coalesce(max(seq), 0) FROM ingest_log")

    async def seq_before(self, moment: str) -> int:
        """The last sequence number ingested before ``moment`` (ISO 8601 UTC), for time windows."""
        return await self._scalar("SELECT coalesce(max(seq), 0) FROM ingest_log WHERE at < ?", (moment,))

    async def tidy_after_ingest(self) -> None:
        """Nothing: FTS5 merges its segments as it goes."""

    async def old_news_seq(self) -> int:
        """Papers first ingested at or before this sequence number are never delivered again
        (moved by :meth:`storage.sqlite.admin.AdminMixin.prune`)."""
        return await self._scalar("SELECT value FROM meta WHERE key = 'old_news_seq'")

    async def items_since(self, seq: int, limit: int | None = None) -> list[IngestedItem]:
        """Items with events after ``seq``, each once (at its latest event), in seq order."""
        sql = ("SELECT l.seq, l.kind, l.item_key, l.event, l.feed FROM ingest_log l"
               " JOIN (SELECT kind, item_key, max(seq) AS seq FROM ingest_log WHERE seq > ?"
               " GROUP BY kind, item_key) last ON last.seq = l.seq ORDER BY l.seq")
        params: list[Any] = [seq]
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        rows = await self._fetchall(sql, params)
        papers = await self._papers_by_id(r["item_key"] for r in rows if r["kind"] == "paper")
        summaries = await self._summaries_by_id(int(r["item_key"]) for r in rows if r["kind"] == "summary")
        papers.update(await self._papers_by_id(
            {s.arxiv_id for s in summaries.values() if s.arxiv_id} - set(papers)))
        items = []
        for row in rows:
            if row["kind"] == "paper":
                items.append(IngestedItem(row["seq"], "paper", row["event"], row["feed"],
                                          paper=papers.get(row["item_key"])))
            else:
                summary = summaries.get(int(row["item_key"]))
                paper = papers.get(summary.arxiv_id) if summary and summary.arxiv_id else None
                items.append(IngestedItem(row["seq"], "summary", row["event"], row["feed"],
                                          paper=paper, summary=summary))
        return [i for i in items if i.paper is not None or i.summary is not None]

    # -- what ingest still has to fetch --------------------------------------------------------

    async def missing_papers(self, arxiv_ids: Iterable[str]) -> set[str]:
        wanted = sorted(set(arxiv_ids))
        return set(wanted) - set(await self._known_papers(wanted))

    async def summaries_without_paper(self, limit: int = 100) -> list[str]:
        rows = await self._fetchall(
            "SELECT arxiv_id FROM summaries s WHERE arxiv_id IS NOT NULL AND NOT EXISTS"
            " (SELECT 1 FROM papers p WHERE p.arxiv_id = s.arxiv_id)"
            " GROUP BY arxiv_id ORDER BY min(first_seq) LIMIT ?", (limit,))
        return [row[0] for row in rows]


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
    inserts = [(*paper_values(e.paper), e.seq, e.seq, now) for e in plan.new]
    updates = [(*paper_values(e.paper)[1:], e.seq, e.paper.arxiv_id) for e in plan.updated]
    fills = [(p.announce_type, p.comment, p.published, p.doi, p.journal_ref, p.arxiv_id)
             for p in plan.unchanged]
    versions = [(p.arxiv_id, p.version, p.announce_type, now) for p in plan.batch]
    return plan, (log_rows, inserts, updates, fills, versions)
