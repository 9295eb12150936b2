"""The tests' throwaway PostgreSQL: the code lives in :mod:`doubles.postgres` (the benchmarks use it
too and may not import from ``tests/``); these names stay importable from here."""

from doubles.postgres import (
    BINDIR_ENV,
    ENGINES,
    SERVER_USER,
    PostgresCluster,
    engine_of,
    find_bindir,
    free_port,
    raw_rows,
    session_cluster,
    stop_session_cluster,
)

__all__ = [
    "BINDIR_ENV",
    "ENGINES",
    "SERVER_USER",
    "PostgresCluster",
    "engine_of",
    "find_bindir",
    "free_port",
    "raw_rows",
    "session_cluster",
    "stop_session_cluster",
]
