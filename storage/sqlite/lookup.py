"""Lookups: papers by id or DOI, full-text search, autocomplete, and summaries.

Searching goes through the FTS5 indexes of migrations 0005 and 0006 (categories are tokens
there, titles have an index of their own with prefixes); what a user typed becomes a query only
through :mod:`storage.search`, never as FTS5 syntax.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from storage.models import StoredPaper, StoredSummary
from storage.search import fts_match, query_words
from storage.sqlite.base import SQLiteBase
from storage.sqlite.rows import stored_paper, stored_summary
from storage.sqlite.sql import Where

SEARCH_WINDOW = 500  # newest matches ranked by search_papers (see its docstring)
_ID_PREFIX = re.compile(r"^(?:arxiv:\s*)?(?:\d{2,4}(?:\.\d{0,5})?|[a-z-]+(?:\.[a-z]{2})?/\d{0,7})$",
                        re.IGNORECASE)
_NEWEST_FIRST = " ORDER BY coalesce(edited_at, '') DESC, id DESC"


class LookupMixin(SQLiteBase):
    """:class:`storage.base.LookupStore` on SQLite."""

    # -- papers ------------------------------------------------------------------------------

    async def get_paper(self, arxiv_id: str) -> StoredPaper | None:
        row = await self._fetchone("SELECT * FROM papers WHERE arxiv_id = ?", (arxiv_id,))
        if row is None:
            return None
        versions = await self._fetchall(
            "SELECT version FROM paper_versions WHERE arxiv_id = ? ORDER BY version", (arxiv_id,))
        return stored_paper(row, [r[0] for r in versions])

    async def papers_by_ids(self, arxiv_ids: Iterable[str]) -> dict[str, StoredPaper]:
        """Several papers at once (without their version lists)."""
        return await self._papers_by_id(arxiv_ids)

    async def _papers_by_id(self, ids: Iterable[str]) -> dict[str, StoredPaper]:
        rows = await self._fetch_in("SELECT * FROM papers WHERE arxiv_id IN ({marks})", sorted(set(ids)))
        return {row["arxiv_id"]: stored_paper(row) for row in rows}

    async def _summaries_by_id(self, ids: Iterable[int]) -> dict[int, StoredSummary]:
        rows = await self._fetch_in("SELECT * FROM summaries WHERE id IN ({marks})", sorted(set(ids)))
        return {row["id"]: stored_summary(row) for row in rows}

    async def paper_by_doi(self, doi: str) -> StoredPaper | None:
        row = await self._fetchone("SELECT arxiv_id FROM papers WHERE doi = ? COLLATE NOCASE LIMIT 1", (doi,))
        return await self.get_paper(row[0]) if row else None

    async def search_papers(self, text: str, *, category: str | None = None,
                            limit: int = 25) -> list[StoredPaper]:
        """Papers matching every word of ``text`` (title, authors, abstract), best first.

        The newest :data:`SEARCH_WINDOW` full-text matches are ranked by how many of the words
        their titles hold, then by recency: exact whenever fewer match, and within 50 ms on a
        million papers. (FTS5's bm25 reads every word's whole match list to weigh it, 25 ms and
        more per query at that size before any row is scored; see bench/lookup.py.) A category
        or archive filter is part of the full-text query, then checked exactly.
        """
        match = fts_match(text)
        if match is None:
            return []
        query = match
        if category:
            query += f' AND cats : "{category_token(category)}"'
        words = query_words(text)
        title_hits = " + ".join("(instr(lower(p.title), ?) > 0)" for _ in words)
        rows = await self._fetchall(
            "SELECT p.* FROM (SELECT rowid AS id FROM papers_fts WHERE papers_fts MATCH ?"
            " ORDER BY rowid DESC LIMIT ?) hits JOIN papers p ON p.rowid = hits.id"
            f" ORDER BY {title_hits} DESC, p.rowid DESC", (query, SEARCH_WINDOW, *words))
        papers = [stored_paper(row) for row in rows]
        if category:
            papers = [p for p in papers if any(_in_category(c, category) for c in p.categories)]
        return papers[:limit]

    async def autocomplete_papers(self, text: str, limit: int = 25) -> list[tuple[str, str]]:
        """(arxiv_id, title) for what is being typed: an id prefix, or title words (newest first)."""
        typed = text.strip()
        params: list[str | int]
        if not typed:
            sql, params = "SELECT arxiv_id, title FROM papers ORDER BY seq DESC LIMIT ?", [limit]
        elif _ID_PREFIX.match(typed):
            sql = ("SELECT arxiv_id, title FROM papers WHERE arxiv_id >= ? AND arxiv_id < ?"
                   " ORDER BY arxiv_id LIMIT ?")
            base = typed.lower().removeprefix("arxiv:").strip()
            params = [base, base + "\uffff", limit]
        else:
            match = fts_match(text.lstrip(), prefix_last=True)
            if match is None:
                return []
            sql = ("SELECT p.arxiv_id, p.title FROM papers p WHERE p.rowid IN (SELECT rowid FROM"
                   " papers_title_fts WHERE papers_title_fts MATCH ? ORDER BY rowid DESC LIMIT ?)"
                   " ORDER BY p.rowid DESC")
            params = [match, limit]
        return [(row[0], row[1]) for row in await self._fetchall(sql, params)]

    # -- summaries ---------------------------------------------------------------------------

    async def summaries_for_paper(self, arxiv_id: str) -> list[StoredSummary]:
        return await self._summaries("SELECT * FROM summaries WHERE arxiv_id = ?"
                                     " ORDER BY coalesce(votes, 0) DESC, first_seq", arxiv_id)

    async def latest_summaries(self, *, arxiv_id: str | None = None, venue: str | None = None,
                               limit: int = 25, offset: int = 0) -> list[StoredSummary]:
        """Summaries newest first: all, of one paper, or of one venue (a bibtex key prefix)."""
        where = _summary_filter(arxiv_id, venue)
        return await self._summaries(f"SELECT * FROM summaries{where}{_NEWEST_FIRST} LIMIT ? OFFSET ?",
                                     *where.params, limit, offset)

    async def count_summaries(self, *, arxiv_id: str | None = None, venue: str | None = None) -> int:
        where = _summary_filter(arxiv_id, venue)
        return await self._scalar(f"SELECT count(*) FROM summaries{where}", where.params)

    async def venue_summaries(self, venue: str) -> list[StoredSummary]:
        """Every summary of a venue (``nips`` matches bibtex keys ``conf/nips/...``)."""
        where = _summary_filter(None, venue)
        return await self._summaries(f"SELECT * FROM summaries{where}{_NEWEST_FIRST}", *where.params)

    async def summaries_by_bibtex_key(self, key: str) -> list[StoredSummary]:
        return await self._summaries("SELECT * FROM summaries WHERE bibtex_key = ?"
                                     " ORDER BY coalesce(votes, 0) DESC, id", key)

    async def _summaries(self, sql: str, *params: object) -> list[StoredSummary]:
        return [stored_summary(row) for row in await self._fetchall(sql, params)]


def _summary_filter(arxiv_id: str | None, venue: str | None) -> Where:
    """One paper's summaries, else one venue's (a bibtex key prefix), else all."""
    where = Where()
    if arxiv_id is not None:
        where.add("arxiv_id = ?", arxiv_id)
    elif venue is not None:
        where.add("bibtex_key LIKE ? ESCAPE '\\'", _venue_pattern(venue))
    return where


def category_token(category: str) -> str:
    """How the index spells a category (``cs.LG`` -> ``cslg``) or an archive (``astro-ph`` ->
    ``astroph``): see migration 0006."""
    return category.replace("-", "").replace(".", "").lower()


def _in_category(category: str, wanted: str) -> bool:
    """``cs.LG`` is in ``cs.LG`` and in the archive ``cs``."""
    return category == wanted or category.split(".", 1)[0] == wanted


def _venue_pattern(venue: str) -> str:
    """``nips`` -> ``conf/nips/%``; a full prefix such as ``journals/corr`` is kept."""
    name = venue.strip().lower().strip("/")
    escaped = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}/%" if "/" in name else f"conf/{escaped}/%"
