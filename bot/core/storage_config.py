"""The ``[storage]`` section: where the store lives, and which engine that makes it.

``path`` is the embedded SQLite file (the default); ``url`` -- or ``$PAPERBOY_STORAGE_URL``, which
wins, so a password need not be in a file -- names a PostgreSQL database instead. Kept apart from
:mod:`bot.core.config` (which reads it like every section) so the URL's rules live in one place.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

STORAGE_URL_ENV = "PAPERBOY_STORAGE_URL"
STORAGE_URL_SCHEMES = ("postgresql://", "postgres://")


@dataclass(frozen=True)
class StorageConfig:
    """Where the store lives: the embedded SQLite file (``path``, the default), or a PostgreSQL
    database when ``url`` (or ``$PAPERBOY_STORAGE_URL``) names one."""

    path: str = "paperboy.sqlite3"
    url: str = ""  # postgresql://user:password@host:5432/paperboy; empty: the SQLite file at path

    @property
    def postgres_url(self) -> str:
        """The PostgreSQL store's URL, empty for the SQLite file: the environment wins over the file."""
        return os.environ.get(STORAGE_URL_ENV) or self.url

    @property
    def location(self) -> str:
        """What :func:`storage.open_store` opens: the PostgreSQL URL if one is set, else the path."""
        return self.postgres_url or self.path


def storage_problem(storage: StorageConfig) -> str | None:
    """What is wrong with the section, phrased as a :class:`~bot.core.config.ConfigError` (naming
    the key or the variable), or None."""
    environment = os.environ.get(STORAGE_URL_ENV, "")
    for key, url in ((f"${STORAGE_URL_ENV}", environment), ("storage.url", storage.url)):
        if url and not url.startswith(STORAGE_URL_SCHEMES):
            return (f"{key}: {mask_url(url)!r} is not a postgresql:// URL (leave it empty for the SQLite "
                    "file at storage.path)")
    return None


def mask_url(url: str) -> str:
    """A URL without its password, for messages and ``check-config``."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return parts._replace(netloc=f"{parts.username or ''}:***@{netloc}").geturl()
