"""Fan-out benchmark: one digest message each to 1,000 channels through the Discord double.

The double runs in its own process (so its CPU does not share the bot's event loop) with one guild
of ``--channels`` text channels and a global limit of ``--limit`` requests/s (a sliding 1 s window
over all routes, 429 global above it). The bot is started through ``bot.process.launcher.run_bot`` (the
``paperboy run`` code path) with the scheduler off and its store in a temp dir. Every channel
follows cs.LG; a small arXiv feed with ``--papers`` cs.LG papers is polled from a local feed
server, so each channel's digest is exactly one message. All channels become due at once and
``bot.dispatcher.run_due()`` is timed until it returns (every message answered, hence recorded by
the double).

Runs, each with fresh papers on a new (fake) day:
  1. limited:  the double enforces ``--limit``/s; the bot paces as configured.  <- the target
  2. baseline: limit lifted, the bot's pacer as configured (what bounds the run if not the limit).
  3. baseline: limit lifted and the pacer off: what the pipeline itself (plan, send, record) can do.

    python bench/fanout.py [--channels 1000] [--limit 50] [--papers 2] [--pacer N] [--no-baseline]
(``--pacer`` sets the bot's ``discord.requests_per_second``; the exit status is 0 on PASS.)
Target: at least 90% of the limit, i.e. 1,000 messages in at most 22 s, with each channel getting
exactly one message.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.core.schedule import next_due_text  # noqa: E402
from bot.discord_side.client import Paperboy  # noqa: E402
from bot.discord_side.pacing import Pacer  # noqa: E402
from doubles.discord import DoubleProcess, RemoteDouble  # noqa: E402
from doubles.feed_server import FeedServer  # noqa: E402
from doubles.fixtures import arxiv_feed, arxiv_item, make_config  # noqa: E402
from doubles.harness import FakeClock, started_bot  # noqa: E402
from storage.models import SubscriptionRow  # noqa: E402

GUILD_ID = 900_000_000_000_000_001
FIRST_CHANNEL_ID = 910_000_000_000_000_000
DIGEST_TIME = "07:00"
DAY0 = datetime(2024, 11, 28, tzinfo=UTC)
TARGET_PERCENT = 90.0
TARGET_SECONDS = 22.0
MESSAGE_ROUTE = "/channels/{}/messages"


@dataclass
class RunResult:
    label: str
    limit: int | None
    pacer: float  # the bot's pacer in this run, requests/s (0: off)
    channels: int
    messages: int  # report.messages: what the dispatcher recorded as sent
    failed: int  # report.failed: left in the outbox (SendFailed, e.g. 429s past discord.py's retries)
    paused: int  # report.paused: channels paused (403/404)
    elapsed: float  # run_due(), start to return
    posts: int  # POST /channels/*/messages the double saw during the run (429s included)
    ok_posts: int  # of those, answered 200
    rate_limited: int  # 429s the double answered during the run
    first_send_after: float  # run_due start -> first message POST arriving at the double
    double_span: float  # first -> last successful message POST, as the double saw them
    per_channel_ok: bool
    per_channel_detail: str
    other_requests: int  # requests other than message POSTs during the run (threads ...)
    max_window: int  # most message POSTs the double accepted in any 1 s window

    @property
    def rate(self) -> float:
        return self.ok_posts / self.elapsed if self.elapsed else 0.0


def double_args(channel_ids: list[int]) -> list[str]:
    args = ["--guild", f"{GUILD_ID}:Fanout Bench", "--interaction-timeout", "30"]
    for index, cid in enumerate(channel_ids):
        args += ["--channel", f"{GUILD_ID}:{cid}:papers-{index:04d}"]
    return args


async def prepare_channels(bot: Paperboy, clock: FakeClock, channel_ids: list[int]) -> None:
    """Every channel: daily digest at 07:00 UTC, due first on day 0, following cs.LG."""
    store = bot.services.store
    due = next_due_text(clock(), DIGEST_TIME, "UTC", "daily")
    topic = bot.subscriptions.parse("cs.LG")
    for cid in channel_ids:
        await store.ensure_channel(GUILD_ID, cid, DIGEST_TIME, "UTC", due)
        await store.add_subscription(SubscriptionRow(cid, topic.kind.value, topic.key, str(topic)))


async def message_counts(remote: RemoteDouble) -> Counter[int]:
    return Counter(int(m["channel_id"]) for m in await remote.all_messages())


def max_in_window(times: list[float], window: float = 1.0) -> int:
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


async def run_once(label: str, run: int, bot: Paperboy, clock: FakeClock, remote: RemoteDouble,
                   feeds: FeedServer, channel_ids: list[int], papers: int,
                   limit: int | None, pacer: float | None) -> RunResult:
    """New papers on day ``run``; at 07:00:05 that day every channel is due: time run_due()."""
    day = DAY0 + timedelta(days=run)
    clock.set(day.replace(hour=5))  # before the digest time: polling makes nothing due yet
    items = [arxiv_item(f"2411.{run * 100 + i + 1:05d}", categories=("cs.LG",),
                        title=f"Fan-out paper {run}.{i + 1}") for i in range(papers)]
    feeds.serve("/rss/cs.LG", arxiv_feed(*items))
    reports = await bot.services.ingestor.poll(await bot.poll_jobs.specs())
    assert [r.new_papers for r in reports] == [papers], reports

    await remote.set_global_rate_limit(limit)
    sender = bot.dispatcher.sender
    configured = sender.pacer  # type: ignore[attr-defined]
    if pacer is not None:
        sender.pacer = Pacer(pacer)  # type: ignore[attr-defined]
    interval = sender.pacer.interval  # type: ignore[attr-defined]
    pacer_rate = 1 / interval if interval else 0.0
    before_counts = await message_counts(remote)
    state = await remote.state()
    first_request, limited_before = state["requests"], state["rate_limited"]
    clock.set(day.replace(hour=7, second=5))
    await asyncio.sleep(1.1)  # let the double's 1 s window empty of the set-up requests

    wall_start = time.time()
    started = time.perf_counter()
    report = await bot.dispatcher.run_due()
    elapsed = time.perf_counter() - started
    sender.pacer = configured  # type: ignore[attr-defined]

    state = await remote.state()
    requests = [r for r in await remote.requests(since=first_request) if r["wall"] >= wall_start]
    posts = [r for r in requests if r["method"] == "POST" and r["path"].startswith("/channels/")
             and r["path"].endswith("/messages")]
    ok = [r for r in posts if r["status"] == 200]
    after_counts = await message_counts(remote)
    delta = Counter({cid: after_counts[cid] - before_counts[cid] for cid in channel_ids})
    wrong = {cid: n for cid, n in delta.items() if n != 1}
    spread = Counter(delta.values())
    detail = ", ".join(f"{n} channel(s) got {k}" for k, n in sorted(spread.items()))
    if wrong:
        detail += f"; e.g. {list(wrong.items())[:5]}"
    ok_times = sorted(r["wall"] for r in ok)
    return RunResult(
        label=label, limit=limit, pacer=pacer_rate,
        channels=report.channels, messages=report.messages, failed=report.failed, paused=report.paused,
        elapsed=elapsed, posts=len(posts),
        ok_posts=len(ok), rate_limited=state["rate_limited"] - limited_before,
        first_send_after=(min(r["wall"] for r in posts) - wall_start) if posts else float("nan"),
        double_span=(ok_times[-1] - ok_times[0]) if len(ok_times) > 1 else 0.0,
        per_channel_ok=not wrong and len(delta) == len(channel_ids), per_channel_detail=detail,
        other_requests=len(requests) - len(posts), max_window=max_in_window(ok_times))


def print_result(result: RunResult) -> None:
    limit_text = f"{result.limit}/s" if result.limit else "lifted"
    pacer_text = f"{result.pacer:.1f}/s" if result.pacer else "off"
    print(f"== {result.label}: double limit {limit_text}, bot pacer {pacer_text}")
    print(f"   channels due / messages delivered:   {result.channels} / {result.messages}"
          f"  (double accepted {result.ok_posts} message POSTs, {result.posts} attempted;"
          f" failed {result.failed}, paused {result.paused})")
    print(f"   elapsed (run_due start -> return):   {result.elapsed:8.2f} s")
    print(f"   first message POST after:            {result.first_send_after:8.2f} s"
          f"   (planning before the first send)")
    print(f"   double-side span first -> last POST: {result.double_span:8.2f} s")
    print(f"   achieved rate:                       {result.rate:8.1f} messages/s")
    if result.limit:
        share = 100 * result.rate / result.limit
        print(f"   share of the {result.limit}/s limit:             {share:8.1f} %")
    print(f"   most message POSTs in any 1 s window:{result.max_window:6d}")
    print(f"   429s answered by the double:         {result.rate_limited:6d}")
    print(f"   other API requests during the run:   {result.other_requests:6d}")
    print(f"   one message per channel:             {'yes' if result.per_channel_ok else 'NO'}"
          f" ({result.per_channel_detail})")


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=1000)
    parser.add_argument("--limit", type=int, default=50, help="the double's global limit, requests/s")
    parser.add_argument("--papers", type=int, default=2, help="cs.LG papers per digest (1-10: one message)")
    parser.add_argument("--pacer", type=int, default=None,
                        help="discord.requests_per_second for the bot (1-50); default: as configured")
    parser.add_argument("--no-baseline", action="store_true", help="skip the runs with the limit lifted")
    parser.add_argument("--verbose", action="store_true", help="show the bot's log (warnings otherwise)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    channel_ids = [FIRST_CHANNEL_ID + i for i in range(args.channels)]
    results: list[RunResult] = []
    with tempfile.TemporaryDirectory(prefix="paperboy-fanout-") as tmp:
        async with DoubleProcess(extra_args=double_args(channel_ids), startup_timeout=60) as remote, \
                FeedServer() as feeds:
            await remote.set_global_rate_limit(args.limit)
            clock = FakeClock(DAY0.replace(hour=5))
            discord: dict[str, Any] = {"token": "test-token", "api_base": remote.api_base,
                                       "gateway_url": remote.gateway_url}  # what bot_config sets
            if args.pacer is not None:
                discord["requests_per_second"] = args.pacer
            config = make_config(Path(tmp), feeds.port, categories=[], discord=discord)
            async with started_bot(config, clock, timeout=60) as bot:
                await prepare_channels(bot, clock, channel_ids)
                # (label, the double's limit, pacer override: None = the bot's configured pacer)
                plan: list[tuple[str, int | None, float | None]] = [
                    ("limited (target run)", args.limit, None)]
                if not args.no_baseline:
                    plan += [("baseline, limit lifted", None, None),
                             ("baseline, limit lifted, pacer off", None, 0.0)]
                for run, (label, limit, pacer) in enumerate(plan):
                    results.append(await run_once(label, run, bot, clock, remote, feeds, channel_ids,
                                                  args.papers, limit, pacer))
            violations = await remote.violations()

    print(f"fan-out: {args.channels} channels in one guild, {args.papers} cs.LG papers each "
          f"(one message per digest); Discord double in its own process")
    for result in results:
        print_result(result)
    print(f"double violations: {len(violations)}"
          + (f" (first: {violations[0]['kind']}: {violations[0]['message']})" if violations else ""))

    target = results[0]
    expected = args.channels
    percent = 100 * target.rate / args.limit
    max_seconds = TARGET_SECONDS * (expected / 1000) * (50 / args.limit)  # 22 s for 1,000 at 50/s
    passed = (target.messages == expected and target.failed == 0 and target.ok_posts == expected
              and target.per_channel_ok and percent >= TARGET_PERCENT and target.elapsed <= max_seconds)
    print(f"TARGET (>= {TARGET_PERCENT:.0f}% of {args.limit}/s, {expected} messages in <= "
          f"{max_seconds:.1f} s, one per channel): "
          f"{'PASS' if passed else 'FAIL'} -- {target.ok_posts} messages in {target.elapsed:.2f} s = "
          f"{target.rate:.1f}/s = {percent:.1f}% of the limit, {target.rate_limited} x 429")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
