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
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from storage.errors import StoreError
from storage.models import (
    BatchResult,
    ChannelSettings,
    FeedState,
    IngestedItem,
    Lease,
    OutboxMessage,
    PaperRecord,
    StoredPaper,
    StoredSummary,
    SubscriptionRow,
    SummaryRecord,
)
from storage.search import fts_match, query_words
from storage.sqlite_file import APPLICATION_ID, check_store_file

log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_CHUNK = 500  # ids per IN (...) query, well under SQLite's variable limit
T = TypeVar("T")
_FEED_COLUMNS = tuple(FeedState.__dataclass_fields__)


def utc_now() -> str:
    """Now, as the ISO 8601 text the store keeps (UTC, seconds)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def _chunks(items: Sequence[T], size: int = _CHUNK) -> Iterator[Sequence[T]]:
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


def _statements(script: str) -> Iterator[str]:
    """The complete SQL statements of a migration script, one by one (triggers included)."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statement = pending.strip()
            pending = ""
            if statement.rstrip(";").strip() and not _only_comments(statement):
                yield statement
    if pending.strip() and not _only_comments(pending):
        raise ValueError(f"incomplete statement at the end of a migration: {pending.strip()[:80]}")


def _only_comments(text: str) -> bool:
    return all(not line.strip() or line.strip().startswith("--") for line in text.splitlines())


def _shown(path: str) -> str:
    """The store's path as the operator should read it: absolute, so a wrong folder shows."""
    return path if path == ":memory:" else str(Path(path).expanduser().absolute())


async def _set_wal(connection: aiosqlite.Connection) -> None:
    """WAL mode, persistent in the file; a process creating the store at the same moment may
    hold the lock the switch needs, so a busy answer is retried for a while."""
    for attempt in range(50):
        try:
            await connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == 49:
                raise
            await asyncio.sleep(0.1)


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
        self.created = False  # True when this open made a new, empty store

    # -- lifecycle ---------------------------------------------------------------------------

    @classmethod
    async def open(cls, path: str | Path) -> SQLiteStore:
        """Open (creating if needed) the file, switch to WAL and run pending migrations.

        The file is checked first (:func:`storage.sqlite_file.check_store_file`): anything that is
        not a Paperboy store is refused before a byte is written. Migrations run under SQLite's
        write lock with the schema version read inside it, so processes opening one store at the
        same moment take turns instead of racing.
        """
        path = str(path)
        created = False
        if path != ":memory:":
            created = check_store_file(path, _migrations()[-1][0]).new
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"store {_shown(path)} cannot be created: {exc.strerror or exc}") from None
        try:
            connection = await aiosqlite.connect(path, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"store {_shown(path)} cannot be opened: {exc}") from None
        connection.row_factory = aiosqlite.Row
        try:
            await connection.execute("PRAGMA busy_timeout=10000")
            await _set_wal(connection)
            await connection.execute("PRAGMA synchronous=NORMAL")
            await connection.execute("PRAGMA foreign_keys=ON")
            store = cls(connection, path)
            await store._migrate(created)
        except sqlite3.Error as exc:
            await connection.close()
            raise StoreError(f"store {_shown(path)} cannot be used: {exc}") from None
        except BaseException:
            await connection.close()
            raise
        store.created = created
        return store

    async def close(self) -> None:
        async with self._write_lock:
            await self._db.close()

    async def _migrate(self, created: bool) -> None:
        """Apply every migration newer than ``PRAGMA user_version``, each in its own transaction.

        The version is read after ``BEGIN IMMEDIATE`` took the write lock: a second process that
        waited for the lock sees the first one's work and does not repeat it. Every migration
        also marks the file as a Paperboy store (``PRAGMA application_id``).
        """
        migrations = _migrations()
        async with self._db.execute("PRAGMA user_version") as cursor:
            (found,) = await cursor.fetchone()
        if found > migrations[-1][0]:
            raise StoreError(f"store {_shown(self.path)} was written by a newer Paperboy (schema "
                             f"{found}, this one knows up to {migrations[-1][0]}): upgrade Paperboy")
        first = last = None
        for number, name, sql in migrations:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                async with self._db.execute("PRAGMA user_version") as cursor:
                    (current,) = await cursor.fetchone()
                if number <= current:
                    await self._db.execute("COMMIT")
                    continue
                log.debug("applying store migration %s", name)
                for statement in _statements(sql):  # executescript would COMMIT first
                    await self._db.execute(statement)
                await self._db.execute(f"PRAGMA user_version = {number}")
                await self._db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                await self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    await self._db.execute("ROLLBACK")
                raise
            first = current if first is None else first
            last = number
        if last is None:
            return
        if created or first == 0:  # the process that opened it says so, in its own words
            log.debug("created a new store at %s (schema %d)", _shown(self.path), last)
        else:
            log.info("upgraded the store at %s from schema %d to %d", _shown(self.path), first, last)

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

    async def store_papers(self, papers: Sequence[PaperRecord], source: str = "arxiv-api") -> BatchResult:
        """Store papers that came without a feed (arXiv API lookups); same rules as a feed batch."""
        result = BatchResult()
        async with self._transaction():
            start = await self._next_seq()
            seq = await self._store_papers(_dedupe_papers(papers), source, utc_now(), start, result)
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
        await db.execute("INSERT INTO papers_fts (rowid, title, authors, abstract, cats)"
                         " SELECT rowid, title, authors, abstract, cats FROM papers_search"
                         " WHERE rowid IN (SELECT rowid FROM papers WHERE seq > ?)", (first_seq,))
        await db.execute("INSERT INTO papers_title_fts (rowid, title)"
                         " SELECT rowid, title FROM papers WHERE seq > ?", (first_seq,))
        return seq

    async def _unindex_papers(self, arxiv_ids: Sequence[str]) -> None:
        """Take papers about to change out of the full-text index (it needs their old text)."""
        for chunk in _chunks(arxiv_ids):
            marks = ",".join("?" * len(chunk))
            await self._db.execute(
                "INSERT INTO papers_fts (papers_fts, rowid, title, authors, abstract, cats)"
                " SELECT 'delete', rowid, title, authors, abstract, cats FROM papers_search"
                f" WHERE rowid IN (SELECT rowid FROM papers WHERE arxiv_id IN ({marks}))", chunk)
            await self._db.execute(
                "INSERT INTO papers_title_fts (papers_title_fts, rowid, title)"
                f" SELECT 'delete', rowid, title FROM papers WHERE arxiv_id IN ({marks})", chunk)

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


    async def max_seq(self) -> int:
        async with self._db.execute("SELECT coalesce(max(seq), 0) FROM ingest_log") as cursor:
            (value,) = await cursor.fetchone()
        return int(value)

    async def seq_before(self, moment: str) -> int:
        """The last sequence number ingested before ``moment`` (ISO 8601 UTC), for time windows."""
        async with self._db.execute(
            "SELECT coalesce(max(seq), 0) FROM ingest_log WHERE at < ?", (moment,)) as cursor:
            (value,) = await cursor.fetchone()
        return int(value)

    async def items_since(self, seq: int, limit: int | None = None) -> list[IngestedItem]:
        """Items with events after ``seq``, each once (at its latest event), in seq order."""
        sql = ("SELECT l.seq, l.kind, l.item_key, l.event, l.feed FROM ingest_log l"
               " JOIN (SELECT kind, item_key, max(seq) AS seq FROM ingest_log WHERE seq > ?"
               " GROUP BY kind, item_key) last ON last.seq = l.seq ORDER BY l.seq")
        params: list[Any] = [seq]
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        async with self._db.execute(sql, params) as cursor:
            rows = await cursor.fetchall()
        papers = await self._papers_by_id(
            {r["item_key"] for r in rows if r["kind"] == "paper"})
        summaries = await self._summaries_by_id(
            [int(r["item_key"]) for r in rows if r["kind"] == "summary"])
        linked = await self._papers_by_id(
            {s.arxiv_id for s in summaries.values() if s.arxiv_id} - set(papers))
        papers.update(linked)
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

    async def _papers_by_id(self, ids: Iterable[str]) -> dict[str, StoredPaper]:
        found: dict[str, StoredPaper] = {}
        for chunk in _chunks(sorted(ids)):
            marks = ",".join("?" * len(chunk))
            async with self._db.execute(f"SELECT * FROM papers WHERE arxiv_id IN ({marks})", chunk) as cur:
                for row in await cur.fetchall():
                    found[row["arxiv_id"]] = _stored_paper(row, [])
        return found

    async def _summaries_by_id(self, ids: Sequence[int]) -> dict[int, StoredSummary]:
        found: dict[int, StoredSummary] = {}
        for chunk in _chunks(list(ids)):
            marks = ",".join("?" * len(chunk))
            async with self._db.execute(f"SELECT * FROM summaries WHERE id IN ({marks})", chunk) as cur:
                for row in await cur.fetchall():
                    found[row["id"]] = _stored_summary(row)
        return found

    # -- channels and subscriptions --------------------------------------------------------------

    async def ensure_channel(self, guild_id: int, channel_id: int, digest_time: str, timezone: str,
                             next_due: str | None) -> ChannelSettings:
        """The channel's settings, created with the given defaults; a new channel starts from now."""
        async with self._transaction():
            await self._db.execute(
                "INSERT OR IGNORE INTO channels (channel_id, guild_id, digest_time, timezone,"
                " cursor_seq, next_due, created_at) VALUES (?, ?, ?, ?,"
                " (SELECT coalesce(max(seq), 0) FROM ingest_log), ?, ?)",
                (channel_id, guild_id, digest_time, timezone, next_due, utc_now()))
        channel = await self.get_channel(channel_id)
        assert channel is not None
        return channel

    async def get_channel(self, channel_id: int) -> ChannelSettings | None:
        async with self._db.execute("SELECT * FROM channels WHERE channel_id = ?", (channel_id,)) as cur:
            row = await cur.fetchone()
        return _channel(row) if row else None

    async def list_channels(self, guild_id: int | None = None) -> list[ChannelSettings]:
        sql, params = "SELECT * FROM channels", ()
        if guild_id is not None:
            sql, params = sql + " WHERE guild_id = ?", (guild_id,)
        async with self._db.execute(sql + " ORDER BY channel_id", params) as cursor:
            return [_channel(row) for row in await cursor.fetchall()]

    async def update_channel(self, channel_id: int, **changes: Any) -> None:
        """Change settings columns (digest_time, timezone, frequency, weekday, max_items, ...)."""
        allowed = set(ChannelSettings.__dataclass_fields__) - {"channel_id", "guild_id", "created_at"}
        unknown = set(changes) - allowed
        if unknown:
            raise ValueError(f"not channel settings: {sorted(unknown)}")
        if not changes:
            return
        assignments = ", ".join(f"{name} = ?" for name in changes)
        async with self._transaction():
            await self._db.execute(f"UPDATE channels SET {assignments} WHERE channel_id = ?",
                                   (*changes.values(), channel_id))

    async def add_subscription(self, row: SubscriptionRow) -> bool:
        """Follow (or exclude) a topic; False when the channel already had it the same way."""
        async with self._transaction():
            cursor = await self._db.execute(
                "INSERT INTO subscriptions (channel_id, kind, key, value, exclude, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (channel_id, kind, key) DO UPDATE SET"
                " value = excluded.value, exclude = excluded.exclude"
                " WHERE subscriptions.exclude != excluded.exclude",
                (row.channel_id, row.kind, row.key, row.value, int(row.exclude),
                 datetime.now(UTC).isoformat(timespec="microseconds")))  # orders /subscribe list
            return cursor.rowcount > 0

    async def remove_subscription(self, channel_id: int, kind: str, key: str) -> bool:
        async with self._transaction():
            cursor = await self._db.execute(
                "DELETE FROM subscriptions WHERE channel_id = ? AND kind = ? AND key = ?",
                (channel_id, kind, key))
            return cursor.rowcount > 0

    async def list_subscriptions(self, channel_ids: Iterable[int] | None = None) -> list[SubscriptionRow]:
        """Subscriptions of some channels (all when None), in the order they were added."""
        sql = "SELECT channel_id, kind, key, value, exclude FROM subscriptions"
        if channel_ids is None:
            async with self._db.execute(sql + " ORDER BY channel_id, created_at") as cursor:
                rows = await cursor.fetchall()
        else:
            rows = []
            for chunk in _chunks(list(channel_ids)):
                marks = ",".join("?" * len(chunk))
                query = f"{sql} WHERE channel_id IN ({marks}) ORDER BY channel_id, created_at"
                async with self._db.execute(query, chunk) as cursor:
                    rows.extend(await cursor.fetchall())
        return [SubscriptionRow(r["channel_id"], r["kind"], r["key"], r["value"], bool(r["exclude"]))
                for r in rows]

    async def count_subscriptions(self, channel_id: int | None = None, guild_id: int | None = None) -> int:
        if channel_id is not None:
            sql, params = "SELECT count(*) FROM subscriptions WHERE channel_id = ?", (channel_id,)
        else:
            sql = ("SELECT count(*) FROM subscriptions s JOIN channels c USING (channel_id)"
                   " WHERE c.guild_id = ?")
            params = (guild_id,)
        async with self._db.execute(sql, params) as cursor:
            (count,) = await cursor.fetchone()
        return int(count)

    async def followed_categories(self) -> list[str]:
        """Every category or archive some channel follows (they are polled too)."""
        sql = ("SELECT DISTINCT value FROM subscriptions WHERE kind IN ('category', 'archive')"
               " AND exclude = 0 ORDER BY value")
        async with self._db.execute(sql) as cursor:
            return [row[0] for row in await cursor.fetchall()]

    # -- digests and delivery ----------------------------------------------------------------

    async def due_channels(self, now: str) -> list[ChannelSettings]:
        """Channels whose digest is due, instant channels with news, and any with unsent messages."""
        sql = ("SELECT * FROM channels WHERE paused_reason IS NULL AND ("
               " (frequency != 'instant' AND next_due IS NOT NULL AND next_due <= ?)"
               " OR (frequency = 'instant' AND cursor_seq < (SELECT coalesce(max(seq), 0) FROM ingest_log))"
               " OR EXISTS (SELECT 1 FROM outbox o WHERE o.channel_id = channels.channel_id"
               " AND o.status = 'pending')) ORDER BY next_due, channel_id")
        async with self._db.execute(sql, (now,)) as cursor:
            return [_channel(row) for row in await cursor.fetchall()]

    async def delivered(self, channel_ids: Iterable[int], keys: Iterable[tuple[str, str]]
                        ) -> dict[int, dict[tuple[str, str], set[int]]]:
        """For (kind, key) pairs: per channel, the versions already delivered (absent: none).

        One query per chunk of keys for all the channels, however many are due at once.
        """
        channels = set(channel_ids)
        wanted = list(keys)
        found: dict[int, dict[tuple[str, str], set[int]]] = {}
        for kind in ("paper", "summary"):
            ids = sorted({key for k, key in wanted if k == kind})
            for chunk in _chunks(ids):
                marks = ",".join("?" * len(chunk))
                sql = ("SELECT channel_id, item_key, version FROM deliveries WHERE kind = ?"
                       f" AND item_key IN ({marks})")
                async with self._db.execute(sql, (kind, *chunk)) as cursor:
                    for channel_id, item_key, version in await cursor.fetchall():
                        if channel_id in channels:
                            found.setdefault(channel_id, {}).setdefault((kind, item_key), set()).add(version)
        return found

    async def channels_with_pending(self, channel_ids: Iterable[int]) -> set[int]:
        """Which of these channels have digest messages in the outbox still to send."""
        async with self._db.execute("SELECT DISTINCT channel_id FROM outbox WHERE status = 'pending'") as cur:
            pending = {row[0] for row in await cur.fetchall()}
        return pending & set(channel_ids)

    async def plan_digest(self, channel_id: int, digest_id: str,
                          messages: Sequence[tuple[str, dict[str, Any], list[tuple[str, str, int]]]],
                          cursor_seq: int, next_due: str | None) -> list[OutboxMessage]:
        """Store a digest's messages (nonce, payload, items) and move the cursor, in one go.

        From here the items are either in the outbox or delivered: a crash loses nothing.
        """
        now = utc_now()
        async with self._transaction():
            for position, (nonce, payload, items) in enumerate(messages):
                await self._db.execute(
                    "INSERT INTO outbox (channel_id, digest_id, position, nonce, payload, items,"
                    " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (channel_id, digest_id, position, nonce, json.dumps(payload, ensure_ascii=False),
                     json.dumps(items), now))
            await self._db.execute(
                "UPDATE channels SET cursor_seq = max(cursor_seq, ?), next_due = ?,"
                " last_digest_at = ? WHERE channel_id = ?", (cursor_seq, next_due, now, channel_id))
        return await self.pending_outbox(channel_id)

    async def pending_outbox(self, channel_id: int) -> list[OutboxMessage]:
        """The unsent messages of a channel's oldest unfinished digest, plus its header if sent."""
        sql = ("SELECT * FROM outbox WHERE digest_id = (SELECT digest_id FROM outbox WHERE"
               " channel_id = ? AND status = 'pending' ORDER BY id LIMIT 1) ORDER BY position")
        async with self._db.execute(sql, (channel_id,)) as cursor:
            return [_outbox(row) for row in await cursor.fetchall()]

    async def record_sent(self, message: OutboxMessage, message_id: int, target_channel_id: int) -> None:
        """Record a sent message and mark its items delivered, in one transaction."""
        now = utc_now()
        async with self._transaction():
            await self._db.execute(
                "UPDATE outbox SET status = 'sent', message_id = ?, target_channel_id = ?, sent_at = ?"
                " WHERE id = ?", (message_id, target_channel_id, now, message.id))
            await self._db.executemany(
                "INSERT OR IGNORE INTO deliveries (channel_id, kind, item_key, version, message_id,"
                " delivered_at) VALUES (?, ?, ?, ?, ?, ?)",
                [(message.channel_id, kind, key, version, message_id, now)
                 for kind, key, version in message.items])
        message.status, message.message_id, message.target_channel_id = "sent", message_id, target_channel_id

    async def record_attempt(self, message: OutboxMessage, target_channel_id: int, at: str) -> None:
        """Remember when (first) and where a message was handed to Discord, before it is sent."""
        now = at
        async with self._transaction():
            await self._db.execute(
                "UPDATE outbox SET attempted_at = coalesce(attempted_at, ?), attempt_target = ?"
                " WHERE id = ?", (now, target_channel_id, message.id))
        message.attempted_at = message.attempted_at or now
        message.attempt_target = target_channel_id

    async def advance_cursor(self, channel_id: int, cursor_seq: int, next_due: str | None) -> None:
        """A digest with nothing to send still moves the cursor and the next due time."""
        await self.update_channel(channel_id, cursor_seq=cursor_seq, next_due=next_due,
                                  last_digest_at=utc_now())

    async def pause_channel(self, channel_id: int, reason: str) -> None:
        await self.update_channel(channel_id, paused_reason=reason[:300], paused_at=utc_now())

    async def resume_channel(self, channel_id: int) -> None:
        await self.update_channel(channel_id, paused_reason=None, paused_at=None)

    # -- lookups -------------------------------------------------------------------------------

    async def papers_by_ids(self, arxiv_ids: Iterable[str]) -> dict[str, StoredPaper]:
        """Several papers at once (without their version lists)."""
        return await self._papers_by_id(arxiv_ids)

    async def paper_by_doi(self, doi: str) -> StoredPaper | None:
        async with self._db.execute("SELECT arxiv_id FROM papers WHERE doi = ? COLLATE NOCASE"
                                    " LIMIT 1", (doi,)) as cursor:
            row = await cursor.fetchone()
        return await self.get_paper(row[0]) if row else None

    async def search_papers(self, text: str, *, category: str | None = None,
                            limit: int = 25) -> list[StoredPaper]:
        """Papers matching every word of ``text`` (title, authors, abstract), best first.

        The newest :data:`SEARCH_WINDOW` full-text matches are ranked by how many of the words
        their titles hold, then by recency: exact whenever fewer match, and within 50 ms on a
        million papers. (FTS5's bm25 reads every word's whole match list to weigh it, 25 ms and
        more per query at that size before any row is scored; see bench/lookup.py.) A category
        or archive filter is part of the full-text query, then checked exactly.
        """
        match = fts_match(text)
        if match is None:
            return []
        query = match
        if category:
            query += f' AND cats : "{category_token(category)}"'
        words = query_words(text)
        title_hits = " + ".join("(instr(lower(p.title), ?) > 0)" for _ in words)
        sql = ("SELECT p.* FROM (SELECT rowid AS id FROM papers_fts WHERE papers_fts MATCH ?"
               " ORDER BY rowid DESC LIMIT ?) hits JOIN papers p ON p.rowid = hits.id"
               f" ORDER BY {title_hits} DESC, p.rowid DESC")
        async with self._db.execute(sql, (query, SEARCH_WINDOW, *words)) as cursor:
            papers = [_stored_paper(row, []) for row in await cursor.fetchall()]
        if category:
            papers = [p for p in papers if any(_in_category(c, category) for c in p.categories)]
        return papers[:limit]

    async def autocomplete_papers(self, text: str, limit: int = 25) -> list[tuple[str, str]]:
        """(arxiv_id, title) for what is being typed: an id prefix, or title words (newest first)."""
        typed = text.strip()
        if not typed:
            sql, params = "SELECT arxiv_id, title FROM papers ORDER BY seq DESC LIMIT ?", [limit]
        elif _ID_PREFIX.match(typed):
            sql = ("SELECT arxiv_id, title FROM papers WHERE arxiv_id >= ? AND arxiv_id < ?"
                   " ORDER BY arxiv_id LIMIT ?")
            base = typed.lower().removeprefix("arxiv:").strip()
            params = [base, base + "\uffff", limit]
        else:
            match = fts_match(text.lstrip(), prefix_last=True)
            if match is None:
                return []
            sql = ("SELECT p.arxiv_id, p.title FROM papers p WHERE p.rowid IN (SELECT rowid FROM"
                   " papers_title_fts WHERE papers_title_fts MATCH ? ORDER BY rowid DESC LIMIT ?)"
                   " ORDER BY p.rowid DESC")
            params = [match, limit]
        async with self._db.execute(sql, params) as cursor:
            return [(row[0], row[1]) for row in await cursor.fetchall()]

    async def latest_summaries(self, *, arxiv_id: str | None = None, venue: str | None = None,
                               limit: int = 25, offset: int = 0) -> list[StoredSummary]:
        """Summaries newest first: all, of one paper, or of one venue (a bibtex key prefix)."""
        sql, params = "SELECT * FROM summaries", []
        if arxiv_id is not None:
            sql, params = sql + " WHERE arxiv_id = ?", [arxiv_id]
        elif venue is not None:
            sql, params = sql + " WHERE bibtex_key LIKE ? ESCAPE '\\'", [_venue_pattern(venue)]
        sql += " ORDER BY coalesce(edited_at, '') DESC, id DESC LIMIT ? OFFSET ?"
        async with self._db.execute(sql, [*params, limit, offset]) as cursor:
            return [_stored_summary(row) for row in await cursor.fetchall()]

    async def count_summaries(self, *, arxiv_id: str | None = None, venue: str | None = None) -> int:
        sql, params = "SELECT count(*) FROM summaries", []
        if arxiv_id is not None:
            sql, params = sql + " WHERE arxiv_id = ?", [arxiv_id]
        elif venue is not None:
            sql, params = sql + " WHERE bibtex_key LIKE ? ESCAPE '\\'", [_venue_pattern(venue)]
        async with self._db.execute(sql, params) as cursor:
            (count,) = await cursor.fetchone()
        return int(count)

    async def venue_summaries(self, venue: str) -> list[StoredSummary]:
        """Every summary of a venue (``nips`` matches bibtex keys ``conf/nips/...``)."""
        sql = ("SELECT * FROM summaries WHERE bibtex_key LIKE ? ESCAPE '\\'"
               " ORDER BY coalesce(edited_at, '') DESC, id DESC")
        async with self._db.execute(sql, [_venue_pattern(venue)]) as cursor:
            return [_stored_summary(row) for row in await cursor.fetchall()]

    async def summaries_by_bibtex_key(self, key: str) -> list[StoredSummary]:
        async with self._db.execute("SELECT * FROM summaries WHERE bibtex_key = ? ORDER BY"
                                    " coalesce(votes, 0) DESC, id", (key,)) as cursor:
            return [_stored_summary(row) for row in await cursor.fetchall()]

    # -- export / import / backup (bot/transfer.py) ------------------------------------------------

    async def import_channels(self, channels: Sequence[ChannelSettings],
                              subscriptions: Sequence[SubscriptionRow]) -> tuple[int, int, int, int]:
        """Upsert channel settings and add subscriptions in ONE transaction: all of it or nothing.

        Returns (channels created, channels updated, topics added, topics whose exclude flag changed).

        * A new channel starts at the store's current ingest seq, read inside the transaction: it
          gets what arrives from now on, never the backlog of a store it was not served from.
          Its ``next_due`` is the one given; it is not paused unless ``paused_reason`` says so.
        * An existing channel keeps its guild, cursor, last digest and creation time: those belong to
          this store. Its settings take the given values; ``next_due`` is replaced only when the
          schedule (time, zone, frequency, weekday) actually changes, so re-importing the same
          settings does not move a digest; ``paused_at`` is kept while the pause reason is the same.
          A channel that belongs to another guild here is an error (Discord channel ids are global).
        * A subscription the channel lacks is added, in the given order (distinct ``created_at``
          so ``/subscribe list`` and a later export keep it); one it has with the other exclude
          flag is flipped; none is removed: an import merges, it does not replace.
        Nothing is written when nothing differs, so importing the same data twice changes nothing.
        """
        now = utc_now()
        created = updated = added = flipped = 0
        async with self._transaction():
            ids = [channel.channel_id for channel in channels]
            guild_of: dict[int, int] = {}
            for chunk in _chunks(ids):
                marks = ",".join("?" * len(chunk))
                async with self._db.execute(
                    f"SELECT channel_id, guild_id FROM channels WHERE channel_id IN ({marks})", chunk
                ) as cursor:
                    guild_of.update({row[0]: row[1] for row in await cursor.fetchall()})
            for channel in channels:
                values = {
                    "channel_id": channel.channel_id, "guild_id": channel.guild_id,
                    "digest_time": channel.digest_time, "timezone": channel.timezone,
                    "frequency": channel.frequency, "weekday": channel.weekday,
                    "max_items": channel.max_items, "replacements": int(channel.include_replacements),
                    "next_due": channel.next_due, "paused_reason": channel.paused_reason, "now": now,
                }
                if channel.channel_id not in guild_of:
                    await self._db.execute(
                        "INSERT INTO channels (channel_id, guild_id, digest_time, timezone, frequency,"
                        " weekday, max_items, include_replacements, cursor_seq, next_due,"
                        " paused_reason, paused_at, created_at) VALUES (:channel_id, :guild_id,"
                        " :digest_time, :timezone, :frequency, :weekday, :max_items, :replacements,"
                        " (SELECT coalesce(max(seq), 0) FROM ingest_log), :next_due, :paused_reason,"
                        " CASE WHEN :paused_reason IS NULL THEN NULL ELSE :now END, :now)", values)
                    guild_of[channel.channel_id] = channel.guild_id
                    created += 1
                    continue
                if guild_of[channel.channel_id] != channel.guild_id:
                    raise ValueError(f"channel {channel.channel_id} belongs to guild "
                                     f"{guild_of[channel.channel_id]} here, not {channel.guild_id}")
                # SET expressions all see the row as it was, so the CASEs compare old and new.
                cursor = await self._db.execute(
                    "UPDATE channels SET digest_time = :digest_time, timezone = :timezone,"
                    " frequency = :frequency, weekday = :weekday, max_items = :max_items,"
                    " include_replacements = :replacements,"
                    " next_due = CASE WHEN digest_time IS NOT :digest_time OR timezone IS NOT :timezone"
                    "  OR frequency IS NOT :frequency OR weekday IS NOT :weekday"
                    "  THEN :next_due ELSE next_due END,"
                    " paused_at = CASE WHEN :paused_reason IS NULL THEN NULL"
                    "  WHEN paused_reason IS :paused_reason THEN paused_at ELSE :now END,"
                    " paused_reason = :paused_reason"
                    " WHERE channel_id = :channel_id AND (digest_time IS NOT :digest_time"
                    "  OR timezone IS NOT :timezone OR frequency IS NOT :frequency"
                    "  OR weekday IS NOT :weekday OR max_items IS NOT :max_items"
                    "  OR include_replacements IS NOT :replacements"
                    "  OR paused_reason IS NOT :paused_reason)", values)
                updated += max(cursor.rowcount, 0)
            current: dict[tuple[int, str, str], bool] = {}
            for chunk in _chunks(sorted({row.channel_id for row in subscriptions})):
                marks = ",".join("?" * len(chunk))
                async with self._db.execute(
                    f"SELECT channel_id, kind, key, exclude FROM subscriptions WHERE channel_id IN ({marks})",
                    chunk,
                ) as cursor:
                    current.update({(r[0], r[1], r[2]): bool(r[3]) for r in await cursor.fetchall()})
            start = datetime.now(UTC)
            inserts: list[tuple[Any, ...]] = []
            for position, row in enumerate(subscriptions):
                key = (row.channel_id, row.kind, row.key)
                if key not in current:
                    stamp = (start + timedelta(microseconds=position)).isoformat(timespec="microseconds")
                    inserts.append((row.channel_id, row.kind, row.key, row.value, int(row.exclude), stamp))
                    current[key] = row.exclude
                elif current[key] != row.exclude:
                    await self._db.execute(
                        "UPDATE subscriptions SET value = ?, exclude = ? WHERE channel_id = ?"
                        " AND kind = ? AND key = ?",
                        (row.value, int(row.exclude), row.channel_id, row.kind, row.key))
                    current[key] = row.exclude
                    flipped += 1
            await self._db.executemany(
                "INSERT INTO subscriptions (channel_id, kind, key, value, exclude, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)", inserts)
            added = len(inserts)
        return created, updated, added, flipped

    async def backup_to(self, path: str | Path) -> None:
        """Copy the database to ``path`` while it is in use: one consistent snapshot, never a part.

        The copy is read through a connection of its own, not the store's: in WAL mode that
        connection sees committed transactions only, so a feed batch being written (the store's
        connection keeps its transaction open across awaits) is in the copy entirely or not at all,
        and the bot's reads and writes do not wait for the copy. (SQLite's backup through the
        store's own connection would read that connection's uncommitted pages: a partial batch.)
        ``pages=-1`` copies everything in one step, under one read transaction.

        The copy is written to a temp file next to the target, switched to a rollback journal (one
        self-contained file, no ``-wal`` beside it to lose), checked with ``PRAGMA quick_check``
        and renamed into place: the target is the old file or a complete new copy, never half of
        one. The live database file (and its ``-wal``/``-shm``/``-journal``) is never a target.
        """
        target = Path(path).expanduser().absolute()
        if self.path != ":memory:":
            live = Path(self.path).expanduser().absolute()
            for guarded in (live, *(live.with_name(live.name + s) for s in ("-wal", "-shm", "-journal"))):
                if SQLiteStore._same_file(target, guarded):
                    raise ValueError(f"{target} is the live store ({guarded.name}); back up to another file")
        if target.is_dir():
            raise IsADirectoryError(f"{target} is a directory; give the backup a file name")
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = await asyncio.to_thread(SQLiteStore._temp_file_for, target)
        try:
            if self.path == ":memory:":  # no file to open twice: copy through our connection,
                async with self._write_lock:  # with no write transaction open on it
                    await self._backup_memory_into(temp)
            else:
                await asyncio.to_thread(SQLiteStore._copy_database, self.path, temp)
            await asyncio.to_thread(SQLiteStore._finish_copy, temp, target)
        except BaseException:
            await asyncio.to_thread(SQLiteStore._discard, temp)
            raise

    async def _backup_memory_into(self, temp: str) -> None:
        import sqlite3

        destination = sqlite3.connect(temp, check_same_thread=False)
        try:
            await self._db.backup(destination, pages=-1)
        finally:
            destination.close()

    @staticmethod
    def _same_file(a: Path, b: Path) -> bool:
        """Whether two paths name one file: resolved (symlinks) or, if both exist, the same inode."""
        import os

        if a.resolve() == b.resolve():
            return True
        try:
            return os.path.samefile(a, b)
        except OSError:
            return False

    @staticmethod
    def _temp_file_for(target: Path) -> str:
        """An empty, unique file beside ``target``: same file system, so the rename is atomic."""
        import os
        import tempfile

        handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(handle)
        return name

    @staticmethod
    def _copy_database(source: str, temp: str) -> None:
        """The online backup from a connection of our own (runs in a worker thread)."""
        import sqlite3

        # mode=rw: never create a database where the live one should be.
        reader = sqlite3.connect(Path(source).expanduser().absolute().as_uri() + "?mode=rw", uri=True)
        try:
            reader.execute("PRAGMA busy_timeout = 10000")
            destination = sqlite3.connect(temp)
            try:
                reader.backup(destination, pages=-1)
            finally:
                destination.close()
        finally:
            reader.close()

    @staticmethod
    def _finish_copy(temp: str, target: Path) -> None:
        """Make the copy one self-contained, checked, synced file and move it into place."""
        import os
        import sqlite3

        copy = sqlite3.connect(temp)
        try:
            copy.execute("PRAGMA journal_mode = DELETE")
            problems = [row[0] for row in copy.execute("PRAGMA quick_check")]
        finally:
            copy.close()
        if problems != ["ok"]:
            raise RuntimeError(f"the backup copy failed its check: {'; '.join(problems[:5])}")
        with open(temp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, target)
        if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable (POSIX)
            directory = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)

    @staticmethod
    def _discard(temp: str) -> None:
        import contextlib
        import os

        for name in (temp, temp + "-journal", temp + "-wal", temp + "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(name)


    # -- leases --------------------------------------------------------------------------------

    async def acquire_lease(self, name: str, holder: str, ttl_seconds: float,
                            replacing: str | None = None) -> Lease:
        """Take (or renew) the lease ``name`` for ``ttl_seconds`` unless another holder's is live;
        ``replacing`` names a holder known to be dead, whose lease is taken at once."""
        now = datetime.now(UTC)
        expires = (now + timedelta(seconds=ttl_seconds)).isoformat(timespec="milliseconds")
        async with self._transaction():
            await self._db.execute(
                "INSERT INTO leases (name, holder, acquired_at, expires_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,"
                " acquired_at = CASE WHEN leases.holder = excluded.holder THEN leases.acquired_at"
                "  ELSE excluded.acquired_at END, expires_at = excluded.expires_at"
                " WHERE leases.holder = excluded.holder OR leases.expires_at <= ? OR leases.holder = ?",
                (name, holder, now.isoformat(timespec="milliseconds"), expires,
                 now.isoformat(timespec="milliseconds"), replacing))
            async with self._db.execute("SELECT holder, expires_at FROM leases WHERE name = ?",
                                        (name,)) as cursor:
                current, until = await cursor.fetchone()
        return Lease(name, current, until, acquired=current == holder)

    async def release_lease(self, name: str, holder: str) -> None:
        """Give the lease up (only if ``holder`` still holds it)."""
        async with self._transaction():
            await self._db.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))

    # -- alerts and housekeeping ---------------------------------------------------------------

    async def open_alerts(self) -> set[str]:
        async with self._db.execute("SELECT key FROM alerts") as cursor:
            return {row[0] for row in await cursor.fetchall()}

    async def set_alert(self, key: str, is_open: bool) -> None:
        """Open an alert (it was sent) or close it (the problem is over)."""
        async with self._transaction():
            if is_open:
                await self._db.execute("INSERT OR IGNORE INTO alerts (key, opened_at) VALUES (?, ?)",
                                       (key, utc_now()))
            else:
                await self._db.execute("DELETE FROM alerts WHERE key = ?", (key,))

    async def old_news_seq(self) -> int:
        """Papers first ingested at or before this sequence number are never delivered again."""
        async with self._db.execute("SELECT value FROM meta WHERE key = 'old_news_seq'") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def prune(self, deliveries_before: str, sent_before: str) -> dict[str, int]:
        """Drop delivery records and sent outbox rows older than the given instants.

        Papers first ingested before the deliveries' cutoff become old news (see
        :meth:`old_news_seq`), so a cross-list or new version of one never reaches a channel
        whose record of it was pruned.
        """
        async with self._transaction():
            horizon = await self._scalar("SELECT coalesce(max(seq), 0) FROM ingest_log WHERE at < ?",
                                         deliveries_before)
            await self._db.execute(
                "INSERT INTO meta (key, value) VALUES ('old_news_seq', ?) ON CONFLICT (key) DO UPDATE"
                " SET value = max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))", (str(horizon),))
            deliveries = await self._db.execute("DELETE FROM deliveries WHERE delivered_at < ?",
                                                (deliveries_before,))
            sent = await self._db.execute("DELETE FROM outbox WHERE status = 'sent' AND sent_at < ?",
                                          (sent_before,))
            queries = await self._db.execute("DELETE FROM api_queries WHERE fetched_at < ?",
                                             (deliveries_before,))
        return {"deliveries": deliveries.rowcount, "sent_messages": sent.rowcount,
                "api_queries": queries.rowcount, "old_news_seq": horizon}

    async def _scalar(self, sql: str, *params: Any) -> int:
        async with self._db.execute(sql, params) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    async def size_bytes(self) -> int:
        """The store's size on disk (pages in use), for status and the size estimate."""
        return await self._scalar(
            "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()")


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
            log_rows.append((seq, "paper", paper.arxiv_id, paper.announce_type or "fetched", feed, now))
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


_ID_PREFIX = re.compile(r"^(?:arxiv:\s*)?(?:\d{2,4}(?:\.\d{0,5})?|[a-z-]+(?:\.[a-z]{2})?/\d{0,7})$",
                        re.IGNORECASE)


SEARCH_WINDOW = 500  # newest matches ranked by search_papers (see its docstring)


def category_token(category: str) -> str:
    """How the index spells a category (``cs.LG`` -> ``cslg``) or an archive (``astro-ph`` ->
    ``astroph``): see migration 0006."""
    return category.replace("-", "").replace(".", "").lower()


def _in_category(category: str, wanted: str) -> bool:
    """``cs.LG`` is in ``cs.LG`` and in the archive ``cs``."""
    return category == wanted or category.split(".", 1)[0] == wanted


def _venue_pattern(venue: str) -> str:
    """``nips`` -> ``conf/nips/%``; a full prefix such as ``journals/corr`` is kept."""
    name = venue.strip().lower().strip("/")
    escaped = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}/%" if "/" in name else f"conf/{escaped}/%"


def _channel(row: aiosqlite.Row) -> ChannelSettings:
    values = {name: row[name] for name in ChannelSettings.__dataclass_fields__}
    values["include_replacements"] = bool(values["include_replacements"])
    return ChannelSettings(**values)


def _outbox(row: aiosqlite.Row) -> OutboxMessage:
    return OutboxMessage(
        id=row["id"], channel_id=row["channel_id"], digest_id=row["digest_id"], position=row["position"],
        nonce=row["nonce"], payload=json.loads(row["payload"]),
        items=[tuple(item) for item in json.loads(row["items"])],  # type: ignore[misc]
        status=row["status"], target_channel_id=row["target_channel_id"], message_id=row["message_id"],
        attempted_at=row["attempted_at"], attempt_target=row["attempt_target"])


def _stored_paper(row: aiosqlite.Row, versions: list[int]) -> StoredPaper:
    return StoredPaper(
        arxiv_id=row["arxiv_id"], title=row["title"], authors=json.loads(row["authors"]),
        abstract=row["abstract"], categories=json.loads(row["categories"]),
        latest_version=row["latest_version"], announce_type=row["announce_type"], doi=row["doi"],
        journal_ref=row["journal_ref"], comment=row["comment"], published=row["published"],
        updated=row["updated"], seq=row["seq"], versions=versions, first_seq=row["first_seq"])


def _stored_summary(row: aiosqlite.Row) -> StoredSummary:
    return StoredSummary(
        source=row["source"], guid=row["guid"], title=row["title"], text=row["text"],
        author=row["author"], link=row["link"], arxiv_id=row["arxiv_id"], doi=row["doi"],
        bibtex_key=row["bibtex_key"], votes=row["votes"], edited_at=row["edited_at"], seq=row["seq"],
        id=row["id"])


async def open_store(path: str | Path) -> SQLiteStore:
    """Open the embedded store at ``path`` (migrated and ready)."""
    return await SQLiteStore.open(path)
