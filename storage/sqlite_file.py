"""Is this file a Paperboy store? Checked before SQLite may write a byte to it.

A store is marked on creation with ``PRAGMA application_id`` (:data:`APPLICATION_ID`, "PBOY").
Stores made before that mark existed are recognised by their schema (Paperboy's tables at a
known ``user_version``) and marked when they are next migrated. Anything else -- a directory, a
file that is not SQLite, another program's SQLite database, a read-only file, a folder that
cannot be written -- is refused with a :class:`~storage.errors.StoreError` that names the path,
and the file is left exactly as it was: the checks read the SQLite header themselves and only
open a connection read-only.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from dataclasses import dataclass
from pathlib import Path

from storage.errors import StoreError

APPLICATION_ID = 0x50424F59  # "PBOY"
SQLITE_MAGIC = b"SQLite format 3\x00"
_HEADER_SIZE = 100
_APPLICATION_ID_OFFSET = 68
# Tables every Paperboy store has had since migration 0001; an unmarked database holding them
# at a user_version Paperboy wrote is one of our stores from before the application id.
_OUR_TABLES = frozenset({"ingest_log", "papers", "paper_versions", "summaries", "feeds"})


@dataclass(frozen=True)
class StoreFile:
    """What the file at the store's path is: ``new`` (absent or empty) or one of ours."""

    path: Path
    new: bool


def check_store_file(path: str | Path, newest_version: int, *, to_write: bool = True) -> StoreFile:
    """Refuse any path that is not (or cannot become) a usable Paperboy store; never writes.
    ``to_write=False``: the store is only to be read (migrate-store's source), so a read-only
    file is fine."""
    target = Path(path).expanduser().absolute()
    if target.is_dir():
        raise StoreError(f"store {target} is a directory, not a file: set storage.path to a file "
                         "name such as paperboy.sqlite3")
    if not target.exists():
        _check_folder(target)
        return StoreFile(target, new=True)
    if not target.is_file():
        raise StoreError(f"store {target} is not a regular file")
    header = _read_header(target)
    if not header:
        _check_writable(target)
        return StoreFile(target, new=True)  # an empty file is an empty database to SQLite too
    if not header.startswith(SQLITE_MAGIC):
        raise StoreError(f"store {target} is not an SQLite database (is storage.path right?); "
                         "Paperboy left it untouched")
    application_id = int.from_bytes(header[_APPLICATION_ID_OFFSET:_APPLICATION_ID_OFFSET + 4], "big")
    if application_id not in (0, APPLICATION_ID):
        raise _foreign(target, f"its application id is {application_id:#010x}")
    if application_id == 0:
        _check_unmarked(target, newest_version)
    if to_write:
        _check_writable(target)
    return StoreFile(target, new=False)


def _read_header(target: Path) -> bytes:
    try:
        with target.open("rb") as handle:
            return handle.read(_HEADER_SIZE)
    except PermissionError:
        raise StoreError(f"store {target} cannot be read: permission denied") from None
    except OSError as exc:
        raise StoreError(f"store {target} cannot be read: {exc.strerror or exc}") from None


def _check_unmarked(target: Path, newest_version: int) -> None:
    """An SQLite file without our mark: an old Paperboy store, a blank database, or foreign."""
    try:
        connection = sqlite3.connect(f"{target.as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise StoreError(f"store {target} cannot be opened: {exc}") from None
    try:
        (application_id,) = connection.execute("PRAGMA application_id").fetchone()
        (version,) = connection.execute("PRAGMA user_version").fetchone()
        tables = {row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"store {target} is not a usable SQLite database ({exc}); "
                         "Paperboy left it untouched") from None
    finally:
        connection.close()
    if application_id == APPLICATION_ID:
        return  # marked in a write-ahead log not yet copied into the file
    if not tables and version == 0:
        return  # a blank database: it becomes a store
    if tables >= _OUR_TABLES and 1 <= version <= newest_version:
        return  # one of ours from before the application id
    if version > newest_version and tables >= _OUR_TABLES:
        raise StoreError(f"store {target} was written by a newer Paperboy (schema {version}, this "
                         f"one knows up to {newest_version}): upgrade Paperboy")
    raise _foreign(target, f"it holds tables Paperboy did not create ({', '.join(sorted(tables)[:5])})")


def _foreign(target: Path, why: str) -> StoreError:
    return StoreError(f"store {target} is another program's SQLite database ({why}); Paperboy "
                      "left it untouched: point storage.path at a new file or a Paperboy store")


def _check_folder(target: Path) -> None:
    """A new store needs a folder it may create files in (the store, its -wal and -shm)."""
    folder = target.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise StoreError(f"store {target} cannot be created: {folder} is not a folder")
    if not _writable(folder):
        raise StoreError(f"store {target} cannot be created: the folder {folder} is not writable "
                         "(check its permissions, or set storage.path elsewhere)")


def _check_writable(target: Path) -> None:
    if not _writable(target):
        raise StoreError(f"store {target} is read-only: Paperboy needs to write to it (make it "
                         "writable, or copy it elsewhere and point storage.path at the copy)")
    if not _writable(target.parent):
        raise StoreError(f"store {target} is in a folder that is not writable ({target.parent}): "
                         "SQLite keeps its -wal and -shm files beside the store")


def _writable(path: Path) -> bool:
    """Writable for this process; for root, also marked writable (root ignores the mode bits,
    but an operator who made a store read-only meant it)."""
    if not os.access(path, os.W_OK):
        return False
    if os.geteuid() == 0:
        return bool(path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    return True
