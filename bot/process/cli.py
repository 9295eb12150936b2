"""The ``paperboy`` command line: thin subcommands over the services.

Exit status: 0 success, 1 a job failed (e.g. a feed could not be polled), 2 bad usage or config.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import TypeVar

from bot.core.clock import utc_now
from bot.core.config import Config, ConfigError, Duration, describe, load_config
from bot.core.digest import ChannelDigest
from bot.ingest.poller import FeedReport, feed_specs, reports_json, totals
from bot.process.logs import setup_logging
from bot.services.wiring import Services, open_services
from storage import shown_location
from storage.errors import StoreError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
T = TypeVar("T")


CONFIG_HELP = "TOML configuration (default: $PAPERBOY_CONFIG, else ./config.toml)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="paperboy", description=__doc__.splitlines()[0])
    parser.add_argument("--config", metavar="PATH", help=CONFIG_HELP)
    # --config is also taken after the command (paperboy check-config --config x.toml); SUPPRESS
    # keeps a value given before the command when none is given after it.
    config_after = argparse.ArgumentParser(add_help=False)
    config_after.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help=CONFIG_HELP)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add = functools.partial(commands.add_parser, parents=[config_after])
    add("check-config", help="validate the configuration and print it, token masked")
    poll = add("poll", help="poll every configured source (or one) once, now")
    poll.add_argument("--feed", metavar="NAME", help="only this feed (e.g. arxiv:cs.LG, shortscience)")
    poll.add_argument("--json", action="store_true", help="print one JSON object")
    add("run", help="run the bot (token from $PAPERBOY_DISCORD_TOKEN)")
    sync = add("sync", help="publish the slash commands to Discord")
    sync.add_argument("--guild", type=int, metavar="ID", help="to one server only (shows at once)")
    preview = add("preview", help="what a channel following TOPICs would get")
    preview.add_argument("--follow", action="append", required=True, metavar="TOPIC",
                         help="a topic to follow (repeatable); prefix with ! to exclude it")
    preview.add_argument("--since", default="24h", metavar="DURATION",
                         help="the window of ingested items (default 24h)")
    preview.add_argument("--layout", choices=("compact", "cards"), default="compact",
                         help="compact: the top papers as cards, the rest as ranked lines (default)")
    preview.add_argument("--top", type=int, default=10, metavar="N",
                         help="papers shown as full cards in the compact layout (default 10)")
    preview.add_argument("--saved", action="append", default=[], metavar="ARXIV_ID",
                         help="rank as a channel that saved this paper would (repeatable)")
    preview.add_argument("--json", action="store_true",
                         help="print the Discord payloads and the ranked items (scores, reasons) as JSON")
    add("health", help="exit 0 only when the store opens and the bot is alive")
    export = add("export", help="subscriptions and channel settings as JSON")
    export.add_argument("--guild", type=int, metavar="ID", help="only this server's channels")
    import_ = add("import", help="subscriptions and settings from an export (all or nothing)")
    import_.add_argument("file", metavar="FILE", help="a file written by paperboy export ('-' for stdin)")
    backup = add("backup", help="a consistent copy of the store, also while the bot runs")
    backup.add_argument("path", metavar="PATH", help="where to write the copy")
    backup.add_argument("--force", action="store_true", help="replace PATH if it exists")
    lookup = add("lookup", help="a paper's card: arXiv id or link, DOI, or title words")
    lookup.add_argument("query", nargs="+", help="what to look up")
    lookup.add_argument("--json", action="store_true", help="print the paper record with its summaries")
    migrate = add("migrate-store", help="copy the SQLite store into an empty PostgreSQL store, verified")
    migrate.add_argument("--to", required=True, metavar="URL", help="postgresql://user:password@host/db")
    migrate.add_argument("--json", action="store_true", help="print the counts and checks as JSON")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; every failure a user can meet is one line on stderr and an exit status."""
    args = build_parser().parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"paperboy: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    setup_logging(config.logging.level, config.token)
    handler = COMMANDS[args.command]
    try:
        status = handler(config, args)
        sys.stdout.flush()  # a closed pipe shows here, inside the handler below
        return status
    except StoreError as exc:
        print(f"paperboy: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:
        return _quiet_after_broken_pipe()
    except KeyboardInterrupt:
        return 130


def _quiet_after_broken_pipe() -> int:
    """The reader of our output stopped early (``paperboy preview | head``): stop quietly, as
    Unix tools do, and keep Python from complaining when it flushes stdout at exit."""
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return EXIT_FAILED


@contextlib.asynccontextmanager
async def services_for(config: Config, command: str, *, must_exist: bool = False) -> AsyncIterator[Services]:
    """The services for one command; a store this command had to create is named on stderr, so
    a command run from the wrong folder does not silently work on an empty store there."""
    path = config.storage.path
    if must_exist and not config.storage.postgres_url and path != ":memory:" and not Path(path).exists():
        raise StoreError(f"no store at {Path(path).expanduser().absolute()} (storage.path, from "
                         f"{config.source}): is this the right folder or --config?")
    async with open_services(config, command) as services:
        if services.store.created:
            url = config.storage.postgres_url
            where = (f"in {shown_location(url)} (storage.url" if url
                     else f"at {Path(path).expanduser().absolute()} (storage.path")
            print(f"paperboy: note: created a new, empty store {where}, from {config.source})",
                  file=sys.stderr)
        yield services


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
        async with services_for(config, "poll") as services:
            reports = await services.ingestor.poll(specs)
            await services.ingestor.tidy_after(reports)
            return reports

    reports = asyncio.run(run())
    if args.json:
        print(json.dumps(reports_json(reports), ensure_ascii=False))
    elif reports and all(r.status == "skipped" for r in reports):
        print(f"paperboy: poll skipped: {reports[0].error}", file=sys.stderr)
    else:
        print(format_reports(reports))
    return EXIT_FAILED if any(r.status in ("error", "skipped") for r in reports) else EXIT_OK


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


def _talk_to_discord(config: Config, job: Callable[[], Awaitable[T]]) -> T | int:
    """Run a job that talks to Discord; its failures are one line and an exit status."""
    from bot.process.launcher import MissingToken, discord_failure

    try:
        return asyncio.run(job())  # type: ignore[arg-type]
    except MissingToken as exc:
        print(f"paperboy: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:
        message = discord_failure(exc, config.discord.api_base)
        if message is None:
            raise
        print(f"paperboy: {message}", file=sys.stderr)
        return EXIT_FAILED


def cmd_run(config: Config, args: argparse.Namespace) -> int:
    from bot.process.launcher import run_bot

    outcome = _talk_to_discord(config, lambda: run_bot(config))
    return outcome if isinstance(outcome, int) else EXIT_OK


def cmd_sync(config: Config, args: argparse.Namespace) -> int:
    from bot.process.launcher import sync_commands

    names = _talk_to_discord(config, lambda: sync_commands(config, args.guild))
    if isinstance(names, int):
        return names
    where = f"server {args.guild}" if args.guild else "all servers (may take up to an hour to show)"
    print(f"published {len(names)} commands to {where}: {', '.join('/' + n for n in names)}")
    return EXIT_OK


def cmd_preview(config: Config, args: argparse.Namespace) -> int:
    from bot.core.channel_rules import ChannelRuleError, check_top
    from bot.core.ids import parse_arxiv_id
    from bot.core.ranking import MIN_SAVES
    from bot.core.topics import TopicError, parse_subscription
    from bot.discord_side.compact_render import render_for_channel
    from bot.discord_side.text_card import render_text_card
    from bot.services.digests import entries_json

    try:
        since = Duration(args.since)
        topics = [parse_subscription(text, [f.name for f in config.feeds]) for text in args.follow]
        saved = [parse_arxiv_id(text).base for text in args.saved]
        try:
            check_top(args.top)
        except ChannelRuleError as exc:
            raise ValueError(f"--top: {exc}") from None
    except (ValueError, TopicError) as exc:
        print(f"paperboy: {exc}", file=sys.stderr)
        return EXIT_USAGE

    async def run() -> tuple[ChannelDigest, bool, int]:
        async with services_for(config, "preview") as services:
            empty = await services.store.max_seq() == 0
            known = len(await services.store.papers_by_ids(saved)) if saved else 0
            return await services.digests.for_topics(topics, since, saved), empty, known

    digest, empty, known = asyncio.run(run())
    if saved and known < MIN_SAVES:
        print(f"paperboy: note: {known} of the --saved papers are in the store; ranking by saves needs "
              f"at least {MIN_SAVES} (until then the cold start ranks: topics, votes, recency)",
              file=sys.stderr)
    entries = digest.entries
    if args.json:
        messages = render_for_channel(entries, layout=args.layout, top=args.top, only_top=False,
                                      date_text=utc_now().strftime("%a %d %b %Y")) if entries else []
        print(json.dumps({"messages": [m.payload for m in messages], "items": entries_json(entries)},
                         ensure_ascii=False))
    elif empty:
        print(f"the store {Path(config.storage.path).expanduser().absolute()} is empty: "
              "`paperboy poll` fills it from arXiv and the summary feeds")
    elif not entries:
        print(f"nothing matched in the last {since}")
    else:
        print("\n\n".join(f"#{rank}" + (f" · {' · '.join(p.ranked.reasons)}" if p.ranked and p.ranked.reasons
                                         else "") + "\n" + render_text_card(p.entry)
                            for rank, p in enumerate(entries, start=1)))
    return EXIT_OK


def cmd_lookup(config: Config, args: argparse.Namespace) -> int:
    from bot.discord_side.cards import card_json, render_card_text
    from bot.services.lookup import LookupFailure, PaperHit

    async def run() -> PaperHit:
        async with services_for(config, "lookup") as services:
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
    from bot.services.health import check_health

    report = asyncio.run(check_health(config))
    for line in report.checks:
        print(f"ok: {line}")
    for line in report.problems:
        print(f"PROBLEM: {line}")
    return EXIT_OK if report.healthy else EXIT_FAILED


def cmd_export(config: Config, args: argparse.Namespace) -> int:
    from bot.services.export_format import dump_document
    from bot.services.transfer import export_document

    async def run() -> dict[str, object]:
        async with services_for(config, "export", must_exist=True) as services:
            return await export_document(services.store, args.guild)

    print(dump_document(asyncio.run(run())))
    return EXIT_OK


def cmd_import(config: Config, args: argparse.Namespace) -> int:
    from bot.services.export_format import ImportFailure, load_document
    from bot.services.transfer import feed_names, import_document, import_limits

    try:
        raw = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
        document = load_document(raw)
    except (OSError, ImportFailure) as exc:
        print(f"paperboy: cannot import {args.file}: {exc}", file=sys.stderr)
        return EXIT_FAILED

    async def run() -> object:
        async with services_for(config, "import") as services:
            return await import_document(services.store, document, feed_names(config), import_limits(config))

    try:
        report = asyncio.run(run())
    except ImportFailure as exc:
        print(f"paperboy: nothing imported: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(json.dumps(report.as_dict()))  # type: ignore[attr-defined]
    return EXIT_OK


def cmd_backup(config: Config, args: argparse.Namespace) -> int:
    from bot.services.backup import BackupFailure, backup

    target = Path(args.path).expanduser().absolute()
    if target.exists() and not target.is_dir() and not args.force:
        print(f"paperboy: {target} already exists: pass --force to replace it, or choose another "
              "path", file=sys.stderr)
        return EXIT_FAILED

    async def run() -> dict[str, object]:
        async with services_for(config, "backup", must_exist=True) as services:
            return await backup(services.store, target)

    try:
        print(json.dumps(asyncio.run(run())))
    except (BackupFailure, OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        print(f"paperboy: backup to {target} failed: {reason}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def cmd_migrate_store(config: Config, args: argparse.Namespace) -> int:
    from bot.core.storage_config import STORAGE_URL_SCHEMES, mask_url
    from storage.transfer_engines import TransferFailed, migrate_store

    problem = None
    if not args.to.startswith(STORAGE_URL_SCHEMES):
        problem = f"--to {mask_url(args.to)!r} is not a postgresql:// URL"
    elif config.storage.postgres_url:
        problem = (f"the store is already PostgreSQL ({mask_url(config.storage.postgres_url)}, storage.url "
                   "or $PAPERBOY_STORAGE_URL): migrate-store copies the SQLite file at storage.path, so "
                   "leave storage.url empty while it runs")
    elif config.storage.path == ":memory:":
        problem = "storage.path is \":memory:\", not a file: there is no SQLite store to migrate"
    if problem:
        print(f"paperboy: {problem}", file=sys.stderr)
        return EXIT_USAGE
    try:
        report = asyncio.run(migrate_store(Path(config.storage.path).expanduser(), args.to))
    except TransferFailed as exc:
        if exc.report is not None:
            print(json.dumps(exc.report.as_dict()) if args.json else exc.report.text())
        print(f"paperboy: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(json.dumps(report.as_dict()) if args.json else report.text())
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
    "migrate-store": cmd_migrate_store,
}
