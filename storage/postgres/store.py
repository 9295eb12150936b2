"""The PostgreSQL store: one class made of the roles' mixins over the base.

The same composition as :class:`storage.sqlite.store.SQLiteStore`: each mixin implements one
role protocol of :mod:`storage.base` in a module of its own, over :mod:`storage.postgres.base`
(the pool, transactions, migrations, errors and the clock).
"""

from __future__ import annotations

from storage.base import Store
from storage.clock import Clock, utc_now
from storage.postgres.admin import AdminMixin
from storage.postgres.base import POOL_SIZE, PostgresBase
from storage.postgres.channels import ChannelsMixin
from storage.postgres.corpus import CorpusMixin
from storage.postgres.delivery import DeliveryMixin
from storage.postgres.feeds import FeedsMixin
from storage.postgres.ingest import IngestMixin
from storage.postgres.leases import LeasesMixin
from storage.postgres.lookup import LookupMixin
from storage.postgres.saves import SavesMixin


class PostgresStore(IngestMixin, FeedsMixin, DeliveryMixin, ChannelsMixin, LeasesMixin, LookupMixin,
                    SavesMixin, CorpusMixin, AdminMixin, PostgresBase):
    """The :class:`storage.base.Store` on a PostgreSQL database, through an asyncpg pool."""


async def open_postgres(url: str, *, clock: Clock = utc_now, pool_size: int = POOL_SIZE) -> PostgresStore:
    """Open the store in the database at ``url`` (``postgresql://user:password@host:port/db``),
    migrated and ready; ``clock`` gives every timestamp it writes or compares."""
    return await PostgresStore.open(url, clock=clock, pool_size=pool_size)


def _is_a_store(store: PostgresStore) -> Store:
    """Never called: here mypy checks that :class:`PostgresStore` implements every role of Store."""
    return store
