"""Known-item search: which of the candidate papers is the one whose title the user typed.

Used by :meth:`storage.sqlite.lookup.LookupMixin.search_papers` only. A person looking for a
paper types a few of its title words, its whole title, or its title with a slip of the finger;
on a million papers the newest full-text matches of common words bury an older paper, so a
query of four words or more also takes its candidates from the title-only index (titles holding
its rarest words; titles holding all its words and starting with them when every word is
common; and, when no title lines up, the title with one word left out), and they are ranked
here:

1. how the title lines up with the query: the same words (4), the query as the title's first
   words (3), either of those with one word off by one edit (2); otherwise 0;
2. whether the paper matches every query word (the full-text contract of ordinary searches);
3. the share of the query's weight the title holds, each word weighted by its rarity among
   titles (a word off by one edit from a title word counts nearly fully);
4. recency (rowid).

Everything is plain Python over a few hundred titles; the SQL stays in the mixin.
"""

from __future__ import annotations

import math
import re
import time
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)  # what FTS5's unicode61 tokenizer calls a token
FUZZY_MIN_LENGTH = 3  # shorter words are too easily one edit from another word
NEAR_MATCH = 0.9  # weight of a word one edit away from a title word
TERM_CACHE_SIZE = 20_000  # title-term document frequencies kept per store
TERM_CACHE_SECONDS = 3600.0  # after this a known frequency is read again (new papers change it)
UNKNOWN_TERM_SECONDS = 10.0  # a word no title holds may be in the next batch of papers
PAPERS_SECONDS = 60.0  # how long the number of papers (for the weights) is taken as known
COUNT_CAP = 20_000  # titles counted through the index; beyond, FTS5's vocabulary counts them

EXPECTED_TITLES = 30.0  # a group of rare words is enough when about this many titles hold it
RankKey = tuple[int, int, float, int]


def tokens(text: str) -> list[str]:
    """Lower-cased words without diacritics, as the full-text index splits and folds them."""
    lowered = text.lower()
    if not lowered.isascii():
        folded = unicodedata.normalize("NFKD", lowered)
        lowered = "".join(c for c in folded if not unicodedata.combining(c))
    return _TOKEN.findall(lowered)


def one_edit(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ by one changed, dropped, added or swapped character."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long[i]:
        i += 1
    return short[i:] == long[i + 1:]


def _near(word: str, other: str) -> bool:
    return min(len(word), len(other)) >= FUZZY_MIN_LENGTH and one_edit(word, other)


@dataclass(frozen=True)
class Candidate:
    """A paper that may be the one searched for: its rowid, title, categories (JSON) and
    whether it matched every query word in the full-text index."""

    rowid: int
    title: str
    categories: str
    full: bool


class Ranker:
    """Ranks candidates for one query (see the module docstring for the order)."""

    def __init__(self, query: Sequence[str], weights: dict[str, float], fuzzy: set[str]) -> None:
        self.query = list(query)
        self.weights = weights
        self.fuzzy = fuzzy  # query words that may be typos (matched within one edit)
        self.total = sum(weights.get(w, 1.0) for w in query) or 1.0
        self._keys: dict[int, RankKey] = {}

    def key(self, candidate: Candidate) -> RankKey:
        """The candidate's sort key, higher is better (worked out once per candidate)."""
        known = self._keys.get(candidate.rowid)
        if known is None or known[1] < candidate.full:
            title = tokens(candidate.title)
            coverage = self._coverage(title)
            level = self._alignment(title)
            full = candidate.full or coverage >= 1.0
            known = (level, int(full), round(coverage, 6), candidate.rowid)
            self._keys[candidate.rowid] = known
        return known

    def tolerated(self, candidate: Candidate) -> bool:
        """Whether a candidate that did not match every word is shown: its title lines up with
        the query but for one typo, or holds every query word but one that is one edit off.
        Anything looser would fill the page and keep the search from asking arXiv."""
        level, full, _, _ = self.key(candidate)
        if full or level >= 2:
            return True
        present = set(tokens(candidate.title))
        missing = [w for w in self.query if w not in present]
        return len(missing) == 1 and missing[0] in self.fuzzy and any(
            _near(missing[0], t) for t in present)

    def _alignment(self, title: list[str]) -> int:
        query = self.query
        if not query or len(title) < len(query):
            return 0
        misses = [i for i, (q, t) in enumerate(zip(query, title, strict=False)) if q != t]
        level = 4 if len(title) == len(query) else 3
        if not misses:
            return level
        if len(misses) == 1 and len(query) >= 3:
            q, t = query[misses[0]], title[misses[0]]
            if q in self.fuzzy and _near(q, t):
                return 2
        return 0

    def _coverage(self, title: list[str]) -> float:
        present = set(title)
        held = 0.0
        for word in self.query:
            weight = self.weights.get(word, 1.0)
            if word in present:
                held += weight
            elif word in self.fuzzy and any(_near(word, t) for t in present):
                held += NEAR_MATCH * weight
        return held / self.total


def idf(docs: int, papers: int) -> float:
    """A title word's weight: rare words say more about which paper is meant."""
    return math.log(1 + (papers + 1) / (docs + 1))


def expected_titles(words: Iterable[str], docs: dict[str, int], papers: int) -> float:
    """How many titles would hold all the words if words were independent."""
    estimate = float(max(papers, 1))
    for word in set(words):
        estimate *= docs.get(word, 0) / max(papers, 1)
    return estimate


def rarest_groups(words: Sequence[str], docs: dict[str, int], papers: int,
                  expected: float = EXPECTED_TITLES, groups: int = 2) -> list[list[str]]:
    """Disjoint groups of known title words, rarest first, each expected to hold few titles.

    A group grows from the rarest remaining word until the titles expected to hold all of it
    (as if words were independent) are at most ``expected``; two groups, so a query word that
    is a real word but a typo of the title's one cannot hide the paper from both.
    """
    known = sorted({w for w in words if docs.get(w, 0) > 0}, key=lambda w: (docs[w], w))
    found: list[list[str]] = []
    while known and len(found) < groups:
        group: list[str] = []
        estimate = float(max(papers, 1))
        while known and (estimate > expected or len(group) < 2):
            word = known.pop(0)
            group.append(word)
            estimate *= docs[word] / max(papers, 1)
        if len(group) >= 2 or not found:
            found.append(group)
    return found


def _phrase(words: Sequence[str]) -> str:
    return '"' + " ".join(words) + '"'


def fallback_expressions(words: Sequence[str], docs: dict[str, int], papers: int) -> list[str]:
    """Title-index queries (FTS5 syntax over safe words) for a title typed with a slip, in the
    order to try them.

    Around a word no title holds, the known words keep their places (``^ "a b" AND "d e"``);
    a real word typed in place of the title's one cannot be told apart, so the first half of the
    query as the title's start and its second half as a phrase, one of which is intact; then the
    rarest words as groups, for title words in another order.
    """
    known = [docs.get(w, 0) > 0 for w in words]
    found: list[str] = []
    if any(known) and not all(known):
        parts = [_phrase(run) for run in known_runs(words, known)]
        found.append(("^ " if known[0] else "") + " AND ".join(parts))
    elif len(words) >= 4:
        half = (len(words) + 1) // 2
        found += ["^ " + _phrase(words[:half]), _phrase(words[half:])]
    found += [" ".join(f'"{w}"' for w in group) for group in rarest_groups(words, docs, papers)]
    return found


def known_runs(words: Sequence[str], known: Sequence[bool]) -> list[list[str]]:
    """The query's words split at the words no title holds: the runs that keep their places."""
    runs: list[list[str]] = [[]]
    for word, is_known in zip(words, known, strict=True):
        if is_known:
            runs[-1].append(word)
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if run]


class TermCache:
    """Document frequencies of title words, remembered for a while (FTS5 counts them by reading
    each word's whole match list, milliseconds for a common word on a million papers)."""

    def __init__(self) -> None:
        self._docs: dict[str, tuple[int, float]] = {}
        self._papers = (0, -math.inf)  # not read yet

    def known(self, words: Iterable[str]) -> tuple[dict[str, int], list[str]]:
        """(frequencies still fresh, words to read again)."""
        now = time.monotonic()
        fresh: dict[str, int] = {}
        stale: list[str] = []
        for word in dict.fromkeys(words):
            entry = self._docs.get(word)
            limit = TERM_CACHE_SECONDS if entry and entry[0] else UNKNOWN_TERM_SECONDS
            if entry and now - entry[1] < limit:
                fresh[word] = entry[0]
            else:
                stale.append(word)
        return fresh, stale

    def remember(self, docs: dict[str, int]) -> None:
        """Keep what was read (all of it is forgotten at once when the cache is full)."""
        now = time.monotonic()
        if len(self._docs) + len(docs) > TERM_CACHE_SIZE:
            self._docs.clear()
        for word, count in docs.items():
            self._docs[word] = (count, now)

    def papers(self) -> int | None:
        """The number of papers, when read recently enough (it only weighs the words)."""
        count, when = self._papers
        return count if time.monotonic() - when < PAPERS_SECONDS else None

    def remember_papers(self, count: int) -> None:
        """Keep the number of papers read now."""
        self._papers = (count, time.monotonic())
