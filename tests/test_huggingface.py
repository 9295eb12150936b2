"""Hugging Face Daily Papers (``kind = "huggingface"``): the real capture through the real poller and
a real store, the ``{date}`` placeholder, upvotes that change, malformed entries and bodies, and
how its summaries read on the paper card."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from html import escape
from pathlib import Path
from typing import Any

import pytest

from bot.core.config import Config, ConfigError
from bot.discord_side.cards import render_paper_card
from bot.discord_side.cards.custom_ids import CardState
from bot.discord_side.cards.summaries import render_summary_only_card
from bot.discord_side.limits import payload_violations
from bot.discord_side.lines import votes_byline
from bot.ingest.poller import FeedReport, Ingestor, feed_specs, feed_url
from bot.ingest.sources.feed import FeedParseError
from bot.ingest.sources.huggingface import parse_huggingface
from bot.services.wiring import Services, open_services
from doubles.feed_server import FeedServer
from storage.models import StoredSummary
from tests.helpers import make_config, shared_feed

CAPTURE = "hf_daily_papers_2026-06-12.json"
DAILY = "/api/daily_papers"
JSON = "application/json; charset=utf-8"


class FakeClock:
    """A clock the test moves: 09:30 UTC on the capture's day."""

    def __init__(self) -> None:
        self.now = datetime(2026, 6, 12, 9, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def api_answer(papers: list[dict[str, Any]]) -> bytes:
    """The arXiv API's Atom answer for an ``id_list`` of these Hugging Face ``paper`` objects."""
    entries = "".join(
        f"<entry><id>http://arxiv.org/abs/{p['id']}v1</id><title>{escape(p['title'])}</title>"
        f"<updated>2026-06-01T00:00:00Z</updated><published>2026-06-01T00:00:00Z</published>"
        f"<summary>{escape(p.get('summary') or 'An abstract.')}</summary>"
        '<category term="cs.CL" scheme="http://arxiv.org/schemas/atom"/>'
        '<arxiv:primary_category term="cs.CL"/>'
        + "".join(f"<author><name>{escape(a['name'])}</name></author>" for a in p.get("authors", []))
        + "</entry>" for p in papers)
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/"'
            ' xmlns:arxiv="http://arxiv.org/schemas/atom"><id>https://arxiv.org/api/paperboy-test</id>'
            f"<title>arXiv Query</title><updated>2026-06-12T00:00:00Z</updated>"
            f"<opensearch:itemsPerPage>{len(papers)}</opensearch:itemsPerPage>"
            f"<opensearch:totalResults>{len(papers)}</opensearch:totalResults>"
            f"<opensearch:startIndex>0</opensearch:startIndex>{entries}</feed>").encode()


def hf_config(tmp_path: Path, feed_server: FeedServer, path: str = DAILY) -> Config:
    return make_config(tmp_path, feed_server.port, categories=[], feeds=[
        {"name": "hf", "kind": "huggingface", "url": feed_server.url(path) + "?date={date}"}])


def ingestor(services: Services, clock: FakeClock) -> Ingestor:
    return Ingestor(services.config, services.store, services.http, services.api, clock=clock)


async def poll(services: Services, clock: FakeClock) -> FeedReport:
    [report] = await ingestor(services, clock).poll(feed_specs(services.config))
    return report


@pytest.fixture
def capture() -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = json.loads(shared_feed(CAPTURE).read_bytes())
    return entries


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _counts(path: str) -> Iterator[int]:
    db = sqlite3.connect(path)
    try:
        for table in ("summaries", "papers", "ingest_log"):
            yield db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        db.close()


async def test_daily_papers_are_stored_linked_and_their_upvotes_follow(
        tmp_path: Path, feed_server: FeedServer, capture: list[dict[str, Any]], clock: FakeClock) -> None:
    feed_server.serve(DAILY, shared_feed(CAPTURE), content_type=JSON)
    feed_server.serve("/api/query", api_answer([e["paper"] for e in capture]))
    config = hf_config(tmp_path, feed_server)
    with_summary = [e for e in capture if e["paper"].get("ai_summary")]
    assert len(with_summary) == 30
    async with open_services(config) as services:
        report = await poll(services, clock)
        assert (report.status, report.items, report.new_summaries, report.new_papers) == ("ok", 30, 30, 30)
        assert report.url == feed_server.url(DAILY) + "?date=2026-06-12"
        [hit] = feed_server.hits(DAILY)
        assert hit.query == {"date": "2026-06-12"}, "today's date (UTC, the Ingestor's clock)"
        [api] = feed_server.hits("/api/query")
        assert api.query["id_list"] == ",".join(sorted(e["paper"]["id"] for e in capture))

        [summary] = await services.store.summaries_for_paper("2606.13681")
        entry = next(e for e in capture if e["paper"]["id"] == "2606.13681")
        assert (summary.source, summary.guid, summary.arxiv_id) == ("hf", "2606.13681", "2606.13681")
        assert summary.title == entry["paper"]["title"]
        assert summary.text == entry["paper"]["ai_summary"]
        assert summary.author == "Hugging Face (AI summary)"
        assert summary.link == "https://huggingface.co/papers/2606.13681"
        assert (summary.votes, summary.comments) == (118, 3)
        assert summary.edited_at == "2026-06-12T00:00:00+00:00"
        paper = await services.store.get_paper("2606.13681")
        assert paper is not None and paper.title == entry["paper"]["title"]
        state = await services.store.get_feed_state("hf")
        assert state is not None and state.url == report.url and state.etag

        # Later that day: more upvotes and a comment; counts change, nothing is news again.
        for e in capture:
            e["paper"]["upvotes"] += 5
        entry["numComments"] = 4
        feed_server.serve(DAILY, json.dumps(capture).encode(), content_type=JSON)
        clock.now += timedelta(hours=2)
        again = await poll(services, clock)
        assert (again.status, again.new_summaries, again.updated_summaries, again.new_papers,
                again.updated_papers) == ("ok", 0, 0, 0, 0)
        [summary] = await services.store.summaries_for_paper("2606.13681")
        assert (summary.votes, summary.comments) == (123, 4)
        assert "If-None-Match" in feed_server.hits(DAILY)[1].headers, "the same URL: conditional GET"
        assert len(feed_server.hits("/api/query")) == 1, "the papers are not fetched again"
        unchanged = await poll(services, clock)
        assert unchanged.status == "not_modified"

        # The next day (UTC): the next day's list, without yesterday's validators.
        clock.now = datetime(2026, 6, 13, 0, 30, tzinfo=UTC)
        next_day = await poll(services, clock)
        assert next_day.status == "ok" and next_day.url.endswith("?date=2026-06-13")
        last = feed_server.hits(DAILY)[-1]
        assert last.query == {"date": "2026-06-13"} and "If-None-Match" not in last.headers
        assert (next_day.new_summaries, next_day.updated_summaries) == (0, 0)
    assert list(_counts(config.storage.path)) == [30, 30, 60]


async def test_paper_card_shows_the_ai_summary_and_its_upvotes(
        tmp_path: Path, feed_server: FeedServer, capture: list[dict[str, Any]], clock: FakeClock) -> None:
    feed_server.serve(DAILY, shared_feed(CAPTURE), content_type=JSON)
    feed_server.serve("/api/query", api_answer([e["paper"] for e in capture]))
    async with open_services(hf_config(tmp_path, feed_server)) as services:
        assert (await poll(services, clock)).status == "ok"
        paper = await services.store.get_paper("2606.13392")
        summaries = await services.store.summaries_for_paper("2606.13392")
    assert paper is not None and len(summaries) == 1
    entry = next(e for e in capture if e["paper"]["id"] == "2606.13392")
    payload = render_paper_card(paper, summaries, CardState("2606.13392")).to_payload()
    assert payload_violations(payload) == []
    _, summary_embed = payload["embeds"]
    assert summary_embed["title"] == "💬 Summary by Hugging Face (AI summary) · ▲ 103 upvotes · 💬 4"
    assert summary_embed["url"] == "https://huggingface.co/papers/2606.13392"
    assert summary_embed["description"] == entry["paper"]["ai_summary"]
    assert "hf" in summary_embed["footer"]["text"]
    alone = render_summary_only_card(summaries[0]).to_payload()
    byline = "Summary by **Hugging Face (AI summary) · ▲ 103 upvotes · 💬 4**"
    assert byline in alone["embeds"][0]["description"]


def _entry(arxiv_id: Any, **paper: Any) -> dict[str, Any]:
    return {"paper": {"id": arxiv_id, "title": f"Paper {arxiv_id}", "ai_summary": "It works.",
                      "upvotes": 3, "submittedOnDailyAt": "2026-06-12T00:00:00.000Z", **paper},
            "numComments": 1}


async def test_malformed_entries_are_skipped_with_a_log_line(
        tmp_path: Path, feed_server: FeedServer, clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    body = [
        _entry("2606.00001"),
        "a string",
        {"numComments": 2},  # no paper
        {"paper": {"title": "no id", "ai_summary": "x"}},
        _entry("not-an-id"),
        _entry(2606.00002),
        _entry("2606.00003", upvotes="many"),
        _entry("2606.00004", ai_summary=None),  # no AI summary: the abstract is already the paper's
        _entry("2606.00001"),  # listed twice
    ]
    feed_server.serve(DAILY, json.dumps(body).encode(), content_type=JSON)
    feed_server.serve("/api/query", api_answer([body[0]["paper"]]))
    caplog.set_level(logging.INFO, logger="bot.ingest.sources.huggingface")
    async with open_services(hf_config(tmp_path, feed_server)) as services:
        report = await poll(services, clock)
        assert (report.status, report.error) == ("ok", None)
        assert (report.items, report.new_summaries, report.new_papers) == (9, 1, 1)
        [summary] = await services.store.summaries_for_paper("2606.00001")
        assert (summary.votes, summary.comments) == (3, 1)
        state = await services.store.get_feed_state("hf")
    assert state is not None and state.consecutive_failures == 0
    skipped = [r.getMessage() for r in caplog.records if r.name == "bot.ingest.sources.huggingface"]
    assert len(skipped) == 8, skipped
    for needle in ("entry 1: a string, not an object", "entry 2: no 'paper'", "entry 3: no 'id'",
                   "entry 4: 'not-an-id' is not an arXiv id", "entry 5: 'id' is a number",
                   "entry 6: 'upvotes' is a string", "arXiv:2606.00004: no AI summary",
                   "arXiv:2606.00001 is listed twice"):
        assert any(needle in line for line in skipped), needle


@pytest.mark.parametrize(("body", "content_type", "says"), [
    (b"<!DOCTYPE html><html><body>Sign in</body></html>", "text/html", "HTML page"),
    (b"Internal error, try again", "text/plain", "not JSON"),
    (b'{"error": "Invalid date"}', JSON, "Invalid date"),
    (b'{"papers": []}', JSON, "not a JSON array"),
    (b"", JSON, "empty"),
])
async def test_a_body_that_is_not_a_list_of_papers_is_an_error_report(
        tmp_path: Path, feed_server: FeedServer, clock: FakeClock, body: bytes, content_type: str,
        says: str) -> None:
    feed_server.serve(DAILY, body, content_type=content_type)
    async with open_services(hf_config(tmp_path, feed_server)) as services:
        report = await poll(services, clock)
        state = await services.store.get_feed_state("hf")
    assert report.status == "error" and says in (report.error or ""), report
    assert state is not None and state.consecutive_failures == 1 and says in (state.last_error or "")
    assert not feed_server.hits("/api/query")


async def test_an_empty_day_is_empty(tmp_path: Path, feed_server: FeedServer, clock: FakeClock) -> None:
    feed_server.serve(DAILY, b"[]", content_type=JSON)
    async with open_services(hf_config(tmp_path, feed_server)) as services:
        report = await poll(services, clock)
    assert (report.status, report.items, report.error) == ("empty", 0, None)


def test_parser_reads_the_capture_without_fetching(capture: list[dict[str, Any]]) -> None:
    parsed = parse_huggingface(shared_feed(CAPTURE).read_bytes(), "application/json", "hf")
    assert parsed.problem is None and parsed.items == len(parsed.summaries) == 30
    assert [s.guid for s in parsed.summaries] == [e["paper"]["id"] for e in capture]
    assert all(s.arxiv_id == s.guid and s.link == f"https://huggingface.co/papers/{s.guid}"
               for s in parsed.summaries)
    with pytest.raises(FeedParseError, match="not JSON"):
        parse_huggingface(b"[" * 100_000, "", "hf")


def test_the_date_is_today_in_utc() -> None:
    template = "https://huggingface.co/api/daily_papers?date={date}"
    late_in_new_york = datetime(2026, 6, 12, 21, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert feed_url(template, late_in_new_york) == "https://huggingface.co/api/daily_papers?date=2026-06-13"
    assert feed_url("https://huggingface.co/api/daily_papers", late_in_new_york) == \
        "https://huggingface.co/api/daily_papers", "a URL without {date} is fetched as it is"


@pytest.mark.parametrize(("url", "says"), [
    ("https://{date}.example.org/papers", "not its host"),
    ("https://huggingface.co/api/daily_papers?date={day}", "unknown placeholder {day}"),
    ("huggingface.co/api/daily_papers?date={date}", "not an http(s)"),
])
def test_config_checks_the_date_placeholder(tmp_path: Path, url: str, says: str) -> None:
    with pytest.raises(ConfigError, match=r"feeds\[0\]\.url") as raised:
        make_config(tmp_path, 1, feeds=[{"name": "hf", "kind": "huggingface", "url": url}])
    assert says in str(raised.value)
    config = make_config(tmp_path, 1, feeds=[{"name": "hf", "kind": "huggingface",
                                              "url": "https://huggingface.co/api/daily_papers?date={date}"}])
    assert config.feeds[0].kind == "huggingface"


def _summary(**fields: Any) -> StoredSummary:
    values: dict[str, Any] = {
        "source": "hf", "guid": "2606.00001", "title": "A Paper", "text": "It works.",
        "author": "Hugging Face (AI summary)", "link": "https://huggingface.co/papers/2606.00001",
        "arxiv_id": "2606.00001", "doi": None, "bibtex_key": None, "votes": 12, "edited_at": None,
        "seq": 1, "comments": 2}
    return StoredSummary(**{**values, **fields})


def test_votes_byline_says_upvotes_for_hugging_face_only() -> None:
    assert votes_byline(_summary()) == "Hugging Face (AI summary) · ▲ 12 upvotes · 💬 2"
    assert votes_byline(_summary(votes=1, comments=0)) == "Hugging Face (AI summary) · ▲ 1 upvote"
    assert votes_byline(_summary(votes=None, comments=None)) == "Hugging Face (AI summary)"
    shortscience = _summary(source="shortscience", author="Hugo Larochelle", comments=None,
                            link="https://www.shortscience.org/paper?bibtexKey=x#hugo")
    assert votes_byline(shortscience) == "Hugo Larochelle · ▲ 12"
