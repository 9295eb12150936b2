"""PostgreSQL's rows: the engines' shared converters (:mod:`storage.records`), plus the columns only
PostgreSQL keeps (a paper's category keys for the GIN index, its search vectors' texts)."""

from __future__ import annotations

from typing import Any

from storage.models import PaperRecord
from storage.postgres.search import category_keys, document, plain
from storage.records import (
    CHANNEL_COLUMNS,
    FEED_COLUMNS,
    channel,
    feed_state,
    known_paper,
    known_summary,
    outbox_message,
    stored_paper,
    stored_summary,
)
from storage.records import PAPER_COLUMNS as COMMON_PAPER_COLUMNS
from storage.records import paper_values as common_paper_values

PAPER_COLUMNS = (*COMMON_PAPER_COLUMNS, "category_keys")  # the order of :func:`paper_values`


def paper_values(paper: PaperRecord) -> tuple[Any, ...]:
    """A paper record as the values of :data:`PAPER_COLUMNS`."""
    return (*common_paper_values(paper), category_keys(paper.categories))


def search_values(paper: PaperRecord) -> tuple[str, str]:
    """The texts of a paper's search columns: its full-text vector and its title's words (the
    title vector is made from the latter; see :mod:`storage.postgres.search`)."""
    return document(paper.title, paper.authors, paper.abstract), plain(paper.title)


__all__ = ["CHANNEL_COLUMNS", "FEED_COLUMNS", "PAPER_COLUMNS", "channel", "feed_state", "known_paper",
           "known_summary", "outbox_message", "paper_values", "search_values", "stored_paper",
           "stored_summary"]
