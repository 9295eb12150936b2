"""Turning what a user typed into a safe FTS5 query: never FTS5 syntax from outside.

Words are taken as plain tokens (each double-quoted), so ``"``, ``*``, ``NEAR(``, ``AND``, ``-`` and
``:`` in a query are just text. The last word may be a prefix, for autocomplete.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 12  # a 2,000-character query is cut to its first words, not sent whole


def query_words(text: str) -> list[str]:
    """The searchable words of a query, lower-cased, at most :data:`MAX_TERMS`."""
    return [w.lower() for w in _WORD.findall(text)][:MAX_TERMS]


def fts_match(text: str, *, prefix_last: bool = False, min_prefix: int = 3) -> str | None:
    """An FTS5 MATCH expression requiring every word (AND), or None when nothing is searchable.

    With ``prefix_last`` the last word also matches as a prefix when it has ``min_prefix``
    characters or more (shorter prefixes would touch too much of a large index).
    """
    words = query_words(text)
    if not words:
        return None
    terms = [f'"{w}"' for w in words]
    if prefix_last and len(words[-1]) >= min_prefix and not text[-1:].isspace():
        terms[-1] = f'"{words[-1]}"*'
    return " ".join(terms)
