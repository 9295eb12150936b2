"""Each channel's ranking: text vectors fitted on the store, a classifier per channel's saves.

The vectors (:class:`bot.core.ranking.TextSpace`) are fitted on the newest
:data:`CORPUS_SIZE` papers and refitted once the store has grown by a tenth of that; a channel's
classifier is cached until its saves or the vectors change. Fitting and scoring run in a thread,
off the event loop. ``/paper similar`` asks the same vectors.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date
from typing import Protocol

from bot.core.digest import PlannedEntry
from bot.core.errors import UserError
from bot.core.ranking import Candidate, Classifier, Ranked, TextSpace, fit_classifier, paper_text, rank
from bot.core.topics import TopicError, TopicKind, parse_topic
from storage.base import CorpusStore, IngestStore, LookupStore, SaveStore
from storage.models import StoredPaper, StoredSummary

CORPUS_SIZE = 20_000
_EPOCH = date(1970, 1, 1).toordinal()
REFIT_GROWTH = CORPUS_SIZE // 10
_SPECIFIC_KINDS = frozenset({TopicKind.AUTHOR, TopicKind.KEYWORD, TopicKind.VENUE})


class RankingStore(CorpusStore, SaveStore, IngestStore, LookupStore, Protocol):
    """The corpus and popularity (corpus), a channel's saves, the store's growth, saved papers."""


class RankingService:
    """Orders a channel's digest entries, best first, each with its reasons."""

    def __init__(self, store: RankingStore, upvote_sources: Sequence[str] = ()) -> None:
        self.store = store
        self.upvote_sources = frozenset(upvote_sources)  # feeds whose votes are Hugging Face upvotes
        self._space: TextSpace | None = None
        self._classifiers: dict[int, tuple[tuple[str, ...], int, Classifier | None]] = {}
        self._lock = asyncio.Lock()

    async def space(self) -> TextSpace:
        """The text vectors, fitted on the newest papers; refitted when the store has grown."""
        async with self._lock:
            version = await self.store.max_seq()
            if self._space is None or version - self._space.version >= REFIT_GROWTH:
                papers = await self.store.recent_papers(CORPUS_SIZE)
                self._space = await asyncio.to_thread(
                    TextSpace.fit, [p.arxiv_id for p in papers],
                    [paper_text(p.title, p.abstract) for p in papers], version)
            return self._space

    async def is_fitted(self) -> bool:
        """Whether :meth:`space` answers without fitting (a fit of the whole corpus takes seconds:
        a command defers first when it would)."""
        if self._space is None:
            return False
        return await self.store.max_seq() - self._space.version < REFIT_GROWTH

    async def classifier(self, saved_ids: Sequence[str], key: int | None = None) -> Classifier | None:
        """The classifier of these saved papers (cached under ``key``, a channel id, until its
        saves or the vectors change); None before there are enough saves."""
        space = await self.space()
        ordered = tuple(sorted(set(saved_ids)))
        cached = self._classifiers.get(key) if key is not None else None
        if cached is not None and cached[0] == ordered and cached[1] == space.version:
            return cached[2]
        papers = await self.store.papers_by_ids(ordered)
        known = [papers[pid] for pid in ordered if pid in papers]
        model = await asyncio.to_thread(
            fit_classifier, space, [p.arxiv_id for p in known], [p.title for p in known],
            [paper_text(p.title, p.abstract) for p in known])
        if key is not None:
            self._classifiers[key] = (ordered, space.version, model)
        return model

    async def rank_entries(self, entries: Sequence[PlannedEntry], *, channel_id: int | None = None,
                           saved_ids: Sequence[str] | None = None) -> list[PlannedEntry]:
        """The entries best first, each with its ranking set; entries without a paper keep their
        order after the papers. The saves are the channel's, unless ``saved_ids`` are given."""
        papers = [e for e in entries if e.entry.paper is not None]
        others = [e for e in entries if e.entry.paper is None]
        if not papers:
            return list(entries)
        if saved_ids is None:
            saved_ids = [s.arxiv_id for s in await self.store.list_saves([channel_id])] \
                if channel_id is not None else []
        summaries = await self.store.summaries_of(e.entry.paper.arxiv_id for e in papers if e.entry.paper)
        candidates = [self._candidate(e, summaries) for e in papers]
        classifier = await self.classifier(saved_ids, channel_id) if saved_ids else None
        space = self._space if classifier is not None else None
        ranked = await asyncio.to_thread(rank, candidates, space, classifier)
        by_id = {e.entry.paper.arxiv_id: e for e in papers if e.entry.paper}
        ordered = []
        for item in ranked:
            planned = by_id[item.arxiv_id]
            planned.ranked = item
            ordered.append(planned)
        return ordered + others

    def _candidate(self, planned: PlannedEntry, summaries: dict[str, list[StoredSummary]]) -> Candidate:
        paper = planned.entry.paper
        assert paper is not None  # only papers are ranked (rank_entries filters)
        known = {s.id: s for s in summaries.get(paper.arxiv_id, [])}
        known.update({s.id: s for s in planned.entry.summaries})
        upvotes = sum(s.votes or 0 for s in known.values() if s.source in self.upvote_sources)
        votes = sum(s.votes or 0 for s in known.values() if s.source not in self.upvote_sources)
        specific = tuple(t for t in planned.entry.matched if _is_specific(t))
        return Candidate(paper.arxiv_id, paper.title, paper.abstract, specific, votes, upvotes,
                         first_day(paper))

    async def similar(self, paper: StoredPaper, k: int = 5) -> list[tuple[StoredPaper, float]]:
        """The stored papers nearest to ``paper`` by the ranking's text vectors."""
        space = await self.space()
        vector = await asyncio.to_thread(
            space.vectors_of, [paper.arxiv_id], [paper_text(paper.title, paper.abstract)])
        nearest = await asyncio.to_thread(space.nearest, vector, k, [paper.arxiv_id])
        if not nearest:
            raise UserError("No stored paper is like that one yet; Paperboy needs more papers first.")
        found = await self.store.papers_by_ids(pid for pid, _ in nearest)
        return [(found[pid], score) for pid, score in nearest if pid in found]

    async def rank_papers(self, papers: Sequence[StoredPaper], saved_ids: Sequence[str]) -> list[Ranked]:
        """Plain papers ranked as a channel with these saves would rank them (benchmarks, tests)."""
        candidates = [Candidate(p.arxiv_id, p.title, p.abstract, day=first_day(p)) for p in papers]
        classifier = await self.classifier(saved_ids) if saved_ids else None
        return await asyncio.to_thread(rank, candidates, self._space if classifier else None, classifier)


def first_day(paper: StoredPaper) -> int:
    """Days since 1970 of the paper's first version (its ``published`` date), 0 when unknown."""
    try:
        return date.fromisoformat((paper.published or "")[:10]).toordinal() - _EPOCH
    except ValueError:
        return 0


def _is_specific(topic_text: str) -> bool:
    """Whether a matched topic says more than a category: an author, a keyword, a venue."""
    try:
        return parse_topic(topic_text).kind in _SPECIFIC_KINDS
    except TopicError:  # a feed topic (the parser here knows no feed names)
        return False
