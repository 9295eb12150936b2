"""The ``paperboy`` command line: thin subcommands over the services.

Exit status: 0 success, 1 a job failed (e.g. a feed could not be polled), 2 bad usage or config.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.config import Config, ConfigError, Duration, describe, load_config
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
    commands.add_parser("run", help="run the bot (token from $PAPERBOY_DISCORD_TOKEN)")
    sync = commands.add_parser("sync", help="publish the slash commands to Discord")
    sync.add_argument("--guild", type=int, metavar="ID", help="to one server only (shows at once)")
    preview = commands.add_parser("preview", help="what a channel following TOPICs would get")
    preview.add_argument("--follow", action="append", required=True, metavar="TOPIC",
                         help="a topic to follow (repeatable); prefix with ! to exclude it")
    preview.add_argument("--since", default="24h", metavar="DURATION",
                         help="the window of ingested items (default 24h)")
    preview.add_argument("--json", action="store_true", help="print the Discord payloads as JSON")
    commands.add_parser("health", help="exit 0 only when the store opens and the bot is alive")
    export = commands.add_parser("export", help="subscriptions and channel settings as JSON")
    export.add_argument("--guild", type=int, metavar="ID", help="only this server's channels")
    import_ = commands.add_parser("import", help="subscriptions and settings from an export (all or nothing)")
    import_.add_argument("file", metavar="FILE", help="a file written by paperboy export ('-' for stdin)")
    backup = commands.add_parser("backup", help="a consistent copy of the store, also while the bot runs")
    backup.add_argument("path", metavar="PATH", help="where to write the copy")
    lookup = commands.add_parser("lookup", help="a paper's card: arXiv id or link, DOI, or title words")
    lookup.add_argument("query", nargs="+", help="what to look up")
    lookup.add_argument("--json", action="store_true", help="print the paper record with its summaries")
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


def cmd_run(config: Config, args: argparse.Namespace) -> int:
    import aiohttp
    import discord

    from bot.launcher import MissingToken, run_bot

    try:
        asyncio.run(run_bot(config))
    except MissingToken as exc:
        print(f"paperboy: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except discord.LoginFailure:
        print("paperboy: Discord rejected the bot token: check PAPERBOY_DISCORD_TOKEN", file=sys.stderr)
        return EXIT_FAILED
    except (aiohttp.ClientError, OSError) as exc:
        print(f"paperboy: cannot reach Discord at {config.discord.api_base}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def cmd_sync(config: Config, args: argparse.Namespace) -> int:
    from bot.launcher import MissingToken, sync_commands

    try:
        names = asyncio.run(sync_commands(config, args.guild))
    except MissingToken as exc:
        print(f"paperboy: {exc}", file=sys.stderr)
        return EXIT_USAGE
    where = f"server {args.guild}" if args.guild else "all servers (may take up to an hour to show)"
    print(f"published {len(names)} commands to {where}: {', '.join('/' + n for n in names)}")
    return EXIT_OK


def cmd_preview(config: Config, args: argparse.Namespace) -> int:
    from bot.preview import preview, preview_json
    from bot.render import render_text_card
    from bot.topics import TopicError, parse_topic

    try:
        since = Duration(args.since)
        topics = [(parse_topic(text.removeprefix("!"), [f.name for f in config.feeds]),
                   text.startswith("!")) for text in args.follow]
    except (ValueError, TopicError) as exc:
        print(f"paperboy: {exc}", file=sys.stderr)
        return EXIT_USAGE

    async def run() -> tuple[list, list]:  # type: ignore[type-arg]
        async with open_services(config) as services:
            return await preview(services.store, topics, since)

    entries, messages = asyncio.run(run())
    if args.json:
        print(json.dumps(preview_json(entries, messages), ensure_ascii=False))
    elif not entries:
        print(f"nothing matched in the last {since}")
    else:
        print("\n\n".join(render_text_card(p.entry) for p in entries))
    return EXIT_OK


def cmd_lookup(config: Config, args: argparse.Namespace) -> int:
    from bot.card import card_json, render_card_text
    from bot.lookup import LookupFailure, PaperHit

    async def run() -> PaperHit:
        async with open_services(config) as services:
            return await services.lookup.find(" ".join(args.query))

    try:
        hit = asyncio.run(run())
    except LookupFailure as exc:
        print(f"paperboy: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if hit.paper is None:
        document = {"paper": None, "summaries": [s.__dict__ for s in hit.summaries]}
        text = "\n\n".join(f"{s.title}\n{s.link or ''}\n{s.text}" for s in hit.summaries)
    else:
        document = card_json(hit.paper, hit.summaries)
        text = render_card_text(hit.paper, hit.summaries)
    print(json.dumps(document, ensure_ascii=False, indent=2) if args.json else text)
    return EXIT_OK


def cmd_health(config: Config, args: argparse.Namespace) -> int:
    from bot.health import check_health

    report = asyncio.run(check_health(config))
    for line in report.checks:
        print(f"ok: {line}")
    for line in report.problems:
        print(f"PROBLEM: {line}")
    return EXIT_OK if report.healthy else EXIT_FAILED


def cmd_export(config: Config, args: argparse.Namespace) -> int:
    from bot.transfer import dump_document, export_document

    async def run() -> dict[str, object]:
        async with open_services(config) as services:
            return await export_document(services.store, args.guild)

    print(dump_document(asyncio.run(run())))
    return EXIT_OK


def cmd_import(config: Config, args: argparse.Namespace) -> int:
    from bot.transfer import ImportFailure, feed_names, import_document, import_limits, load_document

    try:
        raw = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
        document = load_document(raw)
    except (OSError, ImportFailure) as exc:
        print(f"paperboy: cannot import {args.file}: {exc}", file=sys.stderr)
        return EXIT_FAILED

    async def run() -> object:
        async with open_services(config) as services:
            return await import_document(services.store, document, feed_names(config), import_limits(config))

    try:
        report = asyncio.run(run())
    except ImportFailure as exc:
        print(f"paperboy: nothing imported: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(json.dumps(report.as_dict()))  # type: ignore[attr-defined]
    return EXIT_OK


def cmd_backup(config: Config, args: argparse.Namespace) -> int:
    from bot.transfer import BackupFailure, backup

    async def run() -> dict[str, object]:
        async with open_services(config) as services:
            return await backup(services.store, args.path)

    try:
        print(json.dumps(asyncio.run(run())))
    except (BackupFailure, OSError, ValueError) as exc:
        print(f"paperboy: backup failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


COMMANDS = {
    "check-config": cmd_check_config,
    "poll": cmd_poll,
    "run": cmd_run,
    "sync": cmd_sync,
    "preview": cmd_preview,
    "lookup": cmd_lookup,
    "health": cmd_health,
    "export": cmd_export,
    "import": cmd_import,
    "backup": cmd_backup,
}
