"""Fleet benchmark: three ``paperboy run`` processes on one PostgreSQL store deliver 3,000 digests.

A throwaway PostgreSQL server (``doubles/postgres.py``) holds the store. The Discord double runs in
its own process with one guild of ``--channels`` text channels and a global limit of ``--limit``
requests/s (a sliding 1 s window over all routes, 429 global above it). Before any bot starts, the
store is populated through ``open_services``: every channel follows cs.LG, a small arXiv feed with
``--papers`` cs.LG papers is polled from a local feed server (so each digest is exactly one
message), and every channel's digest is overdue. Then ``--processes`` real ``paperboy run``
subprocesses start at once (``python -m bot --config X run``, the scheduler on, each its own config
pointing at the PostgreSQL URL, the double and the feed server, ``discord.requests_per_second``
``--pacer``), and the run is watched from outside until every channel has its message(s) and the
store is idle (nothing due, nothing in the outbox, no digest claims).

Measured, from the double's records: the time from the first process started to the last message,
the rate of accepted requests (message POSTs, and all REST requests) between the first and the
last message, the 429s among all requests, and the messages of every channel (exactly as many as
its digest has in the store's outbox, none twice). The split of the channels between the
processes is read from each process's log (its "digest for channel ... sent" lines).

Runs, each on a fresh database, double and set of processes:
  1. steady:  all processes run to the end.
  2. kill:    one process is SIGKILLed once a third of the messages are in (the one holding the most
              digest claims then). Its claims at that moment are its channels; the others must
              finish them. A process on this host that no longer runs is taken over at once
              (``died_here``: the survivors log "taking over channel ..."); otherwise its claims
              expire after ``CLAIM_TTL``. The report says which happened.

    python bench/fleet.py [--channels 3000] [--processes 3] [--limit 50] [--pacer 48] [--papers 2]
                          [--no-kill] [--keep]
Targets (exit status 0 when all PASS, 1 on a FAIL, 2 when PostgreSQL is not installed):
  steady run: the fleet together at >= 90% of the limit in messages/s, 429s under 1% of requests,
              every channel exactly its messages once;
  kill run:   every channel still exactly its messages once, and the dead process's channels
              finished by the others within CLAIM_TTL + 30 s of the kill.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.core.config import Config  # noqa: E402
from bot.ingest.poller import feed_specs  # noqa: E402
from bot.services.fleet import CLAIM_TTL, DIGEST_PREFIX  # noqa: E402
from bot.services.wiring import open_services  # noqa: E402
from doubles.discord import RemoteDouble  # noqa: E402
from doubles.feed_server import FeedServer  # noqa: E402
from doubles.fixtures import arxiv_feed, arxiv_item, make_config  # noqa: E402
from doubles.postgres import PostgresCluster, raw_rows, start_bench_cluster  # noqa: E402
from storage import open_store  # noqa: E402
from storage.base import Store  # noqa: E402
from storage.models import SubscriptionRow  # noqa: E402

GUILD_ID = 900_000_000_000_000_002
FIRST_CHANNEL_ID = 920_000_000_000_000_000
TARGET_PERCENT = 90.0
TARGET_429_PERCENT = 1.0
TAKEOVER_SLACK = 30.0  # the dead process's channels: finished within CLAIM_TTL + this
SENT_LINE = re.compile(r"digest for channel (\d+) \(server \d+\): (\d+) of (\d+) message")
TAKEOVER_LINE = re.compile(r"taking over channel (\d+) from ")
LOST_LINE = re.compile(r"lost the claim on channel (\d+) to ")
PACE_LINE = re.compile(r"^(\S+ \S+) .*fleet of (\d+) process\(es\): pacing Discord requests at ([\d.]+)/s")
HOLDER_PID = re.compile(r"\(pid (\d+) on ")


@dataclass
class BotProcess:
    """One ``paperboy run`` subprocess and its log file."""

    index: int
    config_path: Path
    log_path: Path
    process: asyncio.subprocess.Process | None = None
    started_at: float = 0.0
    killed_at: float | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def start(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        for name in ("PAPERBOY_DISCORD_TOKEN", "PAPERBOY_STORAGE_URL", "PAPERBOY_CONFIG"):
            env.pop(name, None)
        self.started_at = time.time()
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "--config", str(self.config_path), "run", cwd=str(REPO),
                env=env, stdout=asyncio.subprocess.DEVNULL, stderr=log)

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.killed_at = time.time()
        await self.process.wait()

    async def stop(self) -> int | None:
        """SIGTERM (a clean stop) and wait; the exit status (None when it had to be killed)."""
        process = self.process
        if process is None or process.returncode is not None:
            return process.returncode if process else None
        process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            process.kill()
            await process.wait()
            return None

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@dataclass
class RunResult:
    label: str
    processes: int
    channels: int
    expected_messages: int  # the outbox's messages of all channels (one digest each)
    messages: int  # bot messages the double holds at the end
    wall: float  # first process started -> last message accepted
    first_message_after: float  # first process started -> first message accepted
    span: float  # first -> last accepted message POST
    message_posts: int  # message POSTs the double saw (429s included)
    ok_message_posts: int
    requests: int  # every REST request of the run
    ok_requests_in_span: int  # requests answered 2xx between the first and the last message
    rate_limited: int  # 429s the double answered
    max_window: int  # most accepted requests in any 1 s window
    exact: bool
    exact_detail: str
    split: dict[int, tuple[int, int]]  # process index -> (channels, messages) it sent
    pacing: dict[int, list[str]]  # process index -> its pacing changes ("+3.1s 3 procs 16.0/s")
    overlap: int  # channels with messages sent by more than one process
    violations: int
    exit_codes: dict[int, int | None]
    limited_at: str = ""  # when the 429s came, as "+t0..t1 s (n)" groups
    kill: KillResult | None = None

    @property
    def message_rate(self) -> float:
        return self.ok_message_posts / self.span if self.span else 0.0

    @property
    def request_rate(self) -> float:
        return self.ok_requests_in_span / self.span if self.span else 0.0


@dataclass
class KillResult:
    victim: int  # process index
    at_messages: int  # messages the double held when it was killed
    after: float  # first process started -> the kill
    claims: int  # live digest claims it held then
    unfinished: int  # of those channels, how many lacked messages at the kill
    last_finished_after_kill: float  # the kill -> the last of its unfinished channels complete
    taken_at_once: int  # channels the survivors took over through died_here ("taking over ...")
    first_takeover_after_kill: float | None
    lost_claims: int  # "lost the claim" lines (a claim expired under a live process)
    finished_by: dict[int, int] = field(default_factory=dict)  # survivor index -> dead's channels


@contextlib.asynccontextmanager
async def double_process(channel_ids: list[int], folder: Path) -> AsyncIterator[RemoteDouble]:
    """``python -m doubles.discord`` with these channels. Its startup line lists every channel id,
    longer than :class:`DoubleProcess` reads from a pipe (64 KiB) for 3,000 channels, so it is read
    from ``--ready-file`` here."""
    ready = folder / "double.json"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with (folder / "double.log").open("ab") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "doubles.discord", "--port", "0", "--ready-file", str(ready),
            *double_args(channel_ids), cwd=str(REPO), env=env, stdout=asyncio.subprocess.DEVNULL,
            stderr=log)
    try:
        deadline = time.monotonic() + 60
        info: dict[str, Any] | None = None
        while info is None:
            if process.returncode is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Discord double did not start; see {folder / 'double.log'}")
            await asyncio.sleep(0.2)
            with contextlib.suppress(OSError, ValueError):
                text = ready.read_text(encoding="utf-8")
                info = json.loads(text) if text.endswith("\n") else None
        async with RemoteDouble(info["control_url"], info) as remote:
            yield remote
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()


def double_args(channel_ids: list[int]) -> list[str]:
    args = ["--guild", f"{GUILD_ID}:Fleet Bench", "--interaction-timeout", "30"]
    for index, cid in enumerate(channel_ids):
        args += ["--channel", f"{GUILD_ID}:{cid}:papers-{index:04d}"]
    return args


def write_process_config(path: Path, url: str, remote: RemoteDouble, feed_port: int, pacer: int) -> Path:
    """``paperboy run``'s config: the shared PostgreSQL store, the double, the local feed server."""
    path.write_text(f'''feeds = []
[discord]
token = "test-token"
api_base = "{remote.api_base}"
gateway_url = "{remote.gateway_url}"
requests_per_second = {pacer}
[storage]
url = "{url}"
[health]
heartbeat_path = "{path.with_suffix('.heartbeat')}"
[arxiv]
rss_url = "http://127.0.0.1:{feed_port}/rss/{{categories}}"
api_url = "http://127.0.0.1:{feed_port}/api/query"
request_interval = "0s"
categories = []
[logging]
level = "INFO"
''', encoding="utf-8")
    return path


async def populate(config: Config, channel_ids: list[int]) -> int:
    """Every channel follows cs.LG and is overdue; the feed is polled after: one digest each."""
    async with open_services(config, command="bench") as services:
        store = services.store
        overdue = (datetime.now(UTC) - timedelta(minutes=5)).isoformat(timespec="seconds")
        for cid in channel_ids:
            await store.ensure_channel(GUILD_ID, cid, "08:00", "UTC", overdue)
            await store.add_subscription(SubscriptionRow(cid, "category", "cs.LG", "cs.LG"))
        [report] = await services.ingestor.poll(feed_specs(config, ["cs.LG"]))
        return report.new_papers


def max_in_window(times: list[float], window: float = 1.0) -> int:
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def clusters(times: list[float], gap: float = 2.0) -> str:
    """``+10.1..10.9 s (39), +95.2 s (1)``: the times grouped where they are less than ``gap`` apart."""
    groups: list[list[float]] = []
    for t in times:
        if groups and t - groups[-1][-1] < gap:
            groups[-1].append(t)
        else:
            groups.append([t])
    return ", ".join(f"+{g[0]:.1f}" + (f"..{g[-1]:.1f}" if len(g) > 1 else "") + f" s ({len(g)})"
                     for g in groups) or "none"


def wall_of(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def sent_by(bots: list[BotProcess]) -> dict[int, Counter[int]]:
    """Per process: channel -> messages it logged as sent."""
    split: dict[int, Counter[int]] = {}
    for bot in bots:
        counts: Counter[int] = Counter()
        for match in SENT_LINE.finditer(bot.log_text()):
            if int(match.group(2)):
                counts[int(match.group(1))] += int(match.group(2))
        split[bot.index] = counts
    return split


def pacing_changes(bot: BotProcess) -> list[str]:
    changes = []
    for line in bot.log_text().splitlines():
        match = PACE_LINE.match(line)
        if match:
            at = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
            changes.append(f"+{at - bot.started_at:.1f}s {match.group(2)} proc(s) {match.group(3)}/s")
    return changes


async def idle(store: Store, dead: set[int]) -> bool:
    """Nothing due, nothing pending in the outbox, no digest claims of a running process: the fleet
    has finished (a killed process's claims on channels it had finished stay until they expire)."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    if await store.due_channels(now):
        return False
    return all((found := HOLDER_PID.search(lease.holder)) is not None and int(found.group(1)) in dead
               for lease in await store.live_leases(DIGEST_PREFIX))


async def run_once(label: str, cluster: PostgresCluster, feeds: FeedServer, tmp: Path,
                   args: argparse.Namespace, kill: bool) -> RunResult:
    channel_ids = [FIRST_CHANNEL_ID + i for i in range(args.channels)]
    url = await cluster.create_database()
    run_dir = Path(tempfile.mkdtemp(prefix=f"{label}-", dir=tmp))
    config = make_config(run_dir, feeds.port, categories=[], storage={"url": url})
    started = time.perf_counter()
    papers = await populate(config, channel_ids)
    assert papers == args.papers, papers
    print(f"[{label}] store populated: {len(channel_ids)} channels, {papers} papers "
          f"({time.perf_counter() - started:.1f} s)", flush=True)
    store = await open_store(url)
    try:
        async with double_process(channel_ids, run_dir) as remote:
            await remote.set_global_rate_limit(args.limit)
            bots = [BotProcess(i, write_process_config(run_dir / f"bot{i}.toml", url, remote, feeds.port,
                                                       args.pacer), run_dir / f"bot{i}.log")
                    for i in range(args.processes)]
            try:
                await asyncio.gather(*(bot.start() for bot in bots))
                kill_state = await watch(label, bots, remote, store, len(channel_ids), kill, args)
                await asyncio.sleep(3.0)  # a late duplicate would show up now
            finally:
                exit_codes = {bot.index: (await bot.stop()) if bot.killed_at is None else None
                              for bot in bots}
            return await measure(label, bots, remote, store, channel_ids, kill_state, exit_codes)
    finally:
        await store.close()


@dataclass
class KillState:
    victim: BotProcess
    at_messages: int
    claims: set[int]
    complete: set[int]  # channels that had all their messages at the kill


async def watch(label: str, bots: list[BotProcess], remote: RemoteDouble, store: Store, channels: int,
                kill: bool, args: argparse.Namespace) -> KillState | None:
    """Until every channel has a message and the store is idle (or the deadline): the progress,
    and the SIGKILL a third of the way in."""
    deadline = time.monotonic() + args.timeout
    kill_state: KillState | None = None
    last_print = 0.0
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        state = await remote.state()
        messages = int(state["messages"])
        if time.monotonic() - last_print > 10:
            last_print = time.monotonic()
            print(f"[{label}] +{time.time() - bots[0].started_at:5.0f} s: {messages} messages, "
                  f"{state['rate_limited']} x 429", flush=True)
        if kill and kill_state is None and messages >= channels / 3:
            kill_state = await kill_one(bots, remote, store, messages)
            print(f"[{label}] SIGKILLed process {kill_state.victim.index} (pid {kill_state.victim.pid}) "
                  f"at {messages} messages, holding {len(kill_state.claims)} claims", flush=True)
        for bot in bots:
            if bot.killed_at is None and bot.process is not None and bot.process.returncode is not None:
                print(f"[{label}] process {bot.index} exited by itself ({bot.process.returncode}); "
                      f"its log: {bot.log_path}", flush=True)
                bot.killed_at = time.time()
        if all(bot.killed_at is not None for bot in bots):
            print(f"[{label}] no process left running", flush=True)
            return kill_state
        if messages >= channels and await idle(store, {b.pid for b in bots if b.killed_at is not None}):
            return kill_state
    print(f"[{label}] deadline of {args.timeout:.0f} s reached", flush=True)
    return kill_state


async def kill_one(bots: list[BotProcess], remote: RemoteDouble, store: Store, messages: int) -> KillState:
    """SIGKILL the live process holding the most digest claims; its claims are its channels."""
    claims = await store.live_leases(DIGEST_PREFIX)
    by_pid: dict[int, set[int]] = {}
    for lease in claims:
        found = HOLDER_PID.search(lease.holder)
        if found:
            by_pid.setdefault(int(found.group(1)), set()).add(int(lease.name[len(DIGEST_PREFIX):]))
    live = [bot for bot in bots if bot.killed_at is None]
    victim = max(live, key=lambda bot: len(by_pid.get(bot.pid, ())))
    await victim.kill()
    held = by_pid.get(victim.pid, set())
    counts = Counter(int(m["channel_id"]) for m in await remote.all_messages())
    return KillState(victim, messages, held, {cid for cid in held if counts[cid] > 0})


async def measure(label: str, bots: list[BotProcess], remote: RemoteDouble, store: Store,
                  channel_ids: list[int], kill_state: KillState | None,
                  exit_codes: dict[int, int | None]) -> RunResult:
    messages = [m for m in await remote.all_messages() if m.get("author", {}).get("bot")]
    requests = await remote.requests()
    state = await remote.state()
    violations = await remote.violations()
    posts = [r for r in requests if r["method"] == "POST" and r["path"].startswith("/channels/")
             and r["path"].endswith("/messages")]
    ok_posts = sorted(r["wall"] for r in posts if r["status"] == 200)
    first, last = (ok_posts[0], ok_posts[-1]) if ok_posts else (0.0, 0.0)
    ok_in_span = [r["wall"] for r in requests
                  if r["status"] is not None and 200 <= r["status"] < 300 and first <= r["wall"] <= last]
    ok_all = sorted(r["wall"] for r in requests if r["status"] is not None and 200 <= r["status"] < 300)
    start = min(bot.started_at for bot in bots)
    limited = sorted(r["wall"] - start for r in requests if r["status"] == 429)

    # exactly once: each channel holds as many messages as its digest has in the outbox, and no
    # message content twice
    planned = dict(await raw_rows(store, "SELECT channel_id, count(*) FROM outbox GROUP BY channel_id"))
    pending = (await raw_rows(store, "SELECT count(*) FROM outbox WHERE status = 'pending'"))[0][0]
    got: Counter[int] = Counter()
    contents: Counter[tuple[int, str]] = Counter()
    finished_at: dict[int, float] = {}
    for message in messages:
        cid = int(message["channel_id"])
        got[cid] += 1
        contents[(cid, json.dumps([message.get("content"), message.get("embeds")], sort_keys=True))] += 1
        finished_at[cid] = max(finished_at.get(cid, 0.0), wall_of(message["timestamp"]))
    wrong = {cid: (got[cid], int(planned.get(cid, 0))) for cid in channel_ids
             if got[cid] != planned.get(cid, 0) or not planned.get(cid)}
    twice = sum(1 for n in contents.values() if n > 1)
    spread = Counter(got[cid] for cid in channel_ids)
    detail = ", ".join(f"{n} channel(s) got {k}" for k, n in sorted(spread.items()))
    if wrong:
        detail += f"; {len(wrong)} differ from their outbox (got, planned), e.g. {list(wrong.items())[:4]}"
    if twice:
        detail += f"; {twice} message(s) posted twice"
    if pending:
        detail += f"; {pending} still pending in the outbox"

    split = sent_by(bots)
    senders: Counter[int] = Counter()
    for counts in split.values():
        senders.update(counts.keys())
    result = RunResult(
        label=label, processes=len(bots), channels=len(channel_ids),
        expected_messages=sum(int(planned.get(cid, 0)) for cid in channel_ids), messages=len(messages),
        wall=last - start if ok_posts else float("nan"),
        first_message_after=first - start if ok_posts else float("nan"), span=last - first,
        message_posts=len(posts), ok_message_posts=len(ok_posts), requests=len(requests),
        ok_requests_in_span=len(ok_in_span), rate_limited=int(state["rate_limited"]),
        max_window=max_in_window(ok_all), exact=not wrong and not twice and not pending,
        exact_detail=detail,
        split={i: (sum(1 for n in c.values() if n), sum(c.values())) for i, c in split.items()},
        pacing={bot.index: pacing_changes(bot) for bot in bots},
        overlap=sum(1 for n in senders.values() if n > 1), violations=len(violations), exit_codes=exit_codes,
        limited_at=clusters(limited))
    if kill_state is not None:
        result.kill = kill_result(bots, kill_state, finished_at, split, start)
    return result


def kill_result(bots: list[BotProcess], kill_state: KillState, finished_at: dict[int, float],
                split: dict[int, Counter[int]], start: float) -> KillResult:
    victim = kill_state.victim
    assert victim.killed_at is not None
    unfinished = kill_state.claims - kill_state.complete
    done = [finished_at[cid] for cid in unfinished if cid in finished_at]
    last = max(done) - victim.killed_at if len(done) == len(unfinished) and done else float("inf")
    if not unfinished:
        last = 0.0
    taken, lost, takeover_times = 0, 0, []
    for bot in bots:
        if bot is victim:
            continue
        for line in bot.log_text().splitlines():
            if TAKEOVER_LINE.search(line):
                taken += 1
                takeover_times.append(datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp())
            if LOST_LINE.search(line):
                lost += 1
    finished_by = {bot.index: sum(1 for cid in unfinished if split[bot.index][cid])
                   for bot in bots if bot is not victim}
    return KillResult(
        victim=victim.index, at_messages=kill_state.at_messages, after=victim.killed_at - start,
        claims=len(kill_state.claims), unfinished=len(unfinished), last_finished_after_kill=last,
        taken_at_once=taken,
        first_takeover_after_kill=(min(takeover_times) - victim.killed_at) if takeover_times else None,
        lost_claims=lost, finished_by=finished_by)


def print_result(result: RunResult, limit: int) -> None:
    print(f"== {result.label}: {result.processes} processes, {result.channels} channels, "
          f"double limit {limit}/s")
    print(f"   messages held by the double / planned:  {result.messages} / {result.expected_messages}"
          f"  ({result.ok_message_posts} message POSTs accepted, {result.message_posts} attempted)")
    print(f"   first process start -> first message:   {result.first_message_after:8.2f} s")
    print(f"   first process start -> last message:    {result.wall:8.2f} s")
    print(f"   first -> last message (the span):       {result.span:8.2f} s")
    print(f"   messages/s over the span:               {result.message_rate:8.1f}"
          f"  ({100 * result.message_rate / limit:.1f}% of the limit)")
    print(f"   all accepted requests/s over the span:  {result.request_rate:8.1f}"
          f"  ({100 * result.request_rate / limit:.1f}% of the limit)")
    print(f"   most accepted requests in any 1 s:      {result.max_window:6d}")
    share = 100 * result.rate_limited / result.requests if result.requests else 0.0
    print(f"   429s / all REST requests:               {result.rate_limited} / {result.requests}"
          f" = {share:.2f}%; when: {result.limited_at}")
    print(f"   exactly its messages once per channel:  {'yes' if result.exact else 'NO'}"
          f" ({result.exact_detail})")
    for index, (channels, messages) in sorted(result.split.items()):
        dead = " (SIGKILLed)" if result.kill and result.kill.victim == index else ""
        print(f"   process {index}{dead}: sent {messages} message(s) to {channels} channel(s);"
              f" pacing: {', '.join(result.pacing[index]) or '-'}; exit {result.exit_codes.get(index)}")
    print(f"   channels served by two processes:       {result.overlap}")
    print(f"   double violations:                      {result.violations}")
    kill = result.kill
    if kill is not None:
        print(f"   kill: process {kill.victim} at +{kill.after:.1f} s ({kill.at_messages} messages in),"
              f" holding {kill.claims} claim(s), {kill.unfinished} of those channels unfinished")
        taken = (f"{kill.taken_at_once} channel(s) taken over at once through died_here, the first "
                 f"{kill.first_takeover_after_kill:.1f} s after the kill" if kill.first_takeover_after_kill
                 is not None else "no takeover through died_here: the claims expired")
        print(f"   kill: {taken}; {kill.lost_claims} 'lost the claim' line(s)")
        print(f"   kill: its unfinished channels finished by {kill.finished_by}; the last "
              f"{kill.last_finished_after_kill:.1f} s after the kill")


def verdicts(result: RunResult, limit: int) -> list[tuple[str, bool, str]]:
    """(target, passed, the figures) for one run."""
    out = [(f"{result.label}: every channel exactly its messages once",
            result.exact and result.violations == 0, result.exact_detail)]
    if result.kill is None:
        percent = 100 * result.message_rate / limit
        share = 100 * result.rate_limited / result.requests if result.requests else 0.0
        out.append((f"{result.label}: fleet >= {TARGET_PERCENT:.0f}% of {limit}/s",
                    percent >= TARGET_PERCENT, f"{result.message_rate:.1f} messages/s = {percent:.1f}%"))
        out.append((f"{result.label}: 429s < {TARGET_429_PERCENT:.0f}% of requests",
                    share < TARGET_429_PERCENT, f"{result.rate_limited} of {result.requests} = {share:.2f}%"))
    else:
        bound = CLAIM_TTL + TAKEOVER_SLACK
        after = result.kill.last_finished_after_kill
        out.append((f"{result.label}: the dead process's channels finished within {bound:.0f} s",
                    after <= bound, f"the last {after:.1f} s after the kill"))
    return out


async def main() -> int:
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)  # cleans up on the way out
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=3000)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--limit", type=int, default=50, help="the double's global limit, requests/s")
    parser.add_argument("--pacer", type=int, default=48,
                        help="discord.requests_per_second of every process (the fleet's budget)")
    parser.add_argument("--papers", type=int, default=2, help="cs.LG papers per digest (1-10: one message)")
    parser.add_argument("--timeout", type=float, default=480.0, help="seconds a run may take at most")
    parser.add_argument("--no-kill", action="store_true", help="skip the run with a SIGKILL")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (configs, logs)")
    args = parser.parse_args()

    _, cluster, _ = start_bench_cluster("postgresql")
    assert cluster is not None
    results: list[RunResult] = []
    tmp = Path(tempfile.mkdtemp(prefix="paperboy-fleet-"))
    try:
        async with FeedServer() as feeds:
            items = [arxiv_item(f"2411.{i + 1:05d}", categories=("cs.LG",), title=f"Fleet paper {i + 1}")
                     for i in range(args.papers)]
            feeds.serve("/rss/cs.LG", arxiv_feed(*items))
            plan = [("steady", False)] + ([] if args.no_kill else [("kill", True)])
            for label, kill in plan:
                results.append(await run_once(label, cluster, feeds, tmp, args, kill))
    finally:
        cluster.stop()
        if args.keep:
            print(f"configs and logs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    print(f"fleet: {args.processes} x paperboy run on one PostgreSQL, {args.channels} channels due at once, "
          f"{args.papers} cs.LG papers each (one message per digest); pacer {args.pacer:g}/s per fleet; "
          f"Discord double in its own process")
    for result in results:
        print_result(result, args.limit)
    passed = True
    for target, ok, figures in (v for result in results for v in verdicts(result, args.limit)):
        passed &= ok
        print(f"TARGET {target}: {'PASS' if ok else 'FAIL'} -- {figures}")
    return 0 if passed else 1


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
        sys.exit(asyncio.run(main()))
    sys.exit(130)
