"""pytest fixtures shared by the test modules."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from doubles.feed_server import FeedServer
from storage import SQLiteStore, Store, open_store
from tests.postgres_cluster import ENGINES, PostgresCluster, session_cluster, stop_session_cluster


@pytest.fixture
async def feed_server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as server:
        yield server


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    opened = await open_store(tmp_path / "store.sqlite3")
    assert isinstance(opened, SQLiteStore)
    try:
        yield opened
    finally:
        await opened.close()


# -- the store contract: one suite, both engines ---------------------------------------------


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """The session's throwaway PostgreSQL (tests/postgres_cluster.py); skipped without one,
    except under CI=true."""
    yield session_cluster()
    stop_session_cluster()


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """``sqlite`` or ``postgresql``: a test that takes it runs once on each engine."""
    return str(request.param)


@pytest.fixture
def new_location(engine: str, tmp_path: Path, request: pytest.FixtureRequest
                 ) -> Callable[[str], Awaitable[str]]:
    """Makes places for fresh stores of the engine: ``await new_location("name")`` is an SQLite
    file's path in tmp_path, or a new database's URL."""
    async def make(name: str) -> str:
        if engine == "sqlite":
            return str(tmp_path / f"{name}.sqlite3")
        cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
        return await cluster.create_database()
    return make


@pytest.fixture
async def store_location(new_location: Callable[[str], Awaitable[str]]) -> str:
    """Where a fresh store of the engine goes: an SQLite file's path, or a new database's URL."""
    return await new_location("store")


@pytest.fixture
async def engine_store(store_location: str) -> AsyncIterator[Store]:
    """A fresh, empty store on each engine."""
    opened = await open_store(store_location)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture(autouse=True)
def _garbage_collected_again() -> Iterator[None]:
    """A bot freezes what its start-up made for the garbage collector (gc.freeze), once per
    process in real life; in a test worker every started bot would add to the frozen heap."""
    yield
    if gc.get_freeze_count():
        gc.unfreeze()
