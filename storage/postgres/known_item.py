"""Known-item search on PostgreSQL: the candidate queries, in the SQLite store's terms.

The ranking itself (:class:`storage.sqlite.known_item.Ranker`: title alignment, every word
matched, weighted coverage, recency) is plain Python and shared, so both engines put the same
paper first. What differs is how candidates are read: FTS5 expressions there, here

* titles starting with the words: a range of the B-tree over ``title_plain``, which also holds
  each paper's id and categories, so the newest ids are found in the index alone and only
  their rows are read;
* titles holding every word: the title vector's GIN index (``plainto_tsquery``);
* the full-text matches: the papers' vector's GIN index;
* for a title typed with a slip, :class:`Relaxed` queries (a start, phrases, words) built
  like :func:`storage.sqlite.known_item.fallback_expressions`.

Typed words reach SQL only as parameters: a title start through ``LIKE`` over words that hold
no wildcard (:mod:`storage.postgres.search` keeps letters and digits only), phrases through
``phraseto_tsquery``, title words through ``plainto_tsquery``, the papers' vector's words as
quoted plain words (:func:`storage.postgres.search.words_query`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from storage.postgres.search import match_value, vector_match
from storage.sqlite.known_item import known_runs, rarest_groups


@dataclass(frozen=True)
class Relaxed:
    """A title query: titles starting with ``start`` (if any), holding each phrase and every word."""

    start: str | None = None
    phrases: tuple[str, ...] = ()
    words: tuple[str, ...] = ()

    def where(self, first: int) -> tuple[str, list[Any]]:
        """(SQL conditions, their parameters numbered from ``$first``)."""
        conditions: list[str] = []
        params: list[Any] = []
        if self.start is not None:
            conditions.append(starts_with(first + len(params)))
            params.append(self.start)
        for phrase in self.phrases:
            conditions.append(f"title_search @@ phraseto_tsquery('simple', ${first + len(params)})")
            params.append(phrase)
        if self.words:
            conditions.append(f"title_search @@ plainto_tsquery('simple', ${first + len(params)})")
            params.append(" ".join(self.words))
        return " AND ".join(conditions) or "false", params

    def query(self, window: int) -> CandidateQuery:
        """The candidate read of this relaxed title query (its papers miss a query word); a
        start is read through the titles' B-tree, else its words are in the title vector."""
        condition, params = self.where(1)
        words = [] if self.start is not None else [w for p in self.phrases for w in p.split()] + [*self.words]
        return CandidateQuery(condition, params, window, full=False,
                              column="title_search" if words else None, words=words,
                              ids_first=self.start is not None)


def starts_with(n: int) -> str:
    """Titles whose words start with parameter ``$n``'s words (whole words, in order).

    One range of the titles' B-tree (``!`` follows the space in byte order, and the titles hold
    no character below it), checked for whole words; written as a range, not as ``=`` OR
    ``LIKE``, because two ranges make a bitmap, which must read every row (migration 0004)."""
    return (f"(title_plain >= ${n} AND title_plain < ${n} || '!'"
            f" AND (title_plain = ${n} OR title_plain LIKE ${n} || ' %'))")


def fallback_queries(words: Sequence[str], docs: dict[str, int], papers: int) -> list[Relaxed]:
    """Title queries for a title typed with a slip, in the order to try them (see
    :func:`storage.sqlite.known_item.fallback_expressions` for why these)."""
    known = [docs.get(w, 0) > 0 for w in words]
    found: list[Relaxed] = []
    if any(known) and not all(known):
        phrases = [" ".join(run) for run in known_runs(words, known)]
        if known[0]:
            found.append(Relaxed(start=phrases[0], phrases=tuple(phrases[1:])))
        else:
            found.append(Relaxed(phrases=tuple(phrases)))
    elif len(words) >= 4:
        half = (len(words) + 1) // 2
        found += [Relaxed(start=" ".join(words[:half])), Relaxed(phrases=(" ".join(words[half:]),))]
    found += [Relaxed(words=tuple(group)) for group in rarest_groups(words, docs, papers)]
    return found


@dataclass
class CandidateQuery:
    """One candidate read: a condition on ``papers``, its parameters, a window, and whether its
    papers match every query word."""

    condition: str
    params: list[Any] = field(default_factory=list)
    window: int = 100
    full: bool = True
    column: str | None = None  # the vector the condition matches every one of ``words`` in, if any
    words: list[str] = field(default_factory=list)  # (to choose its plan: storage.postgres.plans)
    ids_first: bool = False  # the newest ids from an index alone (titles starting with), then their rows

    def sql(self, category: str | None, *, looked_up: list[str] | None = None,
            newer_than: int | None = None) -> tuple[str, list[Any]]:
        """The query for the newest ``window`` matches (with the category filter, if any), of
        the papers after id ``newer_than`` when given.

        ``looked_up``: the words of ``column`` to find in its index (with the category, which
        the same index holds), the whole condition then checked on their matches (the rarest
        words find few papers, and a common word's long list costs the index more than the
        check does); None: the whole condition is looked up."""
        params = [*self.params]
        condition = self.condition
        if looked_up and self.column is not None:
            params.append(match_value(self.column, " ".join(looked_up)))
            looked = vector_match(self.column, len(params))
            condition = f"{looked} AND ({condition}) IS TRUE"  # no index takes IS TRUE: checked on the rows
        if category:
            params.append(category)
            condition += f" AND category_keys @> ARRAY[${len(params)}::text]"
        if newer_than is not None:
            params.append(newer_than)
            condition += f" AND id > ${len(params)}"
        params.append(self.window)
        newest = f"FROM papers WHERE {condition} ORDER BY id DESC LIMIT ${len(params)}"
        if self.ids_first:
            return f"SELECT id, title, categories FROM papers WHERE id = ANY(ARRAY(SELECT id {newest}))", \
                params
        return f"SELECT id, title, categories {newest}", params
