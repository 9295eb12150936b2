"""A throwaway PostgreSQL server for the store contract tests and the benchmarks, and the helpers
that use it (``tests/postgres_cluster.py`` re-exports them for the tests).

One cluster per test session: ``initdb`` into a temp folder, ``pg_ctl start`` on a free port of
127.0.0.1 (its socket in that folder too, fsync off: nothing here must survive a crash of the
machine), and one fresh database per test, so tests are isolated. PostgreSQL refuses to run as
root, so as root the server runs as the ``postgres`` user (``runuser``), in a folder it owns.

Where the binaries come from: ``$PAPERBOY_PG_BINDIR``, else the newest
``/usr/lib/postgresql/*/bin`` (Debian's packages), else ``pg_ctl`` on the PATH. Without them, or
when the server will not start, the PostgreSQL tests are skipped with the reason, except under
``CI=true``, where that is a failure: CI installs PostgreSQL (``.ci/run``) and must run them. A
benchmark uses :class:`PostgresCluster` directly and says itself what it does without one.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import pwd
import shutil
import socket
import sqlite3
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger("doubles.postgres")

BINDIR_ENV = "PAPERBOY_PG_BINDIR"
SERVER_USER = "postgres"


def find_bindir() -> Path | None:
    """Where ``initdb`` and ``pg_ctl`` are, if anywhere."""
    if os.environ.get(BINDIR_ENV):
        return Path(os.environ[BINDIR_ENV])
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
                    key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    if debian:
        return debian[-1].parent
    found = shutil.which("pg_ctl")
    return Path(found).parent if found else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresCluster:
    """A PostgreSQL server of the test session's own, on 127.0.0.1, trusted without a password."""

    def __init__(self, bindir: Path, keep: Path | None = None,
                 settings: dict[str, str] | None = None) -> None:
        """``keep``: a folder whose cluster outlives this object (made there on first use, started
        again later), for a benchmark whose data takes minutes to load; else a temp folder that
        :meth:`stop` removes. ``settings``: server settings beyond the defaults (a benchmark's
        ``shared_buffers``)."""
        self.bindir = bindir
        self.settings = dict(settings or {})
        self.kept = keep is not None
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
        self.root = keep if keep is not None else Path(tempfile.mkdtemp(prefix="paperboy-pg-"))
        self.data = self.root / "data"
        self.port = 0
        self._names = itertools.count(1)
        self._as: list[str] = []
        if os.geteuid() == 0:  # the server refuses root: run it as postgres, in a folder it owns
            try:
                user = pwd.getpwnam(SERVER_USER)
            except KeyError:
                raise RuntimeError(f"running as root and there is no {SERVER_USER!r} user to run "
                                   "PostgreSQL as") from None
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self._as = ["runuser", "-u", SERVER_USER, "--"]

    def _run(self, *args: str) -> None:
        result = subprocess.run([*self._as, *args], capture_output=True, text=True, timeout=120,
                                cwd=self.root)
        if result.returncode != 0:
            raise RuntimeError(f"{Path(args[0]).name} failed ({result.returncode}): "
                               f"{(result.stderr or result.stdout).strip()[-800:]}")

    def start(self) -> None:
        """initdb and start the server; a RuntimeError saying why when it cannot."""
        if not (self.data / "PG_VERSION").exists():
            shutil.rmtree(self.data, ignore_errors=True)  # an initdb that did not finish
            self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                      "-E", "UTF8", "--locale=C", "--no-sync")
        for attempt in range(3):  # a free port may be taken between the probe and the start
            self.port = free_port()
            options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories={self.root}"
                       " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
                       " -c max_connections=200"
                       + "".join(f" -c {name}={value}" for name, value in self.settings.items()))
            try:
                self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l",
                          str(self.root / "server.log"), "-w", "-t", "60", "-o", options, "start")
                return
            except RuntimeError:
                if attempt == 2:
                    raise RuntimeError(f"the server did not start: {self.server_log()}") from None

    def server_log(self) -> str:
        with contextlib.suppress(OSError):
            return (self.root / "server.log").read_text(errors="replace")[-800:]
        return "(no log)"

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError, OSError, subprocess.TimeoutExpired):
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m",
                      "fast" if self.kept else "immediate", "-w", "stop")
        if not self.kept:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    async def create_database(self) -> str:
        """A new, empty database for one test; its URL."""
        import asyncpg

        name = f"t{os.getpid()}_{next(self._names)}"
        connection = await asyncpg.connect(self.url())
        try:
            await connection.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        finally:
            await connection.close()
        return self.url(name)


def start_bench_cluster(engine: str | None, keep: Path | None = None,
                        settings: dict[str, str] | None = None) -> tuple[str, PostgresCluster | None, str]:
    """For a benchmark measuring SQLite and/or PostgreSQL (``engine``: "sqlite", "postgresql",
    "both", or None for both when PostgreSQL can run): the engines it measures, the started server
    (None for SQLite alone), and a note saying why PostgreSQL is left out. PostgreSQL asked for by
    name and not available is a SystemExit(2) with the reason."""
    if engine == "sqlite":
        return "sqlite", None, ""
    bindir = find_bindir()
    if bindir is None or not (bindir / "initdb").exists():
        problem = ("PostgreSQL is not installed (no initdb/pg_ctl; Debian: apt-get install postgresql, "
                   f"or set ${BINDIR_ENV})")
    else:
        cluster = PostgresCluster(bindir, keep, settings)
        try:
            cluster.start()
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
            cluster.stop()
            problem = f"PostgreSQL ({bindir}) could not be started: {exc}"
        else:
            return engine or "both", cluster, ""
    if engine is not None:
        print(f"SKIP: {problem}")
        raise SystemExit(2)
    return "sqlite", None, f"note: SQLite only: {problem}"


_STARTED: dict[str, Any] = {}


def session_cluster() -> PostgresCluster:
    """The session's cluster, started on first use; skipped (failed under CI=true) when
    PostgreSQL is missing or will not start. Stopped by :func:`stop_session_cluster`."""
    if "cluster" in _STARTED:
        cluster: PostgresCluster = _STARTED["cluster"]
        return cluster
    if "problem" not in _STARTED:
        bindir = find_bindir()
        if bindir is None or not (bindir / "initdb").exists():
            _STARTED["problem"] = ("PostgreSQL is not installed (no initdb/pg_ctl; Debian: apt-get install "
                                   f"postgresql, or set ${BINDIR_ENV})")
        else:
            cluster = PostgresCluster(bindir)
            try:
                cluster.start()
            except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
                cluster.stop()
                _STARTED["problem"] = f"PostgreSQL ({bindir}) could not be started: {exc}"
            else:
                _STARTED["cluster"] = cluster
                return cluster
    import pytest  # only the tests' session cluster skips or fails a test

    problem = str(_STARTED["problem"])
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and the PostgreSQL tests cannot run: {problem}", pytrace=False)
    pytest.skip(problem)


def stop_session_cluster() -> None:
    cluster = _STARTED.pop("cluster", None)
    if cluster is not None:
        cluster.stop()


async def raw_rows(store: Any, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` read straight from a store's database, past its methods (write the SQL
    both engines read alike; parameters as ``?``, turned into ``$n`` for PostgreSQL)."""
    from storage.sqlite import SQLiteStore

    if isinstance(store, SQLiteStore):
        db = sqlite3.connect(store.path)
        try:
            return [tuple(row) for row in db.execute(sql, params).fetchall()]
        finally:
            db.close()
    numbered = _numbered(sql)
    return [tuple(row) for row in await store._fetch(numbered, *params)]


def _numbered(sql: str) -> str:
    parts = sql.split("?")
    return "".join(part + (f"${n}" if n < len(parts) else "") for n, part in enumerate(parts, start=1))


def engine_of(store: Any) -> str:
    """``sqlite`` or ``postgresql``."""
    from storage.sqlite import SQLiteStore

    return "sqlite" if isinstance(store, SQLiteStore) else "postgresql"


ENGINES: Sequence[str] = ("sqlite", "postgresql")
