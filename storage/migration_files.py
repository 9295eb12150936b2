"""Numbered SQL migrations shipped as package data (``0001_initial.sql`` ...), read the same way for
both engines: each engine's ``schema`` module names its package."""

from __future__ import annotations

import re
from importlib import resources

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def read_migrations(package: str) -> list[tuple[int, str, str]]:
    """(number, file name, SQL) of every migration in ``package``, in order."""
    found = []
    for entry in resources.files(package).iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)
