"""Lookups on PostgreSQL: papers by id or DOI, full-text search, autocomplete, and summaries.

Search reads the GIN indexes of the papers' vector and the titles' vector (each with the
categories, migration 0004), the B-tree over the titles' words and the ids' BRIN index; typed
text becomes a query only through :mod:`storage.postgres.search` (quoted plain words for the
papers' vector, ``plainto_tsquery``/``phraseto_tsquery`` parameters for the titles'), never as
tsquery syntax of its own. The ranking is the SQLite store's (see
:mod:`storage.postgres.known_item`); how each read runs, :mod:`storage.postgres.plans`.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterable

from storage.models import StoredPaper, StoredSummary
from storage.postgres.base import PostgresBase, Row
from storage.postgres.known_item import CandidateQuery, fallback_queries, starts_with
from storage.postgres.plans import PLAN_SETTINGS, STATISTICS_COLUMNS, Plan, SearchStatistics, element_shares
from storage.postgres.rows import stored_paper, stored_summary
from storage.postgres.search import (
    SEARCH_COLUMN,
    fits_a_vector,
    match_value,
    prefix_terms,
    search_terms,
    vector_match,
)
from storage.sqlite.known_item import Candidate, Ranker, TermCache, idf, tokens

SEARCH_WINDOW = 500  # newest full-text matches ranked by search_papers (as on SQLite)
TITLE_WINDOW = 300  # newest titles holding every word
PHRASE_WINDOW = 100  # newest titles starting with the words
RELAXED_WINDOW = 200  # newest titles holding a group of the rarest words (typo fallback)
DOCS_CAP = 20_000  # a title word's frequency is counted up to this (beyond, it is common anyway)
STATISTICS_SECONDS = 600.0  # how long what ANALYZE found of the searched columns is used
_ID_PREFIX = re.compile(r"^(?:arxiv:\s*)?(?:\d{2,4}(?:\.\d{0,5})?|[a-z-]+(?:\.[a-z]{2})?/\d{0,7})$",
                        re.IGNORECASE)
_NEWEST_FIRST = " ORDER BY coalesce(edited_at, '') DESC, id DESC"
_PREFIX_QUERY = "to_tsquery('simple', quote_literal(${n}) || ':*')"  # one quoted lexeme, as a prefix


class LookupMixin(PostgresBase):
    """:class:`storage.base.LookupStore` on PostgreSQL."""

    # -- papers ------------------------------------------------------------------------------

    async def get_paper(self, arxiv_id: str) -> StoredPaper | None:
        row = await self._fetchrow("SELECT * FROM papers WHERE arxiv_id = $1", arxiv_id)
        if row is None:
            return None
        versions = await self._fetch(
            "SELECT version FROM paper_versions WHERE arxiv_id = $1 ORDER BY version", arxiv_id)
        return stored_paper(row, [int(r[0]) for r in versions])

    async def papers_by_ids(self, arxiv_ids: Iterable[str]) -> dict[str, StoredPaper]:
        """Several papers at once (without their version lists)."""
        return await self._papers_by_id(arxiv_ids)

    async def _papers_by_id(self, ids: Iterable[str]) -> dict[str, StoredPaper]:
        rows = await self._fetch("SELECT * FROM papers WHERE arxiv_id = ANY($1::text[])", sorted(set(ids)))
        return {row["arxiv_id"]: stored_paper(row) for row in rows}

    async def _summaries_by_id(self, ids: Iterable[int]) -> dict[int, StoredSummary]:
        rows = await self._fetch("SELECT * FROM summaries WHERE id = ANY($1::bigint[])", sorted(set(ids)))
        return {int(row["id"]): stored_summary(row) for row in rows}

    async def paper_by_doi(self, doi: str) -> StoredPaper | None:
        row = await self._fetchrow("SELECT arxiv_id FROM papers WHERE lower(doi) = lower($1)"
                                   " AND doi IS NOT NULL LIMIT 1", doi)
        return await self.get_paper(row[0]) if row else None

    async def search_papers(self, text: str, *, category: str | None = None,
                            limit: int = 25) -> list[StoredPaper]:
        """Papers matching every word of ``text`` (title, authors, abstract), best first; the
        paper whose title was typed (a few of its first words, all of it, or with a typo) first.

        The candidates and their ranking are the SQLite store's (see
        :meth:`storage.sqlite.lookup.LookupMixin.search_papers`), each read a bounded index scan
        here; a category or archive filter is part of each read (``category_keys`` is indexed).
        """
        terms = search_terms(text)
        if terms is None or not all(fits_a_vector(w) for w in terms.split()):
            return []  # (no paper's vector holds a word that long)
        title_words = tokens(terms)
        words = terms.split()
        found: dict[int, Candidate] = {}
        first = [CandidateQuery(vector_match(SEARCH_COLUMN, 1), [match_value(SEARCH_COLUMN, terms)],
                                SEARCH_WINDOW, column=SEARCH_COLUMN, words=words)]
        if title_words:
            first[:0] = [CandidateQuery(starts_with(1), [terms], PHRASE_WINDOW, ids_first=True),
                         CandidateQuery("title_search @@ plainto_tsquery('simple', $1)", [terms],
                                        TITLE_WINDOW, column="title_search", words=words)]
        # The first reads do not depend on each other: each on a pooled connection of its own, at
        # once (one after another inside a transaction, which has one connection).
        statistics = await self._search_statistics()
        reads = [self._candidate_rows(q, category, statistics) for q in first]
        if self._target() is self._pool:
            results = await asyncio.gather(*reads)
        else:
            results = [await read for read in reads]
        for query, found_rows in zip(first, results, strict=True):
            _add_candidates(found, query, found_rows)
        docs = await self._title_docs(title_words)
        papers = max(1, await self._scalar("SELECT coalesce(max(id), 0) FROM papers"))
        unknown = {w for w in title_words if not docs.get(w)}
        ranker = Ranker(title_words, {w: idf(docs.get(w, 0), papers) for w in title_words},
                        {w for w in title_words if len(title_words) >= 4 or w in unknown})
        if title_words and (unknown or len(title_words) >= 4) and not _aligned(found, ranker, 3):
            for relaxed in fallback_queries(title_words, docs, papers):
                query = relaxed.query(RELAXED_WINDOW)
                _add_candidates(found, query, await self._candidate_rows(query, category, statistics))
                if _aligned(found, ranker, 2):
                    break
        ranked = sorted(filter(ranker.tolerated, found.values()), key=ranker.key, reverse=True)
        best = [c.rowid for c in ranked[:limit]]
        rows = await self._fetch("SELECT * FROM papers WHERE id = ANY($1::bigint[])", best)
        by_id = {int(row["id"]): stored_paper(row) for row in rows}
        return [by_id[i] for i in best if i in by_id]

    async def _candidate_rows(self, query: CandidateQuery, category: str | None,
                              statistics: SearchStatistics | None) -> list[Row]:
        """(id, title, categories) of the newest matches of ``query``, read the quicker way
        (:mod:`storage.postgres.plans`; the planner's way without statistics): a bitmap of many
        matches first reads the newest papers only, and all of them if those held too few."""
        plan, looked_up, cut = Plan.PLANNER, None, None
        if query.column is not None and statistics is not None:
            plan, looked_up, cut = statistics.read(query.column, query.words, category, query.window)
        sql, params = query.sql(category, looked_up=looked_up, newer_than=cut)
        rows = await self._fetch_planned(plan, sql, *params)
        if cut is not None and len(rows) < query.window:  # the newest papers held fewer: all of them
            sql, params = query.sql(category, looked_up=looked_up)
            rows = await self._fetch_planned(plan, sql, *params)
        return rows

    async def _fetch_planned(self, plan: Plan, sql: str, *params: object) -> list[Row]:
        """The rows of ``sql``, read the way ``plan`` says: the planner is told for this one
        statement, in a transaction, and has its own settings again after it."""
        if plan is Plan.PLANNER:
            return await self._fetch(sql, *params)
        async with self._transaction():
            await self._fetch(PLAN_SETTINGS, *plan.settings())
            rows = await self._fetch(sql, *params)
            await self._fetch(PLAN_SETTINGS, *Plan.PLANNER.settings())
        return rows

    async def _title_docs(self, words: list[str]) -> dict[str, int]:
        """How many titles hold each word (0: none; counted up to :data:`DOCS_CAP`), remembered
        for a while (:class:`storage.sqlite.known_item.TermCache`).

        Counting reads a row per title that holds the word (a tsvector match is checked on the
        row), hundreds of milliseconds for a common word on a million papers. So the words
        ANALYZE found most common (:meth:`storage.postgres.plans.SearchStatistics.listed_count`)
        take their count from there; only the rarer ones are counted, and those are few rows
        each."""
        cache: TermCache = self.__dict__.setdefault("_title_terms", TermCache())
        docs, missing = cache.known(words)
        if missing:
            statistics = await self._search_statistics()
            read: dict[str, int] = {}
            for word in missing:
                listed = statistics.listed_count("title_search", word) if statistics else None
                if listed is not None:
                    read[word] = min(DOCS_CAP, listed)
                    continue
                rarest = statistics.unlisted_bound("title_search") if statistics else DOCS_CAP
                read[word] = await self._scalar(
                    "SELECT count(*) FROM (SELECT 1 FROM papers WHERE title_search @@"
                    " plainto_tsquery('simple', $1) LIMIT $2) hits", word, min(DOCS_CAP, rarest))
            cache.remember(read)
            docs.update(read)
        return docs

    async def _search_statistics(self) -> SearchStatistics | None:
        """What ANALYZE found of the searched columns (see :mod:`storage.postgres.plans`), read
        again every :data:`STATISTICS_SECONDS`; None before the papers were first analysed."""
        cached = self.__dict__.get("_statistics")
        if cached is not None and time.monotonic() - cached[0] < STATISTICS_SECONDS:
            known: SearchStatistics | None = cached[1]
            return known
        rows = await self._fetch(
            "SELECT s.attname, s.most_common_elems::text::text[] AS elements,"
            " s.most_common_elem_freqs AS freqs, c.reltuples FROM pg_stats s JOIN pg_class c"
            " ON c.relname = s.tablename AND c.relnamespace = to_regnamespace(s.schemaname)"
            " WHERE s.schemaname = current_schema() AND s.tablename = 'papers'"
            " AND s.attname = ANY($1::text[])", list(STATISTICS_COLUMNS))
        columns = {str(r["attname"]): shares for r in rows
                   if (shares := element_shares(r["elements"], r["freqs"])) is not None}
        papers = max((float(r["reltuples"]) for r in rows), default=0.0)
        statistics = None
        if columns and papers > 0:
            newest = await self._scalar("SELECT coalesce(max(id), 0) FROM papers")
            statistics = SearchStatistics(papers, columns, newest)
        self.__dict__["_statistics"] = (time.monotonic(), statistics)
        return statistics

    async def autocomplete_papers(self, text: str, limit: int = 25) -> list[tuple[str, str]]:
        """(arxiv_id, title) for what is being typed: an id prefix, or title words (newest first)."""
        typed = text.strip()
        rows: list[Row]
        if not typed:
            rows = await self._fetch("SELECT arxiv_id, title FROM papers ORDER BY seq DESC LIMIT $1", limit)
        elif _ID_PREFIX.match(typed):
            base = typed.lower().removeprefix("arxiv:").strip()
            rows = await self._fetch("SELECT arxiv_id, title FROM papers WHERE arxiv_id >= $1"
                                     " AND arxiv_id < $2 ORDER BY arxiv_id LIMIT $3",
                                     base, base + "\uffff", limit)
        else:
            terms = prefix_terms(text.lstrip())
            if terms is None:
                return []
            whole, prefix = terms
            params: list[object] = []
            where: list[str] = []
            if whole:
                params.append(whole)
                where.append(f"title_search @@ plainto_tsquery('simple', ${len(params)})")
            statistics = await self._search_statistics()
            plan = statistics.plan("title_search", whole.split(), None, limit, prefix) if statistics \
                else Plan.PLANNER
            if prefix:
                params.append(prefix)
                match = f"title_search @@ {_PREFIX_QUERY.format(n=len(params))}"
                # IS TRUE: a condition the GIN index cannot take, so it is checked on the rows
                where.append(f"({match}) IS TRUE" if plan is Plan.WORDS_BITMAP else match)
            params.append(limit)
            rows = await self._fetch_planned(
                plan, f"SELECT arxiv_id, title FROM papers WHERE {' AND '.join(where)}"
                f" ORDER BY id DESC LIMIT ${len(params)}", *params)
        return [(str(row[0]), str(row[1])) for row in rows]

    # -- summaries ---------------------------------------------------------------------------

    async def summaries_for_paper(self, arxiv_id: str) -> list[StoredSummary]:
        return await self._summaries("SELECT * FROM summaries WHERE arxiv_id = $1"
                                     " ORDER BY coalesce(votes, 0) DESC, first_seq", arxiv_id)

    async def latest_summaries(self, *, arxiv_id: str | None = None, venue: str | None = None,
                               limit: int = 25, offset: int = 0) -> list[StoredSummary]:
        """Summaries newest first: all, of one paper, or of one venue (a bibtex key prefix)."""
        where, params = _summary_filter(arxiv_id, venue)
        n = len(params)
        return await self._summaries(f"SELECT * FROM summaries{where}{_NEWEST_FIRST}"
                                     f" LIMIT ${n + 1} OFFSET ${n + 2}", *params, limit, offset)

    async def count_summaries(self, *, arxiv_id: str | None = None, venue: str | None = None) -> int:
        where, params = _summary_filter(arxiv_id, venue)
        return await self._scalar(f"SELECT count(*) FROM summaries{where}", *params)

    async def venue_summaries(self, venue: str) -> list[StoredSummary]:
        """Every summary of a venue (``nips`` matches bibtex keys ``conf/nips/...``)."""
        where, params = _summary_filter(None, venue)
        return await self._summaries(f"SELECT * FROM summaries{where}{_NEWEST_FIRST}", *params)

    async def summaries_by_bibtex_key(self, key: str) -> list[StoredSummary]:
        return await self._summaries("SELECT * FROM summaries WHERE bibtex_key = $1"
                                     " ORDER BY coalesce(votes, 0) DESC, id", key)

    async def _summaries(self, sql: str, *params: object) -> list[StoredSummary]:
        return [stored_summary(row) for row in await self._fetch(sql, *params)]


def _summary_filter(arxiv_id: str | None, venue: str | None) -> tuple[str, list[object]]:
    """One paper's summaries, else one venue's (a bibtex key prefix, any case), else all."""
    if arxiv_id is not None:
        return " WHERE arxiv_id = $1", [arxiv_id]
    if venue is not None:
        return " WHERE lower(bibtex_key) LIKE $1 ESCAPE '\\'", [_venue_pattern(venue)]
    return "", []


def _add_candidates(found: dict[int, Candidate], query: CandidateQuery, rows: list[Row]) -> None:
    """Add the rows one candidate read found (a full match wins over a relaxed one)."""
    for row in rows:
        paper_id = int(row[0])
        if paper_id not in found or (query.full and not found[paper_id].full):
            found[paper_id] = Candidate(paper_id, row[1], row[2], query.full)


def _aligned(found: dict[int, Candidate], ranker: Ranker, level: int) -> bool:
    """Whether a candidate's title lines up with the query at least this well (see Ranker)."""
    return any(ranker.key(c)[0] >= level for c in found.values())


def _venue_pattern(venue: str) -> str:
    """``nips`` -> ``conf/nips/%``; a full prefix such as ``journals/corr`` is kept."""
    name = venue.strip().lower().strip("/")
    escaped = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}/%" if "/" in name else f"conf/{escaped}/%"
