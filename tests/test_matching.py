"""Subscriptions -> matches with reasons: every topic kind, exclusions, summaries, index = naive."""

from __future__ import annotations

import random
import re

import pytest

from bot.core import matching
from bot.core.matching import (
    Matchable,
    Subscription,
    SubscriptionIndex,
    fold_text,
    matchable,
    naive_match,
    venue_keys,
)
from bot.core.topics import Topic, TopicKind, parse_topic
from storage.models import IngestedItem, StoredPaper, StoredSummary

FEEDS = ("shortscience", "paperswithcode")


# --- helpers --------------------------------------------------------------------------------------

def paper(title: str = "A paper", abstract: str = "", categories: tuple[str, ...] = ("cs.LG",),
          authors: tuple[str, ...] = (), journal_ref: str | None = None) -> StoredPaper:
    return StoredPaper(arxiv_id="2411.00001", title=title, authors=list(authors), abstract=abstract,
                       categories=list(categories), latest_version=1, announce_type="new", doi=None,
                       journal_ref=journal_ref, comment=None, published=None, updated=None, seq=1)


def paper_item(feed: str = "arxiv:cs.LG", **fields: object) -> IngestedItem:
    return IngestedItem(seq=1, kind="paper", event="new", feed=feed, paper=paper(**fields))  # type: ignore[arg-type]


def summary_item(title: str = "Summary of a paper", text: str = "", bibtex_key: str | None = None,
                 linked: StoredPaper | None = None, feed: str = "shortscience") -> IngestedItem:
    summary = StoredSummary(source=feed, guid="g1", title=title, text=text, author="someone",
                            link=None, arxiv_id=linked.arxiv_id if linked else None, doi=None,
                            bibtex_key=bibtex_key, votes=None, edited_at=None, seq=2)
    return IngestedItem(seq=2, kind="summary", event="new", feed=feed, paper=linked, summary=summary)


def topic(text: str) -> Topic:
    return parse_topic(text, FEEDS)


def subs_of(*specs: tuple[int, str] | tuple[int, str, bool]) -> list[Subscription]:
    """``(channel, topic text[, exclude])`` -> subscriptions."""
    return [Subscription(spec[0], topic(spec[1]), *spec[2:]) for spec in specs]


def match(subs: list[Subscription], item: IngestedItem | Matchable) -> dict[int, frozenset[Topic]]:
    """The index's answer, checked against the naive loop on every call."""
    m = item if isinstance(item, Matchable) else matchable(item)
    got = SubscriptionIndex(subs).match(m)
    assert got == naive_match(subs, m)
    return got


def matches(topic_text: str, item: IngestedItem) -> bool:
    return 1 in match(subs_of((1, topic_text)), item)


def keyword_matches(phrase: str, text: str) -> bool:
    return matches(f"keyword:{phrase}", paper_item(title="", abstract=text))


# --- categories, archives, aliases ----------------------------------------------------------------

def test_category_matches_primary_and_cross_lists() -> None:
    item = paper_item(categories=("cs.LG", "stat.ML"))
    assert matches("cs.LG", item)
    assert matches("stat.ML", item)
    assert not matches("cs.AI", item)


def test_archive_matches_every_category_in_it() -> None:
    item = paper_item(categories=("cs.LG",))
    assert matches("cs", item)
    assert matches("cs.*", item)
    assert not matches("math", item)
    assert not matches("stat", item)


def test_single_category_archive() -> None:
    item = paper_item(categories=("hep-th", "gr-qc"))
    assert matches("hep-th", item)
    assert matches("gr-qc", item)
    assert not matches("hep-ph", item)


@pytest.mark.parametrize("listed", ["eess.SY", "cs.SY"])
@pytest.mark.parametrize("followed", ["eess.SY", "cs.SY", "eess", "cs"])
def test_aliases_are_one_category(listed: str, followed: str) -> None:
    assert matches(followed, paper_item(categories=(listed,)))


def test_alias_key_typed_directly_still_matches() -> None:
    """A topic built with the alias spelling (not via the parser) matches the canonical category."""
    alias = Topic(TopicKind.CATEGORY, "cs.SY", "cs.SY")
    assert 1 in match([Subscription(1, alias)], paper_item(categories=("eess.SY",)))


def test_alias_reaches_the_other_archive_only_through_the_alias() -> None:
    assert matches("math", paper_item(categories=("math-ph",)))  # listed as math.MP too
    assert not matches("eess", paper_item(categories=("cs.LG",)))


def test_unknown_or_retired_category_is_harmless() -> None:
    item = paper_item(categories=("cmp-lg", "solv-int"))
    assert not matches("cs", item)
    assert match(subs_of((1, "cs.CL")), item) == {}


# --- authors --------------------------------------------------------------------------------------

@pytest.mark.parametrize("followed", ["author:André Martins", "author:Andr\\'e Martins",
                                      "author:andre martins", "author:ANDRÉ  MARTINS",
                                      "author:Andr{\\'e} Martins"])
@pytest.mark.parametrize("listed", ["André Martins", "Andr\\'e Martins", "andre martins"])
def test_author_names_are_normalized(followed: str, listed: str) -> None:
    assert matches(followed, paper_item(authors=("Someone Else", listed)))


def test_author_is_a_whole_name() -> None:
    item = paper_item(authors=("Sergey Levine",))
    assert not matches("author:Levine", item)
    assert not matches("author:Sergey Levine Jr", item)
    assert matches("author:Sergey Levine", item)


def test_summary_matches_its_papers_authors_not_its_writer() -> None:
    linked = paper(authors=("Yoshua Bengio",))
    item = summary_item(linked=linked)
    assert matches("author:Yoshua Bengio", item)
    assert not matches("author:someone", item)


# --- venues ---------------------------------------------------------------------------------------

def test_venues_from_dblp_bibtex_keys() -> None:
    assert venue_keys("conf/nips/ZhangS18") >= {"conf/nips", "nips", "neurips"}
    assert venue_keys("journals/corr/abs-1805-08296") == {"journals/corr", "corr"}
    assert venue_keys("zhang2018deep") == frozenset()
    assert "conf" not in venue_keys("conf/iclr/X19")


@pytest.mark.parametrize("followed", ["venue:nips", "venue:NIPS", "venue:conf/nips", "venue:neurips"])
def test_summary_venue_from_bibtex_key(followed: str) -> None:
    assert matches(followed, summary_item(bibtex_key="conf/nips/ZhangS18"))


@pytest.mark.parametrize("followed", ["venue:icml", "venue:conf", "venue:conf/icml", "venue:zhangs18"])
def test_summary_venue_does_not_match_other_venues(followed: str) -> None:
    assert not matches(followed, summary_item(bibtex_key="conf/nips/ZhangS18"))


@pytest.mark.parametrize(("journal_ref", "followed"), [
    ("NeurIPS 2018", "venue:neurips"),
    ("NeurIPS 2018", "venue:nips"),
    ("JCAP11(2024)045", "venue:jcap"),
    ("JHEP 11 (2024) 057", "venue:jhep"),
    ("2023 International Joint Conference on Neural Networks (IJCNN)", "venue:ijcnn"),
    ("The Thirty-eight Conference on Neural Information Processing Systems (2024)", "venue:neurips"),
    ("Phys. Rev. Lett. 133, 226001 (2024)", "venue:lett"),
])
def test_paper_venue_from_journal_ref(journal_ref: str, followed: str) -> None:
    assert matches(followed, paper_item(journal_ref=journal_ref))


def test_paper_without_journal_ref_has_no_venue() -> None:
    assert not matches("venue:neurips", paper_item(abstract="Accepted at NeurIPS 2024."))
    assert not matches("venue:2018", paper_item(journal_ref="NeurIPS 2018"))


def test_summary_venue_from_its_papers_journal_ref() -> None:
    item = summary_item(bibtex_key=None, linked=paper(journal_ref="ICML 2020"))
    assert matches("venue:icml", item)


# --- feeds ----------------------------------------------------------------------------------------

def test_feed_topic_matches_everything_from_that_feed() -> None:
    assert matches("feed:shortscience", summary_item(feed="shortscience"))
    assert matches("feed:shortscience", summary_item(feed="shortscience", linked=paper()))
    assert not matches("feed:shortscience", paper_item())
    assert not matches("feed:paperswithcode", summary_item(feed="shortscience"))


# --- keywords -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("phrase", "text", "expected"), [
    ("graph", "A graph of things", True),
    ("graph", "GRAPH", True),
    ("graph", "(graph)", True),
    ("graph", "graph-based methods", True),
    ("graph", "a paragraph", False),
    ("graph", "graphs", False),
    ("graph", "subgraph", False),
    ("graph", "graph_based", True),  # underscore separates words
    ("graph neural network", "A Graph  Neural\nNetwork for X", True),
    ("graph neural network", "graph neural networks", False),  # no plurals: predictable
    ("graph neural network", "graph, neural network", False),
    ("graph neural network", "neural network graph", False),
    ("graph neural networks", "Graph Neural Networks.", True),
    ("self-supervised", "Self-Supervised learning", True),
    ("self-supervised", "self supervised learning", True),
    ("self-supervised", "self\u2010supervised", True),  # Unicode hyphen
    ("self supervised", "self-supervised learning", True),
    ("self-supervised", "selfsupervised", False),
    ("schrodinger", "the Schrödinger equation", True),
    ("Schrödinger equation", "the schrodinger equation", True),
    ("schrödinger", 'the nonlinear Schr\\"odinger equation', True),
    ("naive", "a naïve baseline", True),
    ("c++", "written in C++ and Rust", True),
    ("node.js", "a Node.js server", True),
    ("node.js", "node js", False),
    ("gpt-4", "GPT 4 and GPT-4", True),
    ("gpt-4", "GPT4", False),
    ("2d", "2D materials", True),
    ("large language models", "LARGE LANGUAGE MODELS", True),
])
def test_keyword_semantics(phrase: str, text: str, expected: bool) -> None:
    assert keyword_matches(phrase, text) is expected


def test_keyword_searches_title_and_abstract() -> None:
    item = paper_item(title="Diffusion models", abstract="We study transformers.")
    assert matches("diffusion models", item)
    assert matches("transformers", item)


def test_keyword_phrase_does_not_span_title_into_abstract() -> None:
    item = paper_item(title="Learning on a graph", abstract="Neural networks are used.")
    assert not matches("graph neural networks", item)


def test_keyword_in_summary_text_and_in_its_papers_abstract() -> None:
    linked = paper(title="Attention is all you need", abstract="The dominant sequence models.")
    item = summary_item(title="Review", text="This **transformer** paper...", linked=linked)
    assert matches("transformer", item)
    assert matches("sequence models", item)
    assert matches("attention", item)
    assert not matches("convolution", item)


def test_keyword_that_looks_like_an_archive() -> None:
    item = paper_item(abstract="Physics-informed networks.", categories=("cs.LG",))
    assert matches("keyword:physics", item)
    assert not matches("physics", item)  # the archive


def test_word_character_rule_is_isalnum() -> None:
    """The index checks boundaries with ``str.isalnum``, the naive regex with ``[^\\W_]``."""
    letter_or_digit = re.compile(r"[^\W_]")
    assert all((letter_or_digit.match(chr(c)) is not None) == chr(c).isalnum() for c in range(0x10000))


def test_fold_text() -> None:
    assert fold_text("Schr\\\"odinger and Andr\\'{e}") == "schrodinger and andre"
    assert fold_text("ÉCOLE") == "ecole"
    assert fold_text("$x \\times y$") == "$x \\times y$"


# --- exclusions, reasons, summaries ---------------------------------------------------------------

def test_exclusion_wins_over_any_number_of_matches() -> None:
    subs = subs_of((1, "cs.LG"), (1, "cs"), (1, "survey", True), (2, "cs.LG"))
    item = paper_item(title="A survey of methods", categories=("cs.LG",))
    assert match(subs, item) == {2: frozenset({topic("cs.LG")})}
    assert set(match(subs, paper_item(title="A method", categories=("cs.LG",)))) == {1, 2}


def test_exclusion_only_channel_gets_nothing() -> None:
    assert match(subs_of((1, "cs.LG", True)), paper_item()) == {}


def test_excluding_and_following_the_same_topic_excludes() -> None:
    assert match(subs_of((1, "cs.LG"), (1, "cs.LG", True)), paper_item()) == {}


def test_exclusion_by_author_venue_and_feed() -> None:
    subs = subs_of((1, "feed:shortscience"), (1, "author:Jane Doe", True),
                   (2, "feed:shortscience"), (2, "venue:nips", True),
                   (3, "feed:shortscience"), (3, "feed:shortscience", True))
    item = summary_item(bibtex_key="conf/nips/X18", linked=paper(authors=("Jane Doe",)))
    assert match(subs, item) == {}  # 1 excludes the author, 2 the venue, 3 the whole feed
    assert set(match(subs, summary_item())) == {1, 2}


def test_each_match_reports_the_topics_that_matched() -> None:
    subs = subs_of((1, "cs.LG"), (1, "cs"), (1, "author:Ada Lovelace"), (1, "quantum"),
                   (1, "math.CO"), (1, "venue:icml"), (2, "stat.ML"))
    item = paper_item(title="Engines", categories=("cs.LG", "stat.ML"), authors=("Ada Lovelace",))
    assert match(subs, item) == {
        1: frozenset({topic("cs.LG"), topic("cs"), topic("author:Ada Lovelace")}),
        2: frozenset({topic("stat.ML")}),
    }


def test_equal_topics_spelled_differently_are_one_reason() -> None:
    subs = subs_of((1, "author:André Martins"), (1, "author:andre martins"))
    got = match(subs, paper_item(authors=("André Martins",)))
    assert got == {1: frozenset({topic("author:andre martins")})}
    assert len(got[1]) == 1


def test_summary_matches_through_its_linked_papers_categories() -> None:
    linked = paper(categories=("eess.SY", "math.OC"))
    assert matches("cs.SY", summary_item(linked=linked))
    assert matches("math", summary_item(linked=linked))
    assert not matches("cs.SY", summary_item(linked=None))


def test_matchable_of_a_summary() -> None:
    linked = paper(title="T", abstract="A", categories=("cs.LG",), authors=("Zoë X",),
                   journal_ref="NeurIPS 2019")
    m = matchable(summary_item(title="S", text="B", bibtex_key="conf/icml/Y20", linked=linked))
    assert m.categories == ("cs.LG",)
    assert m.authors == {"zoe x"}
    assert m.venues >= {"conf/icml", "icml", "neurips", "nips"}
    assert m.feed == "shortscience"
    assert m.text.split(" \x00 ") == ["s", "b", "t", "a"]


# --- the index itself -----------------------------------------------------------------------------

def test_match_takes_an_ingested_item_and_match_many() -> None:
    index = SubscriptionIndex.build(subs_of((1, "cs.LG"), (2, "math")))
    items = [paper_item(categories=("cs.LG",)), paper_item(categories=("math.CO",)),
             paper_item(categories=())]
    assert index.match(items[0]) == {1: frozenset({topic("cs.LG")})}
    assert index.match_many(items) == [{1: frozenset({topic("cs.LG")})},
                                       {2: frozenset({topic("math")})}, {}]
    assert len(index) == 2


def test_empty_index_matches_nothing() -> None:
    assert SubscriptionIndex().match(paper_item()) == {}


def test_index_never_checks_subscriptions_one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    subs = subs_of((1, "cs.LG"), (2, "graph neural network"), (3, "author:Ada Lovelace"))
    index = SubscriptionIndex(subs)

    def scan(*_: object) -> bool:
        raise AssertionError("the index fell back to checking every subscription")

    monkeypatch.setattr(matching, "topic_matches", scan)
    item = paper_item(title="Graph neural network", authors=("Ada Lovelace",))
    assert set(index.match(item)) == {1, 2, 3}


# --- index == naive on random data ----------------------------------------------------------------

_WORDS = ("graph", "neural", "network", "networks", "quantum", "field", "theory", "learning", "deep",
          "self", "supervised", "model", "models", "dark", "matter", "black", "hole", "paragraph",
          "schrödinger", "naïve", "équation", "large", "language", "c++", "2d", "data", "of", "the")
_SEPARATORS = (" ", "  ", "-", "\n", ", ", ". ", " (", ") ", "/", "\u2010")
_CATEGORIES = ("cs.LG", "cs.AI", "stat.ML", "eess.SY", "cs.SY", "math.OC", "math-ph", "math.MP",
               "hep-th", "gr-qc", "cs.IT", "math.IT", "q-bio.NC", "physics.optics", "cmp-lg")
_AUTHORS = ("André Martins", "Andr\\'e Martins", "andre martins", "Sergey Levine", "Zoë Kravitz",
            "Jürgen Schmidhuber", "Yann LeCun", "Ada Lovelace")
_BIBTEX = ("conf/nips/ZhangS18", "conf/icml/Li20", "journals/corr/abs-1805-08296", "zhang2018", None)
_JOURNALS = ("NeurIPS 2018", "JHEP 11 (2024) 057", "Phys. Rev. Lett. 133 (2024)", "ICML", None)
_FEEDS = ("arxiv:cs.LG", "shortscience", "paperswithcode")


def _random_text(rng: random.Random, words: int) -> str:
    parts = []
    for _ in range(words):
        word = rng.choice(_WORDS)
        word = word.upper() if rng.random() < 0.1 else word.title() if rng.random() < 0.2 else word
        parts += [word, rng.choice(_SEPARATORS)]
    return "".join(parts)


def _random_matchable(rng: random.Random) -> Matchable:
    bibtex = rng.choice(_BIBTEX) if rng.random() < 0.3 else None
    return Matchable(
        categories=tuple(rng.sample(_CATEGORIES, rng.randint(0, 3))),
        authors=frozenset(rng.sample(_AUTHORS, rng.randint(0, 3))),
        text=" | ".join(_random_text(rng, rng.randint(3, 40)) for _ in range(rng.randint(1, 3))),
        venues=venue_keys(bibtex, rng.choice(_JOURNALS)),
        feed=rng.choice(_FEEDS),
    )


def _random_topic(rng: random.Random) -> Topic:
    kind = rng.choices(["cat", "archive", "author", "venue", "feed", "keyword"], [5, 2, 2, 1, 1, 4])[0]
    if kind == "cat":
        return topic(rng.choice(_CATEGORIES[:-1]))
    if kind == "archive":
        return topic(rng.choice(("cs", "math", "stat", "eess", "physics", "q-bio")))
    if kind == "author":
        return topic(f"author:{rng.choice(_AUTHORS)}")
    if kind == "venue":
        return topic(f"venue:{rng.choice(('nips', 'neurips', 'conf/nips', 'icml', 'corr', 'jhep', 'lett'))}")
    if kind == "feed":
        return topic(f"feed:{rng.choice(FEEDS)}")
    words = [rng.choice(_WORDS) for _ in range(rng.choice((1, 1, 2, 2, 3)))]
    joined = "".join(w + rng.choice((" ", "-", " ")) for w in words).strip(" -")
    return topic(f"keyword:{joined}")


@pytest.mark.parametrize("big_topic", [1, 16, 10**9])  # every set-operation / one-by-one split
def test_index_equals_naive_on_random_data(monkeypatch: pytest.MonkeyPatch, big_topic: int) -> None:
    monkeypatch.setattr(matching, "_BIG_TOPIC", big_topic)
    rng = random.Random(1234)
    subs = [Subscription(rng.randrange(150), _random_topic(rng), exclude=rng.random() < 0.08)
            for _ in range(3000)]
    index = SubscriptionIndex(subs)
    items = [_random_matchable(rng) for _ in range(600)]
    results = index.match_many(items)
    for m, got in zip(items, results, strict=True):
        assert got == naive_match(subs, m), m
    # the data exercises what it should: many hits, several reasons, exclusions that bite
    assert sum(len(r) for r in results) > 10_000
    assert any(len(reasons) >= 3 for r in results for reasons in r.values())
    assert any(len(naive_match([s for s in subs if not s.exclude], m)) > len(r)
               for m, r in zip(items, results, strict=True))
    kinds = {t.kind for r in results for reasons in r.values() for t in reasons}
    assert kinds == set(TopicKind)
