"""``python -m doubles.discord``: the double in a process of its own.

Prints one JSON line (``api_base``, ``gateway_url``, ``control_url``, the ids) once it listens, and
serves until SIGTERM or SIGINT, then writes its state file (``--state-file``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from doubles.discord.double import DiscordDouble
from doubles.discord.model import ChannelSpec, GuildSpec


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m doubles.discord",
        description="Serve a fake Discord (REST /api/v10, gateway at /, control API at /_double) on "
        "127.0.0.1. Prints one JSON line with api_base, gateway_url, control_url and the ids once it "
        "listens.",
    )
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: pick a free one)")
    parser.add_argument(
        "--state-file", help="JSON file holding the recorded state; loaded at start, rewritten as it changes"
    )
    parser.add_argument("--ready-file", help="also write the startup JSON line to this file")
    parser.add_argument("--token", help="accept only this bot token (default: any)")
    parser.add_argument(
        "--interaction-timeout",
        type=float,
        default=3.0,
        help="seconds before an unanswered interaction is a violation",
    )
    parser.add_argument("--heartbeat-interval-ms", type=int, default=41_250)
    parser.add_argument("--shards", type=int, default=1, help="shard count announced by GET /gateway/bot")
    parser.add_argument(
        "--nonce-window",
        type=float,
        default=None,
        metavar="SECONDS",
        help="how long enforce_nonce deduplicates a repeated nonce (default: forever); Discord: minutes",
    )
    parser.add_argument(
        "--guild",
        action="append",
        default=[],
        metavar="ID:NAME",
        help="a guild (repeatable); without any, one default guild",
    )
    parser.add_argument(
        "--channel",
        action="append",
        default=[],
        metavar="GUILD_ID:CHANNEL_ID:NAME",
        help="a text channel of a --guild (repeatable)",
    )
    return parser.parse_args(argv)


def _guilds_from_args(args: argparse.Namespace) -> list[GuildSpec] | None:
    if not args.guild:
        return None
    guilds: dict[int, GuildSpec] = {}
    for item in args.guild:
        gid, _, name = item.partition(":")
        guilds[int(gid)] = GuildSpec(int(gid), name or f"guild {gid}")
    for item in args.channel:
        gid, cid, name = [*item.split(":", 2), "", ""][:3]
        spec = guilds[int(gid)]
        spec.channels.append(ChannelSpec(int(cid), name or f"channel-{cid}", position=len(spec.channels)))
    return list(guilds.values())


async def _serve(args: argparse.Namespace) -> None:
    double = DiscordDouble(
        port=args.port,
        guilds=_guilds_from_args(args),
        token=args.token,
        interaction_timeout=args.interaction_timeout,
        heartbeat_interval_ms=args.heartbeat_interval_ms,
        shards=args.shards,
        state_file=args.state_file,
        nonce_window=args.nonce_window,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with double:
        line = json.dumps(double.info())
        if args.ready_file:
            Path(args.ready_file).write_text(line + "\n")
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> None:
    asyncio.run(_serve(_parse_args(argv)))


if __name__ == "__main__":
    main()
