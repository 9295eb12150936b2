"""The PostgreSQL schema's history: the numbered migrations in ``storage/postgres/migrations``.

A migration is applied once, in order, and never edited after it shipped. The table
``paperboy_schema`` holds one row per migration applied (see
:meth:`storage.postgres.base.PostgresBase._migrate`).
"""

from __future__ import annotations

from storage.migration_files import read_migrations


def migrations() -> list[tuple[int, str, str]]:
    """(number, file name, SQL) of every migration, in order."""
    return read_migrations("storage.postgres.migrations")


def newest_version() -> int:
    """The schema version this code writes: the number of the last migration."""
    return migrations()[-1][0]
