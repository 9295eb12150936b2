"""The schema's history: the numbered SQL migrations shipped in ``storage/migrations``.

A migration is applied once, in order, and never edited after it shipped: stores in the field
have run it. ``PRAGMA user_version`` holds the number of the last one applied (see
:meth:`storage.sqlite.base.SQLiteBase._migrate`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from storage.migration_files import read_migrations


def migrations() -> list[tuple[int, str, str]]:
    """(number, file name, SQL) of every migration, in order."""
    return read_migrations("storage.migrations")


def newest_version() -> int:
    """The schema version this code writes: the number of the last migration."""
    return migrations()[-1][0]


def statements(script: str) -> Iterator[str]:
    """The complete SQL statements of a migration script, one by one (triggers included).

    Run one by one inside the migration's own transaction: ``executescript`` would COMMIT first.
    """
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
