"""Every real captured feed in ../shared/fixtures/feeds goes through the real pipeline.

Each file is served by the local FeedServer and polled (arXiv category feeds, ShortScience, any
other RSS/Atom/JSON as a summary feed) or fetched through the arXiv API client. Nothing may raise;
the status is ok, empty or error (then with a readable error), and every item the parser could
read is in the store, once. The files are read in place and never copied into the project; the
whole module is skipped when the folder is absent.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import feedparser
import pytest

from bot.ingest.poller import FeedSpec, feed_specs
from bot.ingest.sources import PARSERS, FeedParseError, ParsedFeed
from bot.ingest.sources.arxiv_api import ArxivApiError
from bot.services.wiring import Services, open_services
from doubles.feed_server import FeedServer
from storage.models import FeedState
from tests.helpers import SHARED_FEEDS, make_config, shared_feed

FILES = (sorted(p.name for p in SHARED_FEEDS.iterdir() if p.is_file() and p.suffix != ".md")
         if SHARED_FEEDS.is_dir() else [])

pytestmark = [
    pytest.mark.shared,
    pytest.mark.skipif(not SHARED_FEEDS.is_dir(), reason=f"{SHARED_FEEDS} is not available"),
]

HTTP = {"timeout": "5s", "retries": 0, "retry_backoff": "10ms", "max_retry_wait": "1s"}
API_ERROR = "arxiv_api_error_incorrect_id_format_abc_2026-04-12.atom"
ID_LIST = "arxiv_api_id_list_1111.2011v2_2016-10-09.atom"
DEEP_DREAM = ("arxiv_api_search_deep_dream_start0_2017-05-14.atom",
              "arxiv_api_search_deep_dream_start1_2017-05-14.atom")
EMPTY_FEEDS = ("arxiv_rss2024_cs.CL_weekend_empty_2026-08-01.xml", "arxiv_rss2024_test_empty_2024-11-28.xml")
# Files whose items link to arXiv abs pages (checked: those items must be linked to the paper).
ARXIV_LINKING = [f for f in FILES if f.startswith(("blog_", "summary_feed_"))]

_ARXIV_LINK = re.compile(
    r"arxiv\.org/(?:abs|pdf|html)/(\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?", re.IGNORECASE)


def kind_of(name: str) -> str:
    if name.startswith("arxiv_rss"):
        return "arxiv"
    if name.startswith("arxiv_api_"):
        return "api"
    if name.startswith("shortscience"):
        return "shortscience"
    return "rss"


def content_type_of(name: str) -> str:
    """No charset: the document's own declaration is what the parser has to cope with."""
    if name.endswith(".json"):
        return "application/json"
    if name.endswith(".rdf"):
        return "application/rdf+xml"
    if name.endswith(".atom"):
        return "application/atom+xml"
    return "application/xml"


FEED_FILES = [f for f in FILES if kind_of(f) != "api"]
API_FILES = [f for f in FILES if kind_of(f) == "api"]


# -- wiring ----------------------------------------------------------------------------------------

@asynccontextmanager
async def polled_services(tmp_path: Path, server: FeedServer, name: str) -> AsyncIterator[
        tuple[Services, FeedSpec]]:
    """Services whose one feed serves the shared file ``name`` as its kind wants."""
    path = shared_feed(name)
    kind = kind_of(name)
    options: dict[str, Any] = {"content_type": content_type_of(name)}
    if kind == "arxiv":
        server.serve("/rss/cs.LG", path, **options)
        config = make_config(tmp_path, server.port, categories=["cs.LG"], http=HTTP)
        spec_name = "arxiv:cs.LG"
    else:
        url = server.serve("/feeds/" + name, path, **options)
        config = make_config(tmp_path, server.port, categories=[], http=HTTP,
                             feeds=[{"name": "fixture", "kind": kind, "url": url}])
        spec_name = "fixture"
    async with open_services(config) as services:
        yield services, next(s for s in feed_specs(config) if s.name == spec_name)


def expected(name: str, spec: FeedSpec) -> ParsedFeed | FeedParseError:
    """What the feed's own parser makes of the bytes: the yardstick for what must be stored."""
    try:
        return PARSERS[spec.kind](shared_feed(name).read_bytes(), content_type_of(name), spec.name)
    except FeedParseError as exc:
        return exc


def assert_readable(error: str | None) -> None:
    assert error, "an error report must say what went wrong"
    assert "\n" not in error and "Traceback" not in error
    assert 5 < len(error) <= 500 and error.isprintable()


def summary_rows(services: Services) -> dict[str, str | None]:
    """guid -> arxiv_id of every stored summary (read straight from the SQLite file)."""
    with sqlite3.connect(services.config.storage.path) as db:
        return dict(db.execute("SELECT guid, arxiv_id FROM summaries").fetchall())


async def counts(services: Services) -> tuple[int, int]:
    found = await services.store.counts()
    return found["papers"], found["summaries"]


# -- every feed file -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", FEED_FILES)
async def test_feed_file_is_polled_and_stored(name: str, tmp_path: Path, feed_server: FeedServer) -> None:
    async with polled_services(tmp_path, feed_server, name) as (services, spec):
        report = await services.ingestor.poll_feed(spec)
        assert report.status in ("ok", "empty", "error"), report
        if report.status == "error":
            assert_readable(report.error)
        else:
            assert report.error is None

        parsed = expected(name, spec)
        if isinstance(parsed, FeedParseError):
            assert report.status == "error" and report.error == str(parsed)
            assert await counts(services) == (0, 0)
            return
        assert report.items == parsed.items
        if parsed.problem:
            assert (report.status, report.error) == ("error", parsed.problem)
        else:
            assert report.status == ("ok" if parsed.items else "empty")
        # Every item the parser could read is stored, once (the arXiv API is not served here, so
        # summaries do not bring papers along).
        papers = len({p.arxiv_id for p in parsed.papers})
        summaries = len({(s.source, s.guid) for s in parsed.summaries})
        assert await counts(services) == (papers, summaries)
        assert (report.new_papers, report.new_summaries) == (papers, summaries)
        assert report.items == len(feedparser.parse(shared_feed(name).read_bytes()).entries)
        state = await services.store.get_feed_state(spec.name)
        assert state is not None
        assert state.consecutive_failures == (1 if report.status == "error" else 0)

        # Polling again changes nothing: a 304 when it succeeded, the same fault otherwise.
        again = await services.ingestor.poll_feed(spec)
        assert again.status == ("error" if report.status == "error" else "not_modified")
        assert (again.new_papers, again.updated_papers, again.new_summaries,
                again.updated_summaries) == (0, 0, 0, 0)
        assert await counts(services) == (papers, summaries)


@pytest.mark.parametrize("name", EMPTY_FEEDS)
async def test_weekend_and_test_feeds_are_empty(name: str, tmp_path: Path, feed_server: FeedServer) -> None:
    async with polled_services(tmp_path, feed_server, name) as (services, spec):
        report = await services.ingestor.poll_feed(spec)
        assert (report.status, report.items, report.error) == ("empty", 0, None)
        state = await services.store.get_feed_state(spec.name)
        assert state is not None and state.consecutive_failures == 0 and state.last_error is None


async def test_davidbau_rdf_with_a_lying_encoding_declaration(
        tmp_path: Path, feed_server: FeedServer) -> None:
    """Declared iso-8859-1, really UTF-8: no exception, all 15 items, no mojibake stored."""
    async with polled_services(tmp_path, feed_server, "blog_davidbau_rss1_iso8859-1.rdf") as (services, spec):
        report = await services.ingestor.poll_feed(spec)
        assert report.status in ("ok", "error")
        assert report.items == 15 and report.new_summaries == 15
        with sqlite3.connect(services.config.storage.path) as db:
            texts = [t + " " + s for t, s in db.execute("SELECT title, text FROM summaries")]
        assert len(texts) == 15
        for text in texts:
            assert "ï¿½" not in text and "â€" not in text and "Ã" not in text, text[:200]


async def test_braingle_duplicate_guids_store_one_summary(tmp_path: Path, feed_server: FeedServer) -> None:
    async with polled_services(tmp_path, feed_server, "nodefeedparser_guid_dupes_braingle.xml") as (
            services, spec):
        report = await services.ingestor.poll_feed(spec)
        assert report.status == "ok" and report.new_summaries == 1
        assert list(summary_rows(services)) == ["http://www.braingle.com/50366.html"]


async def test_shortscience_arxivid_links_the_summary(tmp_path: Path, feed_server: FeedServer) -> None:
    async with polled_services(tmp_path, feed_server, "shortscience_rss_sample.xml") as (services, spec):
        report = await services.ingestor.poll_feed(spec)
        assert report.status == "ok" and report.new_summaries == 4
        [hiro] = await services.store.summaries_for_paper("1805.08296")
        assert hiro.guid.endswith("bibtexKey=journals/corr/1805.08296#davidstutz")
        assert (hiro.author, hiro.votes, hiro.bibtex_key) == ("davidstutz", 2, "journals/corr/1805.08296")
        assert hiro.title == "Data-Efficient Hierarchical Reinforcement Learning"
        [world] = await services.store.summaries_for_paper("1809.01999")
        assert world.author == "decodyng"
        rows = summary_rows(services)
        unlinked = {g for g, a in rows.items() if a is None}
        assert {g.rsplit("=", 1)[1] for g in unlinked} == {"conf/nips/BafnaMV18#tristandeleu",
                                                           "conf/nips/ZhangS18#jpcohen"}
        # The linked papers were asked of the arXiv API (not served here, so they stay missing).
        assert feed_server.hits("/api/query")


@pytest.mark.parametrize("name", ARXIV_LINKING)
async def test_blog_items_mentioning_arxiv_abs_links_are_linked(
        name: str, tmp_path: Path, feed_server: FeedServer) -> None:
    async with polled_services(tmp_path, feed_server, name) as (services, spec):
        report = await services.ingestor.poll_feed(spec)
        assert report.status != "error" or report.new_summaries
        rows = summary_rows(services)
        document = feedparser.parse(shared_feed(name).read_bytes())
        checked = 0
        for entry in document.entries:
            guid = (entry.get("id") or entry.get("link") or "").strip()
            haystack = " ".join([
                " ".join(link.get("href", "") for link in entry.get("links", [])),
                entry.get("link", ""),
                " ".join(c.get("value", "") for c in entry.get("content", [])),
                entry.get("summary", ""),
            ])
            mentioned = {m.lower() for m in _ARXIV_LINK.findall(haystack)}
            if not guid or not mentioned:
                continue
            checked += 1
            assert guid in rows, f"{guid} was not stored"
            assert rows[guid] is not None, f"{guid} mentions {sorted(mentioned)} but is not linked"
            assert rows[guid].lower() in mentioned, (guid, rows[guid], mentioned)
        assert checked, f"{name}: no item mentions an arxiv.org link"


# -- the arXiv API files ---------------------------------------------------------------------------

@asynccontextmanager
async def api_services(tmp_path: Path, server: FeedServer) -> AsyncIterator[Services]:
    config = make_config(tmp_path, server.port, categories=[], http=HTTP)
    async with open_services(config) as services:
        yield services


async def store_api_papers(services: Services, papers: list[Any]) -> Any:
    state = FeedState(name="arxiv-api", url=services.config.arxiv.api_url)
    return await services.store.apply_feed_batch(state, papers, [])


def opensearch(body: bytes, field: str) -> int:
    match = re.search(rb"<opensearch:" + field.encode() + rb"[^>]*>\s*(\d+)\s*<", body)
    assert match, field
    return int(match.group(1))


@pytest.mark.parametrize("name", API_FILES)
async def test_api_file_through_the_client(name: str, tmp_path: Path, feed_server: FeedServer) -> None:
    body = shared_feed(name).read_bytes()
    feed_server.serve("/api/query", body, content_type="application/atom+xml; charset=utf-8")
    async with api_services(tmp_path, feed_server) as services:
        if name == API_ERROR:
            with pytest.raises(ArxivApiError, match="incorrect id format"):
                await services.api.fetch_by_ids(["abc"])
            assert feed_server.hits("/api/query")[0].query["id_list"] == "abc"
            return
        if name == ID_LIST:
            papers = await services.api.fetch_by_ids(["1111.2011"])
            [paper] = papers
            assert (paper.arxiv_id, paper.version) == ("1111.2011", 2)
            assert len(paper.authors) == 3 and paper.doi and paper.journal_ref and paper.comment
            assert feed_server.hits("/api/query")[0].query["id_list"] == "1111.2011"
            # Asked today: the same id is not asked again.
            assert await services.api.fetch_by_ids(["1111.2011"]) == []
            assert len(feed_server.hits("/api/query")) == 1
        else:
            page = await services.api.search("all:fixture", start=0, max_results=10)
            papers = page.papers
            assert page.total == opensearch(body, "totalResults")
            assert page.start == opensearch(body, "startIndex")
            query = feed_server.hits("/api/query")[0].query
            assert query["search_query"] == "all:fixture" and query["max_results"] == "10"
        assert len(papers) == body.count(b"<entry>") > 0
        for paper in papers:
            assert paper.title and paper.authors and paper.abstract and paper.categories
            assert paper.version >= 1 and paper.published and paper.updated
            assert "\n" not in paper.title and "  " not in paper.abstract
        result = await store_api_papers(services, papers)
        distinct = len({p.arxiv_id for p in papers})
        assert result.new_papers == distinct
        assert (await services.store.counts())["papers"] == distinct


async def test_deep_dream_pages_overlap_but_each_paper_is_stored_once(
        tmp_path: Path, feed_server: FeedServer) -> None:
    async with api_services(tmp_path, feed_server) as services:
        pages = []
        for start, name in enumerate(DEEP_DREAM):
            feed_server.serve("/api/query", shared_feed(name), content_type="application/atom+xml")
            pages.append(await services.api.search("all:deep dream", start=start, max_results=10))
        first, second = ({p.arxiv_id for p in page.papers} for page in pages)
        assert len(first) == len(second) == 10 and len(first & second) >= 9
        results = [await store_api_papers(services, page.papers) for page in pages]
        assert results[0].new_papers == 10
        assert results[1].new_papers == len(second - first)
        assert (await services.store.counts())["papers"] == len(first | second)
        # The same two pages again, as one batch: still nothing new.
        again = await store_api_papers(services, pages[0].papers + pages[1].papers)
        assert again.new_papers == 0
        assert (await services.store.counts())["papers"] == len(first | second)


async def test_api_error_feed_with_its_real_http_400_status(tmp_path: Path, feed_server: FeedServer) -> None:
    """arXiv sends its error feed with HTTP 400: arXiv's own message must still reach the caller."""
    feed_server.fault("/api/query", status=400, error_body=shared_feed(API_ERROR).read_bytes(),
                      content_type="application/atom+xml")
    config = make_config(tmp_path, feed_server.port, categories=[], http=HTTP)
    async with open_services(config) as services:
        with pytest.raises(ArxivApiError, match="incorrect id format"):
            await services.api.fetch_by_ids(["abc"])


def test_every_file_has_a_route() -> None:
    """The parametrisation covers the whole folder (nothing silently left out)."""
    assert set(FEED_FILES) | set(API_FILES) == set(FILES)
    assert len(FILES) >= 20
