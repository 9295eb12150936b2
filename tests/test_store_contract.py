"""The store contract, run on every engine (``engine_store``: SQLite and PostgreSQL): each role of
storage/base.py with the records it gives back, the transactions that must be all or nothing,
and the numbering digests rely on. PostgreSQL's own invariants are in test_store_postgres.py."""

from __future__ import annotations

from typing import Any

import pytest

from storage import Store
from storage.models import ChannelSettings, FeedState, PaperRecord, Save, SubscriptionRow, SummaryRecord
from tests.postgres_cluster import raw_rows


def _paper(arxiv_id: str, version: int = 1, title: str | None = None,
           categories: tuple[str, ...] = ("cs.LG",), **extra: Any) -> PaperRecord:
    return PaperRecord(arxiv_id, version, title or f"Paper {arxiv_id}", ["Ada Lovelace", "Jörg Müller"],
                       f"The abstract of {arxiv_id}.", list(categories), **extra)


def _summary(guid: str, arxiv_id: str | None = "2411.00001", **extra: Any) -> SummaryRecord:
    return SummaryRecord("shortscience", guid, f"Summary {guid}", "Some *text*.", arxiv_id=arxiv_id, **extra)


# -- ingest ------------------------------------------------------------------------------------


async def test_a_feed_batch_and_its_state_are_one_transaction(engine_store: Store) -> None:
    store = engine_store

    async def broken(state: FeedState) -> None:
        raise RuntimeError("the disk went away mid-batch")

    store._write_feed_state = broken  # type: ignore[attr-defined]  # fails after the items are written
    with pytest.raises(RuntimeError, match="mid-batch"):
        await store.apply_feed_batch(FeedState("f", "http://x", etag="e1"),
                                     [_paper("2411.00001"), _paper("2411.00002")], [_summary("g1")])
    assert await store.max_seq() == 0 and await store.get_feed_state("f") is None
    assert (await store.counts())["papers"] == 0 and await store.items_since(0) == []
    del store._write_feed_state  # type: ignore[attr-defined]
    result = await store.apply_feed_batch(FeedState("f", "http://x", etag="e1"),
                                          [_paper("2411.00001"), _paper("2411.00002")], [_summary("g1")])
    assert (result.new_papers, result.new_summaries, result.first_seq, result.last_seq) == (2, 1, 1, 3)
    state = await store.get_feed_state("f")
    assert state is not None and state.etag == "e1"


async def test_news_is_numbered_and_read_back_in_order(engine_store: Store) -> None:
    store = engine_store
    first = await store.apply_feed_batch(
        FeedState("arxiv:cs.LG", "http://x"),
        [_paper("2411.00001", announce_type="new"), _paper("2411.00002", announce_type="cross"),
         _paper("2411.00001", announce_type="new")],  # the same paper twice in one batch: once
        [_summary("g1"), _summary("g2", arxiv_id="2411.09999")])
    assert (first.new_papers, first.new_summaries, first.first_seq, first.last_seq) == (2, 2, 1, 4)
    again = await store.apply_feed_batch(FeedState("arxiv:cs.LG", "http://x"),
                                         [_paper("2411.00001", comment="12 pages")], [])
    assert (again.new_papers, again.updated_papers, again.first_seq) == (0, 0, None), "not news"
    update = await store.store_papers([_paper("2411.00001", 2, "A revised title", announce_type="replace"),
                                       _paper("2411.00002", doi="10.1/x")])
    assert (update.updated_papers, update.first_seq, update.last_seq) == (2, 5, 6)
    assert await store.max_seq() == 6
    items = await store.items_since(0)
    assert [(i.seq, i.kind, i.event) for i in items] == [
        (3, "summary", "new"), (4, "summary", "new"), (5, "paper", "replace"), (6, "paper", "updated")]
    assert items[0].paper is not None and items[0].paper.arxiv_id == "2411.00001"
    assert items[1].paper is None and items[1].summary is not None, "a summary of a paper not stored"
    assert [i.seq for i in await store.items_since(4)] == [5, 6]
    assert [i.seq for i in await store.items_since(0, limit=1)] == [3]
    paper = await store.get_paper("2411.00001")
    assert paper is not None
    assert (paper.title, paper.latest_version, paper.versions, paper.comment, paper.first_seq, paper.seq) \
        == ("A revised title", 2, [1, 2], "12 pages", 1, 5)
    assert paper.authors == ["Ada Lovelace", "Jörg Müller"] and paper.categories == ["cs.LG"]
    assert await store.missing_papers(["2411.00001", "2411.09999"]) == {"2411.09999"}
    assert await store.summaries_without_paper() == ["2411.09999"]
    assert await store.seq_before("2000-01-01T00:00:00+00:00") == 0
    assert await store.seq_before("2999-01-01T00:00:00+00:00") == 6


async def test_summary_edits_are_news_and_votes_are_not(engine_store: Store) -> None:
    store = engine_store
    await store.apply_feed_batch(FeedState("ss", "http://x"), [], [_summary("g", votes=1)])
    result = await store.apply_feed_batch(FeedState("ss", "http://x"), [], [_summary("g", votes=5)])
    assert (result.new_summaries, result.updated_summaries, result.last_seq) == (0, 0, None)
    edited = SummaryRecord("shortscience", "g", "Summary g", "New text.", arxiv_id="2411.00001",
                           edited_at="2024-11-29T00:00:00+00:00", votes=6)
    result = await store.apply_feed_batch(FeedState("ss", "http://x"), [], [edited])
    assert (result.updated_summaries, result.first_seq) == (1, 2)
    [summary] = await store.summaries_for_paper("2411.00001")
    assert (summary.text, summary.votes, summary.seq) == ("New text.", 6, 2)
    assert [(i.kind, i.event) for i in await store.items_since(0)] == [("summary", "edited")]


# -- feeds -------------------------------------------------------------------------------------


async def test_feed_states_and_api_queries(engine_store: Store) -> None:
    store = engine_store
    await store.save_feed_state(FeedState("b", "http://b", consecutive_failures=2, last_error="500"))
    await store.save_feed_state(FeedState("a", "http://a"))
    await store.save_feed_state(FeedState("b", "http://b", etag="x"))
    assert [(f.name, f.etag, f.consecutive_failures) for f in await store.list_feed_states()] == \
        [("a", None, 0), ("b", "x", 0)]
    assert not await store.api_query_fresh("q", 60)
    await store.record_api_query("q", 3)
    assert await store.api_query_fresh("q", 60)


# -- channels ----------------------------------------------------------------------------------


async def test_channels_and_their_topics(engine_store: Store) -> None:
    store = engine_store
    await store.store_papers([_paper("2411.00001")])
    created = await store.ensure_channel(7, 10, "08:00", "UTC", "2024-11-29T08:00:00+00:00")
    assert (created.cursor_seq, created.frequency, created.include_replacements) == (1, "daily", False)
    assert (await store.ensure_channel(7, 10, "09:00", "UTC", None)).digest_time == "08:00", "kept"
    await store.ensure_channel(8, 11, "08:00", "UTC", None)
    await store.update_channel(11, include_replacements=True, only_top=True, layout="cards", top=3)
    eleven = await store.get_channel(11)
    assert eleven is not None and (eleven.include_replacements, eleven.only_top, eleven.digest_layout,
                                   eleven.top) == (True, True, "cards", 3)
    with pytest.raises(ValueError, match="not channel settings"):
        await store.update_channel(11, guild_id=3)
    assert [c.channel_id for c in await store.list_channels()] == [10, 11]
    assert [c.channel_id for c in await store.list_channels(8)] == [11]
    assert await store.add_subscription(SubscriptionRow(10, "category", "cs.LG", "cs.LG"))
    assert not await store.add_subscription(SubscriptionRow(10, "category", "cs.LG", "cs.LG"))
    assert await store.add_subscription(SubscriptionRow(10, "category", "cs.LG", "cs.LG", exclude=True))
    assert await store.add_subscription(SubscriptionRow(10, "archive", "astro-ph", "astro-ph"))
    assert await store.add_subscription(SubscriptionRow(11, "category", "cs.AI", "cs.AI"))
    assert await store.add_subscription(SubscriptionRow(10, "keyword", "graphs", "graphs"))
    assert await store.followed_categories() == ["astro-ph", "cs.AI"]
    assert [(s.channel_id, s.key, s.exclude) for s in await store.list_subscriptions([10])] == \
        [(10, "cs.LG", True), (10, "astro-ph", False), (10, "graphs", False)]
    assert await store.count_subscriptions(channel_id=10) == 3
    assert await store.count_subscriptions(guild_id=7) == 3
    assert await store.count_subscriptions(guild_id=8) == 1
    assert await store.remove_subscription(10, "keyword", "graphs")
    assert not await store.remove_subscription(10, "keyword", "graphs")
    assert len(await store.list_subscriptions()) == 3


# -- delivery ----------------------------------------------------------------------------------


async def test_a_digest_is_planned_sent_and_recorded(engine_store: Store) -> None:
    store = engine_store
    await store.ensure_channel(1, 10, "08:00", "UTC", "2024-11-29T08:00:00+00:00")
    await store.ensure_channel(1, 11, "08:00", "UTC", "2024-11-28T08:00:00+00:00")
    await store.ensure_channel(1, 12, "08:00", "UTC", None)
    await store.update_channel(12, frequency="instant")
    assert await store.due_channels("2024-11-28T09:00:00+00:00") == [await store.get_channel(11)]
    await store.store_papers([_paper("2411.00001"), _paper("2411.00002")])
    due = await store.due_channels("2024-11-30T00:00:00+00:00")
    assert [c.channel_id for c in due] == [12, 11, 10], "instant (no due time) first, then by time"
    messages = [("n-header", {"content": "Digest"}, []),
                ("n-1", {"content": "Ünïcode 📄", "embeds": [{"title": "x"}]},
                 [("paper", "2411.00001", 1), ("paper", "2411.00002", 1)])]
    planned = await store.plan_digest(10, "d1", messages, 2, "2024-11-30T08:00:00+00:00")
    assert [(m.position, m.nonce, m.status) for m in planned] == [(0, "n-header", "pending"),
                                                                 (1, "n-1", "pending")]
    assert planned[1].payload == messages[1][1] and planned[1].items == messages[1][2]
    channel = await store.get_channel(10)
    assert channel is not None and (channel.cursor_seq, channel.next_due) == (2, "2024-11-30T08:00:00+00:00")
    assert await store.channels_with_pending([10, 11]) == {10}
    await store.record_attempt(planned[0], 10, "2024-11-29T08:00:01+00:00")
    await store.record_attempt(planned[0], 10, "2024-11-29T08:00:09+00:00")
    await store.record_sent(planned[0], 555, 10)
    [header, rest] = await store.pending_outbox(10)
    assert (header.status, header.message_id, header.attempted_at) == \
        ("sent", 555, "2024-11-29T08:00:01+00:00")
    await store.record_sent(rest, 2**62, 9_000_000_000_000_000_000 // 2)
    assert await store.pending_outbox(10) == [] and await store.channels_with_pending([10]) == set()
    assert await store.delivered([10, 11], [("paper", "2411.00001"), ("paper", "2411.00003")]) == \
        {10: {("paper", "2411.00001"): {1}}}
    await store.advance_cursor(11, 2, None)
    await store.pause_channel(12, "403 Missing Access " * 40)
    paused = await store.get_channel(12)
    assert paused is not None and paused.paused_reason is not None and len(paused.paused_reason) == 300
    assert await store.due_channels("2024-12-31T00:00:00+00:00") == [await store.get_channel(10)]
    await store.resume_channel(12)
    assert (await store.get_channel(12)).paused_at is None  # type: ignore[union-attr]


async def test_pruning_moves_the_old_news_horizon(engine_store: Store) -> None:
    store = engine_store
    await store.ensure_channel(1, 10, "08:00", "UTC", None)
    await store.store_papers([_paper("2411.00001")])
    [message] = await store.plan_digest(10, "d", [("n", {"content": "x"}, [("paper", "2411.00001", 1)])],
                                        1, None)
    await store.record_sent(message, 1, 10)
    await store.record_api_query("q", 1)
    assert await store.old_news_seq() == 0
    pruned = await store.prune("2999-01-01T00:00:00+00:00", "2999-01-01T00:00:00+00:00")
    assert pruned == {"deliveries": 1, "sent_messages": 1, "api_queries": 1, "old_news_seq": 1}
    assert await store.old_news_seq() == 1
    await store.prune("2000-01-01T00:00:00+00:00", "2000-01-01T00:00:00+00:00")
    assert await store.old_news_seq() == 1, "the horizon never moves back"


# -- lookups -----------------------------------------------------------------------------------


async def test_papers_by_id_doi_and_autocomplete(engine_store: Store) -> None:
    store = engine_store
    await store.store_papers([
        _paper("2411.00001", title="Graph neural networks for molecules", doi="10.1000/ABC"),
        _paper("2411.00002", title="Molecular dynamics with graphs", categories=("physics.chem-ph",)),
        _paper("2412.00003", title="Diffusion models"),
        _paper("hep-th/9901001", title="Strings"),
    ])
    assert (await store.paper_by_doi("10.1000/abc")).arxiv_id == "2411.00001"  # type: ignore[union-attr]
    assert await store.paper_by_doi("10.1000/none") is None
    assert set(await store.papers_by_ids(["2411.00001", "2412.00003", "0000.00000"])) == \
        {"2411.00001", "2412.00003"}
    assert [a for a, _ in await store.autocomplete_papers("2411")] == ["2411.00001", "2411.00002"]
    assert [a for a, _ in await store.autocomplete_papers("arXiv:2412.0")] == ["2412.00003"]
    assert [a for a, _ in await store.autocomplete_papers("hep-th/99")] == ["hep-th/9901001"]
    assert [a for a, _ in await store.autocomplete_papers("", limit=2)] == ["hep-th/9901001", "2412.00003"]
    assert [a for a, _ in await store.autocomplete_papers("graph neu")] == ["2411.00001"]
    assert [a for a, _ in await store.autocomplete_papers("molec")] == ["2411.00002", "2411.00001"]
    assert await store.autocomplete_papers("mo") == [], "a prefix needs three characters"
    assert await store.autocomplete_papers('"*') == []
    assert [p.arxiv_id for p in await store.search_papers("graphs molecular")] == ["2411.00002"]
    assert [p.arxiv_id for p in await store.search_papers("muller")] == \
        ["hep-th/9901001", "2412.00003", "2411.00002", "2411.00001"], "authors, without diacritics"
    assert [p.arxiv_id for p in await store.search_papers("muller", category="physics")] == ["2411.00002"]
    assert [p.arxiv_id for p in await store.search_papers("muller", category="physics.chem-ph")] == \
        ["2411.00002"]
    assert await store.search_papers("muller", category="physics.chem") == []
    for typed in ('" OR 1=1 --', "NEAR(a b)", "graph*", "a & b | !c", "x:*", "'", "\\"):
        await store.search_papers(typed)  # text, never syntax: no error
        await store.autocomplete_papers(typed)


async def test_any_word_of_an_abstract_is_found_as_typed(engine_store: Store) -> None:
    """A word is found as it was written, whatever it looks like: a hash that a number rule could
    split (``34e1...``), digits, Greek and Chinese; a word too long for PostgreSQL's index loses
    nothing else of its paper, and looking for it is no error; a paper with an empty abstract, or
    with no word at all, is stored with the rest of its batch."""
    store = engine_store
    huge = "x" * 3000
    await store.store_papers([
        PaperRecord("2411.00001", 1, "Hashes", ["Ada Lovelace"], "Commit 34e1dbe95d34d7eb and 1e5 steps.",
                    ["cs.LG"]),
        PaperRecord("2411.00002", 1, "Greek and Chinese", ["Ada Lovelace"], "Ένα μοντέλο 深度学习 模型.",
                    ["cs.CL"]),
        PaperRecord("2411.00003", 1, "Huge words", ["Ada Lovelace"], f"Before {huge} after.", ["cs.LG"]),
        PaperRecord("2411.00004", 1, "?!", ["", "—"], "", ["cs.LG"]),  # no word but in its authors
        PaperRecord("2411.00005", 1, "Nothing else", ["Grace Hopper"], "", ["cs.LG"]),
    ])
    for typed, expected in (("34e1dbe95d34d7eb", ["2411.00001"]), ("1e5 steps", ["2411.00001"]),
                            ("nothing hopper", ["2411.00005"]),
                            ("μοντέλο", ["2411.00002"]), ("深度学习", ["2411.00002"]),
                            ("before after", ["2411.00003"]), ("34e1", [])):
        assert [p.arxiv_id for p in await store.search_papers(typed)] == expected, typed
    await store.search_papers(huge)
    assert set(await store.papers_by_ids(["2411.00004", "2411.00005"])) == {"2411.00004", "2411.00005"}


async def test_summaries_by_paper_venue_and_key(engine_store: Store) -> None:
    store = engine_store
    await store.apply_feed_batch(FeedState("ss", "http://x"), [], [
        _summary("a", bibtex_key="conf/nips/Smith20", votes=2, edited_at="2024-01-02T00:00:00+00:00"),
        _summary("b", bibtex_key="conf/NIPS/Jones21", votes=9, edited_at="2024-01-03T00:00:00+00:00"),
        _summary("c", bibtex_key="journals/corr/abs-1", arxiv_id="2411.00002"),
        _summary("d", bibtex_key="conf/nips_w/x", arxiv_id=None),
    ])
    assert [s.guid for s in await store.summaries_for_paper("2411.00001")] == ["b", "a"]
    assert [s.guid for s in await store.venue_summaries("nips")] == ["b", "a"]
    assert [s.guid for s in await store.latest_summaries(venue="journals/corr")] == ["c"]
    assert [s.guid for s in await store.latest_summaries(limit=2, offset=1)] == ["a", "d"]
    assert await store.count_summaries() == 4 and await store.count_summaries(venue="nips") == 2
    assert await store.count_summaries(arxiv_id="2411.00002") == 1
    assert [s.guid for s in await store.summaries_by_bibtex_key("conf/nips/Smith20")] == ["a"]


# -- saves, corpus, admin ----------------------------------------------------------------------


async def test_saves_corpus_and_admin(engine_store: Store) -> None:
    store = engine_store
    await store.store_papers([_paper("2411.00001"), _paper("2411.00002")])
    await store.apply_feed_batch(FeedState("ss", "http://x"), [],
                                 [_summary("a", votes=1), _summary("b", votes=4)])
    assert await store.toggle_save(10, "2411.00001", 5)
    assert await store.toggle_save(10, "2411.00002", 6)
    assert not await store.toggle_save(10, "2411.00002", 6)
    [saved] = await store.list_saves()
    assert await store.list_saves([10, 11]) == [Save(10, "2411.00001", 5, saved.saved_at)]
    assert [p.arxiv_id for p in await store.recent_papers(5)] == ["2411.00002", "2411.00001"]
    assert {k: [s.guid for s in v] for k, v in (await store.summaries_of(["2411.00001", "x"])).items()} == \
        {"2411.00001": ["b", "a"]}
    await store.set_alert("feed:f", True)
    await store.set_alert("feed:f", True)
    await store.set_alert("feed:g", True)
    await store.set_alert("feed:g", False)
    assert await store.open_alerts() == {"feed:f"}
    assert await store.counts() == {"papers": 2, "paper_versions": 2, "summaries": 2, "feeds": 1,
                                    "ingest_log": 4}
    assert await store.size_bytes() > 0
    gone = ChannelSettings(20, 2, "08:00", "UTC", paused_reason="gone")
    topic = SubscriptionRow(20, "category", "cs.LG", "cs.LG")
    created = await store.import_channels([gone], [topic],
                                          [Save(20, "2411.00001", 5, "2024-01-01T00:00:00+00:00")])
    assert created == (1, 0, 1, 0)
    assert await store.import_channels([gone], [topic]) == (0, 0, 0, 0)
    later = ChannelSettings(20, 2, "09:00", "UTC", paused_reason="gone")
    flipped = SubscriptionRow(20, "category", "cs.LG", "cs.LG", True)
    assert await store.import_channels([later], [flipped]) == (0, 1, 0, 1)
    [(cursor,)] = await raw_rows(store, "SELECT cursor_seq FROM channels WHERE channel_id = ?", 20)
    assert cursor == 4, "an imported channel starts at the store's current seq"
    assert (await store.list_saves([20]))[0].saved_at == "2024-01-01T00:00:00+00:00"
