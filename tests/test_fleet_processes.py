"""Two ``paperboy run`` processes on one PostgreSQL store, through the Discord double in a process of
its own (ARCHITECTURE.md: "A fleet delivers each channel once", "One poller per store").

The double announces two shards and holds two guilds, one per shard; each process runs one shard
(``[discord] shard_count = 2``, ``shard_ids = [0]`` / ``[1]``). The store is filled first: every
channel follows cs.LG, the feeds were polled and are due again, every digest is overdue and takes
two messages (a header and a follow-up in its thread). A low global limit on the double and a low
pace make the digests take seconds. Checked: each arXiv URL is fetched once in the poll round
(one poller for the fleet), the shards are split, and after a SIGKILL of the process holding the
digest claims, mid-digest, the survivor finishes its channels (taking the dead process's claims
over, or once they expired: within ``CLAIM_TTL`` and a margin): every channel gets every paper
exactly once.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from bot.ingest.poller import feed_specs
from bot.services.fleet import CLAIM_TTL
from bot.services.wiring import open_services
from doubles.discord import DoubleProcess, RemoteDouble
from doubles.feed_server import FeedServer
from storage.models import SubscriptionRow
from tests.bot_harness import delivered_ids, remote_bot_messages
from tests.helpers import REPO, arxiv_feed, arxiv_item, make_config
from tests.postgres_cluster import PostgresCluster

GUILDS = {0: 2 << 22, 1: 3 << 22}  # shard of 2 -> a guild it covers: (guild_id >> 22) % 2
CHANNELS = {shard: [900_000_000_000_000_000 + 10 * shard + i for i in range(3)] for shard in GUILDS}
ALL_CHANNELS = [cid for ids in CHANNELS.values() for cid in ids]
PAPERS = [f"2411.{n:05d}" for n in range(1, 11)]
PER_MESSAGE = 5  # 10 papers: a header and one follow-up in its thread, per channel
MESSAGES_EACH = len(PAPERS) // PER_MESSAGE
URLS = ["/rss/cs.LG", "/rss/cs.AI"]  # cs.LG followed by every channel, cs.AI always polled
GLOBAL_LIMIT = 4  # the double's requests/s over all routes
PACE = 3  # discord.requests_per_second of the fleet (each process: its share)
STAGGER = 6.0  # seconds between the starts: the victim's first digest run comes well before the other's
SENT_LINE = re.compile(r"digest for channel (\d+) \(server \d+\): (\d+) of (\d+) message")
HOLDER_PID = re.compile(r"\(pid (\d+) on ")


def _config_text(path: Path, url: str, remote: RemoteDouble, feed_port: int, shard: int) -> str:
    return f'''feeds = []
[discord]
token = "test-token"
api_base = "{remote.api_base}"
gateway_url = "{remote.gateway_url}"
requests_per_second = {PACE}
shard_count = 2
shard_ids = [{shard}]
[storage]
url = "{url}"
[health]
heartbeat_path = "{path.with_suffix('.heartbeat')}"
[arxiv]
rss_url = "http://127.0.0.1:{feed_port}/rss/{{categories}}"
api_url = "http://127.0.0.1:{feed_port}/api/query"
request_interval = "0s"
categories = ["cs.AI"]
[logging]
level = "INFO"
'''


async def _start(config_path: Path) -> asyncio.subprocess.Process:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for name in ("PAPERBOY_DISCORD_TOKEN", "PAPERBOY_STORAGE_URL", "PAPERBOY_CONFIG"):
        env.pop(name, None)
    with config_path.with_suffix(".log").open("ab") as log:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "--config", str(config_path), "run", cwd=str(REPO), env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=log)


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), 30)
    except TimeoutError:
        process.kill()
        await process.wait()


async def _populate(tmp_path: Path, url: str, feed_port: int) -> None:
    """Channels following cs.LG, overdue, two messages a digest; the feeds polled, then due again,
    so the fleet's first poll round fetches each of them."""
    config = make_config(tmp_path, feed_port, categories=["cs.AI"], storage={"url": url})
    async with open_services(config, command="test") as services:
        store = services.store
        overdue = (datetime.now(UTC) - timedelta(minutes=5)).isoformat(timespec="seconds")
        for shard, ids in CHANNELS.items():
            for cid in ids:
                await store.ensure_channel(GUILDS[shard], cid, "08:00", "UTC", overdue)
                await store.update_channel(cid, max_items=PER_MESSAGE, layout="cards")
                await store.add_subscription(SubscriptionRow(cid, "category", "cs.LG", "cs.LG"))
        reports = await services.ingestor.poll(feed_specs(config, ["cs.LG"]))
        assert {r.name: r.new_papers for r in reports} == {"arxiv:cs.LG": len(PAPERS), "arxiv:cs.AI": 1}, \
            reports
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("UPDATE feeds SET next_poll = $1", overdue)
    finally:
        await connection.close()


async def _digest_claims(url: str) -> dict[int, set[int]]:
    """pid -> the channels whose live ``digest:`` lease it holds (read straight from PostgreSQL)."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT name, holder, expires_at FROM leases WHERE name LIKE 'digest:%'")
    finally:
        await connection.close()
    claims: dict[int, set[int]] = {}
    for row in rows:
        found = HOLDER_PID.search(row["holder"])
        if found and row["expires_at"] > now:
            claims.setdefault(int(found.group(1)), set()).add(int(row["name"].split(":", 1)[1]))
    return claims


async def _holders(url: str, prefix: str) -> list[str]:
    connection = await asyncpg.connect(url)
    try:
        return [r["holder"] for r in await connection.fetch(
            "SELECT holder FROM leases WHERE name LIKE $1 ORDER BY name", prefix + "%")]
    finally:
        await connection.close()


async def _counts(remote: RemoteDouble) -> Counter[int]:
    """Bot messages per channel, a thread's counted to the channel it was started from."""
    return Counter({cid: len(await remote_bot_messages(remote, cid)) for cid in ALL_CHANNELS})


def _sent(log: str) -> Counter[int]:
    counts: Counter[int] = Counter()
    for match in SENT_LINE.finditer(log):
        counts[int(match.group(1))] += int(match.group(2))
    return counts


async def test_a_fleet_polls_once_splits_shards_and_survives_a_sigkill_mid_digest(
        tmp_path: Path, feed_server: FeedServer, postgres_cluster: PostgresCluster) -> None:
    for path in URLS:
        category = path.rsplit("/", 1)[1]
        items = [arxiv_item(i, categories=(category,)) for i in PAPERS] if category == "cs.LG" else \
            [arxiv_item("2411.09999", categories=("cs.AI",))]
        feed_server.serve(path, arxiv_feed(*items))
    url = await postgres_cluster.create_database()
    args = ["--shards", "2", "--interaction-timeout", "30"]
    for shard, gid in GUILDS.items():
        args += ["--guild", f"{gid}:Fleet {shard}"]
        args += [a for i, cid in enumerate(CHANNELS[shard]) for a in ("--channel", f"{gid}:{cid}:papers-{i}")]
    async with DoubleProcess(extra_args=args, startup_timeout=30) as remote:
        await _populate(tmp_path, url, feed_server.port)
        await remote.set_global_rate_limit(GLOBAL_LIMIT)
        before = {path: len(feed_server.hits(path)) for path in URLS}
        paths = {shard: tmp_path / f"bot{shard}.toml" for shard in GUILDS}
        for shard, path in paths.items():
            path.write_text(_config_text(path, url, remote, feed_server.port, shard), encoding="utf-8")
        loop = asyncio.get_running_loop()
        processes: dict[int, asyncio.subprocess.Process] = {}
        victim: int | None = None  # the shard of the process killed
        claims_at_kill: set[int] = set()
        counts_at_kill: Counter[int] = Counter()
        killed_at = finished_after = float("inf")
        try:
            processes[0] = await _start(paths[0])
            await asyncio.sleep(STAGGER)
            processes[1] = await _start(paths[1])
            deadline = loop.time() + CLAIM_TTL + 90
            while loop.time() < deadline:
                await asyncio.sleep(0.3)
                for shard, process in processes.items():
                    log_tail = paths[shard].with_suffix(".log").read_text()[-3000:]
                    assert shard == victim or process.returncode is None, \
                        f"process {shard} exited ({process.returncode}): {log_tail}"
                counts = await _counts(remote)
                if victim is None and sum(counts.values()) >= 1:
                    claims = await _digest_claims(url)
                    pids = {process.pid: shard for shard, process in processes.items()}
                    held = {pids[pid]: cids for pid, cids in claims.items() if pid in pids}
                    unfinished = {s: {c for c in cids if counts[c] < MESSAGES_EACH}
                                  for s, cids in held.items()}
                    if any(unfinished.values()):
                        victim = max(unfinished, key=lambda s: len(unfinished[s]))
                        processes[victim].send_signal(signal.SIGKILL)
                        await processes[victim].wait()
                        killed_at = loop.time()
                        claims_at_kill = held[victim]
                        counts_at_kill = await _counts(remote)
                if victim is not None and all(counts[c] >= MESSAGES_EACH for c in ALL_CHANNELS):
                    finished_after = loop.time() - killed_at
                    break
            await asyncio.sleep(2.0)  # a message sent twice would show up now
            state = await remote.state()
            final = {cid: await remote_bot_messages(remote, cid) for cid in ALL_CHANNELS}
            violations = await remote.violations()
            processes_leases = await _holders(url, "process:")
        finally:
            for process in processes.values():
                await _stop(process)
        after = {path: len(feed_server.hits(path)) - before[path] for path in URLS}
        feed_log = [(r.method, r.path) for r in feed_server.requests]

    logs = {shard: path.with_suffix(".log").read_text(encoding="utf-8", errors="replace")
            for shard, path in paths.items()}
    tails = "\n".join(f"--- process {s} ---\n{text[-2500:]}" for s, text in logs.items())
    assert victim is not None, f"no process held an unfinished channel's claim with messages out\n{tails}"
    survivor = 1 - victim

    # one poller: a poll round is one process's, and fetches each arXiv URL once. A process's first
    # round polls arXiv when the feed's last poll came before arXiv's latest rebuild (as a fresh
    # store's does), so the two starts make at most two rounds; the feeds are not due again within
    # the hour.
    rounds = {path: sum(len(re.findall(rf"polled arxiv:{re.escape(path.rsplit('/', 1)[1])}: ", text))
                        for text in logs.values()) for path in URLS}
    assert after == rounds, (after, rounds, feed_log)
    assert all(1 <= n <= len(logs) for n in rounds.values()), rounds
    for text in logs.values():
        for path in URLS:
            assert len(re.findall(rf"polled arxiv:{re.escape(path.rsplit('/', 1)[1])}: ", text)) <= 1, text

    # shards split: one gateway session per shard, each process in its own one server
    assert {tuple(s["shard"]) for s in state["sessions"]} == {(0, 2), (1, 2)}, state["sessions"]
    for shard, text in logs.items():
        assert f"Shard ID {shard} has connected" in text, text[-3000:]
        assert f"Shard ID {1 - shard} has connected" not in text, text[-3000:]
        assert re.search(r"connected to Discord as .*, in 1 server\(s\)", text), text[-3000:]
    assert any(f"shards {survivor} of 2" in holder for holder in processes_leases), processes_leases

    # exactly once: every channel its two messages, every paper once, no content twice
    for cid, messages in final.items():
        assert len(messages) == MESSAGES_EACH, (cid, len(messages), tails)
        assert Counter(delivered_ids(messages)) == Counter(PAPERS), (cid, delivered_ids(messages))
        contents = Counter(json.dumps([m.get("content"), m.get("embeds")], sort_keys=True) for m in messages)
        assert max(contents.values()) == 1, cid
    assert violations == [], violations

    # the killed process's unfinished channels were finished by the survivor, once its claims were
    # taken over (at once when the holder is seen dead on this host) or had expired
    unfinished = {cid for cid in claims_at_kill if counts_at_kill[cid] < MESSAGES_EACH}
    assert unfinished, (claims_at_kill, counts_at_kill)
    survivor_sent = _sent(logs[survivor])
    for cid in unfinished:
        assert survivor_sent[cid] >= 1, (cid, survivor_sent, tails)
    # The killed process was on this host: its claims are taken at once (died_here), not waited out.
    assert finished_after <= 45, finished_after
    assert "taking over channel" in logs[survivor], "the survivor took the dead process's channels over"
