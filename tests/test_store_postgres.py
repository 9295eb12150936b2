"""What only the PostgreSQL store must show: several processes on one database. Concurrent writers
keep the ingest sequence in commit order for readers, concurrent openers migrate once, leases
pass by time between stores, and a database that is not ours is refused untouched."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from storage import StoreError, open_store
from storage.models import FeedState, PaperRecord
from storage.postgres import PostgresStore, open_postgres
from storage.postgres.schema import migrations
from tests.postgres_cluster import PostgresCluster, free_port
from tests.test_store_base import FrozenClock


@pytest.fixture
async def url(postgres_cluster: PostgresCluster) -> str:
    return await postgres_cluster.create_database()


@pytest.fixture
async def stores(url: str) -> AsyncIterator[list[PostgresStore]]:
    """Three stores on one database, each with its own pool: three processes, as far as the
    server can tell."""
    opened = [await open_postgres(url) for _ in range(3)]
    try:
        yield opened
    finally:
        for store in opened:
            await store.close()


def _paper(n: int) -> PaperRecord:
    return PaperRecord(f"2411.{n:05d}", 1, f"Paper {n}", ["A. Author"], "Abstract.", ["cs.LG"])


async def test_concurrent_writers_never_let_a_reader_skip_an_item(stores: list[PostgresStore]) -> None:
    """Writers in three stores race; one of them holds its transaction open after taking its
    numbers (as a slow 2,000-item batch does). A reader following the log by cursor, as digests
    do, must still see every item exactly once: no number may commit behind its cursor."""
    slow, fast, other = stores
    original = slow._write_feed_state

    async def dawdle(state: FeedState) -> None:
        await asyncio.sleep(0.05)  # inside the batch's transaction, numbers taken
        await original(state)

    slow._write_feed_state = dawdle  # type: ignore[method-assign]
    batches = 12
    done = asyncio.Event()
    seen: list[int] = []

    async def write(store: PostgresStore, offset: int) -> None:
        for batch in range(batches):
            first = offset + batch * 5
            await store.apply_feed_batch(FeedState(f"feed-{offset}", "http://x"),
                                         [_paper(first + i) for i in range(5)], [])

    async def read() -> None:
        cursor = 0
        while True:
            finished = done.is_set()
            items = await other.items_since(cursor)
            assert all(item.seq > cursor for item in items)
            seen.extend(item.seq for item in items)
            cursor = max([cursor, *(item.seq for item in items)])
            if finished:
                return
            await asyncio.sleep(0)

    reader = asyncio.create_task(read())
    await asyncio.gather(write(slow, 0), write(fast, 10_000), write(other, 20_000))
    done.set()
    await reader
    total = 3 * batches * 5
    assert await other.max_seq() == total
    assert sorted(seen) == list(range(1, total + 1)), "the reader skipped or repeated an item"
    assert seen == sorted(seen), "items reached the reader out of sequence order"


async def test_concurrent_processes_migrate_once(url: str) -> None:
    script = ("import asyncio, sys\n"
              "from storage import open_store\n"
              "async def main():\n"
              "    store = await open_store(sys.argv[1])\n"
              "    print(store.created)\n"
              "    await store.close()\n"
              "asyncio.run(main())\n")
    processes = [await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, url, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        for _ in range(4)]
    results = [await asyncio.wait_for(p.communicate(), timeout=60) for p in processes]
    assert [p.returncode for p in processes] == [0] * 4, [err.decode()[-800:] for _, err in results]
    assert sorted(out.decode().strip() for out, _ in results) == ["False", "False", "False", "True"], \
        "exactly one process created the schema"
    connection = await asyncpg.connect(url)
    try:
        applied = [tuple(r) for r in await connection.fetch("SELECT version, name FROM paperboy_schema"
                                                           " ORDER BY version")]
    finally:
        await connection.close()
    assert applied == [(number, name) for number, name, _ in migrations()]


async def test_a_lease_passes_by_time_between_machines(url: str) -> None:
    clock = FrozenClock(datetime(2024, 11, 28, 8, 0, tzinfo=UTC))
    here, there = await open_postgres(url, clock=clock), await open_postgres(url, clock=clock)
    try:
        assert (await here.acquire_lease("poller", "paperboy run (pid 1 on a)", 60)).acquired
        taken = await there.acquire_lease("poller", "paperboy run (pid 2 on b)", 60)
        assert not taken.acquired and taken.holder == "paperboy run (pid 1 on a)"
        clock.advance(seconds=59)
        assert (await here.acquire_lease("poller", "paperboy run (pid 1 on a)", 60)).acquired  # renewed
        clock.advance(seconds=59)
        assert not (await there.acquire_lease("poller", "paperboy run (pid 2 on b)", 60)).acquired
        clock.advance(seconds=2)  # the holder stopped renewing: its lease ran out
        assert (await there.acquire_lease("poller", "paperboy run (pid 2 on b)", 60)).acquired
        assert not (await here.acquire_lease("poller", "paperboy run (pid 1 on a)", 60)).acquired
        await here.release_lease("poller", "paperboy run (pid 1 on a)")  # not its lease: no effect
        assert not (await here.acquire_lease("poller", "paperboy run (pid 1 on a)", 60)).acquired
    finally:
        await here.close()
        await there.close()


async def test_simultaneous_takers_get_one_lease(stores: list[PostgresStore]) -> None:
    attempts = [store.acquire_lease("poller", f"holder {n} of {i}", 60)
                for i, store in enumerate(stores) for n in range(4)]
    leases = await asyncio.gather(*attempts)
    winners = {lease.holder for lease in leases if lease.acquired}
    assert len(winners) == 1
    assert {lease.holder for lease in leases} == winners, "the others were told who holds it"


async def test_a_database_of_another_program_is_refused_untouched(url: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("CREATE TABLE customers (id int)")
        with pytest.raises(StoreError, match="tables Paperboy did not create \\(customers\\)"):
            await open_store(url)
        tables = {r[0] for r in await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}
    finally:
        await connection.close()
    assert tables == {"customers"}


async def test_a_store_of_a_newer_paperboy_is_refused(url: str) -> None:
    store = await open_store(url)
    assert store.created
    await store.close()
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("INSERT INTO paperboy_schema (version, name) VALUES (999, 'future')")
    finally:
        await connection.close()
    with pytest.raises(StoreError, match="newer Paperboy \\(schema 999"):
        await open_store(url)


async def test_an_unreachable_server_is_a_store_error_without_the_password() -> None:
    with pytest.raises(StoreError) as caught:
        await open_store(f"postgresql://paperboy:s3cret@127.0.0.1:{free_port()}/paperboy")
    message = str(caught.value)
    assert "s3cret" not in message and "paperboy:***@127.0.0.1" in message and "reachable" in message


async def test_a_server_gone_mid_use_is_a_store_error(url: str, postgres_cluster: PostgresCluster) -> None:
    """The server ends the store's connection in the middle of a query (a restart, a failover)."""
    store = await open_postgres(url)
    try:
        running = asyncio.create_task(store._fetch("SELECT pg_sleep(30)"))
        admin = await asyncpg.connect(postgres_cluster.url())
        try:
            for _ in range(100):  # until the query is running, then end its connection
                ended = await admin.fetchval(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1"
                    " AND query LIKE 'SELECT pg_sleep%'", url.rsplit("/", 1)[1])
                if ended:
                    break
                await asyncio.sleep(0.05)
        finally:
            await admin.close()
        with pytest.raises(StoreError, match=r"terminat|connection"):
            await asyncio.wait_for(running, timeout=20)
        assert await store.max_seq() == 0, "the pool reconnects for the next query"
    finally:
        await store.close()


async def test_programming_errors_are_not_dressed_up(url: str) -> None:
    store = await open_postgres(url)
    try:
        with pytest.raises(asyncpg.UndefinedColumnError):
            await store._fetch("SELECT no_such_column FROM papers")
        from storage.models import SubscriptionRow

        with pytest.raises(asyncpg.ForeignKeyViolationError):  # a topic of a channel that does not exist
            await store.add_subscription(SubscriptionRow(404, "keyword", "x", "x"))
        assert await store.list_subscriptions() == []
        assert store._now() - datetime.now(UTC) < timedelta(seconds=5)
    finally:
        await store.close()


async def test_common_title_words_are_counted_from_the_statistics(url: str) -> None:
    """A common word's count comes from ANALYZE's statistics (reading a row per title that holds
    it is what made search slow on a million papers); a rarer word is still counted, so a word no
    title holds stays unknown, and before any ANALYZE every word is counted."""
    store = await open_postgres(url)
    try:
        papers = [PaperRecord(f"2411.{n:05d}", 1, f"Graph model rare{n % 300}", ["A. Author"],
                              "Abstract.", ["cs.LG"]) for n in range(600)]
        await store.store_papers(papers)
        before = await store._title_docs(["graph", "rare5", "nowhere"])
        assert before == {"graph": 600, "rare5": 2, "nowhere": 0}  # no statistics yet: all counted
        # Statistics of 10 words or so (as on a big store, where the rare words are left out).
        await store._execute("ALTER TABLE papers ALTER COLUMN title_search SET STATISTICS 1")
        await store._execute("ANALYZE papers")
        fresh = await open_postgres(url)  # a process started after the ANALYZE
        try:
            statistics = await fresh._search_statistics()
            assert statistics is not None
            assert statistics.listed_count("title_search", "graph") == 600
            assert statistics.listed_count("title_search", "model") == 600
            assert statistics.listed_count("title_search", "rare5") is None
            assert statistics.unlisted_bound("title_search") > 2  # counting a rarer word stops there
            assert await fresh._title_docs(["graph", "rare5", "nowhere"]) == {
                "graph": 600, "rare5": 2, "nowhere": 0}
            counted: list[str] = []
            original = fresh._scalar

            async def spy(sql: str, *params: object) -> int:
                counted.append(str(params[0]) if params else "")
                return await original(sql, *params)

            fresh._scalar = spy  # type: ignore[method-assign]
            await fresh._title_docs(["model", "rare7"])
            assert counted == ["rare7"]  # the common word was not counted row by row
        finally:
            await fresh.close()
    finally:
        await store.close()


async def test_every_read_plan_returns_the_same_papers(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The store picks how each search or autocomplete read runs (walk the ids or take a bitmap,
    see storage/postgres/plans.py): only the time may differ, never the papers, with or without
    a category; and the planner's settings are its own again after the search."""
    from storage.postgres.plans import Plan, SearchStatistics

    store = await open_postgres(url)
    try:
        papers = [PaperRecord(f"2411.{n:05d}", 1, f"Graph {'deep ' if n % 3 else ''}model number{n % 40}",
                              ["A. Author"], f"Learning {'sparse ' if n % 7 == 0 else ''}graphs.",
                              ["cs.LG" if n % 2 else "math.CO"]) for n in range(900)]
        await store.store_papers(papers)
        await store._execute("ANALYZE papers")
        assert await store._search_statistics() is not None  # (cached from here on)
        queries = [("graph", None), ("deep model", "cs.LG"), ("sparse graphs", "math"), ("number7", None),
                   ("graph model number12", "math"), ("learning", "math.CO")]
        seen: dict[Plan, list[list[str]]] = {}
        for plan in Plan:
            monkeypatch.setattr(SearchStatistics, "plan", lambda *args, plan=plan, **kwargs: plan)
            seen[plan] = [[p.arxiv_id for p in await store.search_papers(q, category=c, limit=50)]
                          for q, c in queries]
            seen[plan] += [[i for i, _ in await store.autocomplete_papers(typed)]
                           for typed in ("graph mod", "deep model numb", "gra", "number3 ")]
        assert all(found == seen[Plan.PLANNER] for found in seen.values()), seen
        assert all(seen[Plan.WALK])  # every query found something
        settings = await store._fetchrow("SELECT current_setting('enable_bitmapscan') AS b,"
                                         " current_setting('enable_indexscan') AS i,"
                                         " current_setting('enable_seqscan') AS s")
        assert settings is not None and tuple(settings) == ("on", "on", "on")
    finally:
        await store.close()


async def test_a_search_inside_a_transaction_reads_on_its_one_connection(url: str) -> None:
    """Outside a transaction the first candidate reads run at once on pooled connections; inside
    one (a single connection) they run one after another, with the same papers found."""
    store = await open_postgres(url)
    try:
        await store.store_papers([PaperRecord(f"2411.{n:05d}", 1, f"Sparse graph model {n % 9}",
                                              ["A. Author"], "Graphs.", ["cs.LG"]) for n in range(60)])
        outside = [p.arxiv_id for p in await store.search_papers("sparse graph model", category="cs")]
        async with store._transaction():
            inside = [p.arxiv_id for p in await store.search_papers("sparse graph model", category="cs")]
        assert inside == outside and len(outside) == 25
    finally:
        await store.close()


async def test_titles_starting_with_the_words_are_found_in_the_index_alone(url: str) -> None:
    """"Titles starting with" reads whole words (``graph`` is not ``graphs``), with its category
    filter, and can find its newest ids in the titles' B-tree alone (migration 0004): an
    index-only scan, not a read of every row whose title starts so (the planner's other ways
    are switched off, as this small table would be walked)."""
    from storage.postgres.known_item import CandidateQuery, starts_with

    store = await open_postgres(url)
    try:
        titles = ["Graph", "Graph model", "Graphs model", "Graph model of graphs", "Model graph",
                  "Graph modelling"]
        # the titles looked for, then 2,000 newer papers: walking the ids back would read them all
        papers = [PaperRecord(f"2411.{n:05d}", 1, title, ["A. Author"], "Graphs.",
                              ["cs.LG" if title.endswith("graphs") else "math.CO"])
                  for n, title in enumerate(titles * 5)]
        papers += [PaperRecord(f"2412.{n:05d}", 1, f"Other topic {n}", ["A. Author"], "Other.", ["cs.LG"])
                   for n in range(2_000)]
        await store.store_papers(papers)
        await store._execute("VACUUM ANALYZE papers")  # (the visibility map an index-only scan needs)
        query = CandidateQuery(starts_with(1), ["graph model"], 100, ids_first=True)
        for category, expected in ((None, {"Graph model", "Graph model of graphs"}),
                                   ("cs.LG", {"Graph model of graphs"})):
            sql, params = query.sql(category)
            rows = await store._fetch(sql, *params)
            assert {row["title"] for row in rows} == expected
            async with store._transaction():
                await store._execute("SET LOCAL enable_seqscan = off")
                await store._execute("SET LOCAL enable_bitmapscan = off")
                plan = "\n".join(r[0] for r in await store._fetch(f"EXPLAIN {sql}", *params))
            assert "Index Only Scan using papers_title_plain" in plan, plan
    finally:
        await store.close()


async def test_a_word_too_long_for_a_vector_is_left_out_of_it(url: str) -> None:
    """PostgreSQL keeps a lexeme's length in 11 bits: a longer word (in bytes) given to
    array_to_tsvector would be stored cut to its length modulo 2,048 (a word nobody wrote). So
    it is left out."""
    store = await open_postgres(url)
    try:
        await store.store_papers([PaperRecord("2411.00001", 1, "Huge", ["A. Author"],
                                              f"Before {'x' * 3000} after {'ж' * 1100}.", ["cs.LG"])])
        lengths = await store._fetch("SELECT length(l) AS n FROM papers, unnest(tsvector_to_array(search)) l")
        assert sorted(r["n"] for r in lengths) == [1, 4, 5, 6, 6]  # a, huge, after, author, before
    finally:
        await store.close()


async def test_a_batch_leaves_its_index_entries_pending_and_tidying_merges_them(url: str) -> None:
    """A day's batch only appends to the search indexes' pending lists (their limit is raised:
    the merge took a second inside the batch on a million papers); tidy_after_ingest, after the
    commit, merges them, and search finds the same papers before and after."""
    from storage.postgres.ingest import SEARCH_INDEXES

    store = await open_postgres(url)
    try:
        for index in SEARCH_INDEXES:
            row = await store._fetchrow("SELECT reloptions FROM pg_class WHERE relname = $1", index)
            assert row is not None and row[0] == ["gin_pending_list_limit=16384"], index
        await store.store_papers([PaperRecord(f"2411.{n:05d}", 1, f"Graph model {n}", ["A. Author"],
                                              f"Sparse graphs number{n}.", ["cs.LG"]) for n in range(300)])
        before = [p.arxiv_id for p in await store.search_papers("sparse graphs number7")]
        await store.tidy_after_ingest()
        for index in SEARCH_INDEXES:  # nothing left to merge: the pages it removes
            assert await store._scalar("SELECT gin_clean_pending_list($1::regclass)", index) == 0
        after = [p.arxiv_id for p in await store.search_papers("sparse graphs number7")]
        assert after == before == ["2411.00007"]
        await store.store_papers([PaperRecord("2411.99999", 1, "Late", ["A. Author"], "Sparse.", ["cs.LG"])])
        assert await store._scalar("SELECT gin_clean_pending_list('papers_search_gin'::regclass)") > 0
    finally:
        await store.close()


async def test_analyze_lists_ten_times_the_default_words_of_the_vectors(url: str) -> None:
    """Search plans from the shares ANALYZE lists (storage/postgres/plans.py); with the default
    target a word in 2% of a million papers was unlisted and taken for a rare one (0006)."""
    store = await open_postgres(url)
    try:
        rows = await store._fetch("SELECT attname, attstattarget FROM pg_attribute"
                                  " WHERE attrelid = 'papers'::regclass"
                                  " AND attname IN ('search', 'title_search') ORDER BY attname")
        targets = [(r["attname"], r["attstattarget"]) for r in rows]
        assert targets == [("search", 1000), ("title_search", 1000)]
    finally:
        await store.close()


async def test_a_cut_bitmap_finds_the_papers_a_whole_read_finds(url: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A bitmap of many matches reads the newest papers first (storage/postgres/plans.py: cut);
    the candidates are those of a whole read, also when the matches sit in the oldest papers
    (the newest then held too few, and all of them are read)."""
    from storage.postgres.known_item import CandidateQuery
    from storage.postgres.plans import Plan, SearchStatistics
    from storage.postgres.search import match_value, vector_match

    store = await open_postgres(url)
    try:
        # "sparse" in every paper, "graphs" only in the oldest fifth
        await store.store_papers([PaperRecord(f"2411.{n:05d}", 1, f"Paper {n}", ["A. Author"],
                                              "Sparse graphs." if n < 2_000 else "Sparse nets.", ["cs.LG"])
                                  for n in range(10_000)])
        await store._execute("ANALYZE papers")
        monkeypatch.setattr(SearchStatistics, "plan", lambda *args, **kwargs: Plan.BITMAP)
        reads: list[str] = []
        fetch_planned = store._fetch_planned

        async def recorded(plan: Plan, sql: str, *params: object) -> list[Any]:
            reads.append("cut" if " AND id > $" in sql else "whole")
            return await fetch_planned(plan, sql, *params)

        store._fetch_planned = recorded  # type: ignore[method-assign]
        found: dict[str, list[int]] = {}
        for text in ("sparse", "sparse graphs"):
            statistics = await store._search_statistics()
            assert statistics is not None and statistics.cut("search", text.split(), None, 500) is not None
            query = CandidateQuery(vector_match("search", 1), [match_value("search", text)], 500,
                                   column="search", words=text.split())
            reads.clear()
            found[text] = [int(r[0]) for r in await store._candidate_rows(query, None, statistics)]
            whole_sql, whole_params = query.sql(None)
            whole = [int(r[0]) for r in await store._fetch(whole_sql, *whole_params)]
            assert found[text] == whole and len(whole) == 500, text
            assert reads == (["cut"] if text == "sparse" else ["cut", "whole"]), text
        assert max(found["sparse graphs"]) < min(found["sparse"])  # the oldest papers' matches
    finally:
        await store.close()
