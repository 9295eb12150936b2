"""Known-item search on a real store: the paper whose title is typed comes first, even when
more than the full-text window of newer papers hold the same common words."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing

import pytest

from storage import SQLiteStore, open_store
from storage.models import PaperRecord
from storage.search import fts_match
from storage.sqlite.known_item import fallback_expressions, one_edit, tokens
from storage.sqlite.lookup import SEARCH_WINDOW

OLD_TITLE = "Learning deep neural networks for graph data with attention"
OLD_ID = "1001.0001"
NEWER = SEARCH_WINDOW + 100  # more newer matches than search_papers' full-text window


def _paper(arxiv_id: str, title: str, abstract: str, category: str = "cs.LG") -> PaperRecord:
    return PaperRecord(arxiv_id=arxiv_id, version=1, title=title, authors=["A. Author"],
                       abstract=abstract, categories=[category])


def _newer(n: int) -> PaperRecord:
    """A newer paper holding every word of the old title, in another order (title or abstract)."""
    if n % 2:
        title = f"Graph data with attention for deep neural networks learning {n}"
        abstract = "We study it."
    else:
        title = f"Attention for graph data, part {n}"
        abstract = "Learning deep neural networks with attention for graph data."
    return _paper(f"2401.{n + 1:05d}", title, abstract, "stat.ML" if n % 3 == 0 else "cs.LG")


@pytest.fixture
async def crowded(store_location: str) -> AsyncIterator[SQLiteStore]:
    """The old paper first (the lowest rowid), then many newer ones with its words (on each
    engine: ``store_location`` is an SQLite file or a PostgreSQL database)."""
    store = await open_store(store_location)
    try:
        await store.store_papers([_paper(OLD_ID, OLD_TITLE, "An old abstract.", "cs.LG")])
        await store.store_papers([_newer(n) for n in range(NEWER)])
        yield store
    finally:
        await store.close()


async def _ids(store: SQLiteStore, text: str, category: str | None = None) -> list[str]:
    return [p.arxiv_id for p in await store.search_papers(text, category=category)]


async def test_the_newer_matches_are_more_than_the_window(crowded: SQLiteStore) -> None:
    """The setup: ranking the newest full-text matches alone would never see the old paper."""
    if not isinstance(crowded, SQLiteStore):
        pytest.skip("counts the matches in SQLite's full-text index")
    with closing(sqlite3.connect(crowded.path)) as db:
        for words in ("learning deep neural networks", OLD_TITLE):
            (count,) = db.execute("SELECT count(*) FROM papers_fts WHERE papers_fts MATCH ?",
                                  (fts_match(words),)).fetchone()
            assert count > SEARCH_WINDOW + 1, words


@pytest.mark.parametrize("typed", [
    "Learning deep neural networks",  # its first four title words
    OLD_TITLE,  # its whole title
    "learning  DEEP neural networks for graph data with attention!",  # as typed, case and all
    "Learning deep nueral networks for graph data with attention",  # a changed character
    "Learning deep neural netwrks for graph data with attention",  # a dropped character
    "Learnin deep neural networks for graph data with attention",  # the first word
    "Learning deep neural network for graph data with attention",  # a real word, the wrong one
])
async def test_an_older_paper_is_found_first_by_its_title(crowded: SQLiteStore, typed: str) -> None:
    assert (await _ids(crowded, typed))[0] == OLD_ID, typed


async def test_ordinary_queries_still_match_every_word(crowded: SQLiteStore) -> None:
    found = await crowded.search_papers("attention part", limit=50)
    assert found and all("part" in p.title.lower() for p in found)
    newest_first = [p.arxiv_id for p in found]
    assert newest_first == sorted(newest_first, reverse=True), "same title hits: newest first"
    assert await _ids(crowded, "quantum chromodynamics") == []
    assert await _ids(crowded, "") == []


async def test_the_category_filter_still_applies(crowded: SQLiteStore) -> None:
    assert (await _ids(crowded, "Learning deep neural networks", "cs.LG"))[0] == OLD_ID
    assert (await _ids(crowded, OLD_TITLE, "cs"))[0] == OLD_ID
    assert (await _ids(crowded, "Learning deep nueral networks for graph data with attention",
                       "cs.LG"))[0] == OLD_ID
    for text in ("Learning deep neural networks", OLD_TITLE, "graph data"):
        found = await crowded.search_papers(text, category="stat.ML")
        assert found and OLD_ID not in {p.arxiv_id for p in found}
        assert all("stat.ML" in p.categories for p in found)


@pytest.mark.parametrize("typed", [
    'graph" OR "quantum', "graph*", "NEAR(graph data)", "title : graph", "^graph", "-graph",
    "graph AND NOT data", '"""', "(", "{title}: x", "graph -- data; DROP TABLE papers",
])
async def test_fts_syntax_in_a_query_is_only_text(crowded: SQLiteStore, typed: str) -> None:
    found = await crowded.search_papers(typed)  # never an FTS5 syntax error
    words = [w for w in tokens(typed) if w]
    for paper in found[:5]:
        text = f"{paper.title} {paper.abstract}".lower()
        assert all(w in text for w in words if len(w) > 3), (typed, paper.title)
    assert await crowded.get_paper(OLD_ID) is not None


def test_one_edit() -> None:
    assert one_edit("neural", "nueral") and one_edit("networks", "netwrks")
    assert one_edit("graph", "grapf") and one_edit("data", "datas")
    assert not one_edit("graph", "graph") and not one_edit("graph", "grape_")
    assert not one_edit("neural", "natural")


def test_fallbacks_keep_the_known_words_in_place() -> None:
    docs = {"learning": 9, "deep": 9, "networks": 9, "for": 9}
    expressions = fallback_expressions(["learning", "deep", "nueral", "networks", "for"], docs, 10)
    assert expressions[0] == '^ "learning deep" AND "networks for"'
    every = fallback_expressions(["learning", "deep", "neural", "networks"], {w: 5 for w in
                                 ("learning", "deep", "neural", "networks")}, 10)
    assert every[:2] == ['^ "learning deep"', '"neural networks"']


async def test_a_title_with_accents_is_found_as_typed_without_them(crowded: SQLiteStore) -> None:
    await crowded.store_papers([_paper("1001.0002", "Étude des réseaux de neurones profonds",
                                       "Une étude.")])
    for typed in ("Etude des reseaux de neurones profonds", "Étude des réseaux de neurones",
                  "Etude des resaux de neurones profonds"):
        assert (await _ids(crowded, typed))[0] == "1001.0002", typed


async def test_a_short_query_with_a_typo_finds_titles_one_edit_away(crowded: SQLiteStore) -> None:
    found = await crowded.search_papers("nueral networks")  # no paper holds "nueral"
    assert found and all("neural networks" in p.title.lower() for p in found)
    assert await _ids(crowded, "nueral quantum") == [], "a typo fallback never drops a real word"
