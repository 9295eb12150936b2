"""Ingest benchmark: the 1,504-item arXiv feed, full ingest against feedparser parse alone.

Prints the baseline (``feedparser.parse`` on the bytes), the full ingest (fetch from a loopback
server + parse in a thread + store in a fresh SQLite file), their ratio, items per second, and the
longest event-loop stall seen by a ticker task during ingest. Medians of several runs, measured
in the same process, so the ratio holds on a noisy machine.

    python bench/ingest.py [--runs 5] [--feed PATH]
Targets: ratio <= 1.5, longest stall <= 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import feedparser  # noqa: E402

from bot.core.config import parse_config  # noqa: E402
from bot.ingest.poller import feed_specs  # noqa: E402
from bot.services.wiring import open_services  # noqa: E402
from doubles.feed_server import FeedServer  # noqa: E402

DEFAULT_FEED = REPO.parent / "shared" / "fixtures" / "feeds" / "arxiv_rss2024_all_archives_2024-11-28.xml"
TICK = 0.005


def parse_alone(body: bytes) -> float:
    started = time.perf_counter()
    document = feedparser.parse(body)
    elapsed = time.perf_counter() - started
    assert len(document.entries) > 0
    return elapsed


async def _ticker(stalls: list[float], stop: asyncio.Event) -> None:
    """Sleep TICK again and again; any lateness is time the event loop could not run."""
    while not stop.is_set():
        before = time.perf_counter()
        await asyncio.sleep(TICK)
        stalls.append(time.perf_counter() - before - TICK)


async def full_ingest(server: FeedServer, workdir: Path, run: int) -> tuple[float, float, int]:
    config = parse_config({
        "storage": {"path": str(workdir / f"bench-{run}.sqlite3")},
        "arxiv": {"rss_url": server.url("/rss/{categories}"), "api_url": server.url("/api"),
                  "request_interval": "0s", "categories": ["cs.LG"]},
        "feeds": [],
    })
    async with open_services(config) as services:  # the store opens (and migrates) outside the clock
        stalls: list[float] = []
        stop = asyncio.Event()
        ticker = asyncio.create_task(_ticker(stalls, stop))
        await asyncio.sleep(0.05)
        started = time.perf_counter()
        [report] = await services.ingestor.poll(feed_specs(config))
        elapsed = time.perf_counter() - started
        stop.set()
        await ticker
    assert report.status == "ok" and report.new_papers > 0, report
    return elapsed, max(stalls), report.items


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--feed", type=Path, default=DEFAULT_FEED)
    args = parser.parse_args()
    body = args.feed.read_bytes()

    parse_alone(body)  # warm-up: imports, caches
    baseline = [parse_alone(body) for _ in range(args.runs)]
    with tempfile.TemporaryDirectory() as tmp:
        async with FeedServer() as server:
            server.serve("/rss/cs.LG", body)
            await full_ingest(server, Path(tmp), -1)  # warm-up
            results = [await full_ingest(server, Path(tmp), run) for run in range(args.runs)]
    full = [r[0] for r in results]
    stall = max(r[1] for r in results)
    items = results[0][2]
    base_med, full_med = statistics.median(baseline), statistics.median(full)
    ratio = full_med / base_med
    print(f"feed: {args.feed.name} ({len(body) / 1e6:.1f} MB, {items} items), {args.runs} runs, medians")
    print(f"feedparser parse alone (baseline): {base_med * 1000:8.1f} ms")
    print(f"full ingest (fetch+parse+store):   {full_med * 1000:8.1f} ms")
    print(f"ratio full/baseline:               {ratio:8.2f}x   (target <= 1.5x)")
    print(f"items per second (full ingest):    {items / full_med:8.0f}")
    print(f"longest event-loop stall:          {stall * 1000:8.1f} ms (target <= 50 ms)")


if __name__ == "__main__":
    asyncio.run(main())
