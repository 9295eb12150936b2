"""ShortScience.org's RSS (``/rss.xml``, ``/rss-full.xml``): one item per summary.

``link`` = ``guid`` = ``/paper?bibtexKey=KEY#USER`` and ``pubDate`` is the last edit, so the same
guid with a newer date is an edit of that summary, which the store treats as an update.
"""

from __future__ import annotations

import re
from typing import Any

from bot.core.ids import try_parse_arxiv_id
from bot.ingest.sources.feed import ParsedFeed, clean_title, entry_date, parse_bytes
from storage.models import SummaryRecord

# dblp's keys for arXiv papers: journals/corr/1805.08296 or journals/corr/abs-1805-08296
_DBLP_CORR = re.compile(r"^journals/corr/(?:abs-)?(?P<yymm>\d{4})[.-](?P<num>\d{4,5})$", re.IGNORECASE)


def parse_shortscience(body: bytes, content_type: str = "", source: str = "shortscience") -> ParsedFeed:
    """Summaries from a ShortScience.org feed."""
    document, problem = parse_bytes(body, content_type)
    parsed = ParsedFeed(title=clean_title(document.feed.get("title")), items=len(document.entries),
                        problem=problem)
    for entry in document.entries:
        summary = summary_from_entry(entry, source)
        if summary is not None:
            parsed.summaries.append(summary)
    return parsed


def arxiv_id_from_bibtex_key(key: str) -> str | None:
    """The arXiv id a dblp CoRR key names, if it names one."""
    match = _DBLP_CORR.match(key.strip())
    if not match:
        return None
    parsed = try_parse_arxiv_id(f"{match.group('yymm')}.{match.group('num')}")
    return parsed.base if parsed else None


def summary_from_entry(entry: Any, source: str) -> SummaryRecord | None:
    """One ShortScience item as a summary record (None when it has no guid or link at all)."""
    guid = entry.get("id") or entry.get("link")
    if not guid:
        return None
    bibtex_key = (entry.get("shortscience_bibtexkey") or "").strip() or None
    raw_arxiv = (entry.get("shortscience_arxivid") or "").strip()
    arxiv_id = try_parse_arxiv_id(raw_arxiv) if raw_arxiv else None
    linked = arxiv_id.base if arxiv_id else (arxiv_id_from_bibtex_key(bibtex_key) if bibtex_key else None)
    try:
        votes: int | None = int(entry.get("shortscience_votes", ""))
    except ValueError:
        votes = None
    return SummaryRecord(
        source=source,
        guid=guid.strip(),
        title=clean_title(entry.get("title")),
        text=(entry.get("summary") or "").strip(),
        author=(entry.get("author") or "").strip() or None,
        link=entry.get("link"),
        arxiv_id=linked,
        bibtex_key=bibtex_key,
        votes=votes,
        edited_at=entry_date(entry, "published_parsed", "updated_parsed"),
    )
