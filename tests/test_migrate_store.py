"""``paperboy migrate-store``: an SQLite store made by the real services (polls through the feed
server, channels, a digest partly sent, saves, alerts) moved into the throwaway PostgreSQL answers
every lookup the same, gives no channel an old item and keeps the pending messages with their
nonces; a second run changes nothing; foreign targets and sources are refused, untouched."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import itertools
import json
import sqlite3
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bot.core.config import Config
from bot.discord_side.delivery import Dispatcher, SendFailed
from bot.ingest.poller import feed_specs
from bot.process import cli
from bot.services.subscriptions import ScheduleRequest
from bot.services.wiring import Services, open_services
from doubles.feed_server import FeedServer
from storage import Store, open_store
from storage.errors import StoreError
from storage.models import FeedState, PaperRecord, SummaryRecord
from storage.transfer_engines import TransferFailed, migrate_store
from storage.transfer_source import TABLES
from tests.helpers import arxiv_feed, arxiv_item, make_config, write_config
from tests.postgres_cluster import PostgresCluster
from tests.test_ingest import API_ENTRY, SHORTSCIENCE_ITEM, shortscience_feed

GUILD = 281474976710656001
CHANNEL_A, CHANNEL_B = 1311111111111111111, 1322222222222222222  # A: half sent; B: all sent
WORDS = ("sparse", "graph", "diffusion", "kernel", "bandit", "causal")


class Sender:
    """Discord as far as delivery sees it: records sends; fails every send after ``fail_after``."""

    def __init__(self, fail_after: int | None = None) -> None:
        self.sent: list[tuple[int, str]] = []
        self.fail_after = fail_after
        self._ids = itertools.count(1400000000000000000)

    async def send(self, channel_id: int, payload: dict[str, Any], nonce: str) -> int:
        if self.fail_after is not None and len(self.sent) >= self.fail_after:
            raise SendFailed("503 Service Unavailable")
        self.sent.append((channel_id, nonce))
        return next(self._ids)

    async def find_sent(self, channel_id: int, payload: dict[str, Any], after_id: int,
                        probe_id: int | None = None) -> int | None:
        return None

    async def start_thread(self, channel_id: int, message_id: int, name: str) -> int | None:
        return None


def _items(first: int, count: int) -> list[str]:
    return [arxiv_item(f"2411.{n:05d}", title=f"{WORDS[n % 6].title()} transformers for task {n}",
                       authors=f"Ada Lovelace, Jörg Müller {n}",
                       abstract=f"We study {WORDS[(n + 1) % 6]} x{n}.",
                       categories=("cs.LG", "stat.ML") if n % 2 else ("cs.LG",),
                       doi=f"10.1234/PB.{n}" if n % 3 == 0 else None)
            for n in range(first, first + count)]


async def _deliver(services: Services, channel_id: int, sender: Sender) -> None:
    await Dispatcher(services.store, services.digests, sender).run_now(channel_id)


@pytest.fixture
async def source(tmp_path: Path, feed_server: FeedServer) -> Config:
    """A config whose SQLite store the services filled the way a running bot does."""
    feed_server.serve("/rss/cs.LG", arxiv_feed(*_items(1, 30)))
    feed_server.serve("/ss.xml", shortscience_feed(SHORTSCIENCE_ITEM.format(
        votes=2, text="# Keypoints - HIRO", date="Fri, 27 Nov 2026 17:00:00 +0000")))
    feed_server.serve("/api/query", API_ENTRY)
    config = make_config(tmp_path, feed_server.port, categories=["cs.LG"], feeds=[
        {"name": "shortscience", "kind": "shortscience", "url": feed_server.url("/ss.xml")}])
    async with open_services(config, "poll") as services:
        for channel_id, topics in ((CHANNEL_A, ["cs.LG"]), (CHANNEL_B, ["cs.LG", "feed:shortscience"])):
            for topic in topics:
                await services.subscriptions.add(GUILD, channel_id, topic, False)
            await services.subscriptions.schedule(GUILD, channel_id, ScheduleRequest(
                max_items=4, layout="cards", include_replacements=channel_id == CHANNEL_A))
        assert {r.status for r in await services.ingestor.poll(feed_specs(config))} == {"ok"}
        await _deliver(services, CHANNEL_A, Sender(fail_after=2))
        await _deliver(services, CHANNEL_B, Sender())
        assert await services.store.pending_outbox(CHANNEL_A), "channel A has messages still to send"
        for arxiv_id, user in (("2411.00003", 7), ("2411.00004", 7), ("2411.00003", 8)):
            await services.saves.toggle(CHANNEL_B, arxiv_id, user)
        await services.store.set_alert("feed:shortscience", True)
        await services.store.prune("2000-01-01T00:00:00+00:00", "2000-01-01T00:00:00+00:00")
        # News after the digests: a new version of a delivered paper and new papers.
        feed_server.serve("/rss/cs.LG", arxiv_feed(arxiv_item("2411.00002", version=2, announce="replace",
                                                              title="Graph transformers, revised"),
                                                   *_items(31, 5)))
        assert {r.status for r in await services.ingestor.poll(feed_specs(config))} == {"ok", "not_modified"}
    return config


@pytest.fixture
async def target(postgres_cluster: PostgresCluster) -> str:
    return await postgres_cluster.create_database()


async def _observe(store: Store) -> dict[str, Any]:
    """What the bot asks a store, as comparable values."""
    return {
        "counts": await store.counts(), "max_seq": await store.max_seq(), "old": await store.old_news_seq(),
        "paper": await store.get_paper("2411.00002"), "doi": await store.paper_by_doi("10.1234/pb.3"),
        "search": {p.arxiv_id for p in await store.search_papers("graph transformers")},
        "category": {p.arxiv_id for p in await store.search_papers("transformers", category="stat.ML")},
        "typed": await store.autocomplete_papers("Kernel transf"),
        "ids": await store.autocomplete_papers("2411.0001"),
        "recent": [p.arxiv_id for p in await store.recent_papers(8)],
        "summaries": await store.summaries_for_paper("1805.08296"),
        "venue": await store.venue_summaries("journals/corr"),
        "channels": await store.list_channels(), "topics": await store.list_subscriptions(),
        "saves": await store.list_saves(), "feeds": await store.list_feed_states(),
        "alerts": await store.open_alerts(),
        "log": [(i.seq, i.kind, i.event) for i in await store.items_since(0)],
        "pending": [(m.nonce, m.position, m.status, m.payload, m.items)
                    for m in await store.pending_outbox(CHANNEL_A)],
    }


async def _next_keys(services: Services, channel_id: int) -> set[tuple[str, str, int]]:
    channel = await services.store.get_channel(channel_id)
    assert channel is not None
    digest = (await services.digests.build([channel]))[channel_id]
    return {tuple(key) for entry in digest.entries for key in entry.keys}  # type: ignore[misc]


def _delivered(path: str, channel_id: int) -> set[tuple[str, str, int]]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return {(r[0], r[1], r[2]) for r in db.execute(
            "SELECT kind, item_key, version FROM deliveries WHERE channel_id = ?", (channel_id,))}


async def _dump(url: str) -> dict[str, Any]:
    """Every row of the target, the ingest counter and the identity sequences, as one value."""
    db = await asyncpg.connect(url)
    try:
        found: dict[str, Any] = {}
        for table in [*(t.name for t in TABLES), "ingest_counter", "leases"]:
            found[table] = await db.fetchval(
                f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {table} t")
        for name in ("papers_id_seq", "summaries_id_seq", "outbox_id_seq"):
            found[name] = tuple(await db.fetchrow(f"SELECT last_value, is_called FROM {name}"))
        return found
    finally:
        await db.close()


def _hash(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


async def test_a_migrated_store_answers_the_same_and_resumes_delivery(source: Config, target: str,
                                                                      tmp_path: Path) -> None:
    path = source.storage.path
    before = _hash(path)
    async with open_services(source, "preview") as services:
        expected = await _observe(services.store)
        next_a, next_b = await _next_keys(services, CHANNEL_A), await _next_keys(services, CHANNEL_B)
    report = await migrate_store(path, target)
    assert report.verified and report.problems() == []
    assert {t.table: (t.source, t.after, t.copied) for t in report.tables} == \
        {t.table: (t.source, t.source, t.source) for t in report.tables}
    assert all(t.sampled == min(t.source, 100) for t in report.tables)
    assert {t.table for t in report.tables if t.source == 0} == set(), "every table had rows to copy"
    assert _hash(path) == before, "the source file is not changed"

    moved = make_config(tmp_path, 9, storage={"url": target})
    async with open_services(moved, "run") as services:
        assert await _observe(services.store) == expected
        # No channel gets an old item again: the next digests are the ones SQLite would build.
        assert await _next_keys(services, CHANNEL_B) == next_b and next_b
        assert not next_b & _delivered(path, CHANNEL_B)
        assert await _next_keys(services, CHANNEL_A) == next_a
        # The pending messages go out with the nonces stored before the move, then are done.
        sender = Sender()
        await _deliver(services, CHANNEL_A, sender)
        assert [nonce for _, nonce in sender.sent] == [p[0] for p in expected["pending"] if p[2] == "pending"]
        assert await services.store.pending_outbox(CHANNEL_A) == []
        # Ingest continues after the copied numbers and ids.
        result = await services.store.store_papers([PaperRecord(
            arxiv_id="2412.00001", version=1, title="Kernel transformers anew", authors=["B"],
            abstract="x", categories=["cs.LG"])])
        assert result.first_seq == expected["max_seq"] + 1
        assert (await services.store.autocomplete_papers("Kernel transf"))[0][0] == "2412.00001"
        await services.store.apply_feed_batch(
            FeedState(name="shortscience", url="http://127.0.0.1:9/ss.xml"), [],
            [SummaryRecord(source="shortscience", guid="g-new", title="New", text="t",
                           arxiv_id="2412.00001")])
        [new] = await services.store.summaries_for_paper("2412.00001")
        assert new.id > max(s.id for s in expected["summaries"])


async def test_a_second_run_changes_nothing(source: Config, target: str) -> None:
    await migrate_store(source.storage.path, target)
    state, before = await _dump(target), _hash(source.storage.path)
    again = await migrate_store(source.storage.path, target, seed=7)
    assert again.verified and {t.copied for t in again.tables} == {0}
    assert await _dump(target) == state
    assert _hash(source.storage.path) == before


async def test_a_read_only_source_is_migrated(source: Config, target: str) -> None:
    """The source is only read: a store its owner made read-only (a snapshot, a mounted backup)
    moves like any other, and stays as it was."""
    path = Path(source.storage.path)
    before = _hash(path)
    path.chmod(0o444)
    try:
        report = await migrate_store(path, target)
        with pytest.raises(StoreError, match="read-only"):  # the bot itself still needs to write
            await open_store(path)
    finally:
        path.chmod(0o644)
    assert report.verified and sum(t.copied for t in report.tables) > 0
    assert _hash(path) == before


async def test_a_target_with_another_stores_rows_is_refused_untouched(source: Config, target: str) -> None:
    other = await open_store(target)
    try:
        await other.store_papers([PaperRecord(arxiv_id="2501.00001", version=1, title="Not ours",
                                              authors=["Z"], abstract="z", categories=["hep-th"])])
    finally:
        await other.close()
    state = await _dump(target)
    with pytest.raises(TransferFailed, match=r"differ from the source \(ingest_log \(1\)"):
        await migrate_store(source.storage.path, target)
    assert await _dump(target) == state


async def test_a_copy_the_source_has_moved_on_from_is_refused(source: Config, target: str) -> None:
    await migrate_store(source.storage.path, target)
    store = await open_store(source.storage.path)
    try:
        await store.update_channel(CHANNEL_B, cursor_seq=1)
    finally:
        await store.close()
    state = await _dump(target)
    with pytest.raises(TransferFailed, match=r"differ from the source \(channels .*cursor_seq.*moved on"):
        await migrate_store(source.storage.path, target)
    assert await _dump(target) == state


async def test_a_store_in_use_is_not_migrated(source: Config, target: str) -> None:
    store = await open_store(source.storage.path)
    try:
        assert (await store.acquire_lease("poller", "paperboy run (pid 1 on elsewhere)", 600)).acquired
    finally:
        await store.close()
    with pytest.raises(TransferFailed, match="in use: paperboy run"):
        await migrate_store(source.storage.path, target)


async def test_a_target_another_process_is_writing_to_is_refused(source: Config, target: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from storage import transfer_engines

    await (await open_store(target)).close()
    monkeypatch.setattr(transfer_engines, "LOCK_TIMEOUT", "200ms")
    writer = await asyncpg.connect(target)
    try:
        async with writer.transaction():
            await writer.execute("LOCK TABLE outbox IN ROW EXCLUSIVE MODE")  # a digest being planned
            with pytest.raises(TransferFailed, match="in use: another process kept its tables locked"):
                await migrate_store(source.storage.path, target)
    finally:
        await writer.close()
    assert (await migrate_store(source.storage.path, target)).verified, "once it is done, the move works"


async def test_a_copy_that_does_not_verify_is_rolled_back(source: Config, target: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from storage import transfer_engines

    await (await open_store(target)).close()  # the schema exists before the state is taken
    state = await _dump(target)
    copy, read = transfer_engines._copy, transfer_engines._read_batch

    async def skipping_saves(db: Any, store: Any, table: Any) -> None:
        if table.name != "saves":
            await copy(db, store, table)

    def wrong_etags(cursor: Any, table: Any) -> list[Any]:
        rows = read(cursor, table)
        return [(r[0], r[1], "\"forged\"", *r[3:]) for r in rows] if table.name == "feeds" else rows

    monkeypatch.setattr(transfer_engines, "_copy", skipping_saves)
    monkeypatch.setattr(transfer_engines, "_read_batch", wrong_etags)
    with pytest.raises(TransferFailed, match=r"did not verify .*rolled back") as refused:
        await migrate_store(source.storage.path, target)
    report = refused.value.report
    assert report is not None and not report.verified
    problems = report.problems()
    assert "saves: 0 rows in PostgreSQL, 3 in SQLite" in problems
    assert any(p.startswith("feeds: ('arxiv:cs.LG'): etag is '\"forged\"' in PostgreSQL") for p in problems)
    assert "FAILED" in report.text() and await _dump(target) == state


@pytest.mark.parametrize(("content", "message"), [("foreign", "another program's SQLite database"),
                                                  ("text", "is not an SQLite database"),
                                                  ("absent", "no store at")])
async def test_a_source_that_is_not_a_paperboy_store_is_refused(tmp_path: Path, content: str,
                                                                message: str) -> None:
    path = tmp_path / "other.sqlite3"
    if content == "foreign":
        with contextlib.closing(sqlite3.connect(path)) as db:
            db.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
            db.commit()
    elif content == "text":
        path.write_text("hello\n")
    before = path.read_bytes() if path.exists() else None
    with pytest.raises(StoreError, match=message):
        await migrate_store(path, "postgresql://nobody@127.0.0.1:9/none")
    assert (path.read_bytes() if path.exists() else None) == before


# -- the command line ---------------------------------------------------------------------------------


async def _cli(*args: str) -> tuple[int, str, str]:
    """``paperboy ARGS`` in this process, in a thread (its own event loop)."""
    out, err = io.StringIO(), io.StringIO()

    def call() -> int:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            return cli.main(list(args))

    code = await asyncio.to_thread(call)
    return code, out.getvalue(), err.getvalue()


async def test_the_command_migrates_then_refuses_a_foreign_target(source: Config, target: str,
                                                                  tmp_path: Path,
                                                                  postgres_cluster: PostgresCluster) -> None:
    config = str(write_config(tmp_path / "config.toml", source))
    code, out, err = await _cli("--config", config, "migrate-store", "--to", target, "--json")
    assert code == 0, err
    document = json.loads(out)
    assert document["verified"] is True and len(document["tables"]) == len(TABLES)
    code, out, err = await _cli("--config", config, "migrate-store", "--to", target)
    assert code == 0, err
    assert "verified:" in out and out.splitlines()[0].split() == ["table", "sqlite", "postgresql", "copied",
                                                                "compared"]
    other = await postgres_cluster.create_database()
    store = await open_store(other)
    try:
        await store.set_alert("someone else's", True)
    finally:
        await store.close()
    code, out, err = await _cli("--config", config, "migrate-store", "--to", other)
    assert code == 1 and "Traceback" not in err
    assert [line for line in err.splitlines() if line.startswith("paperboy:")] == [err.strip()]
    assert "does not have (alerts" in err


async def test_the_command_refuses_bad_usage_in_one_line(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    config = str(write_config(tmp_path / "config.toml", make_config(tmp_path, 9)))
    code, _, err = await _cli("--config", config, "migrate-store", "--to", "mysql://u:secret@h/db")
    assert (code, err.count("\n")) == (2, 1) and "not a postgresql:// URL" in err and "secret" not in err
    monkeypatch.setenv("PAPERBOY_STORAGE_URL", "postgresql://u:secret@127.0.0.1:9/db")
    code, _, err = await _cli("--config", config, "migrate-store", "--to", "postgresql://u:pw@h/db")
    assert (code, err.count("\n")) == (2, 1) and "already PostgreSQL" in err and "secret" not in err
