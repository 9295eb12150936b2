"""The stores' base: their one clock (on both engines), how SQLite's database errors reach the
caller, the chunked ``IN (...)`` lists and the optional WHERE filters, and that the roles make
one Store. Tests taking ``store_location`` or ``engine_store`` run on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from storage import SQLiteStore, Store, StoreError, open_store
from storage.models import ChannelSettings, FeedState, PaperRecord, SubscriptionRow, SummaryRecord
from storage.sqlite.base import operator_problem
from storage.sqlite.sql import CHUNK, Where, in_chunks
from tests.postgres_cluster import raw_rows

START = datetime(2024, 11, 28, 8, 0, 0, tzinfo=UTC)


class FrozenClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
async def timed(store_location: str, clock: FrozenClock) -> AsyncIterator[Store]:
    store = await open_store(store_location, clock=clock)
    try:
        yield store
    finally:
        await store.close()


def _paper(arxiv_id: str, version: int = 1) -> PaperRecord:
    return PaperRecord(arxiv_id, version, f"Paper {arxiv_id}", ["A. Author"], "Abstract.", ["cs.LG"])


async def _rows(store: Store, sql: str) -> list[tuple[object, ...]]:
    return await raw_rows(store, sql)


# -- the clock -------------------------------------------------------------------------------


async def test_every_timestamp_comes_from_the_store_clock(timed: Store, clock: FrozenClock) -> None:
    await timed.apply_feed_batch(FeedState("f", "http://x"), [_paper("2411.00001")],
                                 [SummaryRecord("ss", "g", "T", "text", arxiv_id="2411.00001")])
    channel = await timed.ensure_channel(1, 10, "08:00", "UTC", None)
    await timed.set_alert("feed:f", True)
    await timed.pause_channel(10, "no permission")
    assert channel.created_at == "2024-11-28T08:00:00+00:00"
    assert {at for (at,) in await _rows(timed, "SELECT at FROM ingest_log")} == {"2024-11-28T08:00:00+00:00"}
    assert await _rows(timed, "SELECT first_seen FROM papers") == [("2024-11-28T08:00:00+00:00",)]
    assert await _rows(timed, "SELECT opened_at FROM alerts") == [("2024-11-28T08:00:00+00:00",)]
    assert await _rows(timed, "SELECT paused_at FROM channels") == [("2024-11-28T08:00:00+00:00",)]


async def test_an_aware_clock_in_another_zone_is_stored_as_utc(store_location: str) -> None:
    store = await open_store(store_location,
                             clock=lambda: datetime(2024, 11, 28, 9, 0, tzinfo=timezone(timedelta(hours=1))))
    try:
        assert (await store.ensure_channel(1, 10, "08:00", "UTC", None)).created_at == \
            "2024-11-28T08:00:00+00:00"
    finally:
        await store.close()


async def test_api_query_age_follows_the_clock(timed: Store, clock: FrozenClock) -> None:
    await timed.record_api_query("id_list=2411.00001", 1)
    clock.advance(hours=23)
    assert await timed.api_query_fresh("id_list=2411.00001", 86400)
    clock.advance(hours=1)
    assert not await timed.api_query_fresh("id_list=2411.00001", 86400)


async def test_leases_expire_by_the_clock(timed: Store, clock: FrozenClock) -> None:
    first = await timed.acquire_lease("poll", "a", 60)
    assert first.acquired and first.expires_at == "2024-11-28T08:01:00.000+00:00"
    assert not (await timed.acquire_lease("poll", "b", 60)).acquired
    clock.advance(seconds=59)
    renewed = await timed.acquire_lease("poll", "a", 60)
    assert renewed.acquired and renewed.expires_at == "2024-11-28T08:01:59.000+00:00"
    clock.advance(seconds=60)
    taken = await timed.acquire_lease("poll", "b", 60)
    assert taken.acquired and taken.holder == "b"
    assert not (await timed.acquire_lease("poll", "a", 60)).acquired
    assert (await timed.acquire_lease("poll", "c", 60, replacing="b")).acquired
    assert await _rows(timed, "SELECT acquired_at FROM leases") == [("2024-11-28T08:01:59.000+00:00",)]


async def test_topics_keep_their_order_under_a_frozen_clock(timed: Store) -> None:
    await timed.ensure_channel(1, 10, "08:00", "UTC", None)
    for key in ("zeta", "alpha", "mid"):
        await timed.add_subscription(SubscriptionRow(10, "keyword", key, key))
    await timed.import_channels([ChannelSettings(11, 1, "08:00", "UTC")],
                                [SubscriptionRow(11, "keyword", k, k) for k in ("b", "a")])
    await timed.add_subscription(SubscriptionRow(11, "keyword", "0", "0"))
    assert [(s.channel_id, s.key) for s in await timed.list_subscriptions()] == \
        [(10, "zeta"), (10, "alpha"), (10, "mid"), (11, "b"), (11, "a"), (11, "0")]
    assert await _rows(timed, "SELECT min(created_at) FROM subscriptions") == \
        [("2024-11-28T08:00:00.000000+00:00",)]


async def test_a_naive_clock_is_refused(store_location: str) -> None:
    store = await open_store(store_location, clock=lambda: datetime(2024, 11, 28, 8, 0))
    try:
        with pytest.raises(ValueError, match="naive"):
            await store.set_alert("x", True)
    finally:
        await store.close()


# -- errors ----------------------------------------------------------------------------------


async def test_a_store_locked_too_long_is_a_store_error_naming_it(store: SQLiteStore) -> None:
    await store._db.execute("PRAGMA busy_timeout = 50")  # not 10 s, for the test
    other = sqlite3.connect(store.path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreError) as caught:
            await store.save_feed_state(FeedState("f", "http://x"))
        message = str(caught.value)
        assert str(Path(store.path).absolute()) in message and "database is locked" in message
        assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
        other.execute("ROLLBACK")
    finally:
        other.close()
    await store.save_feed_state(FeedState("f", "http://x"))  # no transaction was left open
    assert [f.name for f in await store.list_feed_states()] == ["f"]


async def test_programming_errors_are_not_dressed_up(store: SQLiteStore) -> None:
    with pytest.raises(sqlite3.OperationalError, match="no such column"):
        await store._fetchall("SELECT no_such_column FROM papers")
    with pytest.raises(sqlite3.IntegrityError):  # a topic of a channel that does not exist
        await store.add_subscription(SubscriptionRow(404, "keyword", "x", "x"))
    assert await store.list_subscriptions() == []


def _sqlite_error(kind: type[sqlite3.Error], message: str, code: int | None) -> sqlite3.Error:
    error = kind(message)
    if code is not None:
        error.sqlite_errorcode = code
    return error


@pytest.mark.parametrize(("error", "operator"), [
    (_sqlite_error(sqlite3.OperationalError, "database is locked", sqlite3.SQLITE_BUSY), True),
    (_sqlite_error(sqlite3.OperationalError, "disk I/O error", 778), True),  # SQLITE_IOERR_WRITE
    (_sqlite_error(sqlite3.OperationalError, "database or disk is full", sqlite3.SQLITE_FULL), True),
    (_sqlite_error(sqlite3.OperationalError, "attempt to write a readonly database", 8), True),
    (_sqlite_error(sqlite3.DatabaseError, "database disk image is malformed", 11), True),
    (_sqlite_error(sqlite3.OperationalError, "near \"SELEC\": syntax error", 1), False),
    (_sqlite_error(sqlite3.IntegrityError, "FOREIGN KEY constraint failed", 787), False),
    (_sqlite_error(sqlite3.ProgrammingError, "Cannot operate on a closed database.", None), False),
])
def test_which_errors_the_operator_must_fix(error: sqlite3.Error, operator: bool) -> None:
    assert (operator_problem(error) is not None) is operator


# -- IN lists and filters --------------------------------------------------------------------


def test_in_lists_are_chunked_with_their_parameters() -> None:
    parts = list(in_chunks("SELECT * FROM t WHERE k = ? AND v IN ({marks}) LIMIT ?", list(range(5)),
                           before=["k"], after=[9], size=2))
    assert parts == [("SELECT * FROM t WHERE k = ? AND v IN (?,?) LIMIT ?", ["k", 0, 1, 9]),
                     ("SELECT * FROM t WHERE k = ? AND v IN (?,?) LIMIT ?", ["k", 2, 3, 9]),
                     ("SELECT * FROM t WHERE k = ? AND v IN (?) LIMIT ?", ["k", 4, 9])]
    assert list(in_chunks("… IN ({marks})", [])) == []


def test_where_renders_only_the_filters_given() -> None:
    assert (str(Where()), Where().params) == ("", [])
    where = Where().add("a = ?", 1).add("b LIKE ?", "x%")
    assert (str(where), where.params) == (" WHERE a = ? AND b LIKE ?", [1, "x%"])


async def test_lookups_of_more_ids_than_one_chunk(engine_store: Store) -> None:
    store = engine_store
    ids = [f"2411.{n:05d}" for n in range(CHUNK * 2 + 7)]
    await store.store_papers([_paper(i) for i in ids])
    assert set(await store.papers_by_ids([*ids, "2411.99999"])) == set(ids)
    assert await store.missing_papers([*ids, "2411.99999"]) == {"2411.99999"}
    channels = [ChannelSettings(n, 1, "08:00", "UTC") for n in range(CHUNK + 3, 0, -1)]
    topics = [SubscriptionRow(c.channel_id, "keyword", "k", "k") for c in channels]
    await store.import_channels(channels, topics)
    listed = await store.list_subscriptions([c.channel_id for c in channels])
    assert [s.channel_id for s in listed] == sorted(c.channel_id for c in channels)
