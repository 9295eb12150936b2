"""How a PostgreSQL search read is run (storage/postgres/plans.py) and spelled: no server."""

from __future__ import annotations

from storage.postgres.plans import ElementShares, Plan, SearchStatistics, element_shares

WORDS = ElementShares({"learning": 0.5, "deep": 0.12, "model": 0.4, "graph": 0.05}, floor=0.001)
CATEGORIES = ElementShares({"cs": 0.5, "cs.LG": 0.2, "math.SG": 0.002}, floor=0.001)
STATS = SearchStatistics(1_000_000, {"search": WORDS, "title_search": WORDS, "category_keys": CATEGORIES})


def test_common_words_walk_the_ids_and_rare_ones_take_the_bitmap() -> None:
    assert STATS.plan("search", ["learning"], None, 500) is Plan.WALK  # half the papers: 1,000 rows read
    assert STATS.plan("search", ["krylov"], None, 500) is Plan.BITMAP  # unlisted: 500 matches at most
    # Two words of 12% and 5%: 6,000 matches, a walk would read 83,000 papers for 500 of them.
    assert STATS.plan("search", ["deep", "graph"], None, 500) is Plan.BITMAP
    assert STATS.plan("search", ["learning", "model"], None, 500) is Plan.WALK


def test_a_category_counts_in_the_estimate() -> None:
    assert STATS.plan("search", ["learning"], "cs", 500) is Plan.WALK
    assert STATS.plan("search", ["deep", "graph"], "cs.LG", 500) is Plan.BITMAP  # 1,200 matches
    # 2,000 papers in math.SG: the index steps through half a million matches to its 1,000.
    assert STATS.plan("search", ["learning"], "math.SG", 500) is Plan.BITMAP


def test_without_statistics_the_planner_decides() -> None:
    bare = SearchStatistics(1_000_000, {"search": WORDS})
    assert bare.plan("search", ["learning"], "cs", 500) is Plan.PLANNER  # no category statistics
    assert bare.plan("title_search", ["learning"], None, 500) is Plan.PLANNER
    assert STATS.plan("title_plain", ["learning"], None, 500) is Plan.PLANNER  # not a vector
    assert STATS.plan("search", [], None, 500) is Plan.PLANNER


def test_counts_come_from_the_shares() -> None:
    assert STATS.listed_count("search", "deep") == 120_000
    assert STATS.listed_count("search", "krylov") is None
    assert STATS.unlisted_bound("search") == 1_001  # an unlisted word is in fewer than 0.1%
    assert STATS.unlisted_bound("abstract") == 1_000_000  # no statistics: count everything


def test_pg_stats_arrays_are_read_with_their_trailing_figures() -> None:
    shares = element_shares(["a", "b"], [0.5, 0.25, 0.25, 0.5, 0.0])  # then min, max, nulls
    assert shares == ElementShares({"a": 0.5, "b": 0.25}, 0.25)
    assert shares.share("c") == 0.125
    assert element_shares(None, None) is None
    assert element_shares(["a"], [0.5]) is None  # no minimum: not what pg_stats gives


def test_a_typed_prefix_is_as_common_as_the_words_it_starts() -> None:
    assert WORDS.prefix_share("learn") == 0.5
    assert WORDS.prefix_share("") == 1.0  # every word: at most every row
    assert ElementShares({"graph": 0.05, "graphs": 0.02}, 0.001).prefix_share("grap") == 0.07
    assert WORDS.prefix_share("zyx") == 0.0005
    assert STATS.plan("title_search", [], None, 25, prefix="learn") is Plan.WALK
    assert STATS.plan("title_search", ["graph"], None, 25, prefix="zyx") is Plan.BITMAP
    # "krylov lea": a rare word and a prefix matching half the titles: gathering the prefix's
    # entries would cost more than checking it on the rare word's few matches.
    assert STATS.plan("title_search", ["krylov"], None, 25, prefix="lea") is Plan.WORDS_BITMAP
    assert STATS.plan("title_search", [], None, 25, prefix="lea") is Plan.WALK  # nothing else to go by


def test_a_bitmap_looks_up_only_the_rarest_words() -> None:
    rare = ElementShares({"of": 0.99, "the": 0.98, "learning": 0.5, "quantum": 0.08, "graph": 0.05,
                          "spin": 0.01}, 0.001)
    stats = SearchStatistics(1_000_000, {"search": rare})
    # krylov (unlisted: 500 papers) alone finds few enough; the rest is checked on those
    assert stats.looked_up("search", ["of", "the", "spin", "krylov", "graph", "learning"]) == ["krylov"]
    # 5% then 1%: 500 papers with both
    assert stats.looked_up("search", ["of", "the", "graph", "spin"]) == ["spin", "graph"]
    # quantum alone would be 80,000 papers to check: learning is looked up too (40,000 -> the
    # whole query's 39,000 or so is within half again of it)
    assert stats.looked_up("search", ["of", "quantum", "learning"]) == ["quantum", "learning"]
    assert stats.looked_up("search", ["spin", "krylov"]) == ["krylov"]  # spin is checked on its 500
    assert stats.looked_up("search", ["graph", "quantum"]) is None  # both needed: the whole query
    assert stats.looked_up("search", ["of"]) is None
    assert stats.looked_up("title_search", ["of", "spin"]) is None  # no statistics


def test_words_reach_a_vector_query_only_quoted() -> None:
    """A paper-vector query is quoted plain words joined by ``&`` (storage/postgres/search.py);
    what a search box holds is spelled into such words first, and anything else is refused."""
    import pytest

    from storage.postgres.search import search_terms, words_query

    assert words_query("deep 34e1dbe9 μοντελο") == "'deep' & '34e1dbe9' & 'μοντελο'"
    assert words_query(search_terms("a' & !b:* | c\\") or "") == "'a' & 'b' & 'c'"
    for syntax in ("a'b", "a & b", "x:*", "", "a_b"):
        with pytest.raises(ValueError):
            words_query(syntax)


def test_a_bitmap_of_many_matches_reads_the_newest_papers_that_should_hold_them() -> None:
    """"learning" in half of a million papers: 500 wanted, so the newest 3,000 ids (three
    windows' worth at that density) are read; a word with few matches is read whole, and without
    the newest id there is no cut."""
    stats = SearchStatistics(1_000_000, {"search": WORDS, "category_keys": CATEGORIES}, newest_id=1_000_000)
    assert stats.cut("search", ["learning"], None, 500) == 997_000
    assert stats.cut("search", ["learning"], "cs.LG", 500) == 985_000  # a tenth of the papers match
    assert stats.cut("search", ["krylov"], None, 500) is None  # at most 500 matches
    assert STATS.cut("search", ["learning"], None, 500) is None  # newest id unknown
    assert stats.read("search", ["deep", "graph"], None, 500) == (Plan.BITMAP, None, 750_000)  # 0.6%
    assert stats.read("search", ["learning"], None, 500) == (Plan.WALK, None, None)  # walks never cut


def test_a_read_that_is_not_cut_is_not_priced_as_cut() -> None:
    """Autocomplete reads without a cut: a word in 0.5% of the titles is walked for 25 of them
    (13,000 rows), though a cut bitmap would be quicker for a search read of the same words."""
    shares = ElementShares({"spectra": 0.005}, floor=0.001)
    stats = SearchStatistics(1_000_000, {"title_search": shares}, newest_id=1_000_000)
    assert stats.plan("title_search", ["spectra"], None, 25) is Plan.WALK
    assert stats.plan("title_search", ["spectra"], None, 25, cut=True) is Plan.BITMAP
    assert stats.read("title_search", ["spectra"], None, 25)[0] is Plan.BITMAP
