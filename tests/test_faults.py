"""Faults of the outside world, each served by the local FeedServer and polled through the Ingestor.

Every fault must end in a report (status and a readable error), in what was stored (the valid
items, and only those), and in the feed's state: failures counted, the last error kept and the
next poll moved out (growing, capped by ``poll.failure_backoff_max``, never before Retry-After).
One failing feed never stops another polled in the same call.
"""

from __future__ import annotations

import asyncio
import email.utils
import html
import json
import os
import socket
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.ingest.poller import FeedReport, FeedSpec, feed_specs
from bot.services.wiring import Services, open_services
from doubles.feed_server import FeedServer
from tests.helpers import OWN_FIXTURES, make_config, write_config

# Short timeouts and waits so every fault resolves in well under a couple of seconds.
FAST_HTTP = {"timeout": "1s", "retries": 2, "retry_backoff": "10ms", "max_retry_wait": "2s"}
BACKOFF = {"failure_backoff": "10s", "failure_backoff_max": "25s"}


# -- hand-made feeds -----------------------------------------------------------------------------

def arxiv_rss(ids: list[str], category: str = "cs.LG") -> bytes:
    """A small arXiv category feed in the rss.arxiv.org shape (2024+)."""
    items = []
    for n, arxiv_id in enumerate(ids):
        # As served: a space before the newline that ends the first line of the description.
        description = (f"arXiv:{arxiv_id}v1 Announce Type: new \n"
                       f"Abstract: We study problem {n} and report results that matter.")
        items.append(f"""    <item>
      <title>Paper number {n} about robust learning</title>
      <link>https://arxiv.org/abs/{arxiv_id}</link>
      <description>{description}</description>
      <guid isPermaLink="false">oai:arXiv.org:{arxiv_id}v1</guid>
      <category>{category}</category>
      <pubDate>Thu, 28 Nov 2024 00:00:00 -0500</pubDate>
      <arxiv:announce_type>new</arxiv:announce_type>
      <dc:rights>http://creativecommons.org/licenses/by/4.0/</dc:rights>
      <dc:creator>Ada Lovelace, Andr\\'e Weil</dc:creator>
    </item>
""")
    return f"""<?xml version='1.0' encoding='UTF-8'?>
<rss xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/" \
xmlns:atom="http://www.w3.org/2005/Atom" version="2.0">
  <channel>
    <title>{category} updates on arXiv.org</title>
    <link>http://rss.arxiv.org/rss/{category}</link>
    <description>{category} updates on the arXiv.org e-print archive.</description>
    <lastBuildDate>Thu, 28 Nov 2024 05:00:00 +0000</lastBuildDate>
{"".join(items)}  </channel>
</rss>
""".encode()


def summary_rss(items: list[tuple[str, str, str]]) -> bytes:
    """A plain RSS 2.0 summary feed: (guid, title, html description) per item."""
    body = "".join(f"""<item>
<title>{title}</title>
<link>{guid}</link>
<guid>{guid}</guid>
<pubDate>Thu, 28 Nov 2024 10:00:00 +0000</pubDate>
<description>{text}</description>
</item>
""" for guid, title, text in items)
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel>
<title>Reading notes</title>
<link>https://notes.example.org/</link>
<description>What we read</description>
{body}</channel></rss>
""".encode()


NOTES = [
    ("https://notes.example.org/a", "Notes on attention", "About arXiv:2411.17700, briefly."),
    ("https://notes.example.org/b", "Notes on diffusion", "Nothing to link here."),
]
HTML_PAGE = (b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head>"
             b"<body><h1>Please sign in</h1><p>This site needs a login.</p></body></html>\n")


# -- wiring ----------------------------------------------------------------------------------------

@asynccontextmanager
async def services_for(tmp_path: Path, server: FeedServer, *, categories: list[str] | None = None,
                       feeds: list[dict[str, Any]] | None = None,
                       http: dict[str, Any] | None = None) -> AsyncIterator[Services]:
    config = make_config(tmp_path, server.port, categories=categories or [], feeds=feeds,
                         http={**FAST_HTTP, **(http or {})}, poll=BACKOFF)
    async with open_services(config) as services:
        yield services


def spec_named(services: Services, name: str) -> FeedSpec:
    return next(s for s in feed_specs(services.config) if s.name == name)


def rss_feed(name: str, url: str, kind: str = "rss") -> dict[str, str]:
    return {"name": name, "kind": kind, "url": url}


def now_s() -> datetime:
    """Now at the stores' precision (whole seconds)."""
    return datetime.now(UTC).replace(microsecond=0)


def assert_readable(error: str | None) -> None:
    assert error, "an error report must say what went wrong"
    assert "\n" not in error and "Traceback" not in error
    assert 5 < len(error) <= 500
    assert error.isprintable()


async def assert_failed(services: Services, report: FeedReport, *, fragment: str,
                        failures: int = 1, before: datetime) -> None:
    """The report says error with a readable text, and the state counts and backs off."""
    assert report.status == "error", report
    assert_readable(report.error)
    assert fragment.lower() in (report.error or "").lower(), report.error
    state = await services.store.get_feed_state(report.name)
    assert state is not None
    assert state.last_status == "error"
    assert state.consecutive_failures == failures
    assert state.last_error == report.error
    assert state.next_poll is not None
    assert datetime.fromisoformat(state.next_poll) > before
    assert datetime.fromisoformat(state.next_poll) >= before + timedelta(seconds=9)  # >= 10 s backoff


async def stored(services: Services) -> tuple[int, int]:
    counts = await services.store.counts()
    return counts["papers"], counts["summaries"]


# -- network faults --------------------------------------------------------------------------------

async def test_timeout_is_retried_then_reported(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.fault("/slow.xml", delay=1.5)
    async with services_for(tmp_path, feed_server, feeds=[rss_feed("slow", url)],
                            http={"timeout": "300ms"}) as services:
        before, started = now_s(), time.monotonic()
        report = await services.ingestor.poll_feed(spec_named(services, "slow"))
        elapsed = time.monotonic() - started
        await assert_failed(services, report, fragment="timed out", before=before)
        assert "300ms" in (report.error or "")
        assert len(feed_server.hits("/slow.xml")) == 3  # first try + 2 retries
        assert elapsed < 2.5
        assert await stored(services) == (0, 0)


async def test_connection_refused(tmp_path: Path, feed_server: FeedServer) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/rss.xml"
    async with services_for(tmp_path, feed_server, feeds=[rss_feed("gone", url)]) as services:
        before, started = now_s(), time.monotonic()
        report = await services.ingestor.poll_feed(spec_named(services, "gone"))
        await assert_failed(services, report, fragment="cannot connect", before=before)
        assert time.monotonic() - started < 2
        assert await stored(services) == (0, 0)


async def test_http_500_once_is_retried_and_succeeds(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.serve("/rss/cs.LG", arxiv_rss(["2411.17700", "2411.17701"]), status=500, fail_times=1)
    async with services_for(tmp_path, feed_server, categories=["cs.LG"]) as services:
        report = await services.ingestor.poll_feed(spec_named(services, "arxiv:cs.LG"))
        assert report.status == "ok" and report.error is None
        assert (report.items, report.new_papers) == (2, 2)
        assert len(feed_server.hits("/rss/cs.LG")) == 2
        state = await services.store.get_feed_state("arxiv:cs.LG")
        assert state is not None and state.consecutive_failures == 0 and state.last_error is None
        assert await stored(services) == (2, 0)


async def test_http_500_for_good_is_an_error(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.fault("/rss/cs.LG", status=500)
    async with services_for(tmp_path, feed_server, categories=["cs.LG"]) as services:
        before = now_s()
        report = await services.ingestor.poll_feed(spec_named(services, "arxiv:cs.LG"))
        await assert_failed(services, report, fragment="HTTP 500", before=before)
        assert len(feed_server.hits("/rss/cs.LG")) == 3
        assert await stored(services) == (0, 0)


async def test_http_404_is_not_retried(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.fault("/moved.xml", status=404)
    async with services_for(tmp_path, feed_server, feeds=[rss_feed("moved", url)]) as services:
        before = now_s()
        report = await services.ingestor.poll_feed(spec_named(services, "moved"))
        await assert_failed(services, report, fragment="HTTP 404", before=before)
        assert len(feed_server.hits("/moved.xml")) == 1


async def test_429_retry_after_is_honoured(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.serve("/rss/cs.LG", arxiv_rss(["2411.17700"]), status=429,
                      headers={"Retry-After": "1"}, fail_times=1)
    async with services_for(tmp_path, feed_server, categories=["cs.LG"]) as services:
        started = time.monotonic()
        report = await services.ingestor.poll_feed(spec_named(services, "arxiv:cs.LG"))
        elapsed = time.monotonic() - started
        assert report.status == "ok", report
        assert report.new_papers == 1
        assert len(feed_server.hits("/rss/cs.LG")) == 2
        assert 0.9 <= elapsed < 2.5, f"waited {elapsed:.2f}s instead of the 1 s Retry-After"


@pytest.mark.parametrize("form", ["seconds", "http-date"])
async def test_429_retry_after_beyond_max_wait_gives_up_at_once(
        tmp_path: Path, feed_server: FeedServer, form: str) -> None:
    wait = 600
    value = (str(wait) if form == "seconds" else
             email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=wait), usegmt=True))
    feed_server.fault("/rss/cs.LG", status=429, headers={"Retry-After": value})
    async with services_for(tmp_path, feed_server, categories=["cs.LG"]) as services:
        before, started = now_s(), time.monotonic()
        report = await services.ingestor.poll_feed(spec_named(services, "arxiv:cs.LG"))
        assert time.monotonic() - started < 1.0
        await assert_failed(services, report, fragment="HTTP 429", before=before)
        assert len(feed_server.hits("/rss/cs.LG")) == 1
        state = await services.store.get_feed_state("arxiv:cs.LG")
        assert state is not None and state.next_poll is not None
        # Retry-After (600 s) wins over both the backoff (10 s) and its cap (25 s).
        assert datetime.fromisoformat(state.next_poll) >= before + timedelta(seconds=wait - 2)


# -- body cap --------------------------------------------------------------------------------------

async def test_body_over_cap_with_content_length(tmp_path: Path, feed_server: FeedServer) -> None:
    padding = "<p>" + "x" * 100_000 + "</p>"
    url = feed_server.serve("/big.xml", summary_rss([(NOTES[0][0], "Big", padding)]))
    async with services_for(tmp_path, feed_server, feeds=[rss_feed("big", url)],
                            http={"max_body_bytes": 4096}) as services:
        before = now_s()
        report = await services.ingestor.poll_feed(spec_named(services, "big"))
        await assert_failed(services, report, fragment="4096-byte cap", before=before)
        assert len(feed_server.hits("/big.xml")) == 1  # not worth retrying
        assert await stored(services) == (0, 0)


async def test_endless_body_stops_at_cap_quickly(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.fault("/endless.xml", endless=True)
    # A generous timeout: if the read did not stop at the cap, the error would be a timeout.
    async with services_for(tmp_path, feed_server, feeds=[rss_feed("endless", url)],
                            http={"max_body_bytes": 4096, "timeout": "10s"}) as services:
        before, started = now_s(), time.monotonic()
        report = await services.ingestor.poll_feed(spec_named(services, "endless"))
        elapsed = time.monotonic() - started
        await assert_failed(services, report, fragment="cap", before=before)
        assert "stopped reading" in (report.error or "")
        assert elapsed < 1.5, f"reading an endless body took {elapsed:.2f}s"
        assert len(feed_server.hits("/endless.xml")) == 1


async def test_trickled_body_over_timeout(tmp_path: Path, feed_server: FeedServer) -> None:
    body = summary_rss([(NOTES[0][0], "Slow", "<p>" + "y" * 200_000 + "</p>")])
    url = feed_server.serve("/trickle.xml", body, trickle=0.4)
    async with services_for(tmp_path, feed_server, feeds=[rss_feed("trickle", url)],
                            http={"timeout": "500ms", "retries": 0}) as services:
        before = now_s()
        report = await services.ingestor.poll_feed(spec_named(services, "trickle"))
        await assert_failed(services, report, fragment="timed out", before=before)
        assert await stored(services) == (0, 0)


# -- content faults --------------------------------------------------------------------------------

async def test_html_page_instead_of_feed(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.serve("/login", HTML_PAGE, content_type="text/html; charset=utf-8")
    async with services_for(tmp_path, feed_server, feeds=[rss_feed("blog", url)]) as services:
        before = now_s()
        report = await services.ingestor.poll_feed(spec_named(services, "blog"))
        await assert_failed(services, report, fragment="HTML page", before=before)
        assert await stored(services) == (0, 0)


async def test_json_instead_of_feed(tmp_path: Path, feed_server: FeedServer) -> None:
    body = json.dumps([{"paper": {"id": "2411.17700", "title": "A paper"}}]).encode()
    url = feed_server.serve("/api/daily", body, content_type="application/json")
    async with services_for(tmp_path, feed_server, feeds=[rss_feed("daily", url)]) as services:
        before = now_s()
        report = await services.ingestor.poll_feed(spec_named(services, "daily"))
        await assert_failed(services, report, fragment="JSON", before=before)
        assert await stored(services) == (0, 0)


async def test_truncated_arxiv_feed_keeps_the_items_before_the_break(
        tmp_path: Path, feed_server: FeedServer) -> None:
    full = arxiv_rss(["2411.17700", "2411.17701", "2411.17702"])
    cut = full[:full.index(b"Paper number 2") + len(b"Paper num")]  # inside the third title
    feed_server.serve("/rss/cs.LG", cut)
    async with services_for(tmp_path, feed_server, categories=["cs.LG"]) as services:
        before = now_s()
        report = await services.ingestor.poll_feed(spec_named(services, "arxiv:cs.LG"))
        await assert_failed(services, report, fragment="malformed", before=before)
        assert report.new_papers == 2
        assert await services.store.get_paper("2411.17700") is not None
        assert await services.store.get_paper("2411.17701") is not None
        assert await services.store.get_paper("2411.17702") is None
        assert await stored(services) == (2, 0)


async def test_truncated_summary_feed_keeps_the_items_before_the_break(
        tmp_path: Path, feed_server: FeedServer) -> None:
    items = [*NOTES, ("https://notes.example.org/c", "Notes on the third", "Third text.")]
    full = summary_rss(items)
    cut = full[:full.index(b"<title>Notes on the third")]
    url = feed_server.serve("/notes.xml", cut)
    async with services_for(tmp_path, feed_server, feeds=[rss_feed("notes", url)]) as services:
        before = now_s()
        report = await services.ingestor.poll_feed(spec_named(services, "notes"))
        await assert_failed(services, report, fragment="malformed", before=before)
        guids = {s.guid for s in await services.store.summaries_for_paper("2411.17700")}
        assert guids == {NOTES[0][0]}
        _papers, summaries = await stored(services)
        assert summaries >= 2
        assert report.new_summaries == summaries


async def test_wrong_declared_encoding(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.serve("/latin1.xml", OWN_FIXTURES / "latin1_declared_utf8.xml",
                            content_type="application/rss+xml")
    async with services_for(tmp_path, feed_server, feeds=[rss_feed("latin", url)]) as services:
        before = now_s()
        report = await services.ingestor.poll_feed(spec_named(services, "latin"))
        await assert_failed(services, report, fragment="encoding", before=before)
        error = (report.error or "").lower()
        assert "utf-8" in error  # what the document claimed
        assert any(name in error for name in ("windows-1252", "iso-8859-1", "latin")), error
        assert report.new_summaries == 2
        [summary] = await services.store.summaries_for_paper("2411.17700")
        assert "Müller" in summary.text and "café" in summary.text
        [other] = await services.store.summaries_for_paper("2411.01234")
        assert other.title == "Señor García on diffusion"


async def test_arxiv_feed_error_for_query(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.serve("/rss/cs.LG", OWN_FIXTURES / "arxiv_feed_error.xml")
    async with services_for(tmp_path, feed_server, categories=["cs.LG"]) as services:
        before = now_s()
        report = await services.ingestor.poll_feed(spec_named(services, "arxiv:cs.LG"))
        await assert_failed(services, report, fragment="Feed error for query", before=before)
        assert await stored(services) == (0, 0)


async def test_empty_weekend_feed_is_empty_not_error(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.serve("/rss/cs.LG", OWN_FIXTURES / "arxiv_weekend_empty.xml")
    async with services_for(tmp_path, feed_server, categories=["cs.LG"]) as services:
        before = now_s()
        report = await services.ingestor.poll_feed(spec_named(services, "arxiv:cs.LG"))
        assert report.status == "empty" and report.error is None and report.items == 0
        state = await services.store.get_feed_state("arxiv:cs.LG")
        assert state is not None
        assert state.last_status == "empty"
        assert state.consecutive_failures == 0 and state.last_error is None
        assert state.last_success is not None and state.etag is not None
        assert state.next_poll is not None
        assert datetime.fromisoformat(state.next_poll) >= before + timedelta(hours=1) - timedelta(seconds=2)
        assert await stored(services) == (0, 0)
        # The same bytes again: a 304, still no error.
        again = await services.ingestor.poll_feed(spec_named(services, "arxiv:cs.LG"))
        assert again.status == "not_modified" and again.error is None


# -- backoff -------------------------------------------------------------------------------------

async def test_backoff_grows_and_is_capped_then_resets(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.fault("/flaky.xml", status=404)
    async with services_for(tmp_path, feed_server, feeds=[rss_feed("flaky", url)]) as services:
        spec = spec_named(services, "flaky")
        for failures, delay in ((1, 10), (2, 20), (3, 25), (4, 25)):  # 10 s doubling, capped at 25 s
            before = now_s()
            report = await services.ingestor.poll_feed(spec)
            after = now_s()
            await assert_failed(services, report, fragment="HTTP 404", failures=failures, before=before)
            state = await services.store.get_feed_state("flaky")
            assert state is not None and state.next_poll is not None
            next_poll = datetime.fromisoformat(state.next_poll)
            assert before + timedelta(seconds=delay) <= next_poll <= after + timedelta(seconds=delay + 1)
        feed_server.serve("/flaky.xml", summary_rss(NOTES))
        report = await services.ingestor.poll_feed(spec)
        assert report.status == "ok" and report.new_summaries == 2
        state = await services.store.get_feed_state("flaky")
        assert state is not None
        assert (state.consecutive_failures, state.last_error, state.last_status) == (0, None, "ok")


async def test_parse_problem_counts_as_failure_and_grows(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.serve("/latin1.xml", OWN_FIXTURES / "latin1_declared_utf8.xml")
    async with services_for(tmp_path, feed_server, feeds=[rss_feed("latin", url)]) as services:
        spec = spec_named(services, "latin")
        for failures in (1, 2):
            before = now_s()
            report = await services.ingestor.poll_feed(spec)
            await assert_failed(services, report, fragment="encoding", failures=failures, before=before)
        state = await services.store.get_feed_state("latin")
        assert state is not None and state.next_poll is not None
        assert datetime.fromisoformat(state.next_poll) >= before + timedelta(seconds=20)
        assert await stored(services) == (0, 2)  # stored once, not twice


# -- isolation -----------------------------------------------------------------------------------

async def test_failing_feeds_do_not_stop_the_others(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.serve("/rss/cs.LG", arxiv_rss(["2411.17700", "2411.17701"]))
    feed_server.fault("/rss/cs.AI", delay=1.5)
    slow = feed_server.fault("/slow.xml", delay=1.5)
    html = feed_server.serve("/html", HTML_PAGE, content_type="text/html")
    notes = feed_server.serve("/notes.xml", summary_rss(NOTES))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        refused = f"http://127.0.0.1:{sock.getsockname()[1]}/x.xml"
    feeds = [rss_feed("slow", slow), rss_feed("html", html), rss_feed("refused", refused),
             rss_feed("notes", notes)]
    async with services_for(tmp_path, feed_server, categories=["cs.AI", "cs.LG"], feeds=feeds,
                            http={"timeout": "500ms", "retries": 0}) as services:
        specs = feed_specs(services.config)
        reports = await services.ingestor.poll(specs)
        assert [r.name for r in reports] == [s.name for s in specs]
        status = {r.name: r.status for r in reports}
        assert status == {"arxiv:cs.AI": "error", "arxiv:cs.LG": "ok", "slow": "error",
                          "html": "error", "refused": "error", "notes": "ok"}
        for report in reports:
            if report.status == "error":
                assert_readable(report.error)
        assert await stored(services) == (2, 2)
        states = {s.name: s for s in await services.store.list_feed_states()}
        assert {n for n, s in states.items() if s.consecutive_failures} == {
            "arxiv:cs.AI", "slow", "html", "refused"}


async def test_a_crashing_parser_does_not_stop_the_others(
        tmp_path: Path, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unexpected exception in one feed (a parser bug) is that feed's error, not everyone's."""
    import bot.ingest.poller

    def broken(body: bytes, content_type: str = "", source: str = "") -> Any:
        raise ValueError("parser bug")

    monkeypatch.setitem(bot.ingest.poller.PARSERS, "shortscience", broken)
    feed_server.serve("/rss/cs.LG", arxiv_rss(["2411.17700"]))
    url = feed_server.serve("/ss.xml", summary_rss(NOTES))
    async with services_for(tmp_path, feed_server, categories=["cs.LG"],
                            feeds=[rss_feed("ss", url, kind="shortscience")]) as services:
        reports = await services.ingestor.poll(feed_specs(services.config))
        assert {r.name: r.status for r in reports} == {"arxiv:cs.LG": "ok", "ss": "error"}
        assert await stored(services) == (1, 0)
        ss = next(r for r in reports if r.name == "ss")
        assert_readable(ss.error)
        state = await services.store.get_feed_state("ss")
        assert state is not None and state.consecutive_failures == 1


async def test_deeply_nested_html_item_does_not_sink_the_poll(
        tmp_path: Path, feed_server: FeedServer) -> None:
    """A hostile item (HTML nested 1,000 deep) is one bad item: not a crash of every feed's poll."""
    deep = html.escape("<div>" * 1000 + "deep" + "</div>" * 1000)
    feed_server.serve("/rss/cs.LG", arxiv_rss(["2411.17700"]))
    url = feed_server.serve("/deep.xml", summary_rss([NOTES[0], ("https://notes.example.org/deep",
                                                                 "Deep", deep)]))
    async with services_for(tmp_path, feed_server, categories=["cs.LG"],
                            feeds=[rss_feed("deep", url)]) as services:
        reports = await services.ingestor.poll(feed_specs(services.config))
        status = {r.name: r for r in reports}
        assert status["arxiv:cs.LG"].status == "ok"
        assert status["deep"].status in ("ok", "error")
        if status["deep"].status == "error":
            assert_readable(status["deep"].error)
        # The well-formed item of the same feed is kept.
        [kept] = await services.store.summaries_for_paper("2411.17700")
        assert kept.guid == NOTES[0][0]


# -- the command line ------------------------------------------------------------------------------

def cli_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("PAPERBOY_")}


async def run_cli(*args: str, cwd: Path) -> tuple[int, str, str]:
    paperboy = Path(sys.executable).with_name("paperboy")
    process = await asyncio.create_subprocess_exec(
        str(paperboy), *args, cwd=cwd, env=cli_env(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


FEED_KEYS = {"name", "url", "status", "items", "new_papers", "updated_papers", "new_summaries",
             "updated_summaries", "error"}
TOTAL_KEYS = {"new_papers", "updated_papers", "new_summaries", "updated_summaries"}


async def test_cli_poll_json_exit_1_when_a_feed_failed(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.serve("/rss/cs.LG", arxiv_rss(["2411.17700", "2411.17701"]))
    broken = feed_server.serve("/broken", HTML_PAGE, content_type="text/html")
    config = make_config(tmp_path, feed_server.port, categories=["cs.LG"],
                         feeds=[rss_feed("broken", broken)])
    path = write_config(tmp_path / "paperboy.toml", config)

    code, out, err = await run_cli("--config", str(path), "poll", "--json", cwd=tmp_path)
    assert code == 1, err
    document = json.loads(out)
    assert set(document) == {"feeds", "totals"}
    assert set(document["totals"]) == TOTAL_KEYS
    feeds = {f["name"]: f for f in document["feeds"]}
    assert set(feeds) == {"arxiv:cs.LG", "broken"}
    for feed in document["feeds"]:
        assert set(feed) == FEED_KEYS
    assert feeds["arxiv:cs.LG"] == {
        "name": "arxiv:cs.LG", "url": feed_server.url("/rss/cs.LG"), "status": "ok", "items": 2,
        "new_papers": 2, "updated_papers": 0, "new_summaries": 0, "updated_summaries": 0,
        "error": None}
    assert feeds["broken"]["status"] == "error"
    assert feeds["broken"]["url"] == broken
    assert "HTML page" in feeds["broken"]["error"]
    assert document["totals"] == {"new_papers": 2, "updated_papers": 0, "new_summaries": 0,
                                  "updated_summaries": 0}

    # Only the healthy feed: exit 0; the same bytes again are not modified.
    code, out, err = await run_cli("--config", str(path), "poll", "--feed", "arxiv:cs.LG", "--json",
                                   cwd=tmp_path)
    assert code == 0, err
    [feed] = json.loads(out)["feeds"]
    assert (feed["status"], feed["error"]) == ("not_modified", None)

    code, out, err = await run_cli("--config", str(path), "poll", "--feed", "nope", cwd=tmp_path)
    assert code == 2 and "nope" in err
