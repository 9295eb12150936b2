"""SQL text helpers: the one way to write an ``IN (...)`` list, and optional WHERE filters.

Values always travel as parameters; only placeholders and fixed column names are put into SQL
text, so nothing a user typed can become SQL.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

T = TypeVar("T")

CHUNK = 500
"""Values per ``IN (...)`` list: well under SQLite's limit on parameters (32,766 since 3.32,
999 before), and short enough that one chunk is one quick indexed query."""


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    """``items`` in consecutive slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def in_chunks(sql: str, values: Sequence[Any], before: Sequence[Any] = (), after: Sequence[Any] = (),
              size: int = CHUNK) -> Iterator[tuple[str, list[Any]]]:
    """(SQL, parameters) for each chunk of ``values``: ``{marks}`` in ``sql`` becomes that many
    placeholders, between the parameters ``before`` and ``after`` the list. No values, no query."""
    for chunk in chunks(values, size):
        yield sql.format(marks=",".join("?" * len(chunk))), [*before, *chunk, *after]


class Where:
    """A WHERE clause built from optional filters: only those given, joined with AND.

    ``Where().add("guild_id = ?", 7)`` renders as `` WHERE guild_id = ?`` with ``[7]``; an empty
    one renders as nothing, so ``f"SELECT * FROM channels{where}"`` works either way.
    """

    def __init__(self) -> None:
        self.conditions: list[str] = []
        self.params: list[Any] = []

    def add(self, condition: str, *params: Any) -> Where:
        """Require ``condition`` (with its ``?`` parameters); returns self, to chain."""
        self.conditions.append(condition)
        self.params.extend(params)
        return self

    def __str__(self) -> str:
        return f" WHERE {' AND '.join(self.conditions)}" if self.conditions else ""
