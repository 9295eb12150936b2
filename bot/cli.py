"""The ``paperboy`` command line: thin subcommands over the services.

Exit status: 0 success, 1 a job failed (e.g. a feed could not be polled), 2 bad usage or config.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence

from bot.config import Config, ConfigError, describe, load_config
from bot.ingest import FeedReport, feed_specs, reports_json, totals
from bot.logs import setup_logging
from bot.services import open_services

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="paperboy", description=__doc__.splitlines()[0])
    parser.add_argument("--config", metavar="PATH",
                        help="TOML configuration (default: $PAPERBOY_CONFIG, else ./config.toml)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("check-config", help="validate the configuration and print it, token masked")
    poll = commands.add_parser("poll", help="poll every configured source (or one) once, now")
    poll.add_argument("--feed", metavar="NAME", help="only this feed (e.g. arxiv:cs.LG, shortscience)")
    poll.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"paperboy: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    setup_logging(config.logging.level, config.token)
    handler = COMMANDS[args.command]
    try:
        return handler(config, args)
    except KeyboardInterrupt:
        return 130


def cmd_check_config(config: Config, args: argparse.Namespace) -> int:
    print(f"# effective configuration (from {config.source})")
    print(json.dumps(describe(config), indent=2, ensure_ascii=False))
    return EXIT_OK


def cmd_poll(config: Config, args: argparse.Namespace) -> int:
    specs = feed_specs(config)
    if args.feed:
        specs = [s for s in specs if s.name == args.feed]
        if not specs:
            names = ", ".join(s.name for s in feed_specs(config))
            print(f"paperboy: no feed named {args.feed!r} (configured: {names})", file=sys.stderr)
            return EXIT_USAGE

    async def run() -> list[FeedReport]:
        async with open_services(config) as services:
            return await services.ingestor.poll(specs)

    reports = asyncio.run(run())
    if args.json:
        print(json.dumps(reports_json(reports), ensure_ascii=False))
    else:
        print(format_reports(reports))
    return EXIT_FAILED if any(r.status == "error" for r in reports) else EXIT_OK


def format_reports(reports: Sequence[FeedReport]) -> str:
    """A readable table of poll results."""
    header = ("feed", "status", "items", "new papers", "upd papers", "new summ", "upd summ")
    rows = [(r.name, r.status, str(r.items), str(r.new_papers), str(r.updated_papers),
             str(r.new_summaries), str(r.updated_summaries)) for r in reports]
    total = totals(reports)
    rows.append(("total", "", "", str(total["new_papers"]), str(total["updated_papers"]),
                 str(total["new_summaries"]), str(total["updated_summaries"])))
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in [header, *rows]]
    errors = [f"{r.name}: {r.error}" for r in reports if r.error]
    return "\n".join(lines + (["", "errors:", *errors] if errors else []))


COMMANDS = {
    "check-config": cmd_check_config,
    "poll": cmd_poll,
}
