"""Moving a store from its SQLite file to PostgreSQL (``paperboy migrate-store --to URL``).

Every table both schemas share (:data:`storage.transfer_source.TABLES`) is copied row for row,
keys and ids included, so the ingest log, the channels' cursors, what each channel was delivered
and the outbox's pending messages (with their nonces) mean on PostgreSQL what they meant in the
file: no channel gets an old item again and no pending message is lost. What PostgreSQL keeps and
SQLite does not is derived on the way: the papers' search vectors and category keys (spelled by
:mod:`storage.postgres.search`, as the PostgreSQL store's own ingest does), the ingest counter
(it continues after the source's last number) and the identity sequences (after the copied ids).

The source is read through a read-only connection (:class:`storage.transfer_source.SourceStore`)
and never changed. The target is written in ONE transaction holding EXCLUSIVE locks on its
tables: a failure at any point (a refused row, a lost connection, Ctrl-C, a check that fails)
leaves it exactly as it was, so a second run never meets half a copy, and nothing else writes in
between. Rows go in batches: ``COPY`` into a temporary table, then one ``INSERT ... SELECT`` that
skips the keys the target already has (``ON CONFLICT DO NOTHING``). Before anything is written,
a target that is not empty must be an earlier copy of this source: every row it holds must be in
the source, field for field; otherwise it is another store's data (or was written since the
copy) and is refused.

Verified before the commit: every table's row count, and a seeded sample of rows (all of a small
table) read back from both sides and compared field by field after normalising the types. The
identity sequences move only after that, just before the commit: ``setval`` is not undone by a
rollback.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from storage.clock import Clock, iso_millis, utc_now
from storage.errors import StoreError
from storage.postgres import open_postgres, shown_url
from storage.postgres.search import SEARCH_VECTOR, category_keys, document, plain
from storage.transfer_source import TABLES, Key, SourceStore, Table, Values

log = logging.getLogger("storage.transfer")

BATCH = 5000  # rows per COPY (and per read of either side)
SAMPLE = 100  # rows per table compared field by field after the copy
LOCK_TIMEOUT = "10s"  # how long to wait for a process that is using the target


@dataclass
class TableReport:
    """One table after the copy: rows in the source, in the target before and after, the sample."""

    table: str
    source: int
    before: int
    after: int = 0
    sampled: int = 0
    mismatches: list[str] = field(default_factory=list)

    @property
    def copied(self) -> int:
        return self.after - self.before

    @property
    def ok(self) -> bool:
        return self.after == self.source and not self.mismatches


@dataclass
class TransferReport:
    """What a migration copied and whether it verified."""

    source: str
    target: str  # the URL without its password
    last_seq: int
    tables: list[TableReport]

    @property
    def verified(self) -> bool:
        return all(t.ok for t in self.tables)

    def problems(self) -> list[str]:
        """One line per failed check, naming its table."""
        found = [f"{t.table}: {t.after} rows in PostgreSQL, {t.source} in SQLite"
                 for t in self.tables if t.after != t.source]
        return found + [f"{t.table}: {m}" for t in self.tables for m in t.mismatches]

    def text(self) -> str:
        """The table of counts the command line prints, then what failed (if anything)."""
        header = ("table", "sqlite", "postgresql", "copied", "compared", "")
        rows = [(t.table, str(t.source), str(t.after), str(t.copied), str(t.sampled),
                 "ok" if t.ok else "FAILED") for t in self.tables]
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
                 for row in [header, *rows]]
        verdict = (f"verified: {self.target} holds the store of {self.source} (ingest seq {self.last_seq})"
                   if self.verified else "NOT verified:\n" + "\n".join(self.problems()))
        return "\n".join([*lines, "", verdict])

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "target": self.target, "verified": self.verified,
                "last_seq": self.last_seq, "problems": self.problems(),
                "tables": [{"table": t.table, "sqlite": t.source, "postgresql": t.after,
                            "before": t.before, "copied": t.copied, "sampled": t.sampled, "ok": t.ok}
                           for t in self.tables]}


class TransferFailed(StoreError):
    """The migration was refused or did not verify; the target was left as it was."""

    def __init__(self, message: str, report: TransferReport | None = None) -> None:
        super().__init__(message)
        self.report = report


async def migrate_store(source_path: str | Path, target_url: str, *, sample: int = SAMPLE, seed: int = 0,
                        clock: Clock = utc_now) -> TransferReport:
    """Copy the SQLite store at ``source_path`` into the PostgreSQL database at ``target_url``
    (empty, or an earlier copy of the same source) and verify it; :class:`TransferFailed` (a
    :class:`StoreError`) when refused or not verified, with nothing written."""
    if not target_url.startswith(("postgresql://", "postgres://")):
        raise ValueError(f"{target_url!r} is not a postgresql:// URL")
    source = await asyncio.to_thread(SourceStore.open, source_path)
    try:
        now = iso_millis(clock())
        leases = await asyncio.to_thread(source.live_leases, now)
        if leases:
            name, holder, until = leases[0]
            raise TransferFailed(f"store {source.path} is in use: {holder} holds its {name!r} lease "
                                 f"until {until}; stop the bot first (or wait until then)")
        target = await open_postgres(target_url, clock=clock, pool_size=2)
        try:
            report = await _transfer(source, target, sample, seed, now)
            # Statistics now, not at autovacuum's leisure: search reads its common words' counts
            # from them (storage.postgres.lookup), and the planner its estimates.
            await target._execute("ANALYZE")
            return report
        finally:
            await target.close()
    finally:
        source.close()


async def _transfer(source: SourceStore, target: Any, sample: int, seed: int, now: str) -> TransferReport:
    """Check, copy and verify in one transaction of the target (see the module's docstring)."""
    shown = shown_url(target.url)
    async with target._transaction() as db:
        names = ", ".join(f'"{t.name}"' for t in TABLES)
        await db.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        try:
            await db.execute(f"LOCK TABLE {names}, ingest_counter, leases IN EXCLUSIVE MODE")
        except asyncpg.exceptions.LockNotAvailableError:
            raise TransferFailed(f"store {shown} is in use: another process kept its tables locked for "
                                 f"{LOCK_TIMEOUT}; stop every Paperboy using it first") from None
        await _check_target_columns(db, shown)
        busy = await db.fetchrow("SELECT name, holder, expires_at FROM leases WHERE expires_at > $1"
                                 " ORDER BY name LIMIT 1", now)
        if busy is not None:
            raise TransferFailed(f"store {shown} is in use: {busy[1]} holds its {busy[0]!r} lease until "
                                 f"{busy[2]}; stop every Paperboy using it first")
        last_seq = await asyncio.to_thread(source.last_seq)
        counter = int(await db.fetchval("SELECT last_seq FROM ingest_counter WHERE id"))
        if counter > last_seq:
            raise TransferFailed(f"store {shown} has handed out ingest numbers up to {counter}, past the "
                                 f"source's {last_seq}: it holds another store's data; nothing was written")
        reports = []
        for table in TABLES:
            before = int(await db.fetchval(f'SELECT count(*) FROM "{table.name}"'))
            if before:
                await _check_earlier_copy(db, source, table, shown)
            reports.append(TableReport(table.name, await asyncio.to_thread(source.count, table), before))
        for table, report in zip(TABLES, reports, strict=True):
            if report.before < report.source:  # else the target holds all of it (checked above)
                await _copy(db, source, table)
        await db.execute("UPDATE ingest_counter SET last_seq = $1 WHERE id AND last_seq < $1", last_seq)
        for table, report in zip(TABLES, reports, strict=True):
            report.after = int(await db.fetchval(f'SELECT count(*) FROM "{table.name}"'))
            report.sampled, report.mismatches = await _compare_sample(db, source, table, sample, seed)
            log.info("migrate-store: %s: %d rows in SQLite, %d in PostgreSQL (%d copied), %d compared",
                     table.name, report.source, report.after, report.copied, report.sampled)
        result = TransferReport(str(source.path), shown, last_seq, reports)
        if not result.verified:
            raise TransferFailed(f"the copy into {shown} did not verify ({'; '.join(result.problems()[:3])});"
                                 " it was rolled back: the target is as it was", result)
        for table in TABLES:  # last: a sequence moved by setval stays moved even on a rollback
            if table.identity:
                await _continue_identity(db, table)
    return result


async def _check_target_columns(db: Any, shown: str) -> None:
    """The target's tables have the columns the copy writes (a schema this code knows)."""
    for table in TABLES:
        rows = await db.fetch("SELECT column_name FROM information_schema.columns WHERE table_schema ="
                              " current_schema() AND table_name = $1", table.name)
        found = {str(r[0]) for r in rows}
        wanted = set(table.columns) | set(table.derived)
        if found != wanted:
            raise TransferFailed(f"store {shown}: table {table.name} has columns "
                                 f"{sorted(found ^ wanted)} the copy does not expect; nothing was written")


async def _check_earlier_copy(db: Any, source: SourceStore, table: Table, shown: str) -> None:
    """Refuse a target whose rows are not all the source's own, field for field."""
    columns = ", ".join(f'"{c}"' for c in table.columns)
    cursor = await db.cursor(f'SELECT {columns} FROM "{table.name}"')
    while batch := await cursor.fetch(BATCH):
        rows = [table.normal(tuple(r)) for r in batch]
        theirs = await asyncio.to_thread(source.rows_by_key, table, [table.key_of(r) for r in rows])
        for row in rows:
            key = table.key_of(row)
            if key not in theirs:
                raise TransferFailed(
                    f"store {shown} holds rows the source does not have ({table.name} {_key_text(key)}): "
                    "another store's data, or written there after an earlier copy; nothing was written "
                    "(migrate into an empty database)")
            difference = _difference(table, row, theirs[key])
            if difference:
                raise TransferFailed(
                    f"store {shown} holds rows that differ from the source ({table.name} {_key_text(key)}: "
                    f"{difference}): another store's data, or an earlier copy the source has moved on "
                    "from; nothing was written (migrate into an empty database)")


# The texts a paper's derived columns are made from, staged beside its own columns (_paper_extras).
_PAPER_INPUTS = (("category_keys", "category_keys", "category_keys"),
                 ("''::text AS search_text", "search", SEARCH_VECTOR.format("search_text")),
                 ("''::text AS title_words", "title_search", "to_tsvector('simple', title_words)"),
                 (None, "title_plain", "title_words"))


def _staging_sql(table: Table) -> tuple[str, list[str], str]:
    """(CREATE of a temporary table for one batch, its columns, the INSERT from it into the
    table): rows reach the server by COPY, and one INSERT ... SELECT skips the keys it has."""
    quoted = [f'"{c}"' for c in table.columns]
    staged, columns, values = list(quoted), [*table.columns], list(quoted)
    if table.derived:
        staged += [s for s, _, _ in _PAPER_INPUTS if s]
        columns += ["category_keys", "search_text", "title_words"]
        values += [v for _, _, v in _PAPER_INPUTS]
    targets = quoted + [f'"{t}"' for _, t, _ in _PAPER_INPUTS if table.derived]
    name = f'"migrate_{table.name}"'
    overriding = " OVERRIDING SYSTEM VALUE" if table.identity else ""
    return (f'CREATE TEMP TABLE {name} ON COMMIT DROP AS SELECT {", ".join(staged)} FROM "{table.name}"'
            " WITH NO DATA", columns,
            f'INSERT INTO "{table.name}" ({", ".join(targets)}){overriding} SELECT {", ".join(values)}'
            f" FROM {name} ON CONFLICT DO NOTHING")


def _paper_extras(table: Table, values: Values) -> Values:
    """A paper's category keys and the texts of its search vectors, as the PostgreSQL store
    spells them when it ingests (:mod:`storage.postgres.search`)."""
    row = dict(zip(table.columns, values, strict=True))
    title = str(row["title"])
    return (category_keys(json.loads(row["categories"])),
            document(title, json.loads(row["authors"]), str(row["abstract"])), plain(title))


def _read_batch(cursor: Any, table: Table) -> list[Values]:
    """The next batch of source rows as the target's parameters (blocking: runs in a thread)."""
    rows = [table.normal(r) for r in cursor.fetchmany(BATCH)]
    return [(*r, *_paper_extras(table, r)) for r in rows] if table.derived else rows


async def _copy(db: Any, source: SourceStore, table: Table) -> None:
    """Insert every source row of the table the target does not have yet, batch by batch; the
    next batch is read (and its words spelled) in a thread while the server writes this one."""
    cursor = await asyncio.to_thread(source.cursor, table)
    create, columns, insert = _staging_sql(table)
    staging = f"migrate_{table.name}"
    await db.execute(create)
    pending = asyncio.ensure_future(asyncio.to_thread(_read_batch, cursor, table))
    try:
        while rows := await pending:
            pending = asyncio.ensure_future(asyncio.to_thread(_read_batch, cursor, table))
            try:
                await db.copy_records_to_table(staging, records=rows, columns=columns)
                await db.execute(insert)
                await db.execute(f'TRUNCATE "{staging}"')
            except (asyncpg.PostgresError, asyncpg.exceptions.DataError) as exc:
                if isinstance(exc, asyncpg.PostgresError) and str(exc.sqlstate)[:2] not in ("22", "23"):
                    raise  # not the row's fault (a lost connection...): the store's own errors say what
                raise TransferFailed(f"PostgreSQL refused a row of {table.name} ({exc}); the copy was "
                                     "rolled back: the target is as it was") from exc
    finally:
        if not pending.done():  # the thread still reads the source: let it finish before it closes
            await asyncio.wait([pending])


async def _continue_identity(db: Any, table: Table) -> None:
    """Move the table's identity sequence past the copied ids (never back)."""
    sequence = await db.fetchval("SELECT pg_get_serial_sequence($1, $2)", table.name, table.identity)
    top = await db.fetchval(f'SELECT max("{table.identity}") FROM "{table.name}"')
    if sequence is None or top is None:
        return
    row = await db.fetchrow(f"SELECT last_value, is_called FROM {sequence}")
    high = int(row[0]) if row[1] else int(row[0]) - 1
    if int(top) > high:
        await db.execute("SELECT setval($1, $2)", sequence, int(top))


def _sample_keys(source: SourceStore, table: Table, size: int, seed: int) -> list[Key]:
    """A seeded uniform sample of the table's keys (all when it is smaller): reservoir sampling,
    so a million rows are read as keys once and never held (blocking: runs in a thread)."""
    chosen: list[Key] = []
    pick = random.Random(f"{seed}:{table.name}")
    cursor = source.cursor(table, keys_only=True)
    seen = 0
    while batch := cursor.fetchmany(BATCH * 10):
        for key in batch:
            seen += 1
            if len(chosen) < size:
                chosen.append(tuple(key))
            elif (slot := pick.randrange(seen)) < size:
                chosen[slot] = tuple(key)
    return chosen


async def _compare_sample(db: Any, source: SourceStore, table: Table, size: int,
                          seed: int) -> tuple[int, list[str]]:
    """(rows compared, what differs): sampled rows read back from both sides, field by field."""
    keys = await asyncio.to_thread(_sample_keys, source, table, size, seed)
    theirs = await asyncio.to_thread(source.rows_by_key, table, keys)
    columns = ", ".join(f'"{c}"' for c in table.columns)
    where = " AND ".join(f'"{k}" = ${n}' for n, k in enumerate(table.key, start=1))
    statement = await db.prepare(f'SELECT {columns} FROM "{table.name}" WHERE {where}')
    mismatches: list[str] = []
    for key in keys:
        found = await statement.fetchrow(*key)
        if found is None:
            mismatches.append(f"{_key_text(key)} is missing in PostgreSQL")
            continue
        difference = _difference(table, table.normal(tuple(found)), theirs[key])
        if difference:
            mismatches.append(f"{_key_text(key)}: {difference}")
    return len(keys), mismatches


def _difference(table: Table, target: Values, source: Values) -> str | None:
    """The first column whose values differ, said for the operator; None when the rows agree."""
    for column, mine, theirs in zip(table.columns, target, source, strict=True):
        if mine != theirs:
            return f"{column} is {_short(mine)} in PostgreSQL, {_short(theirs)} in SQLite"
    return None


def _key_text(key: Sequence[Any]) -> str:
    return "(" + ", ".join(_short(k) for k in key) + ")"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
