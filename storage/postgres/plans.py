"""How a search read runs on PostgreSQL: chosen per query from ANALYZE's statistics.

A candidate read wants the newest ``window`` papers matching some words (and maybe a category).
PostgreSQL can answer it in these ways, and which is quick depends on how common the words are:

* **walk**: the ids' B-tree backwards, checking each paper until ``window`` match. Quick when
  matches are dense (a common word: a few thousand rows read), slow when they are sparse (a rare
  word: every paper read, seconds on a million).
* **bitmap**: every match from the GIN indexes, then the newest sorted out. Quick when matches
  are few, slow for a common word (a fetch per match, hundreds of thousands of them). A category
  is in the same index as the words (migration 0004), so a rare category makes the bitmap quick
  whatever the words: the scan steps through the words' lists to the category's next paper.
  Only the rarest words are looked up in the index; the others are checked on their matches.
  When the matches are many times the window, the bitmap reads only the newest papers that
  should hold them (``id > cut``, from the ids' BRIN index of migration 0007; three times the
  matches the window needs, by the estimate), and reads again without the cut in the rare case
  they held too few.
* **words bitmap** (autocomplete): the bitmap of the whole words typed, the last word's prefix
  checked on each of their matches. A prefix such as ``for`` matches half the titles' words, and
  GIN gathers every one of their entries before it can intersect them.

PostgreSQL's planner chooses between the first two itself, but it prices checking a row on the
walk as one cheap operator call, where reading and matching a vector of a few hundred words
costs about a microsecond (several when the vector was in TOAST storage, before migration 0003),
so it walks where the bitmap is ten to a hundred times quicker. So the store estimates each
way's cost from the statistics the planner uses (``pg_stats.most_common_elems``: the share of
rows holding each common word or category, words taken as independent) and costs measured on a
million papers, and tells the planner which to use for that one read (``set_config(...,
is_local)``, undone at the transaction's end). Every way returns the same rows: only the time
differs.

A condition that must be checked on the rows rather than looked up is written ``(...) IS TRUE``,
which no index takes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum

# Measured on a million synthetic papers (bench/lookup.py), microseconds:
WALK_ROW_US = {"search": 0.9, "title_search": 1.9}  # checking one row on the walk (by vector)
MATCH_US = 2.5  # fetching one match of a bitmap (and sorting it among the others)
POSTING_US = 0.05  # reading one entry of the rarest list (a word's or the category's) in a GIN index
PREFIX_POSTING_US = 0.2  # gathering one entry of the words a prefix matches (into a bitmap first)
# A bitmap looks up the rarest words until their matches are about this few (see looked_up):
# a twelve-word title looked up whole reads 2,000 index pages for its one match.
CHECKED_ROWS = 2_000
WINDOW_MARGIN = 3.0  # a cut bitmap reads the newest papers expected to hold this many windows of matches
CATEGORY_COLUMN = "category_keys"
STATISTICS_COLUMNS = ("search", "title_search", CATEGORY_COLUMN)


class Plan(Enum):
    """How one read is run; ``PLANNER`` leaves it to PostgreSQL (no statistics to go by)."""

    WALK = "walk"
    BITMAP = "bitmap"
    WORDS_BITMAP = "words-bitmap"  # (autocomplete) the typed prefix checked on the rows, not indexed
    PLANNER = "planner"

    def settings(self) -> tuple[str, str, str, str | None]:
        """(enable_bitmapscan, enable_indexscan, enable_seqscan, work_mem or None to keep it)
        for this plan. A bitmap gets the memory to stay exact: with the default 4MB, a bitmap
        of tens of thousands of matches turns lossy, and every row of a lossy page has its
        vector read again (measured: 318 ms instead of 59 for 8,753 matches)."""
        if self is Plan.WALK:
            return "off", "on", "off", None
        if self in (Plan.BITMAP, Plan.WORDS_BITMAP):
            return "on", "off", "off", BITMAP_WORK_MEM
        return "on", "on", "on", None


BITMAP_WORK_MEM = "64MB"
PLAN_SETTINGS = ("SELECT set_config('enable_bitmapscan', $1, true), set_config('enable_indexscan', $2, true),"
                 " set_config('enable_seqscan', $3, true),"
                 " set_config('work_mem', coalesce($4::text, current_setting('work_mem')), true)")


@dataclass(frozen=True)
class ElementShares:
    """What ANALYZE found of one column's elements (a vector's words, an array's keys): the
    most common ones with their share of rows, and the share of the rarest of those (any
    element not listed is rarer)."""

    shares: Mapping[str, float]
    floor: float

    def share(self, element: str) -> float:
        """The share of rows holding ``element``; half the floor when it is not listed (as
        PostgreSQL's own estimate takes it)."""
        return self.shares.get(element, self.floor / 2)

    def prefix_share(self, prefix: str) -> float:
        """The share of rows holding an element that starts with ``prefix``: the listed ones'
        shares added up (at most all rows; a row holding two is counted twice), else half the
        floor."""
        listed = sum(s for e, s in self.shares.items() if e.startswith(prefix))
        return min(1.0, listed) if listed else self.floor / 2


@dataclass(frozen=True)
class SearchStatistics:
    """The papers' row count and the element shares of the searched columns (those ANALYZE
    has looked at; a column missing here has no statistics yet)."""

    rows: float
    columns: Mapping[str, ElementShares]
    newest_id: int = 0  # the highest paper id when they were read (0: unknown, no cut)

    def share(self, column: str, words: Iterable[str], category: str | None = None,
              prefix: str | None = None) -> float | None:
        """The estimated share of papers whose ``column`` holds every word (and a word starting
        with ``prefix``, and that are in ``category``); None without statistics for them."""
        shares = self.columns.get(column)
        if shares is None or self.rows <= 0:
            return None
        share = 1.0
        for word in set(words):
            share *= shares.share(word)
        if prefix:
            share *= shares.prefix_share(prefix)
        if category:
            categories = self.columns.get(CATEGORY_COLUMN)
            if categories is None:
                return None
            share *= categories.share(category)
        return share

    def listed_count(self, column: str, element: str) -> int | None:
        """How many rows hold ``element`` in ``column`` when ANALYZE lists it as common, else None."""
        shares = self.columns.get(column)
        if shares is None or element not in shares.shares:
            return None
        return round(shares.shares[element] * self.rows)

    def unlisted_bound(self, column: str) -> int:
        """The most rows an element ANALYZE did not list can be in (counting needs to go no
        further); every row when the column has no statistics."""
        shares = self.columns.get(column)
        if shares is None:
            return max(1, round(self.rows))
        return max(1, math.ceil(shares.floor * self.rows) + 1)

    def looked_up(self, column: str, words: list[str]) -> list[str] | None:
        """For a bitmap over ``words``: the rarest of them to look up in the index, the others
        checked on their matches. As few as keep those matches under :data:`CHECKED_ROWS`
        (or half again the whole query's); None when that takes every word."""
        shares = self.columns.get(column)
        if shares is None or len(set(words)) <= 1:
            return None
        ranked = sorted(set(words), key=shares.share)
        whole = math.prod(shares.share(w) for w in ranked) * self.rows
        bound = max(CHECKED_ROWS, 1.5 * whole)
        share = 1.0
        for count, word in enumerate(ranked, start=1):
            share *= shares.share(word)
            if share * self.rows <= bound:
                return ranked[:count] if count < len(ranked) else None
        return None

    def plan(self, column: str, words: list[str], category: str | None, window: int,
             prefix: str | None = None, *, cut: bool = False) -> Plan:
        """The quicker way to read the newest ``window`` papers matching ``words`` (and
        ``prefix``, and ``category``) in ``column``, by the estimates of this module's docstring;
        ``cut``: a bitmap of many matches reads the newest papers first (:meth:`cut`, which
        :meth:`read` gives; autocomplete does not)."""
        share = self.share(column, words, category, prefix)
        if share is None or not (words or prefix) or column not in WALK_ROW_US:
            return Plan.PLANNER
        matches = share * self.rows
        walk = WALK_ROW_US[column] * min(self.rows, window / max(share, 1 / self.rows))
        # GIN steps over the longer lists (words', the category's) to the next entry of the
        # shortest one, but reads every entry of every word a prefix matches.
        shares = self.columns[column]
        lists = [shares.share(w) for w in words]
        if category:
            lists.append(self.columns[CATEGORY_COLUMN].share(category))
        postings = min(lists, default=0.0)
        index = POSTING_US * postings * self.rows
        if cut and not prefix and self.cut(column, words, category, window) is not None:
            # the newest pages only, each of their rows checked (the BRIN bitmap is lossy)
            bitmap = index + (MATCH_US + 2 * WALK_ROW_US[column]) * WINDOW_MARGIN * window
        else:
            bitmap = index + MATCH_US * matches
        costs = {Plan.WALK: walk, Plan.BITMAP: bitmap}
        if prefix:
            costs[Plan.BITMAP] += PREFIX_POSTING_US * shares.prefix_share(prefix) * self.rows
            if words:  # the whole words' bitmap, the prefix checked on each of their matches
                words_matches = (self.share(column, words, category) or 0.0) * self.rows
                costs[Plan.WORDS_BITMAP] = POSTING_US * postings * self.rows + MATCH_US * words_matches
        return min(costs, key=costs.__getitem__)

    def read(self, column: str, words: list[str], category: str | None,
             window: int) -> tuple[Plan, list[str] | None, int | None]:
        """The :meth:`plan` of a candidate read, the words it looks up in the index (see
        ``CandidateQuery.sql`` in :mod:`storage.postgres.known_item`; None: all of them), and the
        id its bitmap reads the papers after (None: all of them; see :meth:`cut`)."""
        plan = self.plan(column, words, category, window, cut=True)
        if plan is Plan.BITMAP:
            return plan, self.looked_up(column, words), self.cut(column, words, category, window)
        return plan, None, None

    def cut(self, column: str, words: list[str], category: str | None, window: int) -> int | None:
        """For a bitmap whose matches are many times ``window``: the id after which the newest
        papers should hold :data:`WINDOW_MARGIN` windows of them (matches taken as spread evenly
        over the ids); None when the matches are fewer, or the newest id is unknown."""
        share = self.share(column, words, category)
        if not share or not self.newest_id or share * self.rows <= WINDOW_MARGIN * window:
            return None
        span = math.ceil(WINDOW_MARGIN * window / share)
        return self.newest_id - span if span < self.newest_id else None


def element_shares(elements: list[str] | None, freqs: list[float] | None) -> ElementShares | None:
    """A column's :class:`ElementShares` from ``pg_stats`` (``most_common_elems`` and
    ``most_common_elem_freqs``: one share per element, then the minimum, the maximum and the
    share of NULLs); None when ANALYZE listed nothing."""
    if not elements or not freqs or len(freqs) <= len(elements):
        return None
    return ElementShares(dict(zip(elements, freqs, strict=False)), float(freqs[len(elements)]))
