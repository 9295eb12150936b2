"""The store: what has been seen, what each channel follows and what it got.

The rest of the code talks to :class:`storage.base.Store`, or to the one role of it it needs
(:class:`~storage.base.IngestStore`, :class:`~storage.base.LookupStore`, ...); :func:`open_store`
gives the embedded SQLite implementation. Nothing in this package knows Discord or HTTP.
"""

from storage.base import (
    AdminStore,
    ChannelStore,
    CorpusStore,
    DeliveryStore,
    FeedStore,
    IngestStore,
    LeaseStore,
    LookupStore,
    SaveStore,
    Store,
)
from storage.clock import Clock
from storage.errors import StoreError
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
    "AdminStore",
    "BatchResult",
    "ChannelStore",
    "Clock",
    "CorpusStore",
    "DeliveryStore",
    "FeedState",
    "FeedStore",
    "IngestStore",
    "LeaseStore",
    "LookupStore",
    "PaperRecord",
    "SQLiteStore",
    "SaveStore",
    "Store",
    "StoreError",
    "StoredPaper",
    "StoredSummary",
    "SummaryRecord",
    "open_store",
]
