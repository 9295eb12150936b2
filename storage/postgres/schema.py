"""The PostgreSQL schema's history: the numbered migrations in ``storage/postgres/migrations``.

A migration is applied once, in order, and never edited after it shipped. The table
``paperboy_schema`` holds one row per migration applied (see
:meth:`storage.postgres.base.PostgresBase._migrate`).
"""

from __future__ import annotations

import re
from importlib import resources

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def migrations() -> list[tuple[int, str, str]]:
    """(number, file name, SQL) of every migration, in order."""
    found = []
    for entry in resources.files("storage.postgres.migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def newest_version() -> int:
    """The schema version this code writes: the number of the last migration."""
    return migrations()[-1][0]
