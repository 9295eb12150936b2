"""Several ``paperboy run`` processes on one store: who is alive, and who delivers which channel.

No cluster protocol of our own: everything is a lease in the store (``storage.base.LeaseStore``),
taken and renewed in the store's own transactions.

* Each process renews a ``process:<holder>`` lease every :data:`HEARTBEAT_EVERY` seconds; the live
  ones are the fleet. Discord's global rate limit is per bot token, so each process paces its
  sends at its share of it (:meth:`Fleet.share`).
* Global 429s (the token's limit), :data:`SLOWDOWN_AFTER` close together in any process, set the
  store's ``slowdown`` lease for :data:`SLOWDOWN_TTL` seconds; while it lives, every process paces
  at :data:`SLOWDOWN_FACTOR` of its share. Short and mild: one 429 is often a stall of this host
  bunching requests, and a long halving cost the fleet a third of its throughput
  (bench/fleet.py); the TTL outlasts one heartbeat interval, so every process sees it.
* Before a channel's digest is planned or sent, the process claims ``digest:<channel id>`` for
  :data:`CLAIM_TTL` seconds and renews the claim while it sends; another process skips a claimed
  channel. A process that dies mid-digest leaves its claims to expire (at once when it is known
  dead on this host); the next process to claim the channel resumes its outbox, and the nonces and
  the history check keep every message exactly once.
* A process claims the due channels a batch at a time (:meth:`Fleet.claim_some`: about
  :data:`CLAIM_BATCH_SECONDS` of sending at its pace, smaller as the due channels run out) and
  claims the next batch while it sends the last (``bot.discord_side.delivery.Dispatcher``), so the
  fleet shares a burst of due digests by how fast each process gets through its part, its pacer
  never waits for a claim, and no claim waits minutes for its turn (bench/fleet.py measures it).
"""

from __future__ import annotations

import logging
import math
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from bot.ingest.poller import POLLER_LEASE, died_here
from storage.base import LeaseStore
from storage.models import Lease

log = logging.getLogger(__name__)

PROCESS_PREFIX = "process:"
DIGEST_PREFIX = "digest:"
SLOWDOWN_LEASE = "slowdown"  # held for a while after a global 429: every process paces slower
SLOWDOWN_TTL = 12.0
SLOWDOWN_FACTOR = 0.8
SLOWDOWN_AFTER = 2  # global 429s within SLOWDOWN_WINDOW seconds in one process: a lone one is a stall
SLOWDOWN_WINDOW = 10.0
HEARTBEAT_EVERY = 10.0
HEARTBEAT_TTL = 30.0  # three missed heartbeats: the process is gone
CLAIM_TTL = 120.0
CLAIM_BATCH_SECONDS = 5.0  # a batch of claims: about this much sending at the process's pace (short:
# when the due channels run out, the processes finish their last batches close together)
CLAIM_BATCH_MIN = 25  # ... and never fewer channels than the dispatcher sends to at once


class FleetStore(LeaseStore, Protocol):
    """Leases: heartbeats and digest claims."""


@dataclass(frozen=True)
class Member:
    """A live process of the fleet, as its heartbeat says."""

    holder: str
    expires_at: str


@dataclass(frozen=True)
class FleetView:
    """The fleet as ``paperboy health`` and ``/paperboy status`` show it."""

    processes: list[Member]
    poller: str | None  # who holds the poller lease, if anyone
    claims: dict[str, int]  # holder -> channels it is delivering now

    def lines(self) -> list[str]:
        """One line per process: ``paperboy run (pid 42 on host-1) · polls · delivering 3 channels``."""
        shown = []
        for member in self.processes:
            parts = [member.holder]
            if member.holder == self.poller:
                parts.append("polls")
            if self.claims.get(member.holder):
                parts.append(f"delivering {self.claims[member.holder]} channel(s)")
            shown.append(" · ".join(parts))
        if self.poller is not None and self.poller not in {m.holder for m in self.processes}:
            shown.append(f"{self.poller} · polls (no bot heartbeat: a `paperboy poll`)")
        return shown


async def fleet_view(store: FleetStore) -> FleetView:
    """Who is alive, who polls, who delivers which share of the channels."""
    processes = [Member(lease.holder, lease.expires_at) for lease in await store.live_leases(PROCESS_PREFIX)]
    pollers = await store.live_leases(POLLER_LEASE)
    claims: dict[str, int] = {}
    for lease in await store.live_leases(DIGEST_PREFIX):
        claims[lease.holder] = claims.get(lease.holder, 0) + 1
    return FleetView(processes, pollers[0].holder if pollers else None, claims)


class Fleet:
    """This process's membership of the fleet and its claims on channels."""

    def __init__(self, store: FleetStore, holder: str, *, claim_ttl: float = CLAIM_TTL,
                 heartbeat_ttl: float = HEARTBEAT_TTL) -> None:
        self.store = store
        self.holder = holder
        self.claim_ttl = claim_ttl
        self.heartbeat_ttl = heartbeat_ttl
        self._renewed: dict[int, float] = {}  # channel -> when its claim was last taken or renewed
        self._size = 1
        self._slowed = False
        self._global_429s: list[float] = []
        self.takeovers = 0  # channels taken from a dead process (the metrics report it)

    async def heartbeat(self) -> int:
        """Say this process is alive; returns how many processes the fleet has now."""
        await self.store.acquire_lease(PROCESS_PREFIX + self.holder, self.holder, self.heartbeat_ttl)
        members = await self.members()
        self._size = max(1, len(members))
        self._slowed = bool(await self.store.live_leases(SLOWDOWN_LEASE))
        return self._size

    async def members(self) -> list[Member]:
        """The live processes (their heartbeats not expired, and not known dead on this host), by
        name: a killed process's share goes back to the others at once."""
        return [Member(lease.holder, lease.expires_at)
                for lease in await self.store.live_leases(PROCESS_PREFIX) if not died_here(lease.holder)]

    def share(self, requests_per_second: float) -> float:
        """This process's share of the bot token's request budget, by the last heartbeat (half of it
        while the fleet slows down after a global 429)."""
        return requests_per_second / self._size * (SLOWDOWN_FACTOR if self._slowed else 1.0)

    def global_limited(self) -> bool:
        """Note a global 429 here; True when it is the second within :data:`SLOWDOWN_WINDOW`
        seconds, and the fleet should slow down (discord.py already waits out each one)."""
        now = time.monotonic()
        self._global_429s = [t for t in self._global_429s if now - t < SLOWDOWN_WINDOW] + [now]
        return len(self._global_429s) >= SLOWDOWN_AFTER

    def slowing(self) -> None:
        """This process slows down now (:meth:`share` shrinks), before the store is told."""
        self._slowed = True

    async def slow_down(self) -> None:
        """Discord answered this process a global 429: the whole fleet slows down for a while."""
        self.slowing()
        await self.store.acquire_lease(SLOWDOWN_LEASE, self.holder, SLOWDOWN_TTL)

    async def leave(self) -> None:
        """On a clean stop: the heartbeat and every claim go at once, not when they expire."""
        for channel_id in list(self._renewed):
            await self.release(channel_id)
        await self.store.release_lease(PROCESS_PREFIX + self.holder, self.holder)

    async def claim(self, channel_id: int) -> bool:
        """Claim a channel's digest for this process; False when another live process has it."""
        lease = await self._acquire(channel_id)
        if not lease.acquired and died_here(lease.holder):
            log.info("taking over channel %s from %s, which no longer runs", channel_id, lease.holder)
            lease = await self._acquire(channel_id, replacing=lease.holder)
            self.takeovers += lease.acquired
        if lease.acquired:
            self._renewed[channel_id] = time.monotonic()
        return lease.acquired

    async def keep(self, channel_id: int) -> bool:
        """Renew a claim once it is a quarter through; False when it was lost (it expired and
        another process took the channel): the caller stops sending."""
        taken = self._renewed.get(channel_id)
        if taken is not None and time.monotonic() - taken < self.claim_ttl / 4:
            return True
        lease = await self._acquire(channel_id)
        if not lease.acquired:
            log.warning("lost the claim on channel %s to %s; leaving it to that process",
                        channel_id, lease.holder)
            self._renewed.pop(channel_id, None)
            return False
        self._renewed[channel_id] = time.monotonic()
        return True

    async def claim_some(self, channel_ids: Iterable[int], per_second: float) -> set[int]:
        """Claim the next batch of these channels: about :data:`CLAIM_BATCH_SECONDS` of sending at
        ``per_second`` (0: no pacing, all of them). Channels a live process has claimed are skipped
        by one reading of the claims, not one refused claim each."""
        others: dict[str, bool] = {}  # holder -> another process that runs (died_here once each)
        busy: set[int] = set()
        for lease in await self.claims():
            if lease.holder not in others:
                others[lease.holder] = lease.holder != self.holder and not died_here(lease.holder)
            if others[lease.holder]:
                busy.add(int(lease.name[len(DIGEST_PREFIX):]))
        free = [c for c in channel_ids if c not in busy]
        # Smaller batches as the work runs out (half of an even share of what is left), so the
        # processes finish together instead of one sending its last full batch alone.
        limit = max(CLAIM_BATCH_MIN, min(math.ceil(per_second * CLAIM_BATCH_SECONDS),
                                         math.ceil(len(free) / (2 * self._size)))) if per_second > 0 \
            else sys.maxsize
        claimed: set[int] = set()
        for channel_id in free:
            if len(claimed) >= limit:
                break
            if await self.claim(channel_id):
                claimed.add(channel_id)
        return claimed

    async def release_all(self, channel_ids: Iterable[int]) -> None:
        for channel_id in channel_ids:
            await self.release(channel_id)

    async def release(self, channel_id: int) -> None:
        self._renewed.pop(channel_id, None)
        await self.store.release_lease(DIGEST_PREFIX + str(channel_id), self.holder)

    async def claims(self) -> list[Lease]:
        """Every live digest claim of the fleet (``paperboy health``, ``/paperboy status``)."""
        return await self.store.live_leases(DIGEST_PREFIX)

    async def _acquire(self, channel_id: int, replacing: str | None = None) -> Lease:
        return await self.store.acquire_lease(DIGEST_PREFIX + str(channel_id), self.holder,
                                              self.claim_ttl, replacing=replacing)
