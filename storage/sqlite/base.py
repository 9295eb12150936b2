"""The SQLite store's base: one connection, one writer at a time, one way to read and write.

Every role of the store (:mod:`storage.sqlite.ingest`, ``feeds``, ``channels``, ...) is a mixin
over :class:`SQLiteBase` and touches the database only through it:

* :meth:`SQLiteBase._transaction` -- every write. An asyncio lock lets one transaction at a time
  use the connection (aiosqlite keeps a transaction open across awaits, so two interleaved
  writers would share it), and ``BEGIN IMMEDIATE`` takes SQLite's write lock at the start, so a
  second process waits up to the busy timeout instead of failing halfway. Any error or a
  cancellation rolls all of it back; a crash leaves all or nothing.
* :meth:`SQLiteBase._fetchall`, :meth:`SQLiteBase._fetchone`, :meth:`SQLiteBase._scalar` -- every
  read, and :meth:`SQLiteBase._fetch_in` / :meth:`SQLiteBase._execute_in` for every ``IN (...)``
  list, chunked (:mod:`storage.sqlite.sql`).
* :meth:`SQLiteBase._errors` -- the one place database errors are sorted: those the operator must
  fix become :class:`~storage.errors.StoreError` naming the store (see :mod:`storage.errors`).
* :meth:`SQLiteBase._now` -- the one clock (:mod:`storage.clock`).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Self

import aiosqlite

from storage.clock import Clock, as_utc, utc_now
from storage.errors import StoreError
from storage.sqlite.rows import Row
from storage.sqlite.schema import migrations, newest_version, statements
from storage.sqlite.sql import in_chunks
from storage.sqlite_file import APPLICATION_ID, check_store_file

log = logging.getLogger("storage.sqlite")

BUSY_TIMEOUT_SECONDS = 10  # how long a statement waits for another process's write lock

Params = Sequence[Any] | Mapping[str, Any]

# What the operator can do about each SQLite primary result code that is not the code's fault.
_OPERATOR_PROBLEMS: dict[int, str] = {
    sqlite3.SQLITE_BUSY: f"another process kept it locked for more than {BUSY_TIMEOUT_SECONDS} s: "
                         "is a second Paperboy or a database tool writing to it?",
    sqlite3.SQLITE_LOCKED: "another connection holds a lock on it: is a database tool using it?",
    sqlite3.SQLITE_IOERR: "the disk or file system failed: check it, and that the store's -wal and "
                          "-shm files are still beside it",
    sqlite3.SQLITE_FULL: "the disk is full: free some space where the store is",
    sqlite3.SQLITE_READONLY: "it became read-only: make the store (and its folder) writable again",
    sqlite3.SQLITE_PERM: "permission denied: make the store (and its folder) writable again",
    sqlite3.SQLITE_CANTOPEN: "its file (or -wal/-shm) cannot be opened: was it moved, deleted or its "
                             "folder made unwritable?",
    sqlite3.SQLITE_CORRUPT: "the file is damaged: restore it from a backup (paperboy backup makes one)",
    sqlite3.SQLITE_NOTADB: "the file is no longer an SQLite database: restore it from a backup",
    sqlite3.SQLITE_PROTOCOL: "WAL locking failed: keep the store on a local disk, not a network share",
    sqlite3.SQLITE_NOMEM: "out of memory",
    sqlite3.SQLITE_NOLFS: "the file system cannot hold a file this large",
}


def shown(path: str | Path) -> str:
    """The store's path as the operator should read it: absolute, so a wrong folder shows."""
    return str(path) if str(path) == ":memory:" else str(Path(path).expanduser().absolute())


def operator_problem(exc: sqlite3.Error) -> str | None:
    """What the operator should do about ``exc``, or None when it is a programming error.

    Sorted by SQLite's primary result code (the low byte of the extended one); errors raised by
    Python's sqlite3 module itself carry no code and are programming errors (a closed store).
    """
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else _OPERATOR_PROBLEMS.get(code & 0xFF)


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


class SQLiteBase:
    """One SQLite file: its connection, the write lock, the clock and the helpers every role
    uses. The roles are mixins over this (see :class:`storage.sqlite.store.SQLiteStore`)."""

    def __init__(self, connection: aiosqlite.Connection, path: str, *, clock: Clock = utc_now) -> None:
        self._db = connection
        self._write_lock = asyncio.Lock()
        self._clock = clock
        self.path = path
        self.created = False  # True when this open made a new, empty store

    # -- lifecycle ---------------------------------------------------------------------------

    @classmethod
    async def open(cls, path: str | Path, *, clock: Clock = utc_now) -> Self:
        """Open (creating if needed) the file, switch to WAL and run pending migrations.

        The file is checked first (:func:`storage.sqlite_file.check_store_file`): anything that is
        not a Paperboy store is refused before a byte is written. Every SQLite error while opening
        is a :class:`StoreError`: whatever the cause, this store cannot be used as it is.
        """
        path = str(path)
        created = False
        if path != ":memory:":
            created = check_store_file(path, newest_version()).new
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"store {shown(path)} cannot be created: {exc.strerror or exc}") from None
        try:
            connection = await aiosqlite.connect(path, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"store {shown(path)} cannot be opened: {exc}") from None
        connection.row_factory = aiosqlite.Row
        try:
            await connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
            await _set_wal(connection)
            await connection.execute("PRAGMA synchronous=NORMAL")
            await connection.execute("PRAGMA foreign_keys=ON")
            store = cls(connection, path, clock=clock)
            await store._migrate(created)
        except sqlite3.Error as exc:
            await connection.close()
            raise StoreError(f"store {shown(path)} cannot be used: {exc}") from None
        except BaseException:
            await connection.close()
            raise
        store.created = created
        return store

    async def close(self) -> None:
        """Wait for the transaction in progress, then release the database."""
        async with self._write_lock:
            with self._errors():
                await self._db.close()

    async def _migrate(self, created: bool) -> None:
        """Apply every migration newer than ``PRAGMA user_version``, each in its own transaction.

        The version is read again after ``BEGIN IMMEDIATE`` took the write lock: a second process
        that waited for the lock sees the first one's work and does not repeat it. Every
        migration also marks the file as a Paperboy store (``PRAGMA application_id``).
        """
        newest = newest_version()
        found = await self._scalar("PRAGMA user_version")
        if found > newest:
            raise StoreError(f"store {shown(self.path)} was written by a newer Paperboy (schema "
                             f"{found}, this one knows up to {newest}): upgrade Paperboy")
        first: int | None = None
        last: int | None = None
        for number, name, sql in migrations():
            async with self._transaction() as db:
                current = await self._scalar("PRAGMA user_version")
                if number <= current:
                    continue
                log.debug("applying store migration %s", name)
                for statement in statements(sql):
                    await db.execute(statement)
                await db.execute(f"PRAGMA user_version = {number}")
                await db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            first = current if first is None else first
            last = number
        if last is None:
            return
        if created or first == 0:  # the process that opened it says so, in its own words
            log.debug("created a new store at %s (schema %d)", shown(self.path), last)
        else:
            log.info("upgraded the store at %s from schema %d to %d", shown(self.path), first, last)

    # -- the clock ---------------------------------------------------------------------------

    def _now(self) -> datetime:
        """Now, from the store's clock, in UTC: every timestamp the store writes starts here."""
        return as_utc(self._clock())

    # -- errors ------------------------------------------------------------------------------

    @contextmanager
    def _errors(self, doing: str = "cannot be used") -> Iterator[None]:
        """Turn a database error the operator must fix into a :class:`StoreError` that names
        the store; let programming errors through unchanged (see :mod:`storage.errors`)."""
        try:
            yield
        except sqlite3.Error as exc:
            problem = operator_problem(exc)
            if problem is None:
                raise
            raise StoreError(f"store {shown(self.path)} {doing}: {exc} ({problem})") from exc

    # -- writing -----------------------------------------------------------------------------

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction at a time, ``BEGIN IMMEDIATE`` to ``COMMIT``; rolled back on any
        error (or cancellation), the commit's included. Yields the connection to write with."""
        async with self._write_lock:
            with self._errors():
                await self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                    await self._db.execute("COMMIT")
                except BaseException:
                    await self._rollback()
                    raise

    async def _rollback(self) -> None:
        """Undo the open transaction. SQLite has already undone it after some errors (a full disk,
        an I/O error), and a failing ROLLBACK must not hide the error that led to it."""
        if not self._db.in_transaction:
            return
        try:
            await self._db.execute("ROLLBACK")
        except sqlite3.Error as exc:
            log.warning("store %s: rollback failed: %s", shown(self.path), exc)

    async def _execute_in(self, sql: str, values: Sequence[Any], before: Sequence[Any] = ()) -> None:
        """A write with an ``IN ({marks})`` list, chunk by chunk; inside :meth:`_transaction`."""
        for text, params in in_chunks(sql, values, before):
            await self._db.execute(text, params)

    # -- reading -----------------------------------------------------------------------------

    async def _fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        """Every row of a query."""
        with self._errors():
            async with self._db.execute(sql, params) as cursor:
                return list(await cursor.fetchall())

    async def _fetchone(self, sql: str, params: Params = ()) -> Row | None:
        """The first row of a query, if any."""
        with self._errors():
            async with self._db.execute(sql, params) as cursor:
                return await cursor.fetchone()

    async def _scalar(self, sql: str, params: Params = ()) -> int:
        """The first column of the first row as an int; 0 when there is no row or it is NULL."""
        row = await self._fetchone(sql, params)
        return int(row[0]) if row is not None and row[0] is not None else 0

    async def _fetch_in(self, sql: str, values: Sequence[Any], before: Sequence[Any] = (),
                        after: Sequence[Any] = ()) -> list[Row]:
        """The rows of a query with an ``IN ({marks})`` list, asked chunk by chunk (see
        :func:`storage.sqlite.sql.in_chunks`); each chunk's rows in the query's order."""
        rows: list[Row] = []
        for text, params in in_chunks(sql, values, before, after):
            rows.extend(await self._fetchall(text, params))
        return rows
