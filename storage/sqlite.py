"""The embedded store: one SQLite file in WAL mode, through aiosqlite.

Writes go through one connection under an asyncio lock, each batch in one ``BEGIN IMMEDIATE``
transaction, so a crash leaves all or nothing of it. Ingest sequence numbers are assigned inside
that transaction from ``sqlite_sequence``, so they only grow.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

from storage.models import (
    BatchResult,
    FeedState,
    PaperRecord,
    StoredPaper,
    StoredSummary,
    SummaryRecord,
)

log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_CHUNK = 500  # ids per IN (...) query, well under SQLite's variable limit
_FEED_COLUMNS = tuple(FeedState.__dataclass_fields__)


def utc_now() -> str:
    """Now, as the ISO 8601 text the store keeps (UTC, seconds)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def _chunks(items: Sequence[str], size: int = _CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _migrations() -> list[tuple[int, str, str]]:
    """The numbered SQL migrations shipped in ``storage/migrations``, in order."""
    found = []
    for entry in resources.files("storage.migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def _dedupe_papers(papers: Sequence[PaperRecord]) -> list[PaperRecord]:
    """One record per paper in a batch: the highest version wins (pages of the API overlap)."""
    best: dict[str, PaperRecord] = {}
    for paper in papers:
        current = best.get(paper.arxiv_id)
        if current is None or paper.version > current.version:
            best[paper.arxiv_id] = paper
    return list(best.values())


def _dedupe_summaries(summaries: Sequence[SummaryRecord]) -> list[SummaryRecord]:
    """One record per guid in a batch: the latest edit wins (some feeds repeat a guid)."""
    best: dict[tuple[str, str], SummaryRecord] = {}
    for summary in summaries:
        key = (summary.source, summary.guid)
        current = best.get(key)
        if current is None or (summary.edited_at or "") > (current.edited_at or ""):
            best[key] = summary
    return list(best.values())


class SQLiteStore:
    """The :class:`storage.base.Store` on one SQLite file."""

    def __init__(self, connection: aiosqlite.Connection, path: str) -> None:
        self._db = connection
        self._write_lock = asyncio.Lock()
        self.path = path

    # -- lifecycle ---------------------------------------------------------------------------

    @classmethod
    async def open(cls, path: str | Path) -> SQLiteStore:
        """Open (creating if needed) the file, switch to WAL and run pending migrations."""
        path = str(path)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        connection = await aiosqlite.connect(path, isolation_level=None)
        connection.row_factory = aiosqlite.Row
        try:
            await connection.execute("PRAGMA journal_mode=WAL")
            await connection.execute("PRAGMA synchronous=NORMAL")
            await connection.execute("PRAGMA foreign_keys=ON")
            await connection.execute("PRAGMA busy_timeout=10000")
            store = cls(connection, path)
            await store._migrate()
        except BaseException:
            await connection.close()
            raise
        return store

    async def close(self) -> None:
        async with self._write_lock:
            await self._db.close()

    async def _migrate(self) -> None:
        """Apply every migration newer than ``PRAGMA user_version``, each in its own transaction."""
        async with self._db.execute("PRAGMA user_version") as cursor:
            (current,) = await cursor.fetchone()
        for number, name, sql in _migrations():
            if number <= current:
                continue
            log.info("applying store migration %s", name)
            await self._db.executescript(f"BEGIN IMMEDIATE;\n{sql}\nPRAGMA user_version = {number};\nCOMMIT;")

    @asynccontextmanager
    async def _transaction(self) -> Any:
        """One write transaction at a time; rolled back on any error (or cancellation)."""
        async with self._write_lock:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise
            await self._db.execute("COMMIT")

    async def _next_seq(self) -> int:
        """The last sequence number handed out (0 when none): read inside the write transaction."""
        async with self._db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'ingest_log'") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    # -- ingest ------------------------------------------------------------------------------

    async def apply_feed_batch(
        self, state: FeedState, papers: Sequence[PaperRecord], summaries: Sequence[SummaryRecord]
    ) -> BatchResult:
        result = BatchResult()
        now = utc_now()
        async with self._transaction():
            seq = await self._next_seq()
            start = seq
            seq = await self._store_papers(_dedupe_papers(papers), state.name, now, seq, result)
            seq = await self._store_summaries(_dedupe_summaries(summaries), state.name, now, seq, result)
            await self._write_feed_state(state)
        if seq > start:
            result.first_seq, result.last_seq = start + 1, seq
        return result

    async def _existing_papers(self, ids: Sequence[str]) -> dict[str, aiosqlite.Row]:
        found: dict[str, aiosqlite.Row] = {}
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            sql = ("SELECT arxiv_id, latest_version, announce_type, doi, journal_ref, comment, published"
                   f" FROM papers WHERE arxiv_id IN ({marks})")
            async with self._db.execute(sql, chunk) as cursor:
                for row in await cursor.fetchall():
                    found[row["arxiv_id"]] = row
        return found

    async def _store_papers(
        self, papers: list[PaperRecord], feed: str, now: str, seq: int, result: BatchResult
    ) -> int:
        """Insert new papers, move updated ones to their new version; returns the last seq used."""
        first_seq = seq
        existing = await self._existing_papers([p.arxiv_id for p in papers])
        # Sorting 2,000 records into rows is CPU work: keep it off the event loop.
        plan = await asyncio.to_thread(_plan_papers, papers, existing, feed, now, seq, result)
        seq, log_rows, inserts, updates, fills, versions = plan
        db = self._db
        await self._unindex_papers([u[-1] for u in updates])
        await db.executemany("INSERT INTO ingest_log (seq, kind, item_key, event, feed, at) "
                             "VALUES (?, ?, ?, ?, ?, ?)", log_rows)
        await db.executemany(
            "INSERT INTO papers (arxiv_id, title, authors, abstract, categories, primary_category,"
            " latest_version, announce_type, doi, journal_ref, comment, published, updated,"
            " first_seq, seq, first_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            inserts)
        await db.executemany(
            "UPDATE papers SET title = ?, authors = ?, abstract = ?, categories = ?,"
            " primary_category = ?, latest_version = ?, announce_type = ?,"
            " doi = coalesce(?, doi), journal_ref = coalesce(?, journal_ref),"
            " comment = coalesce(?, comment), published = coalesce(published, ?),"
            " updated = coalesce(?, updated), seq = ? WHERE arxiv_id = ?",
            updates)
        await db.executemany(
            "UPDATE papers SET announce_type = coalesce(announce_type, ?),"
            " comment = coalesce(comment, ?), published = coalesce(published, ?),"
            " doi = coalesce(doi, ?), journal_ref = coalesce(journal_ref, ?) WHERE arxiv_id = ?",
            fills)
        await db.executemany(
            "INSERT OR IGNORE INTO paper_versions (arxiv_id, version, announce_type, seen_at)"
            " VALUES (?, ?, ?, ?)", versions)
        await db.execute("INSERT INTO papers_fts (rowid, title, authors, abstract)"
                         " SELECT rowid, title, authors, abstract FROM papers WHERE seq > ?", (first_seq,))
        return seq

    async def _unindex_papers(self, arxiv_ids: Sequence[str]) -> None:
        """Take papers about to change out of the full-text index (it needs their old text)."""
        for chunk in _chunks(arxiv_ids):
            marks = ",".join("?" * len(chunk))
            await self._db.execute(
                "INSERT INTO papers_fts (papers_fts, rowid, title, authors, abstract)"
                f" SELECT 'delete', rowid, title, authors, abstract FROM papers WHERE arxiv_id IN ({marks})",
                chunk)

    async def _store_summaries(
        self, summaries: list[SummaryRecord], feed: str, now: str, seq: int, result: BatchResult
    ) -> int:
        """Insert new summaries; a known guid with a newer edit or new text is an update."""
        db = self._db
        for summary in summaries:
            async with db.execute(
                "SELECT id, text, title, edited_at FROM summaries WHERE source = ? AND guid = ?",
                (summary.source, summary.guid),
            ) as cursor:
                row = await cursor.fetchone()
            fields = (summary.title, summary.text, summary.author, summary.link, summary.arxiv_id,
                      summary.doi, summary.bibtex_key, summary.votes, summary.edited_at)
            if row is None:
                seq += 1
                result.new_summaries += 1
                cursor = await db.execute(
                    "INSERT INTO summaries (source, guid, title, text, author, link, arxiv_id, doi,"
                    " bibtex_key, votes, edited_at, first_seq, seq)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (summary.source, summary.guid, *fields, seq, seq))
                await db.execute("INSERT INTO ingest_log (seq, kind, item_key, event, feed, at)"
                                 " VALUES (?, 'summary', ?, 'new', ?, ?)",
                                 (seq, str(cursor.lastrowid), feed, now))
            elif _is_edit(summary, row):
                seq += 1
                result.updated_summaries += 1
                await db.execute(
                    "UPDATE summaries SET title = ?, text = ?, author = ?, link = ?,"
                    " arxiv_id = coalesce(?, arxiv_id), doi = coalesce(?, doi),"
                    " bibtex_key = coalesce(?, bibtex_key), votes = ?, edited_at = ?, seq = ?"
                    " WHERE id = ?", (*fields, seq, row["id"]))
                await db.execute("INSERT INTO ingest_log (seq, kind, item_key, event, feed, at)"
                                 " VALUES (?, 'summary', ?, 'edited', ?, ?)",
                                 (seq, str(row["id"]), feed, now))
            elif summary.votes is not None:
                await db.execute("UPDATE summaries SET votes = ? WHERE id = ?",
                                 (summary.votes, row["id"]))
        return seq

    # -- feed state --------------------------------------------------------------------------

    async def _write_feed_state(self, state: FeedState) -> None:
        values = asdict(state)
        columns = ", ".join(_FEED_COLUMNS)
        marks = ", ".join("?" * len(_FEED_COLUMNS))
        assignments = ", ".join(f"{c} = excluded.{c}" for c in _FEED_COLUMNS if c != "name")
        await self._db.execute(
            f"INSERT INTO feeds ({columns}) VALUES ({marks}) ON CONFLICT (name) DO UPDATE SET {assignments}",
            [values[c] for c in _FEED_COLUMNS])

    async def save_feed_state(self, state: FeedState) -> None:
        async with self._transaction():
            await self._write_feed_state(state)

    async def get_feed_state(self, name: str) -> FeedState | None:
        async with self._db.execute("SELECT * FROM feeds WHERE name = ?", (name,)) as cursor:
            row = await cursor.fetchone()
        return FeedState(**{c: row[c] for c in _FEED_COLUMNS}) if row else None

    async def list_feed_states(self) -> list[FeedState]:
        async with self._db.execute("SELECT * FROM feeds ORDER BY name") as cursor:
            rows = await cursor.fetchall()
        return [FeedState(**{c: row[c] for c in _FEED_COLUMNS}) for row in rows]

    # -- reads -------------------------------------------------------------------------------

    async def get_paper(self, arxiv_id: str) -> StoredPaper | None:
        async with self._db.execute("SELECT * FROM papers WHERE arxiv_id = ?", (arxiv_id,)) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        async with self._db.execute(
            "SELECT version FROM paper_versions WHERE arxiv_id = ? ORDER BY version", (arxiv_id,)
        ) as cur:
            versions = [r[0] for r in await cur.fetchall()]
        return _stored_paper(row, versions)

    async def missing_papers(self, arxiv_ids: Iterable[str]) -> set[str]:
        wanted = sorted(set(arxiv_ids))
        return set(wanted) - set(await self._existing_papers(wanted))

    async def summaries_without_paper(self, limit: int = 100) -> list[str]:
        sql = ("SELECT arxiv_id FROM summaries s WHERE arxiv_id IS NOT NULL AND NOT EXISTS"
               " (SELECT 1 FROM papers p WHERE p.arxiv_id = s.arxiv_id)"
               " GROUP BY arxiv_id ORDER BY min(first_seq) LIMIT ?")
        async with self._db.execute(sql, (limit,)) as cursor:
            return [row[0] for row in await cursor.fetchall()]

    async def summaries_for_paper(self, arxiv_id: str) -> list[StoredSummary]:
        sql = ("SELECT * FROM summaries WHERE arxiv_id = ?"
               " ORDER BY coalesce(votes, 0) DESC, first_seq")
        async with self._db.execute(sql, (arxiv_id,)) as cursor:
            return [_stored_summary(row) for row in await cursor.fetchall()]

    async def api_query_fresh(self, query: str, max_age_seconds: float) -> bool:
        async with self._db.execute("SELECT fetched_at FROM api_queries WHERE query = ?", (query,)) as cur:
            row = await cur.fetchone()
        if row is None:
            return False
        age = datetime.now(UTC) - datetime.fromisoformat(row[0])
        return age < timedelta(seconds=max_age_seconds)

    async def record_api_query(self, query: str, results: int) -> None:
        async with self._transaction():
            await self._db.execute(
                "INSERT INTO api_queries (query, fetched_at, results) VALUES (?, ?, ?)"
                " ON CONFLICT (query) DO UPDATE SET fetched_at = excluded.fetched_at,"
                " results = excluded.results", (query, utc_now(), results))

    async def counts(self) -> dict[str, int]:
        tables = ("papers", "paper_versions", "summaries", "feeds", "ingest_log")
        counts = {}
        for table in tables:
            async with self._db.execute(f"SELECT count(*) FROM {table}") as cursor:
                (counts[table],) = await cursor.fetchone()
        return counts


_PaperPlan = tuple[int, list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]],
                   list[tuple[Any, ...]], list[tuple[Any, ...]]]


def _plan_papers(papers: list[PaperRecord], existing: dict[str, aiosqlite.Row], feed: str, now: str,
                 seq: int, result: BatchResult) -> _PaperPlan:
    """Sort a batch into log rows, inserts, version updates and silent fills, numbering events."""
    log_rows: list[tuple[Any, ...]] = []
    inserts: list[tuple[Any, ...]] = []
    updates: list[tuple[Any, ...]] = []
    fills: list[tuple[Any, ...]] = []
    versions: list[tuple[Any, ...]] = []
    for paper in papers:
        versions.append((paper.arxiv_id, paper.version, paper.announce_type, now))
        row = existing.get(paper.arxiv_id)
        if row is None:
            seq += 1
            result.new_papers += 1
            log_rows.append((seq, "paper", paper.arxiv_id, paper.announce_type or "new", feed, now))
            inserts.append((*_paper_row(paper), seq, seq, now))
        elif paper.version > row["latest_version"] or _newly_published_elsewhere(paper, row):
            seq += 1
            result.updated_papers += 1
            log_rows.append((seq, "paper", paper.arxiv_id, paper.announce_type or "updated", feed, now))
            updates.append((*_paper_row(paper)[1:], seq, paper.arxiv_id))
        else:
            fills.append((paper.announce_type, paper.comment, paper.published, paper.doi,
                          paper.journal_ref, paper.arxiv_id))
    return seq, log_rows, inserts, updates, fills, versions


def _paper_row(paper: PaperRecord) -> tuple[Any, ...]:
    return (paper.arxiv_id, paper.title, json.dumps(paper.authors, ensure_ascii=False), paper.abstract,
            json.dumps(paper.categories), paper.primary_category, paper.version,
            paper.announce_type, paper.doi, paper.journal_ref, paper.comment, paper.published,
            paper.updated)


def _newly_published_elsewhere(paper: PaperRecord, row: aiosqlite.Row) -> bool:
    """Same version, but now with a DOI or journal reference: that is news to a reader."""
    if paper.version != row["latest_version"]:
        return False
    return bool((paper.doi and not row["doi"]) or (paper.journal_ref and not row["journal_ref"]))


def _is_edit(summary: SummaryRecord, row: aiosqlite.Row) -> bool:
    if summary.edited_at and row["edited_at"] and summary.edited_at > row["edited_at"]:
        return True
    return summary.text != row["text"] or summary.title != row["title"]


def _stored_paper(row: aiosqlite.Row, versions: list[int]) -> StoredPaper:
    return StoredPaper(
        arxiv_id=row["arxiv_id"], title=row["title"], authors=json.loads(row["authors"]),
        abstract=row["abstract"], categories=json.loads(row["categories"]),
        latest_version=row["latest_version"], announce_type=row["announce_type"], doi=row["doi"],
        journal_ref=row["journal_ref"], comment=row["comment"], published=row["published"],
        updated=row["updated"], seq=row["seq"], versions=versions)


def _stored_summary(row: aiosqlite.Row) -> StoredSummary:
    return StoredSummary(
        source=row["source"], guid=row["guid"], title=row["title"], text=row["text"],
        author=row["author"], link=row["link"], arxiv_id=row["arxiv_id"], doi=row["doi"],
        bibtex_key=row["bibtex_key"], votes=row["votes"], edited_at=row["edited_at"], seq=row["seq"])


async def open_store(path: str | Path) -> SQLiteStore:
    """Open the embedded store at ``path`` (migrated and ready)."""
    return await SQLiteStore.open(path)
