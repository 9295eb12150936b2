"""Hugging Face Daily Papers (``https://huggingface.co/api/daily_papers?date=YYYY-MM-DD``): a JSON
array, one object per paper of the day, each with an AI-written summary and the paper's upvotes.

Each entry is one summary: guid = the paper's arXiv id (Hugging Face has one page per paper), so a
re-poll with new upvotes or comments only updates those counts. Entries without an AI summary are
skipped (the abstract is already the paper's), and so are malformed ones (not an object, no or an
invalid arXiv id, wrong types), each with a log line: one bad entry never fails the poll. A body
that is not a JSON array raises :class:`FeedParseError`. The papers themselves come from the arXiv
API, which the poller asks for the ids the summaries point at.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from bot.core.ids import try_parse_arxiv_id
from bot.ingest.sources.feed import FeedParseError, ParsedFeed, clean_title
from storage.models import SummaryRecord

log = logging.getLogger(__name__)

AUTHOR = "Hugging Face (AI summary)"
PAPER_PAGE = "https://huggingface.co/papers/"


class _Skip(Exception):
    """An entry that cannot be a summary; the message says why."""


def parse_huggingface(body: bytes, content_type: str = "", source: str = "huggingface") -> ParsedFeed:
    """Summaries from a Hugging Face Daily Papers answer."""
    entries = _load(body)
    parsed = ParsedFeed(title="Hugging Face Daily Papers", items=len(entries))
    seen: set[str] = set()
    for position, entry in enumerate(entries):
        try:
            summary = summary_from_entry(entry, source)
        except _Skip as why:
            log.warning("%s: skipping entry %d: %s", source, position, why)
            continue
        if summary is None:
            continue
        if summary.guid in seen:
            log.info("%s: skipping entry %d: arXiv:%s is listed twice", source, position, summary.guid)
            continue
        seen.add(summary.guid)
        parsed.summaries.append(summary)
    return parsed


def _load(body: bytes) -> list[Any]:
    """The JSON array, or :class:`FeedParseError` saying what the body is instead."""
    head = body[:512].lstrip()
    if not head:
        raise FeedParseError("the response body is empty")
    if head[:1] == b"<":
        kind = "an HTML page" if b"<html" in body[:4096].lower() else "XML"
        raise FeedParseError(f"the response is {kind}, not Hugging Face's JSON")
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise FeedParseError(f"the response is not JSON: {str(exc)[:200]}") from None
    if isinstance(document, dict) and isinstance(document.get("error"), str):
        raise FeedParseError(f"Hugging Face answered an error: {document['error'][:200]}")
    if not isinstance(document, list):
        raise FeedParseError(f"the response is {_json_type(document)}, not a JSON array of papers")
    return document


def _json_type(value: Any) -> str:
    """What a JSON value is, as JSON says it: ``an object``, ``a string``, ``null`` ..."""
    if value is None:
        return "null"
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "an array",
             dict: "an object"}
    return names.get(type(value), type(value).__name__)


_EXPECTED = {int: "an integer", str: "a string", dict: "an object"}


def _field(mapping: dict[str, Any], key: str, kind: type, *, required: bool = False) -> Any:
    """``mapping[key]`` when it is of ``kind`` (None when absent or null, unless required)."""
    value = mapping.get(key)
    if value is None:
        if required:
            raise _Skip(f"no {key!r}")
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _Skip(f"{key!r} is {_json_type(value)}, not {_EXPECTED[kind]}")
    return value


def iso_utc(text: str | None) -> str | None:
    """``2026-06-12T00:00:00.000Z`` as ``2026-06-12T00:00:00+00:00`` (a naive time is taken as UTC);
    None for what is not a date."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def summary_from_entry(entry: Any, source: str) -> SummaryRecord | None:
    """One entry as a summary; None (logged) when it has no AI summary; :class:`_Skip` when malformed."""
    if not isinstance(entry, dict):
        raise _Skip(f"{_json_type(entry)}, not an object")
    paper = _field(entry, "paper", dict, required=True)
    raw_id = _field(paper, "id", str, required=True)
    arxiv_id = try_parse_arxiv_id(raw_id)
    if arxiv_id is None:
        raise _Skip(f"{raw_id[:60]!r} is not an arXiv id")
    title = _field(paper, "title", str) or _field(entry, "title", str) or ""
    text = (_field(paper, "ai_summary", str) or "").strip()
    votes = _field(paper, "upvotes", int)
    comments = _field(entry, "numComments", int)
    edited = _field(paper, "submittedOnDailyAt", str)
    if not text:
        log.info("%s: skipping arXiv:%s: no AI summary", source, arxiv_id.base)
        return None
    return SummaryRecord(
        source=source,
        guid=arxiv_id.base,
        title=clean_title(title) or "(untitled)",
        text=text,
        author=AUTHOR,
        link=PAPER_PAGE + quote(arxiv_id.base, safe="/."),
        arxiv_id=arxiv_id.base,
        votes=votes,
        comments=comments,
        edited_at=iso_utc(edited),
    )
