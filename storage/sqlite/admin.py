"""Housekeeping and the operator's tools: alerts, pruning, counts, import and backup.

Pruning drops old delivery records and sent messages, and moves the old-news horizon with them
(:meth:`storage.sqlite.ingest.IngestMixin.old_news_seq`), so an item whose delivery record was
pruned is never delivered again. An import merges channels and topics in one transaction. A
backup is a consistent, checked copy taken while the store is in use.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from storage.clock import iso_micros, iso_seconds
from storage.decisions import topic_stamp
from storage.models import ChannelSettings, Save, SubscriptionRow
from storage.sqlite.base import BUSY_TIMEOUT_SECONDS, SQLiteBase

_COUNTED = ("papers", "paper_versions", "summaries", "feeds", "ingest_log")


class AdminMixin(SQLiteBase):
    """:class:`storage.base.AdminStore` on SQLite."""

    # -- alerts ------------------------------------------------------------------------------

    async def open_alerts(self) -> set[str]:
        return {row[0] for row in await self._fetchall("SELECT key FROM alerts")}

    async def set_alert(self, key: str, is_open: bool) -> None:
        """Open an alert (it was sent) or close it (the problem is over)."""
        now = iso_seconds(self._now())
        async with self._transaction() as db:
            if is_open:
                await db.execute("INSERT OR IGNORE INTO alerts (key, opened_at) VALUES (?, ?)", (key, now))
            else:
                await db.execute("DELETE FROM alerts WHERE key = ?", (key,))

    # -- housekeeping ------------------------------------------------------------------------

    async def prune(self, deliveries_before: str, sent_before: str) -> dict[str, int]:
        """Drop delivery records and sent outbox rows older than the given instants.

        Papers first ingested before the deliveries' cutoff become old news (see
        :meth:`~storage.sqlite.ingest.IngestMixin.old_news_seq`), so a cross-list or new version
        of one never reaches a channel whose record of it was pruned.
        """
        async with self._transaction() as db:
            horizon = await self._scalar("SELECT coalesce(max(seq), 0) FROM ingest_log WHERE at < ?",
                                         (deliveries_before,))
            await db.execute(
                "INSERT INTO meta (key, value) VALUES ('old_news_seq', ?) ON CONFLICT (key) DO UPDATE"
                " SET value = max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))", (str(horizon),))
            deliveries = await db.execute("DELETE FROM deliveries WHERE delivered_at < ?",
                                          (deliveries_before,))
            sent = await db.execute("DELETE FROM outbox WHERE status = 'sent' AND sent_at < ?",
                                    (sent_before,))
            queries = await db.execute("DELETE FROM api_queries WHERE fetched_at < ?",
                                       (deliveries_before,))
        return {"deliveries": deliveries.rowcount, "sent_messages": sent.rowcount,
                "api_queries": queries.rowcount, "old_news_seq": horizon}

    async def counts(self) -> dict[str, int]:
        return {table: await self._scalar(f"SELECT count(*) FROM {table}") for table in _COUNTED}

    async def size_bytes(self) -> int:
        """The store's size on disk (pages in use), for status and the size estimate."""
        return await self._scalar(
            "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()")

    # -- import ------------------------------------------------------------------------------

    async def import_channels(self, channels: Sequence[ChannelSettings],
                              subscriptions: Sequence[SubscriptionRow],
                              saves: Sequence[Save] = ()) -> tuple[int, int, int, int]:
        """Upsert channel settings and add subscriptions and saves in ONE transaction: all or nothing.

        Returns (channels created, channels updated, topics added, topics whose exclude flag changed).
        A save the channel already has (same paper and user) is kept as it is.

        * A new channel starts at the store's current ingest seq, read inside the transaction: it
          gets what arrives from now on, never the backlog of a store it was not served from.
          Its ``next_due`` is the one given; it is not paused unless ``paused_reason`` says so.
        * An existing channel keeps its guild, cursor, last digest and creation time: those belong to
          this store. Its settings take the given values; ``next_due`` is replaced only when the
          schedule (time, zone, frequency, weekday) actually changes, so re-importing the same
          settings does not move a digest; ``paused_at`` is kept while the pause reason is the same.
          A channel that belongs to another guild here is an error (Discord channel ids are global).
        * A subscription the channel lacks is added, in the given order (distinct ``created_at``
          so ``/subscribe list`` and a later export keep it); one it has with the other exclude
          flag is flipped; none is removed: an import merges, it does not replace.
        Nothing is written when nothing differs, so importing the same data twice changes nothing.
        """
        moment = self._now()
        now = iso_seconds(moment)
        created = updated = flipped = 0
        async with self._transaction() as db:
            rows = await self._fetch_in(
                "SELECT channel_id, guild_id FROM channels WHERE channel_id IN ({marks})",
                [c.channel_id for c in channels])
            guild_of: dict[int, int] = {row[0]: row[1] for row in rows}
            for settings in channels:
                values = {
                    "channel_id": settings.channel_id, "guild_id": settings.guild_id,
                    "digest_time": settings.digest_time, "timezone": settings.timezone,
                    "frequency": settings.frequency, "weekday": settings.weekday,
                    "max_items": settings.max_items, "replacements": int(settings.include_replacements),
                    "next_due": settings.next_due, "paused_reason": settings.paused_reason, "now": now,
                    "layout": settings.layout, "top": settings.top, "only_top": int(settings.only_top),
                }
                if settings.channel_id not in guild_of:
                    await db.execute(
                        "INSERT INTO channels (channel_id, guild_id, digest_time, timezone, frequency,"
                        " weekday, max_items, include_replacements, layout, top, only_top, cursor_seq,"
                        " next_due, paused_reason, paused_at, created_at) VALUES (:channel_id, :guild_id,"
                        " :digest_time, :timezone, :frequency, :weekday, :max_items, :replacements,"
                        " :layout, :top, :only_top,"
                        " (SELECT coalesce(max(seq), 0) FROM ingest_log), :next_due, :paused_reason,"
                        " CASE WHEN :paused_reason IS NULL THEN NULL ELSE :now END, :now)", values)
                    guild_of[settings.channel_id] = settings.guild_id
                    created += 1
                    continue
                if guild_of[settings.channel_id] != settings.guild_id:
                    raise ValueError(f"channel {settings.channel_id} belongs to guild "
                                     f"{guild_of[settings.channel_id]} here, not {settings.guild_id}")
                # SET expressions all see the row as it was, so the CASEs compare old and new.
                cursor = await db.execute(
                    "UPDATE channels SET digest_time = :digest_time, timezone = :timezone,"
                    " frequency = :frequency, weekday = :weekday, max_items = :max_items,"
                    " include_replacements = :replacements, layout = :layout, top = :top,"
                    " only_top = :only_top,"
                    " next_due = CASE WHEN digest_time IS NOT :digest_time OR timezone IS NOT :timezone"
                    "  OR frequency IS NOT :frequency OR weekday IS NOT :weekday"
                    "  THEN :next_due ELSE next_due END,"
                    " paused_at = CASE WHEN :paused_reason IS NULL THEN NULL"
                    "  WHEN paused_reason IS :paused_reason THEN paused_at ELSE :now END,"
                    " paused_reason = :paused_reason"
                    " WHERE channel_id = :channel_id AND (digest_time IS NOT :digest_time"
                    "  OR timezone IS NOT :timezone OR frequency IS NOT :frequency"
                    "  OR weekday IS NOT :weekday OR max_items IS NOT :max_items"
                    "  OR include_replacements IS NOT :replacements OR layout IS NOT :layout"
                    "  OR top IS NOT :top OR only_top IS NOT :only_top"
                    "  OR paused_reason IS NOT :paused_reason)", values)
                updated += max(cursor.rowcount, 0)
            rows = await self._fetch_in(
                "SELECT channel_id, kind, key, exclude FROM subscriptions WHERE channel_id IN ({marks})",
                sorted({s.channel_id for s in subscriptions}))
            current: dict[tuple[int, str, str], bool] = {(r[0], r[1], r[2]): bool(r[3]) for r in rows}
            latest = await self._fetchone("SELECT max(created_at) FROM subscriptions")
            inserts: list[tuple[Any, ...]] = []
            for position, row in enumerate(subscriptions):
                key = (row.channel_id, row.kind, row.key)
                if key not in current:
                    stamp = iso_micros(topic_stamp(moment, latest[0] if latest else None, position))
                    inserts.append((row.channel_id, row.kind, row.key, row.value, int(row.exclude), stamp))
                    current[key] = row.exclude
                elif current[key] != row.exclude:
                    await db.execute("UPDATE subscriptions SET value = ?, exclude = ? WHERE channel_id = ?"
                                     " AND kind = ? AND key = ?",
                                     (row.value, int(row.exclude), row.channel_id, row.kind, row.key))
                    current[key] = row.exclude
                    flipped += 1
            await db.executemany("INSERT INTO subscriptions (channel_id, kind, key, value, exclude,"
                                 " created_at) VALUES (?, ?, ?, ?, ?, ?)", inserts)
            await db.executemany("INSERT OR IGNORE INTO saves (channel_id, arxiv_id, user_id, saved_at)"
                                 " VALUES (?, ?, ?, ?)",
                                 [(s.channel_id, s.arxiv_id, s.user_id, s.saved_at) for s in saves])
        return created, updated, len(inserts), flipped

    # -- backup ------------------------------------------------------------------------------

    async def backup_to(self, path: str | Path) -> None:
        """Copy the database to ``path`` while it is in use: one consistent snapshot, never a part.

        The copy is read through a connection of its own, not the store's: in WAL mode that
        connection sees committed transactions only, so a feed batch being written (the store's
        connection keeps its transaction open across awaits) is in the copy entirely or not at all,
        and the bot's reads and writes do not wait for the copy. (SQLite's backup through the
        store's own connection would read that connection's uncommitted pages: a partial batch.)
        ``pages=-1`` copies everything in one step, under one read transaction.

        The copy is written to a temp file next to the target, switched to a rollback journal (one
        self-contained file, no ``-wal`` beside it to lose), checked with ``PRAGMA quick_check``
        and renamed into place: the target is the old file or a complete new copy, never half of
        one. The live database file (and its ``-wal``/``-shm``/``-journal``) is never a target.
        A full disk or an unreadable store is a :class:`~storage.errors.StoreError`.
        """
        target = Path(path).expanduser().absolute()
        if self.path != ":memory:":
            live = Path(self.path).expanduser().absolute()
            for guarded in (live, *(live.with_name(live.name + s) for s in ("-wal", "-shm", "-journal"))):
                if _same_file(target, guarded):
                    raise ValueError(f"{target} is the live store ({guarded.name}); back up to another file")
        if target.is_dir():
            raise IsADirectoryError(f"{target} is a directory; give the backup a file name")
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = await asyncio.to_thread(_temp_file_for, target)
        try:
            with self._errors(f"could not be backed up to {target}"):
                if self.path == ":memory:":  # no file to open twice: copy through our connection,
                    async with self._write_lock:  # with no write transaction open on it
                        await self._backup_memory_into(temp)
                else:
                    await asyncio.to_thread(_copy_database, self.path, temp)
                await asyncio.to_thread(_finish_copy, temp, target)
        except BaseException:
            await asyncio.to_thread(_discard, temp)
            raise

    async def _backup_memory_into(self, temp: str) -> None:
        destination = sqlite3.connect(temp, check_same_thread=False)
        try:
            await self._db.backup(destination, pages=-1)
        finally:
            destination.close()


def _same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file: resolved (symlinks) or, if both exist, the same inode."""
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _temp_file_for(target: Path) -> str:
    """An empty, unique file beside ``target``: same file system, so the rename is atomic."""
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(handle)
    return name


def _copy_database(source: str, temp: str) -> None:
    """The online backup from a connection of our own (runs in a worker thread)."""
    # mode=rw: never create a database where the live one should be.
    reader = sqlite3.connect(Path(source).expanduser().absolute().as_uri() + "?mode=rw", uri=True)
    try:
        reader.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_SECONDS * 1000}")
        destination = sqlite3.connect(temp)
        try:
            reader.backup(destination, pages=-1)
        finally:
            destination.close()
    finally:
        reader.close()


def _finish_copy(temp: str, target: Path) -> None:
    """Make the copy one self-contained, checked, synced file and move it into place."""
    copy = sqlite3.connect(temp)
    try:
        copy.execute("PRAGMA journal_mode = DELETE")
        problems = [row[0] for row in copy.execute("PRAGMA quick_check")]
    finally:
        copy.close()
    if problems != ["ok"]:
        raise RuntimeError(f"the backup copy failed its check: {'; '.join(problems[:5])}")
    with open(temp, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(temp, target)
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable (POSIX)
        directory = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def _discard(temp: str) -> None:
    for name in (temp, temp + "-journal", temp + "-wal", temp + "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(name)
