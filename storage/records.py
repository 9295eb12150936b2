"""Between the engines' rows and the store's records: one converter per table, shared by the
SQLite and the PostgreSQL mixins, so both engines give back the same records.

A row is read by column name (``sqlite3.Row`` and ``asyncpg.Record`` both are). JSON columns
(authors, categories, outbox payloads and items) are text in both engines and decoded here, so the
rest of the code sees lists and dicts, never the text they are stored as.
"""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any, cast

from storage.decisions import KnownPaper, KnownSummary
from storage.models import ChannelSettings, FeedState, OutboxMessage, PaperRecord, StoredPaper, StoredSummary

Row = Any  # a row read by column name: sqlite3.Row, asyncpg.Record

FEED_COLUMNS = tuple(f.name for f in fields(FeedState))
CHANNEL_COLUMNS = tuple(f.name for f in fields(ChannelSettings))
PAPER_COLUMNS = ("arxiv_id", "title", "authors", "abstract", "categories", "primary_category",
                 "latest_version", "announce_type", "doi", "journal_ref", "comment", "published",
                 "updated")  # the order of :func:`paper_values`


def paper_values(paper: PaperRecord) -> tuple[Any, ...]:
    """A paper record as the values of :data:`PAPER_COLUMNS`."""
    return (paper.arxiv_id, paper.title, json.dumps(paper.authors, ensure_ascii=False), paper.abstract,
            json.dumps(paper.categories), paper.primary_category, paper.version,
            paper.announce_type, paper.doi, paper.journal_ref, paper.comment, paper.published,
            paper.updated)


def stored_paper(row: Row, versions: list[int] | None = None) -> StoredPaper:
    return StoredPaper(
        arxiv_id=row["arxiv_id"], title=row["title"], authors=json.loads(row["authors"]),
        abstract=row["abstract"], categories=json.loads(row["categories"]),
        latest_version=row["latest_version"], announce_type=row["announce_type"], doi=row["doi"],
        journal_ref=row["journal_ref"], comment=row["comment"], published=row["published"],
        updated=row["updated"], seq=int(row["seq"]), versions=versions or [],
        first_seq=int(row["first_seq"]))


def known_paper(row: Row) -> KnownPaper:
    return KnownPaper(row["latest_version"], row["doi"], row["journal_ref"])


def stored_summary(row: Row) -> StoredSummary:
    return StoredSummary(
        source=row["source"], guid=row["guid"], title=row["title"], text=row["text"],
        author=row["author"], link=row["link"], arxiv_id=row["arxiv_id"], doi=row["doi"],
        bibtex_key=row["bibtex_key"], votes=row["votes"], edited_at=row["edited_at"],
        seq=int(row["seq"]), comments=row["comments"], id=int(row["id"]))


def known_summary(row: Row) -> KnownSummary:
    return KnownSummary(row["title"], row["text"], row["edited_at"])


def feed_state(row: Row) -> FeedState:
    return FeedState(**{name: row[name] for name in FEED_COLUMNS})


def channel(row: Row) -> ChannelSettings:
    values = {name: row[name] for name in CHANNEL_COLUMNS}
    values["include_replacements"] = bool(values["include_replacements"])
    values["only_top"] = bool(values["only_top"])
    return ChannelSettings(**values)


def outbox_message(row: Row) -> OutboxMessage:
    items = [cast(tuple[str, str, int], tuple(item)) for item in json.loads(row["items"])]
    return OutboxMessage(
        id=int(row["id"]), channel_id=row["channel_id"], digest_id=row["digest_id"],
        position=row["position"], nonce=row["nonce"], payload=json.loads(row["payload"]), items=items,
        status=row["status"], target_channel_id=row["target_channel_id"], message_id=row["message_id"],
        attempted_at=row["attempted_at"], attempt_target=row["attempt_target"])
