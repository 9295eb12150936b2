"""The embedded store: one SQLite file in WAL mode, through aiosqlite.

One module per role of :mod:`storage.base` (``ingest``, ``feeds``, ``channels``, ``delivery``,
``leases``, ``lookup``, ``admin``), each a mixin over the small base in ``base`` (connection,
write lock and transactions, reads, errors, clock, migrations); ``store`` puts them together as
:class:`SQLiteStore`. ``schema`` reads the migrations, ``sql`` and ``rows`` hold the SQL text and
row helpers they share.
"""

from storage.sqlite.schema import migrations as _migrations
from storage.sqlite.store import SQLiteStore, open_store

__all__ = ["SQLiteStore", "_migrations", "open_store"]
