"""Ingest acceptance: the big real feed, re-polls, cross-lists and versions, summaries and edits, on
each store engine (``store_location``: an SQLite file or a PostgreSQL database)."""

from __future__ import annotations

import dataclasses
import logging
import re
from collections import Counter
from pathlib import Path

import pytest

from bot.core.config import Config
from bot.ingest.poller import feed_specs
from bot.services.wiring import open_services
from doubles.feed_server import FeedServer
from tests.helpers import BIG_FEED, arxiv_feed, arxiv_item, make_config, shared_feed
from tests.postgres_cluster import raw_rows


def _on(location: str, config: Config) -> Config:
    """The config with its store at ``location`` (a path, or a PostgreSQL URL)."""
    if location.startswith("postgresql://"):
        return dataclasses.replace(config, storage=dataclasses.replace(config.storage, url=location))
    return dataclasses.replace(config, storage=dataclasses.replace(config.storage, path=location))


def direct_counts(feed: Path) -> Counter[str]:
    """Count items and announce types straight from the file, without feedparser."""
    text = feed.read_text(encoding="utf-8")
    counts = Counter(re.findall(r"<arxiv:announce_type>([\w-]+)</arxiv:announce_type>", text))
    counts["items"] = text.count("<item>")
    counts["ids"] = len(set(re.findall(r"oai:arXiv\.org:(\S+?)v\d+</guid>", text)))
    return counts


async def test_big_feed_is_stored_completely_and_once(
        tmp_path: Path, feed_server: FeedServer, store_location: str) -> None:
    big = shared_feed(BIG_FEED)
    feed_server.serve("/rss/cs.LG", big)
    config = _on(store_location, make_config(tmp_path, feed_server.port))
    expected = direct_counts(big)
    async with open_services(config) as services:
        [report] = await services.ingestor.poll(feed_specs(config))
        assert report.status == "ok"
        assert report.items == expected["items"] == 1504
        assert report.new_papers == expected["ids"]
        [again] = await services.ingestor.poll(feed_specs(config))
        assert again.status == "not_modified"
        feed_server.routes["/rss/cs.LG"].conditional = False  # a server that ignores validators
        [third] = await services.ingestor.poll(feed_specs(config))
        assert (third.status, third.items, third.new_papers, third.updated_papers) == ("ok", 1504, 0, 0)
        store = services.store
        stored = Counter(t for (t,) in await raw_rows(store, "SELECT announce_type FROM papers"))
        assert sum(stored.values()) == expected["ids"]
        for kind in ("new", "cross", "replace"):
            assert stored[kind] == expected[kind], kind
        assert (await raw_rows(store, "SELECT count(*) FROM ingest_log"))[0][0] == expected["ids"]
        blank = "SELECT count(*) FROM papers WHERE title = '' OR abstract = ''"
        assert (await raw_rows(store, blank))[0][0] == 0
    # Conditional GET was used on the second poll.
    assert "If-None-Match" in feed_server.hits("/rss/cs.LG")[1].headers


async def test_fields_of_a_known_item(
        tmp_path: Path, feed_server: FeedServer, store_location: str) -> None:
    feed_server.serve("/rss/cs.LG", shared_feed(BIG_FEED))
    config = _on(store_location, make_config(tmp_path, feed_server.port))
    async with open_services(config) as services:
        await services.ingestor.poll(feed_specs(config))
        paper = await services.store.get_paper("2411.17700")
        assert paper is not None
        assert paper.title.startswith("Exploring the Impact of Generative AI")
        assert paper.announce_type == "new" and paper.latest_version == 1 and paper.versions == [1]
        assert paper.abstract.startswith("This study investigates")
        assert "Announce Type" not in paper.abstract
        assert paper.categories and paper.authors
        [with_doi] = await raw_rows(
            services.store, "SELECT arxiv_id, doi, journal_ref FROM papers WHERE doi IS NOT NULL LIMIT 1")
        assert with_doi is not None and with_doi[1].startswith("10.")
        tex = await raw_rows(services.store,
                             "SELECT authors FROM papers WHERE authors LIKE '%\\%' ESCAPE '!'")
        assert tex == [], "TeX escapes in author names are turned into Unicode"


async def test_cross_list_and_new_version_are_one_paper(
        tmp_path: Path, feed_server: FeedServer, store_location: str) -> None:
    feed_server.serve("/rss/cs.LG", arxiv_feed(
        arxiv_item("2411.00001", categories=("cs.LG", "stat.ML")),
        arxiv_item("2411.00002", authors=r"Andr\'e Mart{\'\i}ns, J\"org M\"uller")))
    feed_server.serve("/rss/stat.ML", arxiv_feed(
        arxiv_item("2411.00001", announce="cross", categories=("cs.LG", "stat.ML"))))
    config = _on(store_location, make_config(tmp_path, feed_server.port, categories=["cs.LG", "stat.ML"]))
    async with open_services(config) as services:
        reports = await services.ingestor.poll(feed_specs(config))
        assert sum(r.new_papers for r in reports) == 2
        assert sum(r.updated_papers for r in reports) == 0
        paper = await services.store.get_paper("2411.00002")
        assert paper is not None and paper.authors == ["André Martíns", "Jörg Müller"]
        # The next day: v2 of the first paper is announced as a replacement.
        feed_server.serve("/rss/cs.LG", arxiv_feed(
            arxiv_item("2411.00001", version=2, announce="replace", categories=("cs.LG", "stat.ML"),
                       title="A Paper, revised")))
        [report] = await services.ingestor.poll([s for s in feed_specs(config) if s.name == "arxiv:cs.LG"])
        assert (report.new_papers, report.updated_papers) == (0, 1)
        paper = await services.store.get_paper("2411.00001")
        assert paper is not None
        assert (paper.latest_version, paper.versions, paper.announce_type) == (2, [1, 2], "replace")
        assert paper.title == "A Paper, revised"
        # An old copy of v1 showing up again changes nothing.
        feed_server.serve("/rss/cs.LG", arxiv_feed(arxiv_item("2411.00001", version=1)))
        [report] = await services.ingestor.poll([s for s in feed_specs(config) if s.name == "arxiv:cs.LG"])
        assert (report.new_papers, report.updated_papers) == (0, 0)
        assert (await services.store.get_paper("2411.00001")).latest_version == 2  # type: ignore[union-attr]
        counts = await services.store.counts()
    assert counts["papers"] == 2 and counts["paper_versions"] == 3 and counts["ingest_log"] == 3


SHORTSCIENCE_ITEM = """<item>
<shortscience:arxivid>1805.08296</shortscience:arxivid>
<shortscience:bibtexkey>journals/corr/1805.08296</shortscience:bibtexkey>
<shortscience:votes>{votes}</shortscience:votes>
<title>Data-Efficient Hierarchical Reinforcement Learning</title>
<author>davidstutz</author>
<description>{text}</description>
<link>https://www.shortscience.org/paper?bibtexKey=journals/corr/1805.08296#davidstutz</link>
<guid>https://www.shortscience.org/paper?bibtexKey=journals/corr/1805.08296#davidstutz</guid>
<pubDate>{date}</pubDate>
</item>"""


def shortscience_feed(*items: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
            'xmlns:shortscience="https://www.shortscience.org"><channel>'
            "<title>ShortScience.org Latest Summaries</title>" + "".join(items) +
            "</channel></rss>").encode()


API_ENTRY = (Path(__file__).parent / "fixtures" / "arxiv_api_1805.08296.atom")


async def test_shortscience_edit_is_an_update_and_papers_are_completed(
        tmp_path: Path, feed_server: FeedServer, store_location: str) -> None:
    feed_server.serve("/ss.xml", shortscience_feed(SHORTSCIENCE_ITEM.format(
        votes=2, text="# Keypoints - HIRO", date="Fri, 27 Nov 2026 17:00:00 +0000")))
    feed_server.serve("/api/query", API_ENTRY)
    config = make_config(tmp_path, feed_server.port, categories=[],
                         feeds=[{"name": "shortscience", "kind": "shortscience",
                                 "url": feed_server.url("/ss.xml")}])
    async with open_services(config) as services:
        [report] = await services.ingestor.poll(feed_specs(config))
        assert (report.status, report.new_summaries, report.new_papers) == ("ok", 1, 1)
        assert feed_server.hits("/api/query")[0].query["id_list"] == "1805.08296"
        paper = await services.store.get_paper("1805.08296")
        assert paper is not None and paper.title == "Data-Efficient Hierarchical Reinforcement Learning"
        [summary] = await services.store.summaries_for_paper("1805.08296")
        assert (summary.author, summary.votes, summary.bibtex_key) == (
            "davidstutz", 2, "journals/corr/1805.08296")
        # The author edits the summary: same guid, newer pubDate.
        feed_server.serve("/ss.xml", shortscience_feed(SHORTSCIENCE_ITEM.format(
            votes=3, text="# Keypoints - HIRO, edited", date="Sat, 28 Nov 2026 09:00:00 +0000")))
        [report] = await services.ingestor.poll(feed_specs(config))
        assert (report.new_summaries, report.updated_summaries, report.new_papers) == (0, 1, 0)
        [summary] = await services.store.summaries_for_paper("1805.08296")
        assert summary.text.endswith("edited") and summary.votes == 3
        assert len(feed_server.hits("/api/query")) == 1, "the paper is not fetched again"
        # Only the votes change: no new event.
        feed_server.serve("/ss.xml", shortscience_feed(SHORTSCIENCE_ITEM.format(
            votes=4, text="# Keypoints - HIRO, edited", date="Sat, 28 Nov 2026 09:00:00 +0000")))
        [report] = await services.ingestor.poll(feed_specs(config))
        assert (report.new_summaries, report.updated_summaries) == (0, 0)
        counts = await services.store.counts()
    assert counts["summaries"] == 1 and counts["ingest_log"] == 3


async def test_sequence_numbers_only_grow(
        tmp_path: Path, feed_server: FeedServer, store_location: str) -> None:
    feed_server.serve("/rss/cs.LG", arxiv_feed(arxiv_item("2411.00001"), arxiv_item("2411.00002")))
    config = _on(store_location, make_config(tmp_path, feed_server.port))
    async with open_services(config) as services:
        await services.ingestor.poll(feed_specs(config))
        feed_server.serve("/rss/cs.LG", arxiv_feed(arxiv_item("2411.00003"),
                                                   arxiv_item("2411.00001", 2, "replace")))
        await services.ingestor.poll(feed_specs(config))
        # insertion order: SQLite's rowid; the PostgreSQL log has no other order than its seq
        order = "rowid" if not store_location.startswith("postgresql://") else "ctid"
        seqs = [s for (s,) in await raw_rows(services.store, f"SELECT seq FROM ingest_log ORDER BY {order}")]
    assert seqs == sorted(seqs) == list(range(1, 5))


async def test_index_upkeep_that_fails_loses_no_paper(
        tmp_path: Path, feed_server: FeedServer, store_location: str,
        caplog: pytest.LogCaptureFixture) -> None:
    """The upkeep after a round (``tidy_after``) runs only when the round stored papers; when the
    store fails at it, the operator is told and nothing is raised to the poll job."""
    from storage.errors import StoreError

    feed_server.serve("/rss/cs.LG", arxiv_feed(arxiv_item("2411.00001", title="Sparse graph models")))
    config = _on(store_location, make_config(tmp_path, feed_server.port))
    async with open_services(config) as services:
        calls: list[str] = []

        async def failing() -> None:
            calls.append("tidy")
            raise StoreError("the server ran out of resources (disk, memory or connections): free some")

        services.store.tidy_after_ingest = failing  # type: ignore[method-assign]
        reports = await services.ingestor.poll(feed_specs(config))
        with caplog.at_level(logging.WARNING):
            await services.ingestor.tidy_after(reports)
        assert calls == ["tidy"] and "index upkeep after the poll failed" in caplog.text
        assert [p.arxiv_id for p in await services.store.search_papers("sparse graph")] == ["2411.00001"]
        again = await services.ingestor.poll(feed_specs(config))  # 304: nothing stored
        await services.ingestor.tidy_after(again)
        assert calls == ["tidy"]
