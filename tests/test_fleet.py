"""Several processes on one store: digest claims, heartbeats and the shared request budget.

The bot runs in-process as `paperboy run` does, on a real SQLite store; "another process" is a
second holder of leases in the same store, as a second `paperboy run` would be (the PostgreSQL
fleet with real processes is bench/fleet.py's).
"""

from __future__ import annotations

import asyncio
import socket
from datetime import timedelta
from pathlib import Path

from bot.ingest.poller import POLLER_LEASE
from bot.services.fleet import CLAIM_TTL, DIGEST_PREFIX, SLOWDOWN_FACTOR, SLOWDOWN_LEASE, SLOWDOWN_TTL, Fleet
from bot.services.health import check_health
from doubles.discord import DiscordDouble, discord_double_fixture  # noqa: F401
from doubles.feed_server import FeedServer
from storage import open_store
from tests.bot_harness import digest_messages
from tests.test_bot_delivery_faults import MESSAGES, assert_each_once, digest_ready

OTHER = "paperboy run (pid 4242 on another-host)"  # alive as far as this host can tell
DEAD_HERE = "paperboy run (pid 999999999 on {host})"  # a process of this host that no longer runs


async def test_a_channel_claimed_by_another_process_waits_for_its_claim(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    async with digest_ready(tmp_path, discord_double, feed_server) as s:
        store = s.bot.services.store
        assert (await store.acquire_lease(f"{DIGEST_PREFIX}{s.channel}", OTHER, CLAIM_TTL)).acquired
        report = await s.bot.dispatcher.run_due()
        assert report.messages == 0 and digest_messages(s.double, s.channel) == []
        now = await s.bot.dispatcher.run_now(s.channel)  # /digest now too leaves it to the claimant
        assert now.busy == 1 and now.messages == 0
        s.clock.set(s.clock.now + timedelta(seconds=CLAIM_TTL + 1))  # the other process died far away
        report = await s.bot.dispatcher.run_due()
        assert report.messages == MESSAGES
        assert_each_once(s.double, s.channel)
        assert await store.live_leases(DIGEST_PREFIX) == []  # released once delivered


async def test_a_dead_local_holder_is_taken_over_at_once(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    async with digest_ready(tmp_path, discord_double, feed_server) as s:
        store = s.bot.services.store
        dead = DEAD_HERE.format(host=socket.gethostname())
        assert (await store.acquire_lease(f"{DIGEST_PREFIX}{s.channel}", dead, CLAIM_TTL)).acquired
        report = await s.bot.dispatcher.run_due()
        assert report.messages == MESSAGES
        assert_each_once(s.double, s.channel)


async def test_two_dispatchers_deliver_each_channel_once(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    async with digest_ready(tmp_path, discord_double, feed_server) as s:
        first, second = s.bot.dispatcher, type(s.bot.dispatcher)(
            s.bot.services.store, s.bot.digests, s.bot.sender, s.clock,
            fleet=Fleet(s.bot.services.store, OTHER))
        reports = await asyncio.gather(first.run_due(), second.run_due())
        assert sum(r.messages for r in reports) == MESSAGES
        assert_each_once(s.double, s.channel)
        assert sum(r.messages for r in await asyncio.gather(first.run_due(), second.run_due())) == 0


async def test_heartbeats_count_the_fleet_and_split_the_request_budget(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    async with digest_ready(tmp_path, discord_double, feed_server) as s:
        store, rate = s.bot.services.store, s.bot.services.config.discord.requests_per_second
        await s.bot.fleet_heartbeat()
        assert s.bot.sender.pacer.rate == rate
        other = Fleet(store, OTHER)
        assert await other.heartbeat() == 2
        await s.bot.fleet_heartbeat()
        assert abs(s.bot.sender.pacer.rate - rate / 2) < 1e-6
        assert [m.holder for m in await s.bot.fleet.members()] == sorted([OTHER, s.bot.fleet.holder])
        await other.leave()
        await s.bot.fleet_heartbeat()
        assert s.bot.sender.pacer.rate == rate
        s.clock.set(s.clock.now + timedelta(minutes=5))  # no heartbeat for 5 minutes: not alive
        assert await s.bot.fleet.members() == []


async def test_health_and_the_owner_status_show_the_fleet(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    async with digest_ready(tmp_path, discord_double, feed_server) as s:
        store = s.bot.services.store
        await s.bot.fleet_heartbeat()
        await Fleet(store, OTHER).heartbeat()
        assert (await store.acquire_lease(POLLER_LEASE, OTHER, 60)).acquired
        assert await Fleet(store, OTHER).claim(s.channel)
        lines = (await s.bot.status_service.owner_status()).fleet
        assert lines == sorted([f"{OTHER} · polls · delivering 1 channel(s)", s.bot.fleet.holder])
        # `paperboy health` reads the store at the wall clock (the test's clock is in 2024).
        config = s.bot.services.config
        live = await open_store(config.storage.path)
        try:
            await Fleet(live, OTHER).heartbeat()
            assert (await live.acquire_lease(POLLER_LEASE, OTHER, 60, replacing=OTHER)).acquired
        finally:
            await live.close()
        report = await check_health(config)
        assert f"fleet: {OTHER} · polls" in report.checks, report.checks


async def test_a_global_429_slows_the_whole_fleet_down(
        tmp_path: Path, discord_double: DiscordDouble, feed_server: FeedServer) -> None:
    async with digest_ready(tmp_path, discord_double, feed_server) as s:
        store, rate = s.bot.services.store, s.bot.services.config.discord.requests_per_second
        other = Fleet(store, OTHER)
        await other.heartbeat()
        await s.bot.fleet_heartbeat()
        assert abs(s.bot.sender.pacer.rate - rate / 2) < 1e-6
        s.double.inject_fault("/channels/*/messages", status=429, retry_after=0.05, is_global=True, count=2)
        assert (await s.bot.dispatcher.run_due()).messages == MESSAGES  # retried by discord.py
        assert abs(s.bot.sender.pacer.rate - rate / 2 * SLOWDOWN_FACTOR) < 1e-6  # at once, here
        await asyncio.sleep(0.05)  # the store is told in the background
        assert await store.live_leases(SLOWDOWN_LEASE)
        await other.heartbeat()
        assert abs(other.share(rate) - rate / 2 * SLOWDOWN_FACTOR) < 1e-6  # and the other reads it
        s.clock.set(s.clock.now + timedelta(seconds=SLOWDOWN_TTL + 1))
        await s.bot.fleet_heartbeat()
        await other.heartbeat()
        assert abs(other.share(rate) - rate / 2) < 1e-6


async def test_claims_come_in_batches_and_skip_live_claimants(tmp_path: Path) -> None:
    store = await open_store(tmp_path / "fleet.sqlite3")
    try:
        mine, other = Fleet(store, "paperboy run (pid 1 on here)"), Fleet(store, OTHER)
        channels = list(range(1, 201))
        assert await other.claim(5) and await other.claim(6)
        first = await mine.claim_some(channels, per_second=1.0)  # 15 s of sending at 1/s, at least 25
        assert len(first) == 25 and not first & {5, 6}
        second = await mine.claim_some([c for c in channels if c not in first], per_second=0)  # unpaced: all
        assert len(second) == 200 - 25 - 2 and not second & first
        dead = Fleet(store, DEAD_HERE.format(host=socket.gethostname()))
        assert await dead.heartbeat() == 1  # (it does not count itself: it is dead as far as this host knows)
        await mine.heartbeat()
        assert [m.holder for m in await mine.members()] == [mine.holder]  # a killed process's share goes back
        for fleet in (mine, other):
            await fleet.release_all(first | second | {5, 6})
        await other.heartbeat()
        assert await mine.heartbeat() == 2  # two: batches shrink to half an even share of what is left
        assert len(await mine.claim_some(channels, per_second=100.0)) == 50  # not 500 s of sending
        assert len(await mine.claim_some(channels[:60], per_second=100.0)) == 25  # never under 25
    finally:
        await store.close()
