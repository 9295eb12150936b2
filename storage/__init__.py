"""The store: what has been seen, what each channel follows and what it got.

The rest of the code talks to :class:`storage.base.Store`; :func:`open_store` gives the embedded
SQLite implementation. Nothing in this package knows Discord or HTTP.
"""

from storage.base import Store
from storage.models import (
    BatchResult,
    FeedState,
    PaperRecord,
    StoredPaper,
    StoredSummary,
    SummaryRecord,
)
from storage.sqlite import SQLiteStore, open_store

__all__ = [
    "BatchResult",
    "FeedState",
    "PaperRecord",
    "SQLiteStore",
    "Store",
    "StoredPaper",
    "StoredSummary",
    "SummaryRecord",
    "open_store",
]
