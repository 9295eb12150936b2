"""Matching benchmark: 100,000 subscriptions over 10,000 channels against the 1,504-item arXiv feed.

Times building the :class:`SubscriptionIndex`, matching every item with it, and the naive loop
(every subscription x every item, :func:`naive_match`) in the same process, and checks both give
identical results. The naive loop is slow (about 100 s over all items here), so by default
it runs on an evenly spaced sample of items and its time is scaled linearly to all of them; the
output says so. ``--naive-items 0`` runs it on every item.

Subscriptions are synthetic but realistic: mostly categories and archives (each channel has a home
field; busy categories are followed more), some authors and keywords drawn from the items (so there
are real hits), a few venues and feeds, ~5% exclusions. Seeded, so runs are comparable. Feed topics
name summary feeds, so they never hit the arXiv items here.

The first build of a process also parses the keyword phrases (cached per process, as in the bot,
which rebuilds its index per digest run); the first build and match are reported as "cold". The
naive loop's per-phrase regexes are compiled before it is timed.

    python bench/match.py [--feed PATH] [--subs 100000] [--channels 10000] [--naive-items 100]
Targets: index >= 20x faster than naive; matching all items with the index under 1 s.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.core import taxonomy  # noqa: E402
from bot.core.matching import (  # noqa: E402
    Match,
    Matchable,
    Subscription,
    SubscriptionIndex,
    matchable,
    naive_match,
)
from bot.core.topics import Topic, TopicError, parse_topic  # noqa: E402
from bot.ingest.sources.arxiv_rss import parse_arxiv_rss  # noqa: E402
from storage.models import IngestedItem, PaperRecord, StoredPaper  # noqa: E402

DEFAULT_FEED = REPO.parent / "shared" / "fixtures" / "feeds" / "arxiv_rss2024_all_archives_2024-11-28.xml"
FEEDS = ("shortscience", "paperswithcode")
ITEM_FEED = "arxiv"
KIND_WEIGHTS = {"category": 0.58, "archive": 0.10, "author": 0.14, "keyword": 0.14,
                "venue": 0.025, "feed": 0.015}
EXCLUDE_SHARE = 0.05
COMMON_KEYWORDS = (
    "transformer", "large language models", "graph neural network", "self-supervised",
    "reinforcement learning", "diffusion models", "dark matter", "black hole", "quantum error correction",
    "topological", "superconductivity", "gravitational waves", "federated learning", "benchmark",
    "neural networks", "Schrödinger equation", "Bayesian", "optimal transport", "LLM", "exoplanet",
)
VENUES = ("nips", "neurips", "icml", "iclr", "conf/nips", "conf/iclr", "jhep", "jcap", "cvpr", "acl",
          "ieee", "nature", "prl", "aaai", "physical", "ijcnn")
STOP_WORDS = frozenset({"a", "an", "and", "as", "at", "by", "for", "from", "in", "into", "is", "of",
                        "on", "or", "the", "to", "via", "with", "using", "based", "its", "their"})
T = TypeVar("T")


# --- items ----------------------------------------------------------------------------------------

def load_items(path: Path) -> list[IngestedItem]:
    """The feed's papers, each wrapped as an ingested-paper item the way the store hands them out."""
    papers = parse_arxiv_rss(path.read_bytes()).papers
    return [IngestedItem(seq=seq, kind="paper", event=p.announce_type or "new", feed=ITEM_FEED,
                         paper=stored_paper(p, seq)) for seq, p in enumerate(papers, 1)]


def stored_paper(p: PaperRecord, seq: int) -> StoredPaper:
    """A store row for a parsed paper (one version known)."""
    return StoredPaper(arxiv_id=p.arxiv_id, title=p.title, authors=p.authors, abstract=p.abstract,
                       categories=p.categories, latest_version=p.version, announce_type=p.announce_type,
                       doi=p.doi, journal_ref=p.journal_ref, comment=p.comment, published=p.published,
                       updated=p.updated, seq=seq, versions=[p.version])


# --- subscriptions --------------------------------------------------------------------------------

class SubscriptionMaker:
    """Draws realistic topics from the items, so authors and keywords really hit.

    Each channel has a home archive: most of its categories and archives come from there, as a
    real community's channel follows one field, not all of arXiv. Archives and categories are
    drawn with weight sqrt(papers in the feed + 1): busy ones are followed more, but every niche
    has its followers too (weights proportional to volume would have half the channels on cs.LG).
    """

    def __init__(self, rng: random.Random, papers: list[StoredPaper]) -> None:
        self.rng = rng
        self.papers = papers
        used = Counter(taxonomy.canonical(c) for p in papers for c in p.categories)
        self.category_weights = {c: math.sqrt(used.get(c, 0) + 1) for c in taxonomy.CATEGORIES}
        archive_use = Counter(taxonomy.archive_of(c) for p in papers for c in p.categories)
        self.archive_weights = {a: math.sqrt(archive_use.get(a, 0) + 1) for a in taxonomy.ARCHIVES}
        self.venue_words = sorted({w for p in papers if p.journal_ref for w in p.journal_ref.split()
                                   if w.isalpha() and len(w) > 2})
        self.makers: dict[str, Callable[[str], str]] = {
            "category": self.category, "archive": self.archive, "author": self.author,
            "keyword": self.keyword, "venue": self.venue, "feed": self.feed,
        }

    def home(self) -> str:
        """A channel's home archive."""
        return self.weighted(self.archive_weights)

    def topic(self, home: str) -> Topic:
        """One topic of a kind drawn by ``KIND_WEIGHTS`` (retrying text the parser rejects)."""
        kind = self.weighted(KIND_WEIGHTS)
        while True:
            try:
                return parse_topic(self.makers[kind](home), FEEDS)
            except TopicError:
                continue

    def category(self, home: str) -> str:
        """Mostly a category of the home archive, weighted by use; sometimes any category."""
        if self.rng.random() < 0.85:
            return self.weighted({c: w for c, w in self.category_weights.items()
                                  if taxonomy.archive_of(c) == home})
        return self.weighted(self.category_weights)

    def archive(self, home: str) -> str:
        return home if self.rng.random() < 0.7 else self.weighted(self.archive_weights)

    def author(self, home: str) -> str:
        """Mostly a real author of the feed (sometimes re-cased), else someone not in it."""
        if self.rng.random() < 0.3:
            return f"author:{self.pick(('Ada', 'Alan', 'Emmy'))} Person{self.rng.randrange(10**5)}"
        name = self.pick(self.pick(self.papers).authors or ["Nobody"])
        return f"author:{name.upper() if self.rng.random() < 0.1 else name}"

    def keyword(self, home: str) -> str:
        """Mostly 1-3 words from a real title (no leading/trailing "for", "the"...), else a common one."""
        if self.rng.random() < 0.3:
            return f"keyword:{self.pick(COMMON_KEYWORDS)}"
        words = [w.strip(".,:;()") for w in self.pick(self.papers).title.split()]
        words = [w for w in words if len(w) > 1 and w.replace("-", "").isalpha()]
        length = self.rng.choice((1, 1, 2, 2, 3))
        starts = [i for i in range(len(words) - length + 1)
                  if self.content_word(words[i]) and self.content_word(words[i + length - 1])
                  and (length > 1 or len(words[i]) > 3)]
        if not starts:
            return f"keyword:{self.pick(COMMON_KEYWORDS)}"
        start = self.pick(starts)
        return f"keyword:{' '.join(words[start:start + length])}"

    @staticmethod
    def content_word(word: str) -> bool:
        return word.lower() not in STOP_WORDS

    def venue(self, home: str) -> str:
        pool = VENUES if self.rng.random() < 0.7 or not self.venue_words else self.venue_words
        return f"venue:{self.pick(pool)}"

    def feed(self, home: str) -> str:
        return f"feed:{self.pick(FEEDS)}"

    def weighted(self, weights: dict[str, float] | dict[str, int]) -> str:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def pick(self, seq: list[T] | tuple[T, ...]) -> T:
        return seq[self.rng.randrange(len(seq))]


def make_subscriptions(papers: list[StoredPaper], count: int, channels: int,
                       seed: int) -> list[Subscription]:
    """``count`` subscriptions; every channel gets one, the rest go to channels with a mild skew."""
    rng = random.Random(seed)
    maker = SubscriptionMaker(rng, papers)
    homes = [maker.home() for _ in range(channels)]
    subs: list[Subscription] = []
    for i in range(count):
        channel = i if i < channels else int(channels * rng.random() ** 1.3)
        subs.append(Subscription(channel, maker.topic(homes[channel]),
                                 exclude=rng.random() < EXCLUDE_SHARE))
    return subs


# --- timing ---------------------------------------------------------------------------------------

def timed(fn: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def prepare(items: list[IngestedItem]) -> list[Matchable]:
    """Matchables with their derived sets computed, as both matchers need them."""
    ms = [matchable(item) for item in items]
    for m in ms:
        _ = m.category_keys, m.archive_keys, m.tokens
    return ms


def sample(n: int, total: int) -> list[int]:
    """``n`` evenly spaced indices out of ``total`` (all of them when ``n`` is 0 or too big)."""
    if n <= 0 or n >= total:
        return list(range(total))
    return [round(i * (total - 1) / (n - 1)) for i in range(n)] if n > 1 else [0]


def describe(subs: list[Subscription], deliveries: int, items: int) -> str:
    kinds = Counter(s.topic.kind.value for s in subs)
    excluded = sum(s.exclude for s in subs)
    mix = ", ".join(f"{k} {v}" for k, v in kinds.most_common())
    return (f"subscriptions: {len(subs)} over {len({s.channel_id for s in subs})} channels "
            f"({mix}; {excluded} exclusions)\n"
            f"deliveries: {deliveries} (channel, item) pairs, {deliveries / max(items, 1):.0f} "
            f"channels per item on average")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feed", type=Path, default=DEFAULT_FEED)
    parser.add_argument("--subs", type=int, default=100_000)
    parser.add_argument("--channels", type=int, default=10_000)
    parser.add_argument("--naive-items", type=int, default=100,
                        help="items the naive loop runs on (0 = all); its time is scaled to all items")
    parser.add_argument("--runs", type=int, default=5, help="index build/match runs (median)")
    parser.add_argument("--seed", type=int, default=20241128)
    args = parser.parse_args()

    items, load_time = timed(lambda: load_items(args.feed))
    papers = [item.paper for item in items if item.paper is not None]
    subs, make_time = timed(lambda: make_subscriptions(papers, args.subs, args.channels, args.seed))
    ms, prep_time = timed(lambda: prepare(items))

    builds = [timed(lambda: SubscriptionIndex(subs)) for _ in range(args.runs)]
    index = builds[-1][0]
    build_best, build_median = best_and_median([t for _, t in builds])
    chosen = sample(args.naive_items, len(ms))
    runs = [timed(lambda: match_all(index, ms, set(chosen))) for _ in range(args.runs)]
    deliveries, kept = runs[-1][0]
    match_best, match_median = best_and_median([t for _, t in runs])

    naive_match(subs, ms[0])  # warm-up: compiles the naive loop's per-phrase regexes, outside the clock
    naive, naive_sample_time = timed(lambda: [naive_match(subs, ms[i]) for i in chosen])
    naive_time = naive_sample_time * len(ms) / len(chosen)
    mismatches = [i for i, expected in zip(chosen, naive, strict=True) if kept[i] != expected]
    speedup = naive_time / match_median

    print(f"feed: {args.feed.name}: {len(items)} items (parsed in {load_time:.2f} s)")
    print(describe(subs, deliveries, len(ms)))
    print(f"setup: subscriptions generated in {make_time:.2f} s; matchables built in "
          f"{prep_time * 1000:.0f} ms ({prep_time / len(ms) * 1e6:.0f} us/item, not in the times below)")
    print(f"times: wall clock, median (best) of {args.runs} runs")
    print(f"index build, {index.topics} distinct topics:   {build_median * 1000:8.1f} ms "
          f"({build_best * 1000:.1f}); cold {builds[0][1] * 1000:.1f} ms")
    print(f"index match, all {len(ms)} items:          {match_median * 1000:8.1f} ms "
          f"({match_best * 1000:.1f}); cold {runs[0][1] * 1000:.1f} ms; "
          f"{match_median / len(ms) * 1e6:.0f} us/item")
    if len(chosen) == len(ms):
        print(f"naive loop, all {len(ms)} items (measured): {naive_time * 1000:8.1f} ms")
    else:
        print(f"naive loop, {len(chosen)} evenly spaced items (measured, once): "
              f"{naive_sample_time * 1000:.1f} ms")
        print(f"naive loop, all {len(ms)} items:           {naive_time * 1000:8.1f} ms "
              f"(EXTRAPOLATED linearly x{len(ms) / len(chosen):.2f} from the sample)")
    print(f"speed-up naive/index (median): {speedup:8.0f}x   target >= 20x: "
          f"{'OK' if speedup >= 20 else 'MISSED'}")
    print(f"index match, all items:        {match_median:8.3f} s   target < 1 s: "
          f"{'OK' if match_median < 1 else 'MISSED'} (best {match_best:.3f} s; "
          f"build + match {build_median + match_median:.3f} s)")
    verdict = "identical" if not mismatches else f"{len(mismatches)} DIFFER, e.g. item {mismatches[0]}"
    print(f"index vs naive on the {len(chosen)} items both ran: {verdict}")
    if mismatches:
        sys.exit(1)


def match_all(index: SubscriptionIndex, ms: list[Matchable], keep: set[int]) -> tuple[int, dict[int, Match]]:
    """Match every item as a digest run would; count deliveries, keep the results to check."""
    deliveries = 0
    kept: dict[int, Match] = {}
    for i, m in enumerate(ms):
        result = index.match(m)
        deliveries += len(result)
        if i in keep:
            kept[i] = result
    return deliveries, kept


def best_and_median(times: list[float]) -> tuple[float, float]:
    return min(times), statistics.median(times)


if __name__ == "__main__":
    main()
