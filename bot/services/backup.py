"""``paperboy backup PATH``: a consistent copy of the live store, proven before it is reported.

:func:`backup` copies the live store with SQLite's online backup (see
:meth:`storage.base.AdminStore.backup_to`): consistent while the bot and a poll write, written
beside the target and renamed into place, then checked with ``PRAGMA integrity_check``.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from pathlib import Path
from typing import Any

from storage.base import AdminStore


class BackupFailure(RuntimeError):
    """A backup copy that did not pass ``PRAGMA integrity_check``."""


async def backup(store: AdminStore, path: str | Path) -> dict[str, Any]:
    """Copy the live store to ``path`` and prove the copy: ``{path, bytes, papers, integrity}``.

    Raises ValueError for the live file itself, :class:`BackupFailure` when the copy fails
    ``PRAGMA integrity_check`` (the full check, not only the quick one the copy passed before it
    was renamed into place).
    """
    await store.backup_to(path)
    return await asyncio.to_thread(inspect_copy, Path(path).expanduser().absolute())


def inspect_copy(path: Path) -> dict[str, Any]:
    """Open a copy read-only, run ``PRAGMA integrity_check`` and count its papers."""
    db = sqlite3.connect(path.as_uri() + "?mode=ro", uri=True)
    try:
        problems = [row[0] for row in db.execute("PRAGMA integrity_check")]
        if problems != ["ok"]:
            raise BackupFailure(f"{path} failed PRAGMA integrity_check: {'; '.join(problems[:5])}")
        (papers,) = db.execute("SELECT count(*) FROM papers").fetchone()
    finally:
        db.close()
    return {"path": str(path), "bytes": os.path.getsize(path), "papers": int(papers), "integrity": "ok"}
