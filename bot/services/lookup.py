"""Looking a paper up: what ``/paper`` and ``paperboy lookup`` ask.

The query is read by the one id parser (an arXiv id in any style or an arXiv URL), or as a DOI, a
ShortScience link, or title words. The store answers first; only then the arXiv API (``id_list`` or a
``ti:`` search) through arXiv's limiter, and what it returns is stored, so the next lookup needs no
request. A search's category filter is read by the one topic parser (:func:`bot.core.topics.parse_topic`)
and must name an arXiv category or archive. Failures are :class:`LookupFailure` with a message meant
for the user.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import unquote

from bot.core import taxonomy
from bot.core.errors import UserError
from bot.core.ids import arxiv_id_from_doi, normalize_doi, parse_arxiv_id, try_parse_arxiv_id
from bot.core.topics import TopicError, TopicKind, parse_topic
from bot.core.venues import parse_venue
from bot.ingest.arxiv_client import ArxivApiClient
from bot.ingest.http import FetchError
from bot.ingest.sources.arxiv_api import ArxivApiError
from bot.ingest.sources.shortscience import arxiv_id_from_bibtex_key
from storage.base import IngestStore, LookupStore
from storage.models import StoredPaper, StoredSummary
from storage.search import query_words

log = logging.getLogger(__name__)

MAX_QUERY = 300  # longer text is cut: a title never needs more
SEARCH_PAGE_TARGET = 5  # fewer local results than this: top up from the arXiv API

_SHORTSCIENCE = re.compile(r"shortscience\.org/paper\?bibtexKey=([^#&\s]+)", re.IGNORECASE)
_ID_ATTEMPT = re.compile(r"^(?:arxiv:|https?://(?:www\.|export\.)?arxiv\.org/|\d{4}\.\d|[a-z-]+(?:\.[a-z]{2})?/\d)",
                         re.IGNORECASE)
_DOI_ATTEMPT = re.compile(r"^(?:doi:\s*|https?://(?:dx\.)?doi\.org/)?10\.\d{4,9}/", re.IGNORECASE)
# The topic parser's hint for subscriptions ("to follow it as a keyword, write keyword:...") would
# mislead here: a search filter takes no keywords.
_KEYWORD_HINT = re.compile(r"\s*\(to follow [^()]* as a keyword, write keyword:.*\)\s*$", re.DOTALL)
_CATEGORY_SHOWN_MAX = 40


class LookupServiceStore(LookupStore, IngestStore, Protocol):
    """Lookups, and storing what the arXiv API returned (``store_papers``)."""


class LookupFailure(UserError):
    """A lookup that cannot be answered; the message says why and what to try."""


@dataclass(frozen=True)
class Query:
    """What the user typed, read: ``kind`` is id, doi, bibtex or title."""

    kind: str
    value: str


@dataclass
class PaperHit:
    """A paper (or, for a summary of a paper not on arXiv, only its summaries) and its summaries."""

    paper: StoredPaper | None
    summaries: list[StoredSummary] = field(default_factory=list)
    from_api: bool = False


def read_query(text: str) -> Query:
    """Classify a query; malformed ids get the id parser's explanation."""
    text = " ".join(text.split())[:MAX_QUERY]
    if not text:
        raise LookupFailure("Type an arXiv id (2411.17700), an arXiv or ShortScience link, a DOI, "
                            "or some words of the title.")
    arxiv_id = try_parse_arxiv_id(text)
    if arxiv_id is not None:
        return Query("id", arxiv_id.base)
    shortscience = _SHORTSCIENCE.search(text)
    if shortscience:
        key = unquote(shortscience.group(1))
        from_key = arxiv_id_from_bibtex_key(key)
        return Query("id", from_key) if from_key else Query("bibtex", key)
    if _DOI_ATTEMPT.match(text):
        doi = normalize_doi(text)
        if doi:
            from_doi = arxiv_id_from_doi(doi)
            return Query("id", from_doi.base) if from_doi else Query("doi", doi)
    if _ID_ATTEMPT.match(text) and " " not in text:
        try:
            parse_arxiv_id(text)
        except ValueError as exc:
            raise LookupFailure(str(exc)) from None
    if not query_words(text):
        raise LookupFailure("That query has no words to search for. Try an arXiv id or title words.")
    return Query("title", text)


@dataclass
class SearchResult:
    """A search's papers, and the category filter as the parser read it (``cs.lg`` -> ``cs.LG``)."""

    papers: list[StoredPaper]
    category: str | None = None


def read_category(text: str) -> str:
    """The canonical arXiv category or archive ``text`` names, read by the one topic parser.

    A typo gets the parser's explanation (``unknown arXiv category 'cs.lf'; did you mean cs.LG?``);
    text that parses as another kind of topic (a keyword such as ``graph``, an author) is refused.
    """
    typed = " ".join(text.split())
    try:
        topic = parse_topic(typed)
    except TopicError as exc:
        if "arXiv" in str(exc):  # an arXiv look-alike: the parser names the nearest ids
            raise LookupFailure(_KEYWORD_HINT.sub("", str(exc))) from None
        raise LookupFailure(_not_a_category(typed)) from None
    if topic.kind not in (TopicKind.CATEGORY, TopicKind.ARCHIVE):
        raise LookupFailure(_not_a_category(typed))
    return topic.value


def _not_a_category(typed: str) -> str:
    shown = typed if len(typed) <= _CATEGORY_SHOWN_MAX else typed[:_CATEGORY_SHOWN_MAX - 1] + "…"
    return (f"{shown} is not an arXiv category; the category filter takes one arXiv category or "
            "archive, such as cs.LG, stat.ML, math or hep-th. Put other words in the query.")


def _api_category(category: str) -> str:
    """The arXiv API's term for a category or archive: ``cat:cs.LG``, ``cat:cs.*``."""
    return f"cat:{category}" if taxonomy.is_category(category) else f"cat:{category}.*"


class LookupService:
    """Store first, then the arXiv API."""

    def __init__(self, store: LookupServiceStore, api: ArxivApiClient) -> None:
        self.store = store
        self.api = api

    async def find(self, text: str) -> PaperHit:
        query = read_query(text)
        return await self.local(query) or await self.remote(query)

    async def local(self, query: Query) -> PaperHit | None:
        """The store's answer, or None when the store does not know (no network here)."""
        if query.kind == "id":
            paper = await self.store.get_paper(query.value)
        elif query.kind == "doi":
            paper = await self.store.paper_by_doi(query.value)
        elif query.kind == "bibtex":
            summaries = await self.store.summaries_by_bibtex_key(query.value)
            linked = next((s.arxiv_id for s in summaries if s.arxiv_id), None)
            paper = await self.store.get_paper(linked) if linked else None
            return PaperHit(paper, summaries) if summaries or paper else None
        else:
            found = await self.store.search_papers(query.value, limit=1)
            paper = await self.store.get_paper(found[0].arxiv_id) if found else None
        if paper is None:
            return None
        return PaperHit(paper, await self.store.summaries_for_paper(paper.arxiv_id))

    async def remote(self, query: Query) -> PaperHit:
        """Ask the arXiv API, store what it returns, answer from the store."""
        if query.kind == "doi":
            raise LookupFailure(f"No paper with DOI {query.value} is in Paperboy's store, and arXiv's "
                                "API cannot look papers up by DOI. Try the arXiv id or the title.")
        if query.kind == "bibtex":
            raise LookupFailure(f"No summary of {query.value} is in Paperboy's store yet.")
        try:
            if query.kind == "id":
                papers = await self.api.fetch_by_ids([query.value])
            else:
                words = " ".join(query_words(query.value))
                papers = (await self.api.search(f'ti:"{words}"', max_results=5)).papers
        except FetchError as exc:
            raise LookupFailure(f"arXiv did not answer ({exc}). Please try again in a few minutes.") from None
        except ArxivApiError as exc:
            raise LookupFailure(str(exc)) from None
        if not papers:
            what = f"the id {query.value}" if query.kind == "id" else f"the title words {query.value!r}"
            raise LookupFailure(f"arXiv has no paper with {what}.")
        await self.store.store_papers(papers)
        wanted = query.value if query.kind == "id" else papers[0].arxiv_id
        hit = await self.local(Query("id", wanted))
        if hit is None:
            raise LookupFailure(f"arXiv has no paper with the id {query.value}.")
        hit.from_api = True
        return hit

    async def search(self, text: str, category: str | None = None, limit: int = 25,
                     allow_api: bool = True) -> SearchResult:
        """Up to ``limit`` papers for title/abstract words, topped up from arXiv when few are stored.

        ``category`` is what the user typed (blank: no filter); it is checked and normalised here,
        so every caller (the command, its paging buttons) refuses the same bad filters.
        """
        words = query_words(text[:MAX_QUERY])
        if not words:
            raise LookupFailure("That query has no words to search for.")
        category = read_category(category) if category and category.strip() else None
        found = await self.store.search_papers(" ".join(words), category=category, limit=limit)
        if len(found) >= SEARCH_PAGE_TARGET or not allow_api:
            return SearchResult(found, category)
        api_query = " AND ".join(f"all:{w}" for w in words[:6])
        if category:
            api_query += f" AND {_api_category(category)}"
        try:
            page = await self.api.search(api_query, max_results=limit)
        except (FetchError, ArxivApiError) as exc:
            log.info("arXiv search for %r failed: %s", api_query, exc)
            return SearchResult(found, category)
        if page.papers:
            await self.store.store_papers(page.papers)
        known = {p.arxiv_id for p in found}
        extra = await self.store.papers_by_ids(p.arxiv_id for p in page.papers if p.arxiv_id not in known)
        papers = found + [extra[p.arxiv_id] for p in page.papers if p.arxiv_id in extra]
        return SearchResult(papers[:limit], category)

    async def autocomplete(self, typed: str, limit: int = 25) -> list[tuple[str, str]]:
        """(arxiv_id, title) for what is being typed: an id prefix or title words."""
        return await self.store.autocomplete_papers(typed[:100], limit=limit)

    async def summaries_page(self, arxiv_id: str | None, page: int,
                             page_size: int) -> tuple[list[StoredSummary], int]:
        """One page of the latest summaries (of one paper, or of all) and how many there are."""
        total = await self.store.count_summaries(arxiv_id=arxiv_id)
        found = await self.store.latest_summaries(arxiv_id=arxiv_id, limit=page_size,
                                                  offset=page * page_size)
        return found, total

    async def venue(self, name: str) -> tuple[str, list[StoredSummary]]:
        """A venue's name as read and its summaries, newest first; a user error for a bad name or
        a venue with no summaries here."""
        venue = parse_venue(name)  # a VenueError is a user error too
        summaries = await self.store.venue_summaries(venue)
        if not summaries:
            raise LookupFailure(f"No summaries of {venue} papers are in Paperboy's store yet.")
        return venue, summaries
