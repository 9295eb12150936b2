"""Lookups: papers by id or DOI, full-text search, autocomplete, and summaries.

Searching goes through the FTS5 indexes of migrations 0005 and 0006 (categories are tokens
there, titles have an index of their own with prefixes) and the title index's vocabulary of
migration 0009 (how many titles hold a word); what a user typed becomes a query only through
:mod:`storage.search`, or as the plain words of :func:`storage.sqlite.known_item.tokens`, each
double-quoted, never as FTS5 syntax. Known-item search (a paper's title typed, even with a
typo) is ranked by :mod:`storage.sqlite.known_item`, which only this module uses.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from storage.models import StoredPaper, StoredSummary
from storage.search import fts_match, query_words
from storage.sqlite.base import SQLiteBase
from storage.sqlite.known_item import (
    COUNT_CAP,
    EXPECTED_TITLES,
    Candidate,
    Ranker,
    TermCache,
    expected_titles,
    fallback_expressions,
    idf,
    rarest_groups,
    tokens,
)
from storage.sqlite.rows import stored_paper, stored_summary
from storage.sqlite.sql import Where

SEARCH_WINDOW = 500  # newest full-text matches ranked by search_papers (see its docstring)
TITLE_WORDS = 4  # a query of this many words or more is taken as a paper's title
TITLE_WINDOW = 300  # newest titles holding the query's (rarest) words
PHRASE_WINDOW = 100  # newest titles starting with the words, when more than that hold them
COMMON_TITLES = 10 * TITLE_WINDOW  # expected titles holding words so common that they start
RELAXED_WINDOW = 200  # newest titles matching a typo fallback
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
        """Papers matching every word of ``text`` (title, authors, abstract), best first; the
        paper whose title was typed (a few of its first words, all of it, or with a typo) first.

        A query of up to :data:`TITLE_WORDS` - 1 words is an ordinary search: the newest
        :data:`SEARCH_WINDOW` full-text matches, as before (asking the title index as well
        measured 3x the p95 on a million papers: common words rarely share a title, so their
        match lists are read to the end). A longer query is taken as a title. Recency cannot
        pick its candidates on a million papers (the newest matches of common words bury an
        older paper), so the title index is asked for the titles holding its rarest words (a
        few index pages), or all its words and the titles starting with them when every word
        is common; the full-text matches, the slow read for many words (100 ms and more: every
        word's match list; bm25 would read them all too), only when no title lines up. A query
        with a word no title holds, or a title that was not found, then tries the title with
        one word left out or off by one character. The ranking is
        :mod:`storage.sqlite.known_item`'s. A category or archive filter is part of each
        full-text query, then checked exactly.
        """
        match = fts_match(text)
        if match is None:
            return []
        words = tokens(" ".join(query_words(text)))
        cats = f' AND cats : "{category_token(category)}"' if category else ""
        found: dict[int, Candidate] = {}
        asked: set[str] = set()
        title_like = len(words) >= TITLE_WORDS
        if not title_like:
            await self._candidates(found, match, cats, SEARCH_WINDOW, full=True, title_only=False)
        docs: dict[str, int] = {}
        papers = 1
        if title_like or (words and not found):  # the rarity of words only matters then
            docs = await self._title_docs(words)
            papers = await self._papers_count()
        unknown = {w for w in words if docs and not docs.get(w)}
        ranker = Ranker(words, {w: idf(docs.get(w, 0), papers) for w in words} if docs else {},
                        {w for w in words if title_like or w in unknown})
        if title_like:
            await self._title_candidates(found, asked, words, docs, papers, cats)
        if words and (unknown or title_like) and not _aligned(found, ranker, 2):
            for expression in fallback_expressions(words, docs, papers):
                if expression not in asked:
                    asked.add(expression)
                    await self._candidates(found, expression, cats, RELAXED_WINDOW)
                    if _aligned(found, ranker, 2):
                        break
        if title_like and not _aligned(found, ranker, 2):
            await self._candidates(found, match, cats, SEARCH_WINDOW, full=True, title_only=False)
        ranked = sorted(filter(ranker.tolerated, found.values()), key=ranker.key, reverse=True)
        if category:
            ranked = [c for c in ranked
                      if any(_in_category(cat, category) for cat in json.loads(c.categories))]
        best = [c.rowid for c in ranked[:limit]]
        rows = await self._fetch_in("SELECT rowid AS rid, * FROM papers WHERE rowid IN ({marks})", best)
        by_rowid = {row["rid"]: stored_paper(row) for row in rows}
        return [by_rowid[r] for r in best if r in by_rowid]

    async def _title_candidates(self, found: dict[int, Candidate], asked: set[str], words: list[str],
                                docs: dict[str, int], papers: int, cats: str) -> None:
        """Titles holding the query's words: through its rarest words when they are rare enough
        together, else all of them and the titles starting with them (the newest of many titles
        holding common words need not include the one typed). When far more titles hold them
        than would be read, the titles starting with them come first, and are enough if any do:
        reading the newest holders too measured 10 ms more at p95 on a million papers."""
        groups = rarest_groups(words, docs, papers, groups=1)
        rare = groups[0] if groups else []
        every = " ".join(f'"{w}"' for w in dict.fromkeys(words))
        phrase = '^ "' + " ".join(words) + '"'
        if rare and expected_titles(rare, docs, papers) <= EXPECTED_TITLES:
            expression = " ".join(f'"{w}"' for w in rare)
            asked.add(expression)
            if await self._candidates(found, expression, cats, TITLE_WINDOW) < TITLE_WINDOW:
                return
            if expression == every:
                return
        if expected_titles(words, docs, papers) > COMMON_TITLES:
            asked.add(phrase)
            if await self._candidates(found, phrase, cats, PHRASE_WINDOW):
                return
        asked.add(every)
        if await self._candidates(found, every, cats, TITLE_WINDOW) >= TITLE_WINDOW \
                and phrase not in asked:
            asked.add(phrase)
            await self._candidates(found, phrase, cats, PHRASE_WINDOW)

    async def _candidates(self, found: dict[int, Candidate], expression: str, cats: str,
                          window: int, *, full: bool = False, title_only: bool = True) -> int:
        """Add the newest ``window`` papers matching ``expression`` to ``found``; returns how
        many matched (``window`` when there may be more). ``full``: they match every word.

        Title-only expressions use the title index, or the title column of the full-text index
        when a category filter must be part of the query.
        """
        if title_only and not cats:
            table, query = "papers_title_fts", expression
        else:
            table = "papers_fts"
            query = (f"title : ({expression})" if title_only else expression) + cats
        rows = await self._fetchall(
            f"SELECT p.rowid, p.title, p.categories FROM (SELECT rowid AS id FROM {table}"
            f" WHERE {table} MATCH ? ORDER BY rowid DESC LIMIT ?) hits"
            " JOIN papers p ON p.rowid = hits.id", (query, window))
        for row in rows:
            rowid = row[0]
            if rowid not in found or (full and not found[rowid].full):
                found[rowid] = Candidate(rowid, row[1], row[2], full)
        return len(rows)

    async def _title_docs(self, words: list[str]) -> dict[str, int]:
        """How many titles hold each word (0: none). Up to :data:`COUNT_CAP` they are counted
        through the title index (reading no more than that); a commoner word is counted by
        FTS5's vocabulary of it (its whole match list, up to 40 ms on a million papers), and
        remembered (:class:`TermCache`): common words are few and asked again and again."""
        cache = self._terms()
        docs, missing = cache.known(words)
        read: dict[str, int] = {}
        for word in missing:
            read[word] = await self._scalar(
                "SELECT count(*) FROM (SELECT rowid FROM papers_title_fts"
                " WHERE papers_title_fts MATCH ? LIMIT ?)", (f'"{word}"', COUNT_CAP))
        common = [w for w, count in read.items() if count >= COUNT_CAP]
        if common:
            rows = await self._fetch_in("SELECT term, doc FROM papers_title_vocab"
                                        " WHERE term IN ({marks})", common)
            read.update({row[0]: max(row[1], COUNT_CAP) for row in rows})
        cache.remember(read)
        docs.update(read)
        return docs

    async def _papers_count(self) -> int:
        """About how many papers there are (the highest rowid), read once a minute."""
        cache = self._terms()
        count = cache.papers()
        if count is None:
            count = max(1, await self._scalar("SELECT coalesce(max(rowid), 0) FROM papers"))
            cache.remember_papers(count)
        return count

    def _terms(self) -> TermCache:
        """This store's :class:`TermCache`, made on first use."""
        cache: TermCache = self.__dict__.setdefault("_title_terms", TermCache())
        return cache

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


def _aligned(found: dict[int, Candidate], ranker: Ranker, level: int) -> bool:
    """Whether a candidate's title lines up with the query at least this well (see Ranker)."""
    return any(ranker.key(c)[0] >= level for c in found.values())


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
