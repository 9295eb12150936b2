"""Any RSS/Atom feed of paper summaries (a lab blog, reading notes).

HTML goes to Markdown with markdownify; an item is linked to a paper by the first arXiv id (or
DOI) found in its links, then its fields, then its text; otherwise it stands alone.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from markdownify import markdownify

from bot.core.ids import arxiv_id_from_doi, find_arxiv_ids, find_dois, try_parse_arxiv_id
from bot.core.text import collapse_whitespace
from bot.ingest.sources.feed import ParsedFeed, clean_title, entry_date, parse_bytes
from storage.models import SummaryRecord

_BLANK_LINES = re.compile(r"\n{3,}")
_TAG = re.compile(r"<[^>]*>")


def parse_summary_feed(body: bytes, content_type: str = "", source: str = "rss") -> ParsedFeed:
    """Summaries from a generic RSS/Atom feed."""
    document, problem = parse_bytes(body, content_type)
    parsed = ParsedFeed(title=clean_title(document.feed.get("title")), items=len(document.entries),
                        problem=problem)
    for entry in document.entries:
        parsed.summaries.append(summary_from_entry(entry, source))
    return parsed


def html_to_markdown(html: str) -> str:
    """Feed HTML as Markdown: ATX headings, no images inline (they become links later).

    Hostile nesting (hundreds of levels) exhausts markdownify's recursion: then the text alone.
    """
    try:
        text = markdownify(html, heading_style="ATX", strip=["script", "style"])
    except RecursionError:
        text = collapse_whitespace(_TAG.sub(" ", html))
    return _BLANK_LINES.sub("\n\n", text).strip()


def _body_html(entry: Any) -> str:
    contents = entry.get("content") or []
    if contents:
        return "\n".join(c.get("value", "") for c in contents)
    return str(entry.get("summary", ""))


def _guid(entry: Any, text: str) -> str:
    """The item's guid, else its link, else a hash of title and text (RSS 0.91 has no guid)."""
    guid = entry.get("id") or entry.get("link")
    if guid:
        return str(guid).strip()
    digest = hashlib.sha256((entry.get("title", "") + "\n" + text).encode()).hexdigest()[:32]
    return f"sha256:{digest}"


def link_paper(entry: Any, html: str) -> tuple[str | None, str | None]:
    """(arXiv id, DOI) the item is about: links first, then fields, then the text."""
    hrefs = [link.get("href", "") for link in entry.get("links", [])]
    for segment in (part for href in hrefs for part in href.rstrip("/").split("/")[3:]):
        in_path = try_parse_arxiv_id(segment)  # e.g. tldr.takara.ai/p/2604.26238
        if in_path:
            return in_path.base, None
    links = " ".join(hrefs)
    fields = " ".join(str(entry.get(k, "")) for k in ("id", "title", "dc_identifier", "prism_doi"))
    arxiv_id: str | None = None
    doi: str | None = None
    for haystack in (links, fields, html):
        ids = find_arxiv_ids(haystack)
        dois = find_dois(haystack)
        doi = doi or (dois[0] if dois else None)
        if ids:
            arxiv_id = ids[0].base
            break
        from_doi = next((a for a in map(arxiv_id_from_doi, dois) if a), None)
        if from_doi:
            arxiv_id = from_doi.base
            break
    return arxiv_id, doi


def summary_from_entry(entry: Any, source: str) -> SummaryRecord:
    """One item as a summary record."""
    html = _body_html(entry)
    text = html_to_markdown(html) if html else ""
    arxiv_id, doi = link_paper(entry, html)
    return SummaryRecord(
        source=source,
        guid=_guid(entry, text),
        title=clean_title(entry.get("title")) or "(untitled)",
        text=text,
        author=(entry.get("author") or "").strip() or None,
        link=entry.get("link"),
        arxiv_id=arxiv_id,
        doi=doi,
        edited_at=entry_date(entry, "updated_parsed", "published_parsed"),
    )
