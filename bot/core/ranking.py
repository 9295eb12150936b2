"""Ranking a channel's papers by what it saves: the method of arxiv-sanity-lite, plus a cold start.

Pure and synchronous (callers run it in a thread): no store, no Discord.

* Text vectors: TF-IDF of title + abstract (scikit-learn's ``TfidfVectorizer``, fitted on the
  store's newest papers: :class:`TextSpace`). Vectors are L2-normalised, so a dot product is the
  cosine similarity.
* A channel with at least :data:`MIN_SAVES` saved papers gets a linear SVM of its saves against
  the rest of the corpus (``LinearSVC``, balanced classes, small C: arxiv-sanity-lite's choice);
  a candidate's score is the SVM's margin, and its reason names the saved paper it is most like.
* Before that, a cold start: topics that say more than a category (an author, a keyword, a venue)
  count most, then popularity (ShortScience votes, Hugging Face upvotes), then recency (the day
  of the first version: papers of one announcement tie, and ties keep the digest's order).
* Every ranked item keeps its reasons, and ranking only orders: every candidate comes back once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix, vstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

MIN_SAVES = 2  # fewer saves than this: the cold start (two saves already say what a channel likes)
MAX_DF = 0.5  # terms in more than this share of the corpus say nothing about a paper ...
MAX_DF_FROM = 20  # ... once the corpus has this many papers
NEGATIVES = 2000  # corpus papers the classifier sees as "the rest" (the newest, not saved)
SVM_C = 0.01
SPECIFIC_WEIGHT = 2.0  # per matched author, keyword, venue or feed topic
POPULARITY_WEIGHT = 0.5  # times log(1 + votes + upvotes)
RECENCY_WEIGHT = 0.5  # the newest candidate gets this much, the oldest none
TRAINED_BONUS = 0.25  # with a classifier, topics and popularity still tip close calls
TITLE_SHOWN = 60


@dataclass(frozen=True)
class Candidate:
    """A paper to rank, with what ranking reads of it."""

    arxiv_id: str
    title: str
    abstract: str
    specific: tuple[str, ...] = ()  # matched topics that say more than a category: authors, keywords, venues
    votes: int = 0  # ShortScience votes of its summaries
    upvotes: int = 0  # Hugging Face upvotes
    day: int = 0  # days since 1970 of its first version (0: unknown); newer days rank higher

    @property
    def text(self) -> str:
        return paper_text(self.title, self.abstract)


@dataclass(frozen=True)
class Ranked:
    """A candidate's place: its score and why it is there."""

    arxiv_id: str
    score: float
    reasons: tuple[str, ...] = ()


@dataclass
class Classifier:
    """A channel's fitted SVM, the saved papers it learnt from, and their vectors."""

    model: LinearSVC
    saved_ids: list[str]
    saved_titles: list[str]
    saved_vectors: csr_matrix


@dataclass
class TextSpace:
    """TF-IDF vectors over a corpus of papers (ids and texts), fitted once per corpus version."""

    ids: list[str]
    vectorizer: TfidfVectorizer
    matrix: csr_matrix
    version: int = 0
    _row: dict[str, int] = field(default_factory=dict)

    @classmethod
    def fit(cls, ids: Sequence[str], texts: Sequence[str], version: int = 0) -> TextSpace:
        """A corpus whose texts have no usable words (or no texts at all) gives an empty space:
        it knows no papers, so nothing is trained on it and nothing is near anything."""
        # A term in more than half of a small corpus is not "common": keep it until there are enough papers.
        max_df = MAX_DF if len(texts) >= MAX_DF_FROM else 1.0
        vectorizer = TfidfVectorizer(sublinear_tf=True, stop_words="english", max_features=50_000,
                                     ngram_range=(1, 2), min_df=1, max_df=max_df, dtype=np.float32)
        try:
            matrix = vectorizer.fit_transform(list(texts)) if texts else None
        except ValueError:  # no terms left: empty or stop-word-only texts
            matrix = None
        if matrix is None:
            return cls([], vectorizer, csr_matrix((0, 0), dtype=np.float32), version, {})
        return cls(list(ids), vectorizer, matrix, version, {pid: i for i, pid in enumerate(ids)})

    def vectors(self, texts: Sequence[str]) -> csr_matrix:
        if not hasattr(self.vectorizer, "vocabulary_"):  # an empty space: no words to see
            return csr_matrix((len(texts), self.matrix.shape[1]), dtype=np.float32)
        return self.vectorizer.transform(list(texts))

    def vectors_of(self, ids: Sequence[str], texts: Sequence[str]) -> csr_matrix:
        """Vectors of papers: the corpus row when the paper is in the corpus, else from its text.

        One gather of corpus rows and one transform of the rest, not a row at a time: stacking
        2,000 single rows took most of a channel's ranking time."""
        ids, texts = list(ids), list(texts)
        if len(ids) != len(texts):
            raise ValueError("vectors_of needs one text per id")
        known = [i for i, pid in enumerate(ids) if pid in self._row]
        unknown = [i for i, pid in enumerate(ids) if pid not in self._row]
        rows = self.matrix[[self._row[ids[i]] for i in known]]
        if not unknown:
            return rows.tocsr()
        fresh = self.vectors([texts[i] for i in unknown])
        if not known:
            return fresh.tocsr()
        stacked = vstack([rows, fresh]).tocsr()
        place = np.empty(len(ids), dtype=np.intp)
        place[known + unknown] = np.arange(len(ids))  # a paper's position -> its stacked row
        return stacked[place]

    def nearest(self, vector: csr_matrix, k: int, exclude: Sequence[str] = ()) -> list[tuple[str, float]]:
        """The ``k`` corpus papers most similar to ``vector`` (cosine), best first."""
        if self.matrix.shape[0] == 0:
            return []
        scores = np.asarray((self.matrix @ vector.T).todense()).ravel()
        skip = {self._row[pid] for pid in exclude if pid in self._row}
        order = np.argsort(-scores, kind="stable")
        found = [(self.ids[i], float(scores[i])) for i in order[:k + len(skip)] if i not in skip]
        return [(pid, score) for pid, score in found[:k] if score > 0]


def paper_text(title: str, abstract: str) -> str:
    """What the vectors are made of: the title (weighted by repeating it) and the abstract."""
    return f"{title}\n{title}\n{abstract}"


def fit_classifier(space: TextSpace, saved_ids: Sequence[str], saved_titles: Sequence[str],
                   saved_texts: Sequence[str]) -> Classifier | None:
    """The channel's SVM of its saves against the newest other corpus papers; None before
    :data:`MIN_SAVES` saves (or when the corpus has nothing else to compare with)."""
    if len(saved_ids) < MIN_SAVES:
        return None
    saved = set(saved_ids)
    negative_rows = [i for i, pid in enumerate(space.ids) if pid not in saved][:NEGATIVES]
    if not negative_rows:
        return None
    positives = space.vectors_of(saved_ids, saved_texts)
    x = vstack([positives, space.matrix[negative_rows]]).tocsr()
    y = np.r_[np.ones(positives.shape[0]), np.zeros(len(negative_rows))]
    model = LinearSVC(C=SVM_C, class_weight="balanced", max_iter=5000, tol=1e-5)
    model.fit(x, y)
    return Classifier(model, list(saved_ids), list(saved_titles), positives)


def rank(candidates: Sequence[Candidate], space: TextSpace | None = None,
         classifier: Classifier | None = None) -> list[Ranked]:
    """Every candidate once, best first, each with its reasons."""
    if not candidates:
        return []
    days = [c.day for c in candidates if c.day]
    oldest, span = (min(days), max(max(days) - min(days), 1)) if days else (0, 1)
    base = [_cold_score(c, (c.day - oldest) / span if c.day else 0.0) for c in candidates]
    reasons = [_cold_reasons(c) for c in candidates]
    scores = [score for score, _ in base]
    if classifier is not None and space is not None:
        vectors = space.vectors_of([c.arxiv_id for c in candidates], [c.text for c in candidates])
        margins = classifier.model.decision_function(vectors)
        likeness = (vectors @ classifier.saved_vectors.T).toarray()
        nearest = likeness.argmax(axis=1) if likeness.shape[1] else np.zeros(len(candidates), dtype=np.intp)
        closeness = likeness[np.arange(len(candidates)), nearest] if likeness.shape[1] \
            else np.zeros(len(candidates))
        likes: dict[int, str] = {}  # a saved paper's reason, written once for all its look-alikes
        for i in range(len(candidates)):
            scores[i] = float(margins[i]) + TRAINED_BONUS * base[i][1]
            if closeness[i] > 0:
                j = int(nearest[i])
                if j not in likes:
                    likes[j] = f"like *{_short(classifier.saved_titles[j])}* (saved here)"
                reasons[i] = (likes[j], *reasons[i])
    order = sorted(range(len(candidates)), key=lambda i: (-scores[i], i))  # ties keep their order
    return [Ranked(candidates[i].arxiv_id, round(scores[i], 4), reasons[i]) for i in order]


def _cold_score(candidate: Candidate, recency: float) -> tuple[float, float]:
    """(the cold-start score, its topic-and-popularity part)."""
    topical = SPECIFIC_WEIGHT * len(candidate.specific)
    popular = POPULARITY_WEIGHT * math.log1p(max(candidate.votes, 0) + max(candidate.upvotes, 0))
    return topical + popular + RECENCY_WEIGHT * recency, topical + popular


def _cold_reasons(candidate: Candidate) -> tuple[str, ...]:
    found: list[str] = []
    if candidate.specific:
        found.append("matched: " + ", ".join(candidate.specific[:3]))
    if candidate.upvotes:
        found.append(f"{candidate.upvotes} upvote{'s' if candidate.upvotes != 1 else ''} on Hugging Face")
    if candidate.votes:
        found.append(f"{candidate.votes} vote{'s' if candidate.votes != 1 else ''} on ShortScience")
    return tuple(found)


def _short(title: str) -> str:
    title = " ".join(title.split())
    return title if len(title) <= TITLE_SHOWN else title[:TITLE_SHOWN - 1].rstrip() + "…"


def describe(ranked: Ranked) -> dict[str, Any]:
    """A ranked item as plain data (``paperboy preview --json``)."""
    return {"arxiv_id": ranked.arxiv_id, "score": ranked.score, "reasons": list(ranked.reasons)}
