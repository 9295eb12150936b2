"""What every feed source shares: feedparser on bytes, fault detection, dates and names."""

from __future__ import annotations

import time
import xml.sax
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import feedparser

from bot.core.text import collapse_whitespace
from storage.models import PaperRecord, SummaryRecord


class FeedParseError(Exception):
    """The body is not a usable feed (an HTML page, JSON, an error feed); the message says why."""


@dataclass
class ParsedFeed:
    """The records a feed yielded; ``problem`` names a fault the parser recovered from."""

    title: str = ""
    items: int = 0
    papers: list[PaperRecord] = field(default_factory=list)
    summaries: list[SummaryRecord] = field(default_factory=list)
    problem: str | None = None


def parse_bytes(body: bytes, content_type: str = "") -> tuple[Any, str | None]:
    """Run feedparser on bytes (it never fetches) and say what, if anything, was wrong.

    Returns the parsed document and a problem text for faults feedparser recovered from
    (malformed XML, a wrong declared encoding); raises :class:`FeedParseError` when nothing
    feed-like came out.
    """
    head = body[:512].lstrip()
    if not head:
        raise FeedParseError("the response body is empty")
    if head[:1] in (b"{", b"["):
        raise FeedParseError("the response is JSON, not an RSS or Atom feed")
    headers = {"content-type": content_type} if content_type else {}
    document = feedparser.parse(body, response_headers=headers, resolve_relative_uris=False,
                                sanitize_html=False)
    problem = describe_bozo(document)
    if not document.get("version") and not document.entries:
        kind = "an HTML page" if b"<html" in body[:4096].lower() else "not an RSS or Atom feed"
        detail = f" ({problem})" if problem else ""
        raise FeedParseError(f"the response is {kind}{detail}")
    return document, problem


def describe_bozo(document: Any) -> str | None:
    """A readable description of what feedparser flagged, or None for a clean parse."""
    if not document.get("bozo"):
        return None
    exc = document.get("bozo_exception")
    if isinstance(exc, feedparser.CharacterEncodingOverride):
        return f"wrong declared encoding: {exc}"
    if isinstance(exc, feedparser.NonXMLContentType):
        return None  # a server's content type is no fault of the feed when it parses
    if isinstance(exc, xml.sax.SAXParseException):
        return f"malformed XML at line {exc.getLineNumber()}: {exc.getMessage()}"
    return f"malformed feed: {exc}"


def iso_date(parsed: time.struct_time | None) -> str | None:
    """feedparser's parsed date as ISO 8601 UTC text."""
    if not parsed:
        return None
    return datetime(*parsed[:6], tzinfo=UTC).isoformat(timespec="seconds")


def entry_date(entry: Any, *keys: str) -> str | None:
    """The first of these parsed dates the entry has (asking feedparser only for keys it holds:
    its fallback from ``updated`` to ``published`` warns)."""
    for key in keys:
        value = dict.get(entry, key)  # plain dict access: FeedParserDict maps missing keys and warns
        if value:
            return iso_date(value)
    return None


def clean_title(text: str | None) -> str:
    return collapse_whitespace(text or "")
