"""The SQLite store: one class made of the roles' mixins over the base.

Each mixin implements one role protocol of :mod:`storage.base` in a module of its own; the base
(:mod:`storage.sqlite.base`) holds the connection, the write lock, the clock and the error
sorting they all share. A mixin that builds on another says so by inheriting it (ingest reads
papers and writes feed state; delivery changes channel settings), and the order below keeps
each such mixin ahead of what it builds on.
"""

from __future__ import annotations

from pathlib import Path

from storage.base import Store
from storage.clock import Clock, utc_now
from storage.sqlite.admin import AdminMixin
from storage.sqlite.base import SQLiteBase
from storage.sqlite.channels import ChannelsMixin
from storage.sqlite.corpus import CorpusMixin
from storage.sqlite.delivery import DeliveryMixin
from storage.sqlite.feeds import FeedsMixin
from storage.sqlite.ingest import IngestMixin
from storage.sqlite.leases import LeasesMixin
from storage.sqlite.lookup import LookupMixin
from storage.sqlite.saves import SavesMixin


class SQLiteStore(IngestMixin, FeedsMixin, DeliveryMixin, ChannelsMixin, LeasesMixin, LookupMixin,
                  SavesMixin, CorpusMixin, AdminMixin, SQLiteBase):
    """The :class:`storage.base.Store` on one SQLite file in WAL mode, through aiosqlite."""


async def open_store(path: str | Path, *, clock: Clock = utc_now) -> SQLiteStore:
    """Open the embedded store at ``path`` (migrated and ready); ``clock`` gives every timestamp
    it writes or compares (an aware datetime; the real UTC time by default)."""
    return await SQLiteStore.open(path, clock=clock)


def _is_a_store(store: SQLiteStore) -> Store:
    """Never called: here mypy checks that :class:`SQLiteStore` implements every role of Store."""
    return store
