"""Leases on PostgreSQL: a named role (the poller) held by one process at a time until it expires.

Holders may be on other machines, so a lease ends by time: its holder renews it while it works,
and once ``expires_at`` has passed anyone may take it (a holder known to be dead -- the poller
judges only processes of its own host -- is replaced at once, as on SQLite). The decision is
:func:`storage.decisions.may_take_lease`, made under a transaction-level advisory lock on the
lease's name, so two processes asking at once get one answer. Times are the store clock's,
in milliseconds.
"""

from __future__ import annotations

import zlib
from datetime import timedelta

from storage.clock import iso_millis
from storage.decisions import may_take_lease
from storage.models import Lease
from storage.postgres.base import PostgresBase


def lease_lock(name: str) -> int:
    """The advisory lock key of a lease (above the store's fixed keys, a 31-bit number)."""
    return 16 + zlib.crc32(f"lease:{name}".encode()) % (2**31 - 16)


class LeasesMixin(PostgresBase):
    """:class:`storage.base.LeaseStore` on PostgreSQL."""

    async def acquire_lease(self, name: str, holder: str, ttl_seconds: float,
                            replacing: str | None = None) -> Lease:
        """Take (or renew) the lease ``name`` for ``ttl_seconds`` unless another holder's is live;
        ``replacing`` names a holder known to be dead, whose lease is taken at once."""
        now = self._now()
        expires = iso_millis(now + timedelta(seconds=ttl_seconds))
        async with self._transaction():
            await self._lock(lease_lock(name))
            row = await self._fetchrow("SELECT holder, expires_at FROM leases WHERE name = $1", name)
            current, until = (row[0], row[1]) if row else (None, None)
            if not may_take_lease(current, until, holder, replacing, now):
                return Lease(name, str(current), str(until), acquired=False)
            # A renewal keeps the time it was first acquired; a new holder starts it afresh.
            await self._execute(
                "INSERT INTO leases (name, holder, acquired_at, expires_at) VALUES ($1, $2, $3, $4)"
                " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,"
                " acquired_at = CASE WHEN leases.holder = excluded.holder THEN leases.acquired_at"
                "  ELSE excluded.acquired_at END, expires_at = excluded.expires_at",
                name, holder, iso_millis(now), expires)
        return Lease(name, holder, expires, acquired=True)

    async def release_lease(self, name: str, holder: str) -> None:
        """Give the lease up (only if ``holder`` still holds it)."""
        await self._execute("DELETE FROM leases WHERE name = $1 AND holder = $2", name, holder)

    async def live_leases(self, prefix: str) -> list[Lease]:
        """The leases whose names start with ``prefix`` and have not expired, by name."""
        rows = await self._fetch(
            "SELECT name, holder, expires_at FROM leases WHERE left(name, $1) = $2 AND expires_at > $3"
            " ORDER BY name", len(prefix), prefix, iso_millis(self._now()))
        return [Lease(str(r[0]), str(r[1]), str(r[2]), acquired=False) for r in rows]
