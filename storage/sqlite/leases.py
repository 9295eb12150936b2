"""Leases: a named role (the poller) held by one process at a time until it expires.

Processes sharing a store agree on who polls through a row in ``leases``: taken for a time,
renewed by its holder, free for anyone once expired, and taken at once from a holder known to be
dead. Whether a lease may be taken is :func:`storage.decisions.may_take_lease`, decided inside
the write transaction, so two processes asking at once get one answer. Times are milliseconds.
"""

from __future__ import annotations

from datetime import timedelta

from storage.clock import iso_millis
from storage.decisions import may_take_lease
from storage.models import Lease
from storage.sqlite.base import SQLiteBase


class LeasesMixin(SQLiteBase):
    """:class:`storage.base.LeaseStore` on SQLite."""

    async def acquire_lease(self, name: str, holder: str, ttl_seconds: float,
                            replacing: str | None = None) -> Lease:
        """Take (or renew) the lease ``name`` for ``ttl_seconds`` unless another holder's is live;
        ``replacing`` names a holder known to be dead, whose lease is taken at once."""
        now = self._now()
        expires = iso_millis(now + timedelta(seconds=ttl_seconds))
        async with self._transaction() as db:
            row = await self._fetchone("SELECT holder, expires_at FROM leases WHERE name = ?", (name,))
            current, until = (row[0], row[1]) if row else (None, None)
            if not may_take_lease(current, until, holder, replacing, now):
                return Lease(name, str(current), str(until), acquired=False)
            # A renewal keeps the time it was first acquired; a new holder starts it afresh.
            await db.execute(
                "INSERT INTO leases (name, holder, acquired_at, expires_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,"
                " acquired_at = CASE WHEN leases.holder = excluded.holder THEN leases.acquired_at"
                "  ELSE excluded.acquired_at END, expires_at = excluded.expires_at",
                (name, holder, iso_millis(now), expires))
        return Lease(name, holder, expires, acquired=True)

    async def release_lease(self, name: str, holder: str) -> None:
        """Give the lease up (only if ``holder`` still holds it)."""
        async with self._transaction() as db:
            await db.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))

    async def live_leases(self, prefix: str) -> list[Lease]:
        """The leases whose names start with ``prefix`` and have not expired, by name."""
        now = iso_millis(self._now())
        rows = await self._fetchall(
            "SELECT name, holder, expires_at FROM leases WHERE substr(name, 1, ?) = ? AND expires_at > ?"
            " ORDER BY name", (len(prefix), prefix, now))
        return [Lease(str(r[0]), str(r[1]), str(r[2]), acquired=False) for r in rows]
