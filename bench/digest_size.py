"""Digest size benchmark: how many messages a busy channel's day takes, compact against cards.

The real 2024-11-28 all-archives day (1,504 items) is polled from a loopback server into a fresh
store; a channel following cs.LG (147 papers that day) gets its digest in both layouts, through
the same digest path delivery uses. For each layout: messages, requests per channel (messages,
plus the thread), channels served per hour at 48 requests/s (the bot's pacing), and checks that
every payload is within Discord's limits (the renderer's own check and the Discord double's
independent one) and that every matched paper is in the digest exactly once.

    python bench/digest_size.py [--feed PATH] [--follow cs.LG] [--top 10]
Target: compact <= 3 messages for cs.LG, every payload within limits, every paper once.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.core.config import parse_config  # noqa: E402
from bot.core.topics import parse_subscription  # noqa: E402
from bot.discord_side.compact_render import render_for_channel  # noqa: E402
from bot.discord_side.limits import payload_violations  # noqa: E402
from bot.ingest.poller import feed_specs  # noqa: E402
from bot.services.wiring import open_services  # noqa: E402
from doubles.discord import check_message_payload  # noqa: E402
from doubles.feed_server import FeedServer  # noqa: E402

DEFAULT_FEED = REPO.parent / "shared" / "fixtures" / "feeds" / "arxiv_rss2024_all_archives_2024-11-28.xml"
REQUESTS_PER_SECOND = 48
ABS = re.compile(r"https://arxiv\.org/abs/([0-9]{4}\.[0-9]{4,5}|[a-z-]+(?:\.[A-Z]{2})?/[0-9]{7})")


def papers_in(payload: dict[str, object]) -> list[str]:
    """arXiv ids a message shows: card links and line links (content and embed descriptions)."""
    found: list[str] = []
    embeds = payload.get("embeds") or []
    assert isinstance(embeds, list)
    for embed in embeds:
        if embed.get("url"):
            found += ABS.findall(str(embed["url"]))
        elif embed.get("description"):
            found += ABS.findall(str(embed["description"]))
    found += ABS.findall(str(payload.get("content") or ""))
    return found


async def measure(feed: Path, follow: list[str], top: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        async with FeedServer() as server:
            server.serve("/rss/cs.LG", feed)
            config = parse_config({
                "storage": {"path": str(Path(tmp) / "bench.sqlite3")},
                "arxiv": {"rss_url": server.url("/rss/{categories}"), "api_url": server.url("/api"),
                          "request_interval": "0s", "categories": ["cs.LG"]},
                "feeds": []})
            async with open_services(config, "bench") as services:
                await services.ingestor.poll(feed_specs(config))
                topics = [parse_subscription(t) for t in follow]
                digest = await services.digests.for_topics(topics, 10 * 86400)
        papers = [p.entry.paper.arxiv_id for p in digest.entries if p.entry.paper]
        print(f"feed: {feed.name}; following {', '.join(follow)}: {len(papers)} papers")
        failures = 0
        rows = []
        for layout in ("compact", "cards"):
            messages = render_for_channel(digest.entries, layout=layout, top=top, only_top=False,
                                          date_text="Thu 28 Nov 2024")
            problems = [p for m in messages for p in payload_violations(m.payload)]
            problems += [str(p) for m in messages for p in check_message_payload(m.payload)]
            shown = Counter(pid for m in messages for pid in papers_in(m.payload))
            carried = Counter(i for m in messages for i in m.entry_indexes)
            once = shown == Counter(papers) and all(n == 1 for n in carried.values()) \
                and len(carried) == len(digest.entries)
            requests = len(messages) + (1 if len(messages) > 1 else 0)  # + starting the thread
            per_hour = REQUESTS_PER_SECOND * 3600 // requests
            sizes = ", ".join(str(len(str(m.payload.get("content") or "")) + sum(
                len(str(e)) for e in m.payload.get("embeds", []))) for m in messages)
            rows.append((layout, len(messages), requests, per_hour, len(problems), once))
            print(f"  {layout:8s} {len(messages):3d} messages  {requests:3d} requests/channel  "
                  f"{per_hour:7,d} channels/hour at {REQUESTS_PER_SECOND}/s  limits: "
                  f"{'ok' if not problems else problems[:3]}  every paper once: {'yes' if once else 'NO'}"
                  f"  (payload sizes {sizes})")
            failures += bool(problems) + (not once)
        compact = rows[0]
        target = compact[1] <= 3
        print(f"TARGET (compact <= 3 messages, within limits, every paper once): "
              f"{'PASS' if target and not failures else 'FAIL'} -- {compact[1]} messages "
              f"(cards: {rows[1][1]}); {rows[0][3] / rows[1][3]:.1f}x the channels per hour")
        return 0 if target and not failures else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feed", type=Path, default=DEFAULT_FEED)
    parser.add_argument("--follow", action="append", default=None)
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args()
    if not args.feed.exists():
        print(f"no feed at {args.feed} (the shared fixtures are needed)", file=sys.stderr)
        return 2
    return asyncio.run(measure(args.feed, args.follow or ["cs.LG"], args.top))


if __name__ == "__main__":
    raise SystemExit(main())
