"""Which engine a configuration opens: ``[storage] url`` (or ``$PAPERBOY_STORAGE_URL``) names a
PostgreSQL database, else ``path`` is the SQLite file; a URL of anything else is a ConfigError."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bot.core.config import ConfigError, describe, parse_config
from bot.core.storage_config import STORAGE_URL_ENV
from bot.services.health import check_health
from storage import SQLiteStore, open_store, shown_location
from tests.postgres_cluster import PostgresCluster


@pytest.mark.parametrize("url", ["mysql://db/paperboy", "paperboy.sqlite3", "http://db"])
def test_a_url_that_is_not_postgresql_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError, match=r"^storage\.url: .* is not a postgresql:// URL"):
        parse_config({"storage": {"url": url}})


def test_the_environment_wins_and_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    config = parse_config({"storage": {"path": "x.sqlite3"}})
    assert (config.storage.postgres_url, config.storage.location) == ("", "x.sqlite3")
    monkeypatch.setenv(STORAGE_URL_ENV, "postgresql://u:pw@db:5432/paperboy")
    assert config.storage.location == "postgresql://u:pw@db:5432/paperboy"
    monkeypatch.setenv(STORAGE_URL_ENV, "sqlite:///x")
    with pytest.raises(ConfigError, match=rf"^\${STORAGE_URL_ENV}: 'sqlite:///x' is not a postgresql://"):
        parse_config({})


def test_check_config_and_messages_never_show_the_password() -> None:
    config = parse_config({"storage": {"url": "postgresql://paperboy:s3cret@db.example.org:5432/pb"}})
    assert describe(config)["storage"]["url"] == "postgresql://paperboy:***@db.example.org:5432/pb"
    assert shown_location(config.storage.location) == "postgresql://paperboy:***@db.example.org:5432/pb"
    assert shown_location("rel.sqlite3") == str(Path("rel.sqlite3").absolute())


async def test_the_location_picks_the_engine(tmp_path: Path, postgres_cluster: PostgresCluster) -> None:
    from storage.postgres import PostgresStore

    sqlite = await open_store(tmp_path / "s.sqlite3")
    postgres = await open_store(await postgres_cluster.create_database())
    try:
        assert isinstance(sqlite, SQLiteStore) and isinstance(postgres, PostgresStore)
        assert sqlite.created and postgres.created
    finally:
        await sqlite.close()
        await postgres.close()


async def test_health_opens_a_postgresql_store(tmp_path: Path, postgres_cluster: PostgresCluster) -> None:
    url = await postgres_cluster.create_database()
    config = parse_config({"storage": {"url": url, "path": str(tmp_path / "absent.sqlite3")}})
    report = await check_health(dataclasses.replace(config))
    assert f"store {url} opens" in report.checks
    assert not any("does not exist" in problem for problem in report.problems)
