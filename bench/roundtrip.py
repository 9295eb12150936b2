"""`/paper show` answered from the store, through the Discord double: INTERACTION_CREATE to callback.

The double runs in this process (its own latency is part of the figure, as Discord's would be);
the bot is started by ``bot.process.launcher.run_bot``, the code ``paperboy run`` uses, with the
scheduler off. Used by ``bench/lookup.py``; runnable alone against any store file:

    python bench/roundtrip.py --db PATH [--queries 200]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.core.config import parse_config  # noqa: E402
from bot.discord_side.endpoints import discord_endpoints, point_discord_at  # noqa: E402
from doubles.discord import DiscordDouble  # noqa: E402
from doubles.harness import FakeClock, started_bot  # noqa: E402


def sample_ids(db_path: Path, count: int, seed: int = 7) -> list[str]:
    """Random stored ids (by rowid, cheap on a million rows)."""
    with sqlite3.connect(db_path) as db:
        (top,) = db.execute("SELECT max(rowid) FROM papers").fetchone()
        rng = random.Random(seed)
        ids: list[str] = []
        while len(ids) < count:
            row = db.execute("SELECT arxiv_id FROM papers WHERE rowid >= ? LIMIT 1",
                             (rng.randint(1, top),)).fetchone()
            if row:
                ids.append(row[0])
    return ids


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def paper_show_round_trips(db_path: Path, queries: int = 200) -> list[float]:
    """Seconds from INTERACTION_CREATE to the callback, one per `/paper show <stored id>`."""
    ids = sample_ids(db_path, queries)
    previous = discord_endpoints()
    async with DiscordDouble() as double:
        point_discord_at(double.api_base, double.gateway_url)
        with tempfile.TemporaryDirectory() as tmp:
            config = parse_config({
                "storage": {"path": str(db_path)}, "feeds": [],
                "discord": {"token": "bench", "api_base": double.api_base,
                            "gateway_url": double.gateway_url},
                "arxiv": {"categories": [], "api_url": "http://127.0.0.1:9/api"},
                "health": {"heartbeat_path": str(Path(tmp) / "heartbeat")},
            })
            latencies = []
            async with started_bot(config, FakeClock(datetime.now(UTC)), timeout=120):
                for arxiv_id in ids:
                    handle = await double.send_slash_command(double.guild_id, double.channel_id,
                                                             "paper show", {"query": arxiv_id})
                    await handle.response(timeout=10)
                    assert handle.callback_latency is not None and not handle.ephemeral
                    latencies.append(handle.callback_latency)
        point_discord_at(*previous)
    return latencies


def report(latencies: list[float]) -> str:
    return (f"/paper show round trip through the double ({len(latencies)} lookups from the store): "
            f"p50 {percentile(latencies, 50) * 1000:.1f} ms, p95 {percentile(latencies, 95) * 1000:.1f} ms, "
            f"max {max(latencies) * 1000:.1f} ms, mean {statistics.mean(latencies) * 1000:.1f} ms "
            "(Discord allows 3,000 ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="a store file with papers")
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    print(report(asyncio.run(paper_show_round_trips(args.db, args.queries))))


if __name__ == "__main__":
    main()
