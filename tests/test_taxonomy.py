"""The shipped arXiv taxonomy: completeness, names, aliases, lookups, suggestions, autocomplete."""

from __future__ import annotations

import re
import time

import pytest

from bot.core import taxonomy
from bot.core.taxonomy import (
    ALIASES,
    ARCHIVES,
    CATEGORIES,
    archive_of,
    canonical,
    categories_in,
    closest,
    equivalents,
    is_archive,
    is_category,
    search_categories,
    typo_distance,
)

SINGLE_CATEGORY_ARCHIVES = {
    "gr-qc", "hep-ex", "hep-lat", "hep-ph", "hep-th", "math-ph", "nucl-ex", "nucl-th", "quant-ph",
}
_ID_SHAPE = re.compile(r"^[a-z]+(-[a-z]+)?(\.([A-Z]{2}|[a-z]+(-[a-z]+)?))?$")


# --- completeness -------------------------------------------------------------------------------

def test_every_current_archive_is_listed() -> None:
    assert set(ARCHIVES) == {
        "astro-ph", "cond-mat", "cs", "econ", "eess", "gr-qc", "hep-ex", "hep-lat", "hep-ph",
        "hep-th", "math", "math-ph", "nlin", "nucl-ex", "nucl-th", "physics", "q-bio", "q-fin",
        "quant-ph", "stat",
    }


def test_there_are_155_current_categories() -> None:
    assert len(CATEGORIES) == 155


@pytest.mark.parametrize(("archive", "count"), [
    ("astro-ph", 6), ("cond-mat", 9), ("cs", 40), ("econ", 3), ("eess", 4), ("math", 32),
    ("nlin", 5), ("physics", 22), ("q-bio", 10), ("q-fin", 9), ("stat", 6), ("hep-th", 1),
])
def test_categories_per_archive(archive: str, count: int) -> None:
    assert len(categories_in(archive)) == count


@pytest.mark.parametrize(("category", "name"), [
    ("cs.AI", "Artificial Intelligence"),
    ("cs.LG", "Machine Learning"),
    ("cs.CL", "Computation and Language"),
    ("cs.CV", "Computer Vision and Pattern Recognition"),
    ("cs.DC", "Distributed, Parallel, and Cluster Computing"),
    ("stat.ML", "Machine Learning"),
    ("math.CA", "Classical Analysis and ODEs"),
    ("math.KT", "K-Theory and Homology"),
    ("astro-ph.CO", "Cosmology and Nongalactic Astrophysics"),
    ("cond-mat.stat-mech", "Statistical Mechanics"),
    ("cond-mat.quant-gas", "Quantum Gases"),
    ("physics.optics", "Optics"),
    ("physics.atm-clus", "Atomic and Molecular Clusters"),
    ("q-bio.NC", "Neurons and Cognition"),
    ("q-fin.TR", "Trading and Market Microstructure"),
    ("eess.SP", "Signal Processing"),
    ("econ.EM", "Econometrics"),
    ("econ.TH", "Theoretical Economics"),
    ("nlin.AO", "Adaptation and Self-Organizing Systems"),
    ("hep-th", "High Energy Physics - Theory"),
    ("gr-qc", "General Relativity and Quantum Cosmology"),
    ("quant-ph", "Quantum Physics"),
])
def test_category_names(category: str, name: str) -> None:
    assert CATEGORIES[category] == name


@pytest.mark.parametrize(("archive", "name"), [
    ("cs", "Computer Science"), ("math", "Mathematics"), ("stat", "Statistics"),
    ("astro-ph", "Astrophysics"), ("cond-mat", "Condensed Matter"), ("nlin", "Nonlinear Sciences"),
    ("eess", "Electrical Engineering and Systems Science"), ("q-fin", "Quantitative Finance"),
])
def test_archive_names(archive: str, name: str) -> None:
    assert ARCHIVES[archive] == name


def test_every_category_belongs_to_a_listed_archive() -> None:
    assert {archive_of(c) for c in CATEGORIES} == set(ARCHIVES)


def test_ids_have_arxiv_shape_and_names_are_short_and_clean() -> None:
    for ident, name in (*CATEGORIES.items(), *ARCHIVES.items()):
        assert _ID_SHAPE.match(ident), ident
        assert name == name.strip() and 0 < len(name) <= 80, ident


def test_single_category_archives_are_both() -> None:
    both = {ident for ident in ARCHIVES if ident in CATEGORIES}
    assert both == SINGLE_CATEGORY_ARCHIVES
    for ident in both:
        assert CATEGORIES[ident] == ARCHIVES[ident]
        assert categories_in(ident) == [ident]


def test_archives_with_subcategories_are_not_categories() -> None:
    for ident in set(ARCHIVES) - SINGLE_CATEGORY_ARCHIVES:
        assert ident not in CATEGORIES
        assert all("." in c for c in categories_in(ident))


def test_tables_are_read_only() -> None:
    with pytest.raises(TypeError):
        CATEGORIES["cs.XX"] = "nope"  # type: ignore[index]
    with pytest.raises(TypeError):
        ALIASES["cs.XX"] = "cs.LG"  # type: ignore[index]


# --- aliases ------------------------------------------------------------------------------------

def test_aliases_follow_arxiv() -> None:
    assert dict(ALIASES) == {
        "cs.NA": "math.NA", "cs.SY": "eess.SY", "math.IT": "cs.IT", "math.MP": "math-ph",
        "q-fin.EC": "econ.GN", "stat.TH": "math.ST",
    }


def test_both_spellings_of_an_alias_are_categories() -> None:
    for alias, target in ALIASES.items():
        assert is_category(alias) and is_category(target)
        assert target not in ALIASES


@pytest.mark.parametrize(("alias", "target"), [
    ("math.MP", "math-ph"), ("math.IT", "cs.IT"), ("stat.TH", "math.ST"), ("q-fin.EC", "econ.GN"),
    ("cs.SY", "eess.SY"), ("cs.NA", "math.NA"),
])
def test_canonical_resolves_aliases(alias: str, target: str) -> None:
    assert canonical(alias) == target
    assert canonical(target) == target
    assert canonical(alias.upper()) == target


def test_equivalents_lists_every_spelling() -> None:
    assert equivalents("cs.NA") == {"cs.NA", "math.NA"}
    assert equivalents("math.NA") == {"cs.NA", "math.NA"}
    assert equivalents("math-ph") == {"math-ph", "math.MP"}
    assert equivalents("cs.LG") == {"cs.LG"}


# --- lookups ------------------------------------------------------------------------------------

def test_is_category_and_is_archive_are_exact() -> None:
    assert is_category("cs.LG") and not is_category("cs.lg") and not is_category("cs")
    assert is_archive("cs") and not is_archive("CS") and not is_archive("cs.LG")
    assert is_category("hep-th") and is_archive("hep-th")
    assert not is_category("astro-ph")  # retired as a category in 2009
    assert not is_category("cmp-lg") and not is_archive("cmp-lg")  # retired archive
    assert not is_category("") and not is_archive("")


@pytest.mark.parametrize(("typed", "expected"), [
    ("cs.LG", "cs.LG"), ("cs.lg", "cs.LG"), ("CS.LG", "cs.LG"), ("Cs.Lg", "cs.LG"),
    ("  stat.ML ", "stat.ML"), ("cond-mat.Stat-Mech", "cond-mat.stat-mech"),
    ("PHYSICS.OPTICS", "physics.optics"), ("hep-th", "hep-th"), ("HEP-TH", "hep-th"),
    ("cs", "cs"), ("Math", "math"), ("astro-ph", "astro-ph"),
])
def test_canonical_accepts_any_case(typed: str, expected: str) -> None:
    assert canonical(typed) == expected


@pytest.mark.parametrize("typed", ["cs.LF", "cs.", "cs.*", "", "machine learning", "cmp-lg", "LG"])
def test_canonical_is_none_for_unknown_ids(typed: str) -> None:
    assert canonical(typed) is None


def test_no_two_ids_differ_only_in_case() -> None:
    ids = [*ARCHIVES, *CATEGORIES]
    folded = {ident.casefold() for ident in ids}
    assert len(folded) == len(set(ids))


@pytest.mark.parametrize(("category", "archive"), [
    ("cs.LG", "cs"), ("astro-ph.CO", "astro-ph"), ("cond-mat.stat-mech", "cond-mat"),
    ("hep-th", "hep-th"), ("math.MP", "math"), ("math-ph", "math-ph"),
    ("alg-geom", "alg-geom"), ("cond-mat", "cond-mat"),  # legacy ids of old papers still split
])
def test_archive_of(category: str, archive: str) -> None:
    assert archive_of(category) == archive


# --- suggestions --------------------------------------------------------------------------------

@pytest.mark.parametrize(("typed", "expected"), [
    ("cs.LF", ["cs.LG"]),  # F is next to G: nearer than cs.LO or cs.PF
    ("cs.lf", ["cs.LG"]),
    ("cs.ML", ["stat.ML"]),  # the right subject class under the wrong archive
    ("sc.LG", ["cs.LG"]),
    ("stats.ML", ["stat.ML"]),
    ("hep.th", ["hep-th"]),
    ("qunat-ph", ["quant-ph"]),
    ("bio-ph", ["physics.bio-ph"]),
    ("cond-mat.stat", ["cond-mat.stat-mech"]),
    ("physics.opitcs", ["physics.optics"]),
    ("cs.CVV", ["cs.CV"]),
    ("hep-tx", ["hep-ex", "hep-th"]),  # ties are all offered
])
def test_closest(typed: str, expected: list[str]) -> None:
    assert closest(typed) == expected


@pytest.mark.parametrize("typed", ["zz.QQ", "cs.QQQ", "machine learning", "", "   "])
def test_closest_gives_nothing_when_nothing_is_near(typed: str) -> None:
    assert closest(typed) == []


def test_closest_respects_limit() -> None:
    assert len(closest("cs.C")) == 3
    assert len(closest("cs.C", limit=1)) == 1
    assert closest("cs.C", limit=0) == []


def test_typo_distance() -> None:
    assert typo_distance("cs.LG", "cs.lg") == 0
    assert typo_distance("fg", "gg") == pytest.approx(0.4)  # same row
    assert typo_distance("rg", "fg") == pytest.approx(0.6)  # next row
    assert typo_distance("ab", "ba") == 1  # swapped
    assert typo_distance("abc", "") == 3


# --- autocomplete -------------------------------------------------------------------------------

def _ids(results: list[tuple[str, str]]) -> list[str]:
    return [ident for ident, _ in results]


def test_search_by_id_prefix_any_case() -> None:
    assert _ids(search_categories("cs.l")) == ["cs.LG", "cs.LO"]
    assert _ids(search_categories("CS.L")) == ["cs.LG", "cs.LO"]
    assert search_categories("cs.LG")[0] == ("cs.LG", "Machine Learning")


def test_search_exact_id_ranks_first() -> None:
    results = _ids(search_categories("cs"))
    assert results[0] == "cs"
    assert all(ident.startswith("cs.") for ident in results[1:])
    assert _ids(search_categories("hep-th"))[0] == "hep-th"


def test_search_by_words_of_the_name() -> None:
    assert set(_ids(search_categories("machine learn"))) == {"cs.LG", "stat.ML"}
    assert _ids(search_categories("vision")) == ["cs.CV"]
    assert _ids(search_categories("cs vision")) == ["cs.CV"]
    assert "cond-mat.quant-gas" in _ids(search_categories("Quantum"))
    assert "cond-mat.quant-gas" in _ids(search_categories("quántum gas"))  # accents folded


def test_search_ranks_id_prefix_before_name_words() -> None:
    results = _ids(search_categories("stat"))
    assert results[0] == "stat"
    assert results.index("stat.ML") < results.index("cond-mat.stat-mech")


def test_search_lists_archives() -> None:
    assert _ids(search_categories("hep")) == ["hep-ex", "hep-lat", "hep-ph", "hep-th"]
    assert ("cs", "Computer Science") in search_categories("comp")


def test_search_shows_aliases_by_id_only() -> None:
    assert _ids(search_categories("cs.na")) == ["cs.NA"]
    assert _ids(search_categories("numerical")) == ["math.NA"]


def test_search_empty_query_lists_archives_first() -> None:
    results = _ids(search_categories(""))
    assert len(results) == 25
    assert results[:20] == sorted(ARCHIVES)


def test_search_limit_and_nothing_found() -> None:
    assert len(search_categories("", limit=5)) == 5
    assert search_categories("cs", limit=0) == []
    assert len(search_categories("c")) == 25
    assert search_categories("zzzz") == []
    assert search_categories("-") == []
    assert search_categories("  ") == search_categories("")


def test_search_results_fit_discord_choices() -> None:
    for ident, name in search_categories("", limit=1000):
        assert len(f"{ident} — {name}") <= 100


def test_search_is_fast_enough_for_autocomplete() -> None:
    search_categories("warm up")
    start = time.perf_counter()
    for query in ["c", "cs.", "machine", "quant", "physics.o", "x"] * 50:
        search_categories(query)
    assert time.perf_counter() - start < 3.0  # ~300 searches; a few ms would already be plenty


def test_private_tables_are_consistent() -> None:
    assert len(taxonomy._all_ids()) == len(set(ARCHIVES) | set(CATEGORIES))
