"""The store: what has been seen, what each channel follows and what it got.

The rest of the code talks to :class:`storage.base.Store`, or to the one role of it it needs
(:class:`~storage.base.IngestStore`, :class:`~storage.base.LookupStore`, ...); :func:`open_store`
picks the engine: the embedded SQLite file (:mod:`storage.sqlite`, the default) or a PostgreSQL
database named by a ``postgresql://`` URL (:mod:`storage.postgres`). Nothing in this package
knows Discord or HTTP.
"""

from __future__ import annotations

from pathlib import Path

from storage.base import (
    AdminStore,
    ChannelStore,
    CorpusStore,
    DeliveryStore,
    FeedStore,
    IngestStore,
    LeaseStore,
    LookupStore,
    SaveStore,
    Store,
)
from storage.clock import Clock, utc_now
from storage.errors import StoreError
from storage.models import (
    BatchResult,
    FeedState,
    PaperRecord,
    StoredPaper,
    StoredSummary,
    SummaryRecord,
)
from storage.sqlite import SQLiteStore
from storage.sqlite import open_store as open_sqlite

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(location: str | Path) -> bool:
    """Whether ``location`` names a PostgreSQL database (else it is an SQLite file's path)."""
    return str(location).startswith(POSTGRES_SCHEMES)


def shown_location(location: str | Path) -> str:
    """The store's location as the operator may read it: an absolute path, or a URL without
    its password."""
    if is_postgres_url(location):
        from storage.postgres import shown_url  # late: asyncpg only for PostgreSQL stores

        return shown_url(str(location))
    return str(location) if str(location) == ":memory:" else str(Path(location).expanduser().absolute())


async def open_store(location: str | Path, *, clock: Clock = utc_now) -> Store:
    """Open the store at ``location``, migrated and ready: a ``postgresql://`` URL opens the
    PostgreSQL store, anything else the SQLite file at that path. ``clock`` gives every
    timestamp the store writes or compares."""
    if is_postgres_url(location):
        from storage.postgres import open_postgres  # late: asyncpg only for PostgreSQL stores

        return await open_postgres(str(location), clock=clock)
    return await open_sqlite(location, clock=clock)

__all__ = [
    "AdminStore",
    "BatchResult",
    "ChannelStore",
    "Clock",
    "CorpusStore",
    "DeliveryStore",
    "FeedState",
    "FeedStore",
    "IngestStore",
    "LeaseStore",
    "LookupStore",
    "PaperRecord",
    "SQLiteStore",
    "SaveStore",
    "Store",
    "StoreError",
    "StoredPaper",
    "StoredSummary",
    "SummaryRecord",
    "is_postgres_url",
    "open_sqlite",
    "open_store",
    "shown_location",
]
