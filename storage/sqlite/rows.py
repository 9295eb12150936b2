"""SQLite's rows: aiosqlite's cursors give ``sqlite3.Row`` (the store sets it as the row factory);
the converters to records are the engines' shared ones (:mod:`storage.records`)."""

from __future__ import annotations

import sqlite3

from storage.records import (
    CHANNEL_COLUMNS,
    FEED_COLUMNS,
    PAPER_COLUMNS,
    channel,
    feed_state,
    known_paper,
    known_summary,
    outbox_message,
    paper_values,
    stored_paper,
    stored_summary,
)

Row = sqlite3.Row

__all__ = ["CHANNEL_COLUMNS", "FEED_COLUMNS", "PAPER_COLUMNS", "Row", "channel", "feed_state", "known_paper",
           "known_summary", "outbox_message", "paper_values", "stored_paper", "stored_summary"]
