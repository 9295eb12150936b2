"""What a process of a fleet is told: its gateway shards (``[discord] shard_count``, ``shard_ids``)
and its metrics endpoint (``[metrics]``); their rules, kept apart from :mod:`bot.core.config`,
which reads them like every section."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class MetricsConfig:
    """An opt-in Prometheus endpoint for this process (``/metrics``)."""

    port: int = 0  # 0: no endpoint
    address: str = "127.0.0.1"  # where it listens; "0.0.0.0" for a scraper on another machine


def fleet_problem(shard_count: int, shard_ids: Sequence[int], metrics: MetricsConfig) -> str | None:
    """What is wrong with the shards or the metrics port, naming the key; None when nothing is.

    ``shard_ids`` need a ``shard_count`` (the fleet's total, the same in every process), and each
    must be one of its shards, listed once."""
    if shard_count < 0:
        return "discord.shard_count: must be 0 (as Discord recommends) or more"
    if shard_ids and not shard_count:
        return "discord.shard_ids: needs discord.shard_count (the fleet's total), the same in every process"
    for shard in shard_ids:
        if not 0 <= shard < shard_count:
            return f"discord.shard_ids: {shard} is not a shard of {shard_count} (0-{shard_count - 1})"
    if len(set(shard_ids)) != len(shard_ids):
        return "discord.shard_ids: lists a shard twice"
    if not 0 <= metrics.port <= 65535:
        return "metrics.port: a TCP port (1-65535), or 0 for no metrics endpoint"
    return None
