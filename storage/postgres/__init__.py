"""The PostgreSQL store: every role of :mod:`storage.base` on a server shared by many processes.

Selected by ``[storage] url = "postgresql://..."`` (or ``$PAPERBOY_STORAGE_URL``) through
:func:`storage.open_store`. One module per role (``ingest``, ``feeds``, ``channels``,
``delivery``, ``leases``, ``lookup``, ``saves``, ``corpus``, ``admin``), each a mixin over the
base in ``base`` (an asyncpg pool, transactions, advisory locks, migrations, errors, clock);
``store`` puts them together as :class:`PostgresStore`. ``schema`` reads the numbered
migrations in ``migrations/``, ``rows`` converts rows, ``search`` spells words for the
full-text indexes and ``known_item`` reads search candidates.

The driver is asyncpg: maintained, asyncio-native, with its own connection pool and the binary
protocol (fast bulk ``executemany`` for 2,000-item feed batches).
"""

from storage.postgres.base import shown_url
from storage.postgres.store import PostgresStore, open_postgres

URL_SCHEMES = ("postgresql://", "postgres://")

__all__ = ["URL_SCHEMES", "PostgresStore", "open_postgres", "shown_url"]
