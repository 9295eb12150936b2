"""What ``paperboy migrate-store`` copies, and the SQLite store it copies from, read-only.

:data:`TABLES` lists every table of the SQLite schema (``storage/migrations``) that the PostgreSQL
schema (``storage/postgres/migrations``) has too, in the order their rows may be inserted
(channels before the subscriptions that reference them), with each table's key and the columns
whose type changes on the way (SQLite's 0/1 integers that PostgreSQL keeps as ``boolean``).
:data:`SKIPPED` says why the others stay behind. Both engines keep instants as ISO 8601 text and
JSON as text, so every other value is copied as it is.

:class:`SourceStore` reads the file through a ``mode=ro`` connection in one read transaction (one
snapshot of the store), after the file checks every SQLite open makes
(:mod:`storage.sqlite_file`): the source is never changed, not even migrated.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storage.errors import StoreError
from storage.sqlite.schema import newest_version
from storage.sqlite_file import check_store_file

Key = tuple[Any, ...]
Values = tuple[Any, ...]


@dataclass(frozen=True)
class Table:
    """One copied table: its key, its columns (as PostgreSQL names them), how values change."""

    name: str
    key: tuple[str, ...]
    columns: tuple[str, ...]
    booleans: frozenset[str] = frozenset()  # SQLite 0/1 -> PostgreSQL boolean
    identity: str | None = None  # a PostgreSQL identity column: its sequence continues after the copy
    renamed: tuple[tuple[str, str], ...] = ()  # (PostgreSQL column, the SQLite expression it reads)
    derived: tuple[str, ...] = ()  # PostgreSQL-only columns the copy computes (search vectors)

    def source_columns(self, alias: str = "") -> list[str]:
        """The SELECT list on the SQLite side, in the order of :attr:`columns`."""
        names = dict(self.renamed)
        return [alias + names.get(c, f'"{c}"') for c in self.columns]

    def key_of(self, values: Values) -> Key:
        return tuple(values[self.columns.index(k)] for k in self.key)

    def normal(self, values: Sequence[Any]) -> Values:
        """A row as both engines should read it: booleans as bool, everything else as stored."""
        return tuple(bool(v) if c in self.booleans and v is not None else v
                     for c, v in zip(self.columns, values, strict=True))


def _t(name: str, key: str, columns: str, **options: Any) -> Table:
    return Table(name, tuple(key.split()), tuple(columns.split()), **options)


TABLES: tuple[Table, ...] = (
    _t("ingest_log", "seq", "seq kind item_key event feed at"),
    # SQLite's rowid is the PostgreSQL id (insertion order): "newest first" stays the same order.
    _t("papers", "arxiv_id", "id arxiv_id title authors abstract categories primary_category"
       " latest_version announce_type doi journal_ref comment published updated first_seq seq first_seen",
       identity="id", renamed=(("id", "rowid"),),
       derived=("category_keys", "search", "title_search", "title_plain")),
    _t("paper_versions", "arxiv_id version", "arxiv_id version announce_type seen_at"),
    # Summary ids are kept: the ingest log, deliveries and outbox items name summaries by id.
    _t("summaries", "id", "id source guid title text author link arxiv_id doi bibtex_key votes"
       " edited_at first_seq seq comments", identity="id"),
    _t("feeds", "name", "name url etag last_modified last_attempt last_success last_status"
       " consecutive_failures last_error next_poll"),
    _t("api_queries", "query", "query fetched_at results"),
    _t("channels", "channel_id", "channel_id guild_id digest_time timezone frequency weekday max_items"
       " include_replacements cursor_seq next_due last_digest_at paused_reason paused_at created_at"
       " layout top only_top", booleans=frozenset({"include_replacements", "only_top"})),
    _t("subscriptions", "channel_id kind key", "channel_id kind key value exclude created_at",
       booleans=frozenset({"exclude"})),
    _t("deliveries", "channel_id kind item_key version",
       "channel_id kind item_key version message_id delivered_at"),
    _t("outbox", "id", "id channel_id digest_id position nonce payload items status target_channel_id"
       " message_id created_at sent_at attempted_at attempt_target", identity="id"),
    _t("saves", "channel_id arxiv_id user_id", "channel_id arxiv_id user_id saved_at"),
    _t("alerts", "key", "key opened_at"),
    _t("meta", "key", "key value"),
)

SKIPPED = {
    "leases": "who holds a role now: a process's state, not the store's (the bot is stopped)",
    "sqlite_sequence": "SQLite's counters: PostgreSQL's ingest_counter and identities continue instead",
}
# The SQLite full-text indexes and their shadow tables: PostgreSQL indexes the copied rows itself.
FTS_PREFIXES = ("papers_fts", "papers_title_fts", "papers_title_vocab", "summaries_fts")

_CHUNK = 200  # keys per lookup: 200 x 4 key columns stays under SQLite's oldest parameter limit


class SourceStore:
    """An SQLite Paperboy store opened read-only, in one read transaction (one snapshot)."""

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self._db = connection

    @classmethod
    def open(cls, path: str | Path) -> SourceStore:
        """Open the store at ``path`` for reading; a :class:`StoreError` when it is not an SQLite
        Paperboy store of this version's schema. Blocking: call it in a thread."""
        newest = newest_version()
        checked = check_store_file(path, newest, to_write=False)  # refuses a foreign file untouched
        target = checked.path
        if checked.new:
            raise StoreError(f"no store at {target} (an absent or empty file): nothing to migrate")
        try:
            db = sqlite3.connect(f"{target.as_uri()}?mode=ro", uri=True, isolation_level=None,
                                 check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreError(f"store {target} cannot be opened to read: {exc}") from None
        try:
            db.execute("BEGIN")
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
            tables = {str(r[0]) for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.Error as exc:
            db.close()
            raise StoreError(f"store {target} cannot be read: {exc}") from None
        if version != newest:
            db.close()
            raise StoreError(f"store {target} has schema {version}, this Paperboy writes {newest}: "
                             "open it once with this version (e.g. paperboy backup), then migrate")
        source = cls(target, db)
        source._check_tables(tables)
        return source

    def _check_tables(self, tables: set[str]) -> None:
        """Every SQLite table is copied or skipped on purpose, with the columns the copy expects."""
        known = {t.name for t in TABLES} | set(SKIPPED)
        unknown = sorted(n for n in tables - known if not n.startswith(FTS_PREFIXES))
        problems = [f"tables the copy does not know: {', '.join(unknown)}"] if unknown else []
        for table in TABLES:
            found = {str(r[1]) for r in self._db.execute(f'PRAGMA table_info("{table.name}")')}
            wanted = {dict(table.renamed).get(c, c) for c in table.columns} - {"rowid"}
            if found != wanted:
                problems.append(f"{table.name} has columns {sorted(found ^ wanted)} the copy does not expect")
        if problems:
            self.close()
            raise StoreError(f"store {self.path} does not match this Paperboy's schema "
                             f"({'; '.join(problems)}): nothing was copied")

    def close(self) -> None:
        self._db.close()

    def count(self, table: Table) -> int:
        return int(self._db.execute(f'SELECT count(*) FROM "{table.name}"').fetchone()[0])

    def last_seq(self) -> int:
        """The last ingest number handed out (AUTOINCREMENT never reuses one, even if deleted)."""
        row = self._db.execute("SELECT max(coalesce((SELECT max(seq) FROM ingest_log), 0),"
                               " coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'ingest_log'), 0))"
                               ).fetchone()
        return int(row[0])

    def live_leases(self, now: str) -> list[tuple[str, str, str]]:
        """(name, holder, expires_at) of the leases not expired at ``now`` (ISO, milliseconds)."""
        return [(str(r[0]), str(r[1]), str(r[2])) for r in self._db.execute(
            "SELECT name, holder, expires_at FROM leases WHERE expires_at > ? ORDER BY name", (now,))]

    def cursor(self, table: Table, *, keys_only: bool = False) -> sqlite3.Cursor:
        """A table's rows (or keys) in key order (papers in rowid order), read with ``fetchmany``."""
        columns = [f'"{k}"' for k in table.key] if keys_only else table.source_columns()
        order = "rowid" if table.renamed else ", ".join(f'"{k}"' for k in table.key)
        return self._db.execute(f'SELECT {", ".join(columns)} FROM "{table.name}" ORDER BY {order}')

    def rows_by_key(self, table: Table, keys: Iterable[Key]) -> dict[Key, Values]:
        """The normalised rows of these keys (absent: the source has no such row)."""
        wanted = list(keys)
        found: dict[Key, Values] = {}
        names = ", ".join(f'"{k}"' for k in table.key)
        # A join on the key (not "(a, b) IN (VALUES ...)", which SQLite answers with a scan)
        on = " AND ".join(f't."{k}" = wanted."{k}"' for k in table.key)
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start:start + _CHUNK]
            marks = ", ".join("(" + ", ".join("?" * len(table.key)) + ")" for _ in chunk)
            sql = (f"WITH wanted ({names}) AS (VALUES {marks}) SELECT {', '.join(table.source_columns('t.'))}"
                   f' FROM wanted JOIN "{table.name}" t ON {on}')
            for row in self._db.execute(sql, [value for k in chunk for value in k]):
                values = table.normal(row)
                found[table.key_of(values)] = values
        return found
