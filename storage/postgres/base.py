"""The PostgreSQL store's base: a connection pool, transactions, migrations, errors, the clock.

Every role of the store (:mod:`storage.postgres.ingest`, ``feeds``, ``channels``, ...) is a mixin
over :class:`PostgresBase` and touches the database only through it:

* :meth:`PostgresBase._transaction` -- every write: one pooled connection, ``BEGIN`` to
  ``COMMIT``, rolled back on any error or cancellation. Inside it, the helpers below run on that
  connection (a context variable remembers it), so a role's reads see its own writes; a nested
  ``_transaction`` joins the open one.
* :meth:`PostgresBase._fetch`, ``_fetchrow``, ``_scalar``, ``_execute``, ``_executemany`` --
  every statement. An ``IN`` list is one array parameter (``= ANY($1)``): no chunks needed.
* :meth:`PostgresBase._errors` -- the one place database errors are sorted: what the operator
  must fix (the server is unreachable, the disk is full, the database is read-only) becomes a
  :class:`~storage.errors.StoreError` naming the store; programming errors stay as they are.
* :meth:`PostgresBase._migrate` -- the numbered migrations, each in its own transaction under an
  advisory lock, so processes opening one database at once migrate it once.

Locks that stand in for SQLite's single writer are transaction-level advisory locks in the
namespace :data:`LOCK_NAMESPACE`; they end with their transaction, whatever happens to it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any, Self
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from storage.clock import Clock, as_utc, utc_now
from storage.errors import StoreError
from storage.postgres.schema import migrations, newest_version

log = logging.getLogger("storage.postgres")

Row = Any  # an asyncpg.Record: read by column name or position
LOCK_NAMESPACE = 0x50424F59  # "PBOY": the first key of every advisory lock the store takes
MIGRATION_LOCK = 0  # the second key: migrations
TOPICS_LOCK = 1  # the second key: adding topics (their order stamps must only grow)
POOL_SIZE = 10
# Every statement is planned for its own parameters: asyncpg prepares each statement once per
# connection, and after five runs PostgreSQL may keep one generic plan for all of them. For a
# search, whose words may match ten papers or half a million, one plan for all is seconds wrong.
# No JIT: the store's statements run for milliseconds, and compiling one costs 20 ms or more
# (a search read whose estimated cost passes jit_above_cost: 250 ms instead of 10, measured).
SERVER_SETTINGS = {"application_name": "paperboy", "plan_cache_mode": "force_custom_plan", "jit": "off"}

_CURRENT: ContextVar[tuple[object, Any] | None] = ContextVar("paperboy_pg_transaction", default=None)

# SQLSTATE classes (and codes) that are the operator's to fix, with what to do about them.
_OPERATOR_CLASSES = {
    "08": "the connection to the server failed: is PostgreSQL running and reachable?",
    "53": "the server ran out of resources (disk, memory or connections): free some",
    "57": "the server is shutting down or refused the work: check the server",
    "58": "the server's system failed (an I/O error): check the server's disk",
    "XX": "the server reported internal damage: restore the database from a dump",
    "28": "the server refused the login: check the user and password in storage.url",
    "3D": "the database does not exist: create it, or fix the name in storage.url",
}
_OPERATOR_CODES = {
    "25006": "the database is read-only (a standby?): point storage.url at the primary",
    "42501": "permission denied: the user in storage.url needs rights on the store's tables",
}


def shown_url(url: str) -> str:
    """The store's URL as the operator may read it (in logs and messages): no password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def operator_problem(exc: BaseException) -> str | None:
    """What the operator should do about ``exc``, or None when it is a programming error."""
    if isinstance(exc, (OSError, asyncpg.exceptions.ConnectionDoesNotExistError,
                        asyncpg.exceptions.InternalClientError)):
        return _OPERATOR_CLASSES["08"]  # a server gone mid-query, a network that failed
    state = getattr(exc, "sqlstate", None)
    if not isinstance(exc, asyncpg.PostgresError) or not isinstance(state, str):
        return None
    return _OPERATOR_CODES.get(state) or _OPERATOR_CLASSES.get(state[:2])


def affected(status: str) -> int:
    """Rows a statement touched, from its status (``DELETE 3``, ``INSERT 0 1``)."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class PostgresBase:
    """One PostgreSQL database: its pool, the clock and the helpers every role uses."""

    def __init__(self, pool: Any, url: str, *, clock: Clock = utc_now) -> None:
        self._pool = pool
        self._clock = clock
        self.url = url
        self.created = False  # True when this open made the schema in an empty database

    # -- lifecycle ---------------------------------------------------------------------------

    @classmethod
    async def open(cls, url: str, *, clock: Clock = utc_now, pool_size: int = POOL_SIZE) -> Self:
        """Connect a pool to ``url`` and run pending migrations; a :class:`StoreError` when the
        server cannot be reached or the database is not (and cannot become) a Paperboy store."""
        try:
            pool = await asyncpg.create_pool(url, min_size=1, max_size=pool_size,
                                             server_settings=SERVER_SETTINGS)
        except (OSError, asyncpg.PostgresError, asyncpg.exceptions.InterfaceError) as exc:
            hint = operator_problem(exc) or "check storage.url"
            raise StoreError(f"store {shown_url(url)} cannot be opened: {exc} ({hint})") from None
        store = cls(pool, url, clock=clock)
        try:
            store.created = await store._migrate()
        except BaseException:
            await pool.close()
            raise
        return store

    async def close(self) -> None:
        """Wait for the work in progress, then close every connection of the pool."""
        async with self._errors():
            await self._pool.close()

    async def _migrate(self) -> bool:
        """Apply every migration not yet in ``paperboy_schema``, each in its own transaction.

        Each transaction first takes the migration lock and reads the version under it, so a
        second process that waited sees the first one's work and does not repeat it. A database
        holding tables of another program is refused before anything is written. Returns whether
        the schema was created by this call.
        """
        newest = newest_version()
        first: int | None = None
        last: int | None = None
        for number, name, sql in migrations():
            async with self._transaction() as db:
                await db.execute("SELECT pg_advisory_xact_lock($1, $2)", LOCK_NAMESPACE, MIGRATION_LOCK)
                current = await self._version(db, newest)
                if number <= current:
                    continue
                log.debug("applying store migration %s", name)
                await db.execute(sql)
                await db.execute("INSERT INTO paperboy_schema (version, name) VALUES ($1, $2)", number, name)
            first = current if first is None else first
            last = number
        if last is None:
            return False
        if first == 0:
            log.debug("created a new store in %s (schema %d)", shown_url(self.url), last)
        else:
            log.info("upgraded the store in %s from schema %d to %d", shown_url(self.url), first, last)
        return first == 0

    async def _version(self, db: Any, newest: int) -> int:
        """The schema version under the migration lock; creates the version table in an empty
        schema, refuses a schema of another program or of a newer Paperboy."""
        table = await db.fetchval("SELECT to_regclass('paperboy_schema') IS NOT NULL")
        if not table:
            others = await db.fetch(
                "SELECT c.relname FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace"
                " AND c.relkind IN ('r', 'v', 'p') ORDER BY c.relname LIMIT 5")
            if others:
                names = ", ".join(str(r[0]) for r in others)
                raise StoreError(f"store {shown_url(self.url)} holds tables Paperboy did not create "
                                 f"({names}); Paperboy left it untouched: point storage.url at an "
                                 "empty database (or schema) or a Paperboy store")
            # applied_at is the server's time: a record for the operator, not the store's data
            await db.execute("CREATE TABLE paperboy_schema (version integer PRIMARY KEY,"
                             " name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())")
            return 0
        found = int(await db.fetchval("SELECT coalesce(max(version), 0) FROM paperboy_schema"))
        if found > newest:
            raise StoreError(f"store {shown_url(self.url)} was written by a newer Paperboy (schema "
                             f"{found}, this one knows up to {newest}): upgrade Paperboy")
        return found

    # -- the clock ---------------------------------------------------------------------------

    def _now(self) -> datetime:
        """Now, from the store's clock, in UTC: every timestamp the store writes starts here."""
        return as_utc(self._clock())

    # -- errors ------------------------------------------------------------------------------

    @asynccontextmanager
    async def _errors(self, doing: str = "cannot be used") -> AsyncIterator[None]:
        """Turn a database error the operator must fix into a :class:`StoreError` that names
        the store; let programming errors through unchanged (see :mod:`storage.errors`).

        After a connection problem (a server restarted, a network that failed) the pool's
        connections are replaced before their next use, so the store works again once the server
        does, without a restart of Paperboy."""
        try:
            yield
        except StoreError:
            raise
        except (OSError, asyncpg.PostgresError, asyncpg.exceptions.InterfaceError,
                asyncpg.exceptions.InternalClientError) as exc:
            problem = operator_problem(exc)
            if problem is None:
                raise
            if isinstance(exc, (OSError, asyncpg.exceptions.ConnectionDoesNotExistError,
                                asyncpg.exceptions.InternalClientError)) or \
                    str(getattr(exc, "sqlstate", "")).startswith(("08", "57")):
                await self._pool.expire_connections()
            raise StoreError(f"store {shown_url(self.url)} {doing}: {exc} ({problem})") from exc

    # -- transactions ------------------------------------------------------------------------

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Any]:
        """One transaction on one pooled connection, rolled back on any error (or cancellation);
        yields the connection. Inside one, a nested call joins it."""
        current = _CURRENT.get()
        if current is not None and current[0] is self:
            yield current[1]
            return
        async with self._errors(), self._pool.acquire() as connection, connection.transaction():
            token = _CURRENT.set((self, connection))
            try:
                yield connection
            finally:
                _CURRENT.reset(token)

    async def _lock(self, key: int) -> None:
        """Take the advisory lock (:data:`LOCK_NAMESPACE`, ``key``) until the transaction ends."""
        await self._execute("SELECT pg_advisory_xact_lock($1, $2)", LOCK_NAMESPACE, key)

    def _target(self) -> Any:
        """The open transaction's connection, else the pool (one statement, autocommit)."""
        current = _CURRENT.get()
        return current[1] if current is not None and current[0] is self else self._pool

    # -- statements --------------------------------------------------------------------------

    async def _fetch(self, sql: str, *params: Any) -> list[Row]:
        """Every row of a query."""
        async with self._errors():
            return list(await self._target().fetch(sql, *params))

    async def _fetchrow(self, sql: str, *params: Any) -> Row | None:
        """The first row of a query, if any."""
        async with self._errors():
            return await self._target().fetchrow(sql, *params)

    async def _scalar(self, sql: str, *params: Any) -> int:
        """The first column of the first row as an int; 0 when there is no row or it is NULL."""
        async with self._errors():
            value = await self._target().fetchval(sql, *params)
        return int(value) if value is not None else 0

    async def _execute(self, sql: str, *params: Any) -> int:
        """Run one statement; the number of rows it touched."""
        async with self._errors():
            return affected(str(await self._target().execute(sql, *params)))

    async def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for each row of parameters (nothing for no rows)."""
        if rows:
            async with self._errors():
                await self._target().executemany(sql, rows)
