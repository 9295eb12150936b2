"""Export, import and backup on real stores: round trips and refusals that change nothing (on both
engines), and SQLite backups, one taken while a big poll is writing that holds all of the batch
or none of it."""

from __future__ import annotations

import asyncio
import copy
import json
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bot.ingest.poller import feed_specs
from bot.services.backup import backup
from bot.services.export_format import FORMAT_KEY, ImportFailure, dump_document
from bot.services.subscriptions import ScheduleRequest, SubscriptionService
from bot.services.transfer import ImportReport, export_document, import_document
from bot.services.wiring import open_services
from doubles.feed_server import FeedServer
from storage import SQLiteStore, Store, open_store
from storage.models import ChannelSettings, PaperRecord, SubscriptionRow
from tests.helpers import BIG_FEED, make_config, shared_feed

FEEDS = ["shortscience"]
LIMITS = (25, 500)
# Real-sized snowflakes: beyond 2**53, where a JSON number read as a double would be rounded.
GUILD_A, GUILD_B = 281474976710656001, 381474976710656002
C1, C2, C3 = 1311111111111111111, 1322222222222222222, 1333333333333333333
TOPIC_COUNT = 12  # all the topics _populate adds


@asynccontextmanager
async def _populated(location: str, tmp_path: Path) -> AsyncIterator[Store]:
    store = await open_store(location)
    try:
        await _populate(store, tmp_path)
        yield store
    finally:
        await store.close()


@pytest.fixture
async def source(new_location: Callable[[str], Awaitable[str]], tmp_path: Path) -> AsyncIterator[Store]:
    """A store with three channels in two guilds, set up the way the slash commands do it (on
    each engine)."""
    async with _populated(await new_location("source"), tmp_path) as store:
        yield store


@pytest.fixture
async def sqlite_source(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    """The same, in an SQLite file (for the backups of the file)."""
    async with _populated(str(tmp_path / "source.sqlite3"), tmp_path) as store:
        assert isinstance(store, SQLiteStore)
        yield store


@pytest.fixture
async def target(new_location: Callable[[str], Awaitable[str]]) -> AsyncIterator[Store]:
    """An empty store that has already ingested a paper (its ingest seq is not 0)."""
    store = await open_store(await new_location("target"))
    try:
        await store.store_papers([_paper("2411.00001"), _paper("2411.00002")])
        yield store
    finally:
        await store.close()


async def _populate(store: Store, tmp_path: Path) -> None:
    config = make_config(tmp_path, 9, feeds=[{"name": "shortscience", "kind": "shortscience",
                                               "url": "http://127.0.0.1:9/rss.xml"}])
    service = SubscriptionService(config, store)
    for text, exclude in [("cs.LG", False), ("author:Sergey Levine", False), ("feed:shortscience", False),
                          ("diffusion models", True), ("venue:nips", False)]:
        await service.add(GUILD_A, C1, text, exclude)
    await service.schedule(GUILD_A, C1, ScheduleRequest(time="07:30", timezone="Europe/Berlin"))
    for text, exclude in [("stat.ML", False), ("hep-th", False), ("author:Andr\\'e Martins", False),
                          ("keyword:physics", False)]:
        await service.add(GUILD_A, C2, text, exclude)
    await service.schedule(GUILD_A, C2, ScheduleRequest(
        time="09:00", timezone="America/New_York", frequency="weekly", weekday="friday", max_items=5,
        include_replacements=True))
    for text, exclude in [("cs", False), ("cs.CV", True), ("graph neural networks", False)]:
        await service.add(GUILD_B, C3, text, exclude)
    await service.schedule(GUILD_B, C3, ScheduleRequest(frequency="instant", max_items=20))
    await store.pause_channel(C3, "403 Missing Access")


def _paper(arxiv_id: str) -> PaperRecord:
    return PaperRecord(arxiv_id=arxiv_id, version=1, title="T", authors=["A"], abstract="x",
                       categories=["cs.LG"])


def _comparable(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key != "exported_at"}


Snapshot = tuple[dict[str, Any], list[ChannelSettings], list[SubscriptionRow]]


async def _snapshot(store: Store) -> Snapshot:
    """Everything an import may touch: the export plus the full channel rows (cursors, due times)."""
    return (_comparable(await export_document(store)), await store.list_channels(),
            await store.list_subscriptions())


# -- export and import -------------------------------------------------------------------------


async def test_export_format(source: Store) -> None:
    document = await export_document(source)
    assert document[FORMAT_KEY] == 1 and isinstance(document["exported_at"], str)
    first, second, third = document["channels"]
    assert first == {
        "guild_id": str(GUILD_A), "channel_id": str(C1), "digest_time": "07:30",
        "timezone": "Europe/Berlin", "frequency": "daily", "weekday": None, "max_items": 10,
        "include_replacements": False, "paused_reason": None,
        "layout": None, "top": 10, "only_top": False, "saves": [],
        "topics": [{"topic": "cs.LG", "exclude": False},
                   {"topic": "author:Sergey Levine", "exclude": False},
                   {"topic": "feed:shortscience", "exclude": False},
                   {"topic": "diffusion models", "exclude": True},
                   {"topic": "venue:nips", "exclude": False}]}
    assert (second["frequency"], second["weekday"], second["max_items"], second["include_replacements"]) \
        == ("weekly", 4, 5, True)
    assert [t["topic"] for t in second["topics"]] == ["stat.ML", "hep-th", "author:André Martins",
                                                      "keyword:physics"]
    assert (third["frequency"], third["paused_reason"]) == ("instant", "403 Missing Access")
    # The ids survive a trip through JSON text, whatever reads it: they are strings.
    assert json.loads(dump_document(document))["channels"][2]["channel_id"] == "1333333333333333333"


async def test_import_into_empty_store_reproduces_the_export(source: Store,
                                                             target: Store) -> None:
    document = await export_document(source)
    report = await import_document(target, json.loads(dump_document(document)), FEEDS, LIMITS)
    assert report == ImportReport(channels_created=3, topics_added=TOPIC_COUNT)
    assert _comparable(await export_document(target)) == _comparable(document)
    assert await target.list_subscriptions() == await source.list_subscriptions()

    channels = {c.channel_id: c for c in await target.list_channels()}
    assert {c.cursor_seq for c in channels.values()} == {await target.max_seq()} == {2}, \
        "a new channel gets what arrives from now on, not the importing store's backlog"
    assert channels[C1].next_due is not None and channels[C2].next_due is not None
    assert channels[C3].next_due is None  # instant
    assert channels[C3].paused_at is not None and channels[C1].paused_at is None


async def test_importing_twice_changes_nothing(source: Store, target: Store) -> None:
    text = dump_document(await export_document(source))
    await import_document(target, text, FEEDS, LIMITS)
    before = await _snapshot(target)
    again = await import_document(target, text, FEEDS, LIMITS)
    assert again.changed == 0
    assert again == ImportReport(channels_unchanged=3, topics_unchanged=TOPIC_COUNT)
    assert await _snapshot(target) == before  # next_due and paused_at included


async def test_import_into_existing_channel_keeps_its_cursor_and_merges(
        source: Store, target: Store) -> None:
    await target.ensure_channel(GUILD_A, C1, "08:00", "UTC", "2030-01-01T08:00:00+00:00")
    await target.update_channel(C1, cursor_seq=1, last_digest_at="2024-11-28T08:00:00+00:00")
    await target.add_subscription(SubscriptionRow(C1, "keyword", "quantum", "quantum"))
    await target.add_subscription(SubscriptionRow(C1, "category", "cs.LG", "cs.LG", exclude=True))

    report = await import_document(target, await export_document(source, GUILD_A), FEEDS, LIMITS)
    assert report == ImportReport(channels_created=1, channels_updated=1, topics_added=8,
                                  topics_updated=1)
    channel = await target.get_channel(C1)
    assert channel is not None
    assert (channel.cursor_seq, channel.last_digest_at) == (1, "2024-11-28T08:00:00+00:00")
    assert (channel.digest_time, channel.timezone) == ("07:30", "Europe/Berlin")
    assert channel.next_due != "2030-01-01T08:00:00+00:00", "the schedule changed, so did next_due"
    rows = {(r.key, r.exclude) for r in await target.list_subscriptions([C1])}
    assert ("quantum", False) in rows, "an import adds topics, it never removes them"
    assert ("cs.LG", False) in rows, "the file says cs.LG is followed"
    assert (await target.get_channel(C2)).cursor_seq == 2  # type: ignore[union-attr]


async def test_guild_filter(source: Store, target: Store) -> None:
    only_a = await export_document(source, GUILD_A)
    assert [c["channel_id"] for c in only_a["channels"]] == [str(C1), str(C2)]
    only_b = await export_document(source, GUILD_B)
    assert [c["channel_id"] for c in only_b["channels"]] == [str(C3)]
    assert (await export_document(source, 42))["channels"] == []

    report = await import_document(target, only_b, FEEDS, LIMITS)
    assert (report.channels_created, report.topics_added) == (1, 3)
    assert _comparable(await export_document(target)) == _comparable(only_b)


async def test_hand_written_file_with_defaults(target: Store) -> None:
    document = {FORMAT_KEY: 1, "channels": [
        {"guild_id": str(GUILD_A), "channel_id": str(C1), "digest_time": "7:05", "timezone": "europe/berlin",
         "frequency": "weekly", "topics": ["cs.lg", {"topic": "author:Yann LeCun"}]}]}
    await import_document(target, document, FEEDS, LIMITS)
    [channel] = (await export_document(target))["channels"]
    assert (channel["digest_time"], channel["timezone"], channel["weekday"], channel["max_items"]) \
        == ("07:05", "Europe/Berlin", 0, 10)
    assert channel["topics"] == [{"topic": "cs.LG", "exclude": False},
                                 {"topic": "author:Yann LeCun", "exclude": False}]


# -- invalid files: nothing changes, the bad entry is named -------------------------------------

Mutation = Callable[[dict[str, Any]], Any]


def _set(path: str, value: Any) -> Mutation:
    """Replace one value, ``channels.1.timezone`` style."""
    def mutate(document: dict[str, Any]) -> dict[str, Any]:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        node: Any = document
        for part in parents:
            node = node[part]
        node[last] = value
        return document
    return mutate


def _add_topics(channel: int, count: int) -> Mutation:
    def mutate(document: dict[str, Any]) -> dict[str, Any]:
        document["channels"][channel]["topics"] += [{"topic": f"topic number {i}", "exclude": False}
                                                    for i in range(count)]
        return document
    return mutate


def _duplicate_channel(document: dict[str, Any]) -> dict[str, Any]:
    document["channels"].append(copy.deepcopy(document["channels"][0]))
    return document


def _duplicate_topic(document: dict[str, Any]) -> dict[str, Any]:
    document["channels"][1]["topics"].append({"topic": "STAT.ml", "exclude": True})
    return document


INVALID: list[tuple[str, Mutation, tuple[int, int], list[str]]] = [
    ("not json", lambda d: dump_document(d)[:-40], LIMITS, ["not a Paperboy export: not JSON"]),
    ("not an object", lambda d: [d], LIMITS, ["expected a JSON object"]),
    ("no format key", lambda d: {"channels": d["channels"]}, LIMITS, ["no 'paperboy_export' key"]),
    ("wrong version", _set(FORMAT_KEY, 2), LIMITS, ["paperboy_export: this file is format version 2"]),
    ("bad timezone", _set("channels.1.timezone", "America/New_Yrok"), LIMITS,
     ["channels[1].timezone: 'America/New_Yrok' is not a time zone", "America/New_York"]),
    ("bad topic", _set("channels.2.topics.1", {"topic": "cs.lf", "exclude": True}), LIMITS,
     ["channels[2].topics[1]: unknown arXiv category 'cs.lf'; did you mean cs.LG?"]),
    ("unknown feed", _set("channels.0.topics.2.topic", "feed:hackernews"), LIMITS,
     ["channels[0].topics[2]: 'feed:hackernews': unknown feed 'hackernews'"]),
    ("empty topic", _set("channels.0.topics.1.topic", "  "), LIMITS, ["channels[0].topics[1]: '  ': "]),
    ("over the channel limit", _add_topics(0, 20), LIMITS,
     ["channels[0].topics: channel 1311111111111111111 would have 26 topics (5 already, 21 new); "
      "a channel can have at most 25"]),
    ("over the guild limit", _add_topics(1, 2), (25, 11),
     ["channels[1].topics: guild 281474976710656001 would have 12 topics", "at most 11"]),
    ("duplicate channel", _duplicate_channel, LIMITS,
     ["channels[3].channel_id: channel 1311111111111111111 is already channels[0]"]),
    ("duplicate topic", _duplicate_topic, LIMITS,
     ["channels[1].topics[4]: 'STAT.ml' is the same topic as channels[1].topics[0] (stat.ML)"]),
    ("id as a JSON number", _set("channels.2.channel_id", C3), LIMITS,
     ["channels[2].channel_id: write ids as strings"]),
    ("id not a snowflake", _set("channels.2.guild_id", "12ab"), LIMITS,
     ["channels[2].guild_id: '12ab' is not a Discord id"]),
    ("channel of another guild", _set("channels.2.guild_id", str(GUILD_A)), LIMITS,
     ["channels[2].guild_id: channel 1333333333333333333 belongs to guild 381474976710656002"]),
    ("bad time", _set("channels.1.digest_time", "25:00"), LIMITS, ["channels[1].digest_time: '25:00'"]),
    ("bad frequency", _set("channels.1.frequency", "hourly"), LIMITS, ["channels[1].frequency: 'hourly'"]),
    ("bad weekday", _set("channels.1.weekday", 7), LIMITS, ["channels[1].weekday: 7 is not a weekday"]),
    ("bad max_items", _set("channels.1.max_items", 0), LIMITS, ["channels[1].max_items: 0"]),
    ("bool max_items", _set("channels.1.max_items", True), LIMITS, ["channels[1].max_items: True"]),
    ("bad exclude", _set("channels.0.topics.0.exclude", "yes"), LIMITS,
     ["channels[0].topics[0].exclude: expected true or false"]),
    ("unknown key", _set("channels.1.timzone", "UTC"), LIMITS, ["channels[1]: unknown key 'timzone'"]),
    ("missing key", lambda d: d["channels"][1].pop("timezone") and d, LIMITS,
     ["channels[1]: missing 'timezone'"]),
]


def _changing_document(document: dict[str, Any]) -> dict[str, Any]:
    """The store's own export with changes that a half-applied import would leave behind."""
    changed = copy.deepcopy(document)
    changed["channels"][0]["max_items"] = 7
    changed["channels"][0]["topics"].append({"topic": "protein folding", "exclude": False})
    changed["channels"][2]["paused_reason"] = None
    return changed


@pytest.mark.parametrize(("mutation", "limits", "fragments"),
                         [case[1:] for case in INVALID], ids=[case[0] for case in INVALID])
async def test_invalid_file_changes_nothing_and_names_the_entry(
        source: Store, mutation: Mutation, limits: tuple[int, int], fragments: list[str]) -> None:
    bad = mutation(_changing_document(await export_document(source)))
    before = await _snapshot(source)
    with pytest.raises(ImportFailure) as failure:
        await import_document(source, bad, FEEDS, limits)
    for fragment in fragments:
        assert fragment in str(failure.value)
    assert await _snapshot(source) == before


async def test_the_changing_document_does_change_the_store(source: Store) -> None:
    """The control for the test above: without the mutation the same import applies."""
    report = await import_document(source, _changing_document(await export_document(source)), FEEDS, LIMITS)
    assert (report.channels_updated, report.topics_added) == (2, 1)
    assert (await source.get_channel(C3)).paused_reason is None  # type: ignore[union-attr]


async def test_limits_do_not_block_a_reimport_that_adds_nothing(source: Store) -> None:
    report = await import_document(source, await export_document(source), FEEDS, (1, 1))
    assert report.changed == 0


async def test_store_import_is_all_or_nothing(source: Store) -> None:
    """A failure inside the store's transaction (here a topic of an unknown channel) rolls it all back."""
    before = await _snapshot(source)
    new = ChannelSettings(channel_id=99, guild_id=GUILD_A, digest_time="08:00", timezone="UTC")
    rows = [SubscriptionRow(99, "category", "cs.AI", "cs.AI"), SubscriptionRow(12345, "category", "cs.AI",
                                                                               "cs.AI")]
    with pytest.raises((sqlite3.IntegrityError, asyncpg.IntegrityConstraintViolationError)):
        await source.import_channels([new], rows)
    assert await _snapshot(source) == before


# -- backup ------------------------------------------------------------------------------------


async def test_backup_refuses_the_live_file(sqlite_source: Store, tmp_path: Path) -> None:
    source = sqlite_source
    link = tmp_path / "link.sqlite3"
    link.symlink_to(source.path)
    for path in (source.path, source.path + "-wal", tmp_path / "." / "source.sqlite3", link):
        with pytest.raises(ValueError, match="live store"):
            await backup(source, path)
    assert len(await source.list_channels()) == 3
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


async def test_backup_replaces_the_target_and_opens_as_a_store(sqlite_source: Store,
                                                                tmp_path: Path) -> None:
    source = sqlite_source
    await source.store_papers([_paper("2411.00001")])
    target = tmp_path / "backups" / "paperboy.sqlite3"
    target.parent.mkdir()
    target.write_bytes(b"an older backup")
    result = await backup(source, target)
    assert result == {"path": str(target), "bytes": target.stat().st_size, "papers": 1, "integrity": "ok"}
    assert sorted(p.name for p in target.parent.iterdir()) == ["paperboy.sqlite3"], \
        "one self-contained file: no temp file, no -wal beside it"
    copy_store = await open_store(target)
    try:
        assert _comparable(await export_document(copy_store)) == _comparable(await export_document(source))
        assert [c.cursor_seq for c in await copy_store.list_channels()] == \
            [c.cursor_seq for c in await source.list_channels()]
    finally:
        await copy_store.close()


@pytest.mark.shared
async def test_backup_during_a_running_poll_holds_all_of_the_batch_or_none(
        tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.serve("/rss/cs.LG", shared_feed(BIG_FEED))
    config = make_config(tmp_path, feed_server.port)
    target = tmp_path / "backup.sqlite3"
    async with open_services(config) as services:
        store = services.store
        poll = asyncio.create_task(services.ingestor.poll(feed_specs(config)))
        seen: list[tuple[int, bool]] = []  # (papers in the copy, taken inside the poll's transaction)
        while not poll.done():
            inside = store._db.in_transaction
            result = await backup(store, target)
            seen.append((result["papers"], inside and store._db.in_transaction))
            _assert_batch_whole(target, result["papers"])
        [report] = await poll
        final = await backup(store, target)
    assert report.status == "ok" and report.new_papers == 1504
    assert final["papers"] == 1504 and final["integrity"] == "ok"
    assert {papers for papers, _ in seen} <= {0, 1504}, "a partial batch got into a backup"
    assert any(inside for _, inside in seen), \
        f"no backup was taken while the batch was being written ({len(seen)} backups)"


def _assert_batch_whole(path: Path, papers: int) -> None:
    """The copy's ingest log and feed state agree with its papers: one transaction, all or nothing."""
    db = sqlite3.connect(path.as_uri() + "?mode=ro", uri=True)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        (log_rows,) = db.execute("SELECT count(*) FROM ingest_log").fetchone()
        (fts_rows,) = db.execute("SELECT count(*) FROM papers_fts").fetchone()
        (succeeded,) = db.execute("SELECT count(*) FROM feeds WHERE last_success IS NOT NULL").fetchone()
    finally:
        db.close()
    assert papers in (0, 1504), f"a backup holds {papers} papers: part of a batch"
    assert (log_rows, fts_rows, succeeded) == ((0, 0, 0) if papers == 0 else (1504, 1504, 1))


async def test_backup_of_an_in_memory_store(tmp_path: Path) -> None:
    """No file to read twice: the copy goes through the store's connection, between transactions."""
    store = await open_store(":memory:")
    try:
        await _populate(store, tmp_path)
        await store.store_papers([_paper("2411.00001"), _paper("2411.00002")])
        result = await backup(store, tmp_path / "memory-copy.sqlite3")
        assert (result["papers"], result["integrity"]) == (2, "ok")
        copied = await open_store(tmp_path / "memory-copy.sqlite3")
        try:
            assert _comparable(await export_document(copied)) == _comparable(await export_document(store))
        finally:
            await copied.close()
    finally:
        await store.close()
