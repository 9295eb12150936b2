"""Which channels an ingested item goes to, and why: subscriptions -> matches with reasons.

Pure and synchronous (no Discord, no I/O). The digest code builds one :class:`SubscriptionIndex`
from every channel's subscriptions, turns each ingested item into a :class:`Matchable` once, and asks
the index which channels want it; each channel gets the topics that matched, so a digest item can
say why it is there. Channels where an exclusion matched are dropped: exclusions win.

Semantics (ARCHITECTURE.md, "Topics"):

* Category ``cs.LG``: the paper lists it (primary or cross-list). Aliases are one category:
  a paper listed as ``eess.SY`` also matches ``cs.SY`` (which parses to ``eess.SY`` anyway).
* Archive ``cs``: some category of the paper, or an alias of one, is in it; so an ``eess.SY``
  paper reaches followers of ``cs`` (arXiv lists it as ``cs.SY`` too), a ``math-ph`` paper reaches
  followers of ``math`` (``math.MP``).
* Author: the normalized name (:func:`bot.core.text.normalize_name`: TeX, accents, case, punctuation
  folded) equals a normalized author of the paper, or of the paper a summary is about. Whole names
  only: ``author:Levine`` does not match "Sergey Levine" (predictable, no surname collisions).
* Venue: a summary's bibtex key names its venue the DBLP way (``conf/nips/ZhangS18`` -> ``conf/nips``
  and ``nips``); a paper's journal ref gives its folded letter words minus stop words, plus the
  short names of venues written out in full; ``nips`` and ``neurips`` are one venue. The comment
  field is not used: "submitted to NeurIPS" is not a venue (details at :func:`venue_keys`).
* Feed ``feed:NAME``: everything the configured feed ``NAME`` produced (``IngestedItem.feed``).
* Keyword phrase: searched in the title and abstract (for a summary: its title and text, and its
  paper's title and abstract), case-insensitively with accents and TeX accents folded, on word
  boundaries: ``graph`` does not match "paragraph" or "graphs". The phrase's words must appear in
  sequence, separated only by whitespace or hyphens: ``self-supervised`` and ``self supervised``
  both match "Self-Supervised" and "self supervised", while ``graph neural network`` does not match
  "graph, neural network" or "Graph Neural Networks" (no stemming or plurals: follow
  ``graph neural networks`` too if you want both). Punctuation inside a word is literal
  (``node.js``, ``c++``). A phrase never spans two fields (title into abstract).

Indexing: exact-key topics are dict lookups from what the item offers (its categories with aliases
and archives, authors, venues, feed). Keyword phrases are indexed by one of their words, chosen to be
rare among the followed phrases and not a stop word; an item's words are tokenized once into a set,
and only the phrases whose index word is in it are verified (one-word phrases need no verification).
:func:`naive_match` checks every subscription and is the reference the index is tested against.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

from bot.core import taxonomy
from bot.core.keywords import (
    SEPARATORS,
    STOP_WORDS,
    WORD,
    Phrase,
    fold_text,
    index_token,
    phrase_pattern,
    read_phrase,
)
from bot.core.text import normalize_name
from bot.core.topics import Topic, TopicKind
from storage.models import IngestedItem

__all__ = ["Match", "Matchable", "Subscription", "SubscriptionIndex", "fold_text", "matchable",
           "naive_match", "phrase_pattern", "topic_matches", "venue_keys"]

Match = dict[int, frozenset[Topic]]
"""channel id -> the (non-excluded) topics of that channel the item matched."""

_LETTERS = re.compile(r"[^\W\d_]{2,}")  # venue words: runs of two or more letters
_FIELD_JOIN = "\n\x00\n"  # NUL is in no topic (the parser refuses control characters)

_VENUE_ALIASES: dict[str, frozenset[str]] = {
    "nips": frozenset({"neurips"}),
    "neurips": frozenset({"nips"}),
}
# Venues written out in full in journal refs -> their short keys.
_VENUE_NAMES: dict[str, tuple[str, ...]] = {
    "neural information processing systems": ("neurips", "nips"),
    "international conference on machine learning": ("icml",),
    "international conference on learning representations": ("iclr",),
    "computer vision and pattern recognition": ("cvpr",),
    "association for computational linguistics": ("acl",),
}


# --- what is matched ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Subscription:
    """One topic one channel follows; ``exclude`` removes matching items from the channel instead."""

    channel_id: int
    topic: Topic
    exclude: bool = False


@dataclass(frozen=True)
class Matchable:
    """What an item offers to the matcher, normalized once per item however many channels there are.

    Built by :func:`matchable`; building one directly (tests) normalizes the same way: ``authors``
    are folded with :func:`normalize_name`; ``text`` with :func:`fold_text`, and every run of
    whitespace and hyphens becomes one space, so a phrase's words are found with ``str.find``;
    ``venues`` are lower-cased (they are keys already; :func:`venue_keys` derives them).
    """

    categories: tuple[str, ...] = ()
    authors: frozenset[str] = frozenset()
    text: str = ""
    venues: frozenset[str] = frozenset()
    feed: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "categories", tuple(self.categories))
        object.__setattr__(self, "authors", frozenset(filter(None, map(normalize_name, self.authors))))
        object.__setattr__(self, "text", SEPARATORS.sub(" ", fold_text(self.text)))
        object.__setattr__(self, "venues", frozenset(v.strip().lower() for v in self.venues))

    @cached_property
    def category_keys(self) -> frozenset[str]:
        """The item's categories with every alias spelling (``eess.SY`` -> also ``cs.SY``)."""
        return frozenset(e for c in self.categories for e in _equivalents(c))

    @cached_property
    def archive_keys(self) -> frozenset[str]:
        """The archives of :attr:`category_keys` (``cs.LG`` -> ``cs``; ``eess.SY`` -> ``eess``, ``cs``)."""
        return frozenset(taxonomy.archive_of(c) for c in self.category_keys)

    @cached_property
    def tokens(self) -> frozenset[str]:
        """The words of :attr:`text`, tokenized once: keyword candidates are looked up here."""
        return frozenset(WORD.findall(self.text))


def matchable(item: IngestedItem) -> Matchable:
    """What ``item`` offers to the matcher: a paper's own data, or a summary's plus its paper's."""
    paper, summary = item.paper, item.summary
    texts: list[str] = []
    if summary is not None:
        texts += [summary.title, summary.text]
    if paper is not None:
        texts += [paper.title, paper.abstract]
    return Matchable(
        categories=tuple(paper.categories) if paper is not None else (),
        authors=frozenset(paper.authors) if paper is not None else frozenset(),
        text=_FIELD_JOIN.join(t for t in texts if t),
        venues=venue_keys(summary.bibtex_key if summary is not None else None,
                          paper.journal_ref if paper is not None else None),
        feed=item.feed,
    )


def venue_keys(bibtex_key: str | None = None, journal_ref: str | None = None) -> frozenset[str]:
    """The venue keys a summary's bibtex key and a paper's journal ref offer.

    ``journals/corr/abs-1805-08296`` -> ``journals/corr``, ``corr`` (a key without ``/`` names
    none); ``NeurIPS 2018`` -> ``neurips``, ``JCAP11(2024)045`` -> ``jcap``, ``Phys. Rev. Lett.`` ->
    ``phys``, ``rev``, ``lett``; ``Neural Information Processing Systems`` -> ``neurips``.
    """
    keys: set[str] = set()
    if bibtex_key:
        keys |= _bibtex_venues(bibtex_key)
    if journal_ref:
        keys |= _journal_venues(journal_ref)
    for key in list(keys):
        keys |= _VENUE_ALIASES.get(key, frozenset())
    return frozenset(keys)


def _bibtex_venues(bibtex_key: str) -> set[str]:
    """``conf/nips/ZhangS18`` -> ``conf/nips``, ``nips``; a key without a venue path -> nothing."""
    parts = [p for p in bibtex_key.strip().lower().split("/") if p]
    if len(parts) < 2:
        return set()
    if len(parts) == 2:
        return {parts[0]}
    return {"/".join(parts[:-1]), *parts[1:-1]}


def _journal_venues(journal_ref: str) -> set[str]:
    """The letter words of a journal ref, plus the short keys of venues it spells out in full."""
    folded = " ".join(fold_text(journal_ref).split())
    keys = {word for word in _LETTERS.findall(folded) if word not in STOP_WORDS}
    for name, short in _VENUE_NAMES.items():
        if name in folded:
            keys.update(short)
    return keys


@lru_cache(maxsize=4096)
def _equivalents(category: str) -> frozenset[str]:
    """:func:`taxonomy.equivalents`, cached: it scans the alias table and runs per category per item."""
    return taxonomy.equivalents(category)


# --- the naive reference --------------------------------------------------------------------------

def topic_matches(topic: Topic, m: Matchable) -> bool:
    """Whether one topic matches one item: the definition the index must agree with."""
    kind, key = topic.kind, topic.key
    if kind is TopicKind.CATEGORY:
        return key in m.category_keys
    if kind is TopicKind.ARCHIVE:
        return key in m.archive_keys
    if kind is TopicKind.AUTHOR:
        return key in m.authors
    if kind is TopicKind.VENUE:
        return key in m.venues
    if kind is TopicKind.FEED:
        return key == m.feed
    return read_phrase(key).pattern.search(m.text) is not None


def naive_match(subs: Iterable[Subscription], m: Matchable) -> Match:
    """Check every subscription against ``m``: the reference for tests and the benchmark baseline."""
    matched: dict[int, set[Topic]] = {}
    excluded: set[int] = set()
    for sub in subs:
        if topic_matches(sub.topic, m):
            if sub.exclude:
                excluded.add(sub.channel_id)
            else:
                matched.setdefault(sub.channel_id, set()).add(sub.topic)
    return {ch: frozenset(topics) for ch, topics in matched.items() if ch not in excluded}


# --- the index ------------------------------------------------------------------------------------

@dataclass(eq=False)
class _Entry:
    """One distinct topic with the channels following it and the channels excluding it."""

    topic: Topic
    include: frozenset[int] = frozenset()
    exclude: frozenset[int] = frozenset()
    reasons: frozenset[Topic] = field(init=False)  # frozenset({topic}), shared by every channel

    def __post_init__(self) -> None:
        self.reasons = frozenset({self.topic})


_BIG_TOPIC = 16  # followers from which set operations beat visiting channels one by one


class SubscriptionIndex:
    """Every subscription indexed by what it matches, so an item costs lookups, not a scan.

    Build it once per batch (or whenever subscriptions change); it is immutable afterwards.
    """

    def __init__(self, subs: Iterable[Subscription] = ()) -> None:
        entries = _entries(subs)
        self._exact: dict[TopicKind, dict[str, _Entry]] = {kind: {} for kind in TopicKind}
        keyword: list[_Entry] = []
        for entry in entries:
            if entry.topic.kind is TopicKind.KEYWORD:
                keyword.append(entry)
            else:
                self._exact[entry.topic.kind][entry.topic.key] = entry
        self._single_words, self._phrases = _keyword_index(keyword)
        self._single_word_set = frozenset(self._single_words)
        self._phrase_tokens = frozenset(self._phrases)
        self.topics = len(entries)
        self.subscriptions = sum(len(e.include) + len(e.exclude) for e in entries)

    @classmethod
    def build(cls, subs: Iterable[Subscription]) -> SubscriptionIndex:
        """Same as the constructor; reads better at call sites that build once per batch."""
        return cls(subs)

    def __len__(self) -> int:
        """Distinct (channel, topic, exclude) subscriptions indexed."""
        return self.subscriptions

    def match(self, m: Matchable | IngestedItem) -> Match:
        """Channel id -> the topics it follows that ``m`` matched; channels excluding ``m`` dropped."""
        if isinstance(m, IngestedItem):
            m = matchable(m)
        entries = self._matched_entries(m)
        return _combine(entries) if entries else {}

    def match_many(self, items: Iterable[Matchable | IngestedItem]) -> list[Match]:
        """:meth:`match` for each item, in order."""
        return [self.match(item) for item in items]

    def _matched_entries(self, m: Matchable) -> list[_Entry]:
        """The distinct topics (with their channels) that ``m`` matches."""
        exact = self._exact
        found = _lookup(exact[TopicKind.CATEGORY], m.category_keys)
        found += _lookup(exact[TopicKind.ARCHIVE], m.archive_keys)
        found += _lookup(exact[TopicKind.AUTHOR], m.authors)
        found += _lookup(exact[TopicKind.VENUE], m.venues)
        found += _lookup(exact[TopicKind.FEED], (m.feed,))
        found += self._matched_keywords(m)
        return found

    def _matched_keywords(self, m: Matchable) -> list[_Entry]:
        """One-word phrases by set intersection; longer ones by their index word, then verified."""
        tokens, text = m.tokens, m.text
        single = self._single_words
        found = [entry for token in tokens & self._single_word_set for entry in single[token]]
        for token in tokens & self._phrase_tokens:
            for phrase, entry in self._phrases[token]:
                if phrase.tokens <= tokens and phrase.occurs_in(text):
                    found.append(entry)
        return found


def _entries(subs: Iterable[Subscription]) -> list[_Entry]:
    """Group subscriptions by topic (equal topics typed differently are one; first spelling kept).

    Channel ids are interned (one int object per id), so the set and dict operations that combine
    topics compare ids by identity instead of by value.
    """
    include: dict[Topic, set[int]] = defaultdict(set)
    exclude: dict[Topic, set[int]] = defaultdict(set)
    first: dict[Topic, Topic] = {}
    channels: dict[int, int] = {}
    for sub in subs:
        topic = first.setdefault(sub.topic, sub.topic)
        channel = channels.setdefault(sub.channel_id, sub.channel_id)
        (exclude if sub.exclude else include)[topic].add(channel)
    return [_Entry(topic, frozenset(include.get(topic, ())), frozenset(exclude.get(topic, ())))
            for topic in first]


_PhraseIndex = dict[str, list[tuple[Phrase, _Entry]]]


def _keyword_index(entries: list[_Entry]) -> tuple[dict[str, list[_Entry]], _PhraseIndex]:
    """One-word phrases by their word (``café`` and ``cafe`` are two topics with one folded word);
    the others by their index word. A phrase without a word (none parse so) can never match.
    """
    phrases = [(read_phrase(entry.topic.key), entry) for entry in entries]
    frequency = Counter(t for phrase, _ in phrases for t in phrase.tokens)
    single: dict[str, list[_Entry]] = defaultdict(list)
    index: _PhraseIndex = defaultdict(list)
    for phrase, entry in phrases:
        if phrase.single:
            single[phrase.words[0]].append(entry)
        elif phrase.tokens:
            index[index_token(phrase, frequency)].append((phrase, entry))
    return dict(single), dict(index)


def _lookup(table: dict[str, _Entry], keys: Iterable[str]) -> list[_Entry]:
    """The entries of ``table`` for the keys the item offers."""
    return [entry for key in keys if (entry := table.get(key)) is not None]


def _combine(entries: list[_Entry]) -> Match:
    """Channel -> matched topics, exclusions removed (they are applied last, so they win).

    Topics with many followers (categories, archives) go in largest first, with set and dict
    operations that run in C; a channel reached by one topic shares that topic's ``reasons``
    frozenset. Only channels reached by several big topics, and the few followers of small topics
    (authors, keywords), are visited one by one.
    """
    big = [entry for entry in entries if len(entry.include) >= _BIG_TOPIC]
    big.sort(key=_followers, reverse=True)
    result: Match = dict.fromkeys(big[0].include, big[0].reasons) if big else {}
    for entry in big[1:]:
        _add_big(result, entry)
    for entry in entries:
        if 0 < len(entry.include) < _BIG_TOPIC:
            _add_one_by_one(result, entry)
    for entry in entries:
        for channel in entry.exclude:
            result.pop(channel, None)
    return result


def _followers(entry: _Entry) -> int:
    return len(entry.include)


def _add_big(result: Match, entry: _Entry) -> None:
    """Add a big topic: channels not reached yet in one ``dict.update``; the others one by one."""
    fresh = entry.include.difference(result)
    if len(fresh) != len(entry.include):
        reasons = entry.reasons
        unions: dict[frozenset[Topic], frozenset[Topic]] = {}  # few distinct reason sets per item
        for channel in entry.include.difference(fresh):
            current = result[channel]
            combined = unions.get(current)
            if combined is None:
                combined = unions[current] = current | reasons
            result[channel] = combined
    result.update(dict.fromkeys(fresh, entry.reasons))


def _add_one_by_one(result: Match, entry: _Entry) -> None:
    """Add a small topic's channels to ``result``, each keeping the topics it already has."""
    reasons = entry.reasons
    for channel in entry.include:
        current = result.get(channel)
        result[channel] = reasons if current is None else current | reasons
