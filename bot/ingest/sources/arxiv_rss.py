"""arXiv's category feeds (rss.arxiv.org, the format served since 2024, and its Atom twin)."""

from __future__ import annotations

import re
from typing import Any

from bot.core.ids import try_parse_arxiv_id
from bot.core.text import collapse_whitespace, tex_to_unicode
from bot.ingest.sources.feed import FeedParseError, ParsedFeed, clean_title, entry_date, parse_bytes
from storage.models import PaperRecord

_DESCRIPTION = re.compile(
    r"^\s*arXiv:(?P<id>\S+)\s+Announce Type:\s*(?P<type>[\w-]+)\s*Abstract:\s*(?P<abstract>.*)$",
    re.DOTALL,
)
_GUID = re.compile(r"^oai:arXiv\.org:(?P<id>\S+)$", re.IGNORECASE)
_AUTHOR_SPLIT = re.compile(r"\s*,\s*|\s+and\s+")
ANNOUNCE_TYPES = frozenset({"new", "cross", "replace", "replace-cross"})


def parse_arxiv_rss(body: bytes, content_type: str = "", source: str = "arxiv") -> ParsedFeed:
    """Papers from an arXiv RSS/Atom category feed; the "Feed error for query" feed is an error."""
    document, problem = parse_bytes(body, content_type)
    title = clean_title(document.feed.get("title"))
    if "feed error for query" in title.lower():
        raise FeedParseError(f"arXiv answered with an error feed: {title!r} (unknown category?)")
    parsed = ParsedFeed(title=title, items=len(document.entries), problem=problem)
    skipped = 0
    for entry in document.entries:
        paper = paper_from_entry(entry)
        if paper is None:
            skipped += 1
        else:
            parsed.papers.append(paper)
    if skipped:
        note = f"{skipped} item(s) without a recognisable arXiv id were skipped"
        parsed.problem = f"{parsed.problem}; {note}" if parsed.problem else note
    return parsed


def paper_from_entry(entry: Any) -> PaperRecord | None:
    """One feed item as a paper record, or None when it names no arXiv id."""
    description = entry.get("summary", "")
    match = _DESCRIPTION.match(description)
    raw_id = match.group("id") if match else _id_from_guid(entry.get("id", ""))
    arxiv_id = try_parse_arxiv_id(raw_id or "") or try_parse_arxiv_id(entry.get("link", ""))
    if arxiv_id is None:
        return None
    announce = entry.get("arxiv_announce_type") or (match.group("type") if match else None)
    announce = announce if announce in ANNOUNCE_TYPES else None
    abstract = match.group("abstract") if match else description
    when = entry_date(entry, "published_parsed", "updated_parsed")
    return PaperRecord(
        arxiv_id=arxiv_id.base,
        version=arxiv_id.version or 1,
        title=clean_title(entry.get("title")),
        authors=split_authors(entry),
        abstract=collapse_whitespace(abstract),
        categories=[t["term"] for t in entry.get("tags", []) if t.get("term")],
        announce_type=announce,
        doi=entry.get("arxiv_doi") or None,
        journal_ref=collapse_whitespace(entry.get("arxiv_journal_reference", "")) or None,
        published=when if announce == "new" else None,
        updated=when,
    )


def _id_from_guid(guid: str) -> str | None:
    match = _GUID.match(guid.strip())
    return match.group("id") if match else None


def split_authors(entry: Any) -> list[str]:
    """Authors as display names: RSS has one comma-separated dc:creator, Atom one <author> each."""
    names = [a.get("name", "") for a in entry.get("authors", []) if a.get("name")]
    if len(names) == 1 or (not names and entry.get("author")):
        names = _AUTHOR_SPLIT.split(names[0] if names else entry["author"])
    return [tex_to_unicode(collapse_whitespace(n)) for n in names if n.strip()]
