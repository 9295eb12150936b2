"""The /paper surface (bot.discord_side.cards): the paper card, its state in custom ids, search, summaries and
venue pages, the terminal card and JSON. Records are written here (HIRO-like), not read from files.

Every payload is checked by the renderer's own :func:`bot.discord_side.limits.payload_violations`
and, when the Discord double is importable, by its independent reading of Discord's limits.
"""

from __future__ import annotations

import json
import random
import re
from typing import Any

import pytest

from bot.core.links import html_url
from bot.core.venues import source_label, venue_counts, venue_label, venue_name, venue_year
from bot.discord_side.cards.controls import CardPayload
from bot.discord_side.cards.custom_ids import (
    OPEN_CUSTOM_ID,
    CardState,
    clip_search_query,
    parse_search_id,
    parse_sums_id,
    parse_venue_id,
    search_custom_id,
)
from bot.discord_side.cards.paper import ABSTRACT_COLLAPSED, SUMMARY_MIN, render_paper_card
from bot.discord_side.cards.search import SEARCH_PAGE_SIZE, render_search_page
from bot.discord_side.cards.summaries import render_summaries_page, render_summary_only_card, shortscience_url
from bot.discord_side.cards.terminal import card_json, render_card_text
from bot.discord_side.cards.venue import BAR_WIDTH, bar, render_venue_page, venue_chart
from bot.discord_side.limits import EMBED_DESCRIPTION_MAX, EMBED_TOTAL_MAX, embed_length, payload_violations
from storage.models import StoredPaper, StoredSummary

try:  # the Discord double's validator: an independent reading of the limits
    from doubles.discord import check_components, check_message_payload
except ImportError:  # pragma: no cover - the double is optional for these pure tests
    check_components = check_message_payload = None  # type: ignore[assignment]

HIRO_ABSTRACT = (
    "Hierarchical reinforcement learning (HRL) is a promising approach to extend traditional "
    "reinforcement learning (RL) methods to solve more complex tasks with goals $g_t$. Yet, the "
    "majority of current HRL methods require careful task-specific design and on-policy training,"
    " making them difficult to apply in real-world scenarios. In this paper, we study how we can "
    "develop HRL algorithms that are general, in that they do not make onerous additional "
    "assumptions beyond standard RL algorithms, and efficient, in the sense that they can be used"
    " with modest numbers of interaction samples, making them suitable for real-world problems "
    "such as robotic control. For generality, we develop a scheme where lower-level controllers "
    "are supervised with goals $g_t$ that are learned and proposed automatically by the higher-"
    "level controllers. We term the resulting HRL agent HIRO and find that it is generally "
    "applicable and highly sample-efficient (THE-END)."
)
HIRO_SUMMARY = (
    "# Keypoints\n"
    "- A two-level policy: the high level proposes goals $g_t \\in \\mathbb{R}^d$ every $c$ steps.\n"
    "- An off-policy correction relabels old goals with "
    "$\\arg\\max_{\\tilde g} \\log \\mu(a|s, \\tilde g)$.\n"
    "\n## Results\nBeats FuN on Ant Maze @everyone <@123>.\n"
    "![architecture](https://example.org/hiro.png)\n"
)
PING = re.compile(r"@(?:everyone|here)|<@[!&]?\d+>|<#\d+>", re.IGNORECASE)


HIRO_TITLE = "Data-Efficient Hierarchical Reinforcement Learning"


def make_paper(arxiv_id: str = "1805.08296", *, title: str = HIRO_TITLE,
               authors: list[str] | None = None, abstract: str = HIRO_ABSTRACT,
               categories: list[str] | None = None, version: int = 4, doi: str | None = None,
               journal_ref: str | None = None, comment: str | None = "NeurIPS 2018",
               published: str | None = "2018-05-21T21:43:57Z",
               updated: str | None = "2018-10-05T17:09:45Z") -> StoredPaper:
    return StoredPaper(
        arxiv_id=arxiv_id, title=title,
        authors=authors if authors is not None else ["Ofir Nachum", "Shixiang Gu", "Honglak Lee",
                                                     "Sergey Levine"],
        abstract=abstract, categories=categories or ["cs.LG", "cs.AI", "stat.ML"],
        latest_version=version, announce_type=None, doi=doi, journal_ref=journal_ref, comment=comment,
        published=published, updated=updated, seq=1, versions=list(range(1, version + 1)))


def make_summary(text: str = HIRO_SUMMARY, *, author: str | None = "Hugo Larochelle", votes: int | None = 12,
                 arxiv_id: str | None = "1805.08296", bibtex_key: str | None = "conf/nips/NachumGLL18",
                 link: str | None = "https://www.shortscience.org/paper?bibtexKey=conf/nips/NachumGLL18#hugo",
                 title: str = "Data-Efficient Hierarchical Reinforcement Learning",
                 guid: str | None = None) -> StoredSummary:
    return StoredSummary(source="shortscience", guid=guid or f"g{random.random()}", title=title, text=text,
                         author=author, link=link, arxiv_id=arxiv_id, doi=None, bibtex_key=bibtex_key,
                         votes=votes, edited_at="2018-11-02T10:00:00Z", seq=2)


def check(card: CardPayload) -> dict[str, Any]:
    """The card's payload, asserted to be within every Discord limit and unable to ping."""
    payload = card.to_payload()
    assert payload_violations(payload) == []
    if check_message_payload is not None:
        assert [str(p) for p in check_message_payload(payload)] == []
        assert [str(p) for p in check_components(payload["components"])] == []
    assert payload["allowed_mentions"] == {"parse": []}
    assert len(payload["components"]) <= 5
    for row in payload["components"]:
        assert row["type"] == 1 and 1 <= len(row["components"]) <= 5
        for component in row["components"]:
            assert len(component.get("custom_id") or "") <= 100
            assert len(component.get("label") or "") <= 80
    assert sum(embed_length(e) for e in payload["embeds"]) <= EMBED_TOTAL_MAX
    json.dumps(payload)  # plain JSON
    return payload


def buttons(payload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["label"]: c for row in payload["components"] for c in row["components"] if c["type"] == 2}


def all_text(payload: dict[str, Any]) -> str:
    parts = [payload.get("content") or ""]
    for embed in payload["embeds"]:
        parts += [embed.get("title") or "", embed.get("description") or "",
                  (embed.get("footer") or {}).get("text") or ""]
        parts += [f"{f['name']}\n{f['value']}" for f in embed.get("fields") or []]
    return "\n".join(parts)


# --- the paper card -----------------------------------------------------------------------------------


def test_hiro_card_shows_the_paper_like_shortscience() -> None:
    second = make_summary("Short and sweet.", author=None, votes=None, link=None)
    payload = check(render_paper_card(make_paper(), [make_summary(), second], CardState("1805.08296")))
    paper_embed, summary_embed = payload["embeds"]
    assert paper_embed["title"] == "Data-Efficient Hierarchical Reinforcement Learning"
    assert paper_embed["url"] == "https://arxiv.org/abs/1805.08296"
    description = paper_embed["description"]
    assert "Ofir Nachum, Shixiang Gu, Honglak Lee, Sergey Levine" in description
    assert "NeurIPS 2018 · **cs.LG** · cs.AI · stat.ML" in description  # source and year, primary bold
    assert "First published 2018-05-21 · latest v4, 2018-10-05" in description
    assert "**Comment:** NeurIPS 2018" in description
    assert "tasks with goals gₜ. Yet" in description  # abstract math as Unicode
    assert paper_embed["footer"]["text"] == "arXiv:1805.08296 · 2 summaries"

    assert summary_embed["title"] == "💬 Summary by Hugo Larochelle · ▲ 12"
    assert summary_embed["url"].startswith("https://www.shortscience.org/")
    text = summary_embed["description"]
    assert text.startswith("**Keypoints**\n- A two-level policy")  # heading bold, list kept
    assert "**Results**" in text and "#" not in text
    assert "gₜ ∈ ℝᵈ every c steps" in text  # math as Unicode
    assert "`\\arg\\max" in text  # math without a faithful Unicode form stays as inline code
    assert "[architecture](https://example.org/hiro.png)" in text  # an https image becomes a link
    assert "@\u200beveryone" in text and "<@\u200b123>" in text
    assert "Summary 1 of 2" in summary_embed["footer"]["text"]

    shown = buttons(payload)
    assert shown["More"]["custom_id"] == "pb:card:more:0:0:1805.08296"
    assert shown["◀ Prev"]["disabled"] is True and "disabled" not in shown["Next ▶"]
    assert shown["Abstract"]["url"] == "https://arxiv.org/abs/1805.08296"
    assert shown["PDF"]["url"] == "https://arxiv.org/pdf/1805.08296"
    assert "HTML" not in shown  # arXiv has no HTML for papers before December 2023
    assert shown["ShortScience"]["url"].endswith("#hugo")  # the current summary's own page


def test_more_and_less_toggle_the_abstract() -> None:
    paper, summaries = make_paper(), [make_summary()]
    collapsed = check(render_paper_card(paper, summaries, CardState(paper.arxiv_id)))
    abstract = collapsed["embeds"][0]["description"].split("\n\n", 1)[1]
    assert len(abstract) <= ABSTRACT_COLLAPSED and abstract.endswith("…")
    assert "THE-END" not in abstract

    action, state = CardState.parse(buttons(collapsed)["More"]["custom_id"])  # type: ignore[misc]
    assert action == "more"
    expanded = check(render_paper_card(paper, summaries, state.apply(action)))
    assert "(THE-END)." in all_text(expanded)
    less = buttons(expanded)["Less"]["custom_id"]
    assert less == "pb:card:less:1:0:1805.08296" and "More" not in buttons(expanded)
    action, state = CardState.parse(less)  # type: ignore[misc]
    assert state.apply(action) == CardState(paper.arxiv_id)

    short = check(render_paper_card(make_paper(abstract="Short."), summaries, CardState(paper.arxiv_id)))
    assert "More" not in buttons(short) and "Less" not in buttons(short)


def test_many_authors_are_cut_and_more_shows_more_of_them() -> None:
    paper = make_paper(authors=[f"Author Number{i}" for i in range(40)], abstract="Short.")
    collapsed = check(render_paper_card(paper, [], CardState(paper.arxiv_id)))
    assert "et al. (40 authors)" in collapsed["embeds"][0]["description"]
    assert "More" in buttons(collapsed)  # the abstract is short, but More shows every author
    expanded = check(render_paper_card(paper, [], CardState(paper.arxiv_id, expanded=True)))
    assert "Author Number39" in expanded["embeds"][0]["description"]


def test_summary_paging_moves_and_clamps() -> None:
    paper = make_paper()
    summaries = [make_summary(f"Summary number {i}.", author=f"Writer {i}", guid=f"g{i}") for i in range(3)]
    payload = check(render_paper_card(paper, summaries, CardState(paper.arxiv_id, summary_index=99)))
    assert "Summary number 2." in payload["embeds"][1]["description"]  # clamped to the last
    assert buttons(payload)["Next ▶"]["disabled"] is True
    assert "disabled" not in buttons(payload)["◀ Prev"]
    action, state = CardState.parse(buttons(payload)["◀ Prev"]["custom_id"])  # type: ignore[misc]
    assert state.summary_index == 2  # the ids carry the clamped state
    middle = check(render_paper_card(paper, summaries, state.apply(action, len(summaries))))
    assert "Summary number 1." in middle["embeds"][1]["description"]
    assert "Summary 2 of 3" in middle["embeds"][1]["footer"]["text"]

    first = check(render_paper_card(paper, summaries, CardState(paper.arxiv_id, summary_index=-5)))
    assert "Summary number 0." in first["embeds"][1]["description"]
    assert CardState("x", summary_index=0).apply("prev") == CardState("x")
    assert CardState("x", summary_index=2).apply("next", summary_count=3).summary_index == 2

    single = check(render_paper_card(paper, summaries[:1], CardState(paper.arxiv_id, summary_index=3)))
    assert "◀ Prev" not in buttons(single) and "Next ▶" not in buttons(single)


def test_no_summaries_invites_one() -> None:
    payload = check(render_paper_card(make_paper(), [], CardState("1805.08296")))
    assert len(payload["embeds"]) == 1
    field = payload["embeds"][0]["fields"][-1]
    assert field["name"] == "Summaries" and "No summaries yet" in field["value"]
    assert "bibtexKey=journals/corr/1805.08296" in field["value"]
    assert payload["embeds"][0]["footer"]["text"] == "arXiv:1805.08296 · 0 summaries"


def test_doi_journal_ref_html_and_old_style_ids() -> None:
    paper = make_paper("2412.01234", doi="10.1000/xyz(1)_2", journal_ref="Phys. Rev. Lett. 1 (2025) 2",
                       version=1, updated=None, comment=None, published="2024-12-02T00:00:00Z")
    payload = check(render_paper_card(paper, [], CardState(paper.arxiv_id)))
    description = payload["embeds"][0]["description"]
    assert "[10.1000/xyz(1)\\_2](https://doi.org/10.1000/xyz%281%29_2)" in description
    assert "Phys. Rev. Lett. 1 (2025) 2 · **cs.LG**" in description  # the journal ref is the source
    assert "Published 2024-12-02 (v1)" in description
    assert buttons(payload)["HTML"]["url"] == "https://arxiv.org/html/2412.01234"

    old = make_paper("hep-th/9901001", published="1999-01-04T00:00:00Z", comment=None, version=2)
    payload = check(render_paper_card(old, [], CardState(old.arxiv_id)))
    assert payload["embeds"][0]["url"] == "https://arxiv.org/abs/hep-th/9901001"
    assert "arXiv 1999 · **cs.LG**" in payload["embeds"][0]["description"]
    assert "ShortScience" not in buttons(payload)  # no known ShortScience key for old-style ids
    assert shortscience_url("hep-th/9901001") is None


def test_hostile_text_is_escaped_and_cannot_ping() -> None:
    paper = make_paper(title="@everyone *Bold* `code` <@&1> [x](https://evil)",
                       authors=["@here", "Andr\\'e <#42>"], comment="see <@!123456789012345678>",
                       abstract="An abstract @everyone with $\\alpha$ and **stars**.")
    summaries = [make_summary(author="@everyone", text="[click](javascript:alert(1)) <@&99> @here")]
    payload = check(render_paper_card(paper, summaries, CardState(paper.arxiv_id, expanded=True)))
    text = all_text(payload)
    assert not PING.search(text)
    assert "\\*Bold\\*" in payload["embeds"][0]["title"]
    assert "André" in text and "α" in text
    assert "javascript:" not in payload["embeds"][1]["description"]


@pytest.mark.parametrize("expanded", [False, True])
@pytest.mark.parametrize("index", [0, 1])
def test_huge_inputs_stay_within_limits(expanded: bool, index: int) -> None:
    rng = random.Random(7)
    words = ["model", "$x_i^2$", "@everyone", "*star*", "`tick`", "$\\frac{a}{b}$", "under_score",
             "$\\unknown{z}$", "<@123>", "theorem", "\\'e"]
    abstract = " ".join(rng.choice(words) for _ in range(4000))[:20000]
    summary_text = "\n".join(
        rng.choice(["# Heading", "- item $\\beta$", "```\ncode @everyone\n```", "**bold", "plain text " * 20,
                    "![img](https://x.org/i.png)", "> quote <#1>"]) for _ in range(2500))[:50000]
    paper = make_paper(title="T " * 400, authors=[f"Author {i} Surname" for i in range(1000)],
                       abstract=abstract, comment="c" * 5000, journal_ref="j " * 3000,
                       doi="10.1/" + "d" * 3000, categories=[f"cs.X{i}" for i in range(40)])
    summaries = [make_summary(summary_text, author="A" * 1000), make_summary(summary_text, votes=10**9)]
    payload = check(render_paper_card(paper, summaries, CardState(paper.arxiv_id, expanded, index)))
    assert len(payload["embeds"]) == 2
    assert len(payload["embeds"][1]["description"]) >= SUMMARY_MIN - 100  # room for the summary, expanded too
    if expanded:
        assert "… and " in payload["embeds"][0]["description"]  # 1,000 authors, capped
    else:
        assert "et al. (1,000 authors)" in payload["embeds"][0]["description"]
    assert not PING.search(all_text(payload))


def test_a_long_expanded_abstract_continues_in_fields() -> None:
    sentence = "This sentence has $\\alpha_i$ and `code` in it and goes on for a while. "
    abstract = sentence * 80 + "FINAL."  # ~5,800 characters
    paper = make_paper(abstract=abstract)
    payload = check(render_paper_card(paper, [], CardState(paper.arxiv_id, expanded=True)))
    embed = payload["embeds"][0]
    continued = [f for f in embed["fields"] if f["name"] == "\u200b"]
    assert continued and len(embed["description"]) <= EMBED_DESCRIPTION_MAX
    for part in [embed["description"], *(f["value"] for f in continued)]:
        assert part.count("`") % 2 == 0  # never split inside inline code
    assert embed_length(embed) > 5000  # the room is used
    assert embed_length(embed) <= EMBED_TOTAL_MAX


def test_summary_only_card() -> None:
    summary = make_summary(arxiv_id=None, bibtex_key="conf/icml/ZhangS17", title="A Paper *Not* Stored")
    payload = check(render_summary_only_card(summary))
    embed = payload["embeds"][0]
    assert embed["title"] == "A Paper \\*Not\\* Stored"
    assert embed["url"].startswith("https://www.shortscience.org/")
    assert "Summary by **Hugo Larochelle · ▲ 12**" in embed["description"]
    assert "ICML 2017" in embed["description"] and "**Keypoints**" in embed["description"]
    assert set(buttons(payload)) == {"ShortScience"}
    huge = make_summary("x " * 25000, link="https://blog.example.org/post", arxiv_id="2101.00001",
                        bibtex_key=None)
    payload = check(render_summary_only_card(huge))
    assert set(buttons(payload)) == {"ShortScience", "Open summary", "Abstract"}
    assert "[Read the full summary](https://blog.example.org/post)" in payload["embeds"][0]["description"]


# --- custom ids ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("arxiv_id", ["1805.08296", "2411.17700", "0704.0001", "hep-th/9901001",
                                      "math/0611800", "cond-mat/0102536"])
@pytest.mark.parametrize("action", ["more", "less", "prev", "next"])
def test_card_custom_ids_round_trip(arxiv_id: str, action: str) -> None:
    state = CardState(arxiv_id, expanded=action == "less", summary_index=7)
    custom_id = state.to_custom_id(action)
    assert custom_id.startswith("pb:card:") and len(custom_id) <= 100
    assert CardState.parse(custom_id) == (action, state)


@pytest.mark.parametrize("custom_id", [
    "", "pb:card:", "pb:card:more:0:0:", "pb:card:jump:0:0:1805.08296", "pb:card:more:2:0:1805.08296",
    "pb:card:more:0:-1:1805.08296", "pb:card:more:0:12345:1805.08296", "pb:card:more:0:0:18 05",
    "pb:search:0:-:x", "pb:card:more:0:0:" + "1" * 90, "pb:card:more:0:0:../etc",
])
def test_bad_custom_ids_are_not_cards(custom_id: str) -> None:
    assert CardState.parse(custom_id) is None


def test_uncarriable_ids_raise_and_the_card_still_renders() -> None:
    with pytest.raises(ValueError):
        CardState("x" * 95).to_custom_id("more")
    with pytest.raises(ValueError):
        CardState("1805.08296").to_custom_id("explode")
    weird = make_paper("weird id:" + "9" * 120)
    payload = check(render_paper_card(weird, [make_summary(), make_summary()], CardState(weird.arxiv_id)))
    assert all("custom_id" not in c for row in payload["components"] for c in row["components"])


# --- search -------------------------------------------------------------------------------------------


def search_results(count: int) -> list[StoredPaper]:
    return [make_paper(f"2101.{i:05d}", title=f"Result {i} [with brackets] and $\\alpha$",
                       authors=[f"First{i} Author", "Second Author", "Third Author"],
                       published=f"20{10 + i % 10}-01-01T00:00:00Z") for i in range(count)]


def test_search_page_without_results_is_helpful() -> None:
    payload = check(render_search_page("quantum gravity", [], 0, "hep-th", 0))
    text = payload["embeds"][0]["description"]
    assert "No papers found for **quantum gravity** in hep-th" in text
    assert "/paper show" in text and "without the category" in text
    assert payload["components"] == []


def test_search_page_with_three_results() -> None:
    payload = check(render_search_page("hierarchical", search_results(3), 0, None, 3))
    text = payload["embeds"][0]["description"]
    assert "**1.** [Result 0 \\[with brackets\\] and α](https://arxiv.org/abs/2101.00000)" in text
    assert "First0 Author, Second Author et al. · **cs.LG** · 2010" in text
    assert "**3.**" in text and "**4.**" not in text
    (row,) = payload["components"]  # no paging buttons, just the select
    select = row["components"][0]
    assert select["type"] == 3 and select["custom_id"] == OPEN_CUSTOM_ID
    assert [o["value"] for o in select["options"]] == ["2101.00000", "2101.00001", "2101.00002"]
    assert select["options"][0]["label"].startswith("1. Result 0")


def test_search_pages_through_25_results() -> None:
    results = search_results(25)
    first = check(render_search_page("alpha", results, 0, "cs.LG", 25))
    shown = buttons(first)
    assert shown["◀ Previous"]["disabled"] is True and "disabled" not in shown["Next ▶"]
    assert parse_search_id(shown["Next ▶"]["custom_id"]) == (1, "cs.LG", "alpha")
    assert len(first["components"][1]["components"][0]["options"]) == SEARCH_PAGE_SIZE
    last = check(render_search_page("alpha", results, 99, "cs.LG", 25))  # clamped to page 5
    assert "**21.**" in last["embeds"][0]["description"] and "**25.**" in last["embeds"][0]["description"]
    assert buttons(last)["Next ▶"]["disabled"] is True
    assert "Results 21–25 of 25 · page 5 of 5" in last["embeds"][0]["footer"]["text"]


def test_a_2000_character_query_pages_on_its_opening() -> None:
    query = "reinforcement: " + " ".join(f"word{i}" for i in range(400))
    query = query[:2000]
    payload = check(render_search_page(query, search_results(12), 1, "physics.comp-ph", 40))
    ids = [c["custom_id"] for c in buttons(payload).values()]
    assert all(len(i) <= 100 for i in ids)
    parsed = [parse_search_id(i) for i in ids]
    assert {p[2] for p in parsed if p} == {clip_search_query(query)}  # every page: the same query
    assert clip_search_query(query).startswith("reinforcement: word0 word1")
    assert len(clip_search_query(query)) <= 60
    for page in (0, 9, 9999):  # page digits never change the carried query
        parsed = parse_search_id(search_custom_id(page, "cond-mat.stat-mech", query))
        assert parsed is not None and parsed[2] == clip_search_query(query)
    assert parse_search_id("pb:search:x:-:q") is None
    assert parse_search_id("pb:search:0:-:a:b") == (0, None, "a:b")


# --- summaries pages ----------------------------------------------------------------------------------


def test_summaries_page_three_at_a_time() -> None:
    summaries = [make_summary("x " * 5000, author=f"Writer {i}", arxiv_id=f"2101.0000{i}") for i in range(3)]
    payload = check(render_summaries_page(summaries, 1, 10, None))
    assert len(payload["embeds"]) == 3
    assert payload["content"] == "💬 **Latest summaries** · 4–6 of 10"
    shown = buttons(payload)
    assert parse_sums_id(shown["◀ Previous"]["custom_id"]) == (0, None)
    assert parse_sums_id(shown["Next ▶"]["custom_id"]) == (2, None)
    select = payload["components"][-1]["components"][0]
    assert [o["value"] for o in select["options"]] == ["2101.00000", "2101.00001", "2101.00002"]

    one_paper = check(render_summaries_page(summaries[:1], 0, 1, "hep-th/9901001"))
    assert "of arXiv:hep-th/9901001" in one_paper["content"]
    assert "◀ Previous" not in buttons(one_paper)
    assert parse_sums_id("pb:sums:3:hep-th/9901001") == (3, "hep-th/9901001")

    empty = check(render_summaries_page([], 0, 0, "1805.08296"))
    assert "No summaries of arXiv:1805.08296 yet" in empty["embeds"][0]["title"]
    assert "shortscience.org" in empty["embeds"][0]["description"]


# --- venues -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "year"), [
    ("conf/nips/ZhangS18", 2018), ("conf/icml/HeK99a", 1999), ("conf/aaai/0002W19", 2019),
    ("journals/jmlr/SrivastavaHKSS14", 2014), ("journals/corr/1805.08296", 2018),
    ("journals/corr/abs-1805-08296", 2018), ("journals/corr/hep-th/9901001", 1999),
    ("journals/corr/NachumGLL18", 2018), ("10.1109/cvpr.2016.90", 2016), ("conf/nips/2018", None),
    ("ZhangS18", None), ("", None), (None, None), ("conf/nips/Zhang", None),
])
def test_venue_year(key: str | None, year: int | None) -> None:
    assert venue_year(key) == year


def test_venue_names_and_labels() -> None:
    assert venue_label("conf/nips/ZhangS18") == "NeurIPS 2018"
    assert venue_label("conf/nips/ZhangS17") == "NIPS 2017"  # renamed in 2018
    assert venue_label("conf/foo/BarB20") == "FOO 2020"
    assert venue_label("journals/corr/1805.08296") is None  # arXiv only: the card says "arXiv 2018"
    assert venue_name("conf/iclr") == "ICLR" and venue_name("nips") == "NeurIPS"
    paper = make_paper(comment=None)
    assert source_label(paper, [make_summary(bibtex_key="journals/corr/1805.08296")]) == "arXiv 2018"
    assert source_label(paper, [make_summary()]) == "NeurIPS 2018"


def test_venue_chart_bars_are_proportional() -> None:
    counts = {2016: 5, 2017: 15, 2018: 30, 2020: 1}
    chart = venue_chart(counts, selected=2018)
    lines = chart.strip("`\n").split("\n")
    assert [line[1:5] for line in lines] == ["2016", "2017", "2018", "2019", "2020"]  # gaps shown

    def eighths(line: str) -> int:
        body = line[6:6 + BAR_WIDTH]
        return 8 * body.count("█") + sum(" ▏▎▍▌▋▊▉".index(c) for c in body if c in "▏▎▍▌▋▊▉")

    sizes = dict(zip(range(2016, 2021), map(eighths, lines), strict=True))
    assert sizes[2018] == BAR_WIDTH * 8
    assert sizes[2017] == BAR_WIDTH * 4
    assert abs(sizes[2016] - BAR_WIDTH * 8 * 5 / 30) <= 0.5
    assert sizes[2019] == 0 and sizes[2020] >= 1  # a non-zero count always shows
    assert lines[2].startswith("▸2018") and lines[2].endswith(" 30") and lines[0].endswith("  5")
    assert bar(15, 30, 20) == "█" * 10 and bar(0, 30) == "" and bar(1, 0) == ""
    assert bar(7, 16, 20) == "████████▊"  # 8.75 cells


def test_venue_page() -> None:
    summaries = [make_summary(f"Summary {key}", bibtex_key=key, guid=key)
                 for key in ["conf/nips/AS18", "conf/nips/BS18", "conf/nips/CS17", "conf/nips/DS16"]]
    counts = venue_counts(summaries)
    assert counts == {2016: 1, 2017: 1, 2018: 2}
    payload = check(render_venue_page("nips", counts, None, summaries))
    chart, latest = payload["embeds"]
    assert chart["title"] == "📊 NeurIPS: summaries per year" and chart["description"].startswith("```\n")
    assert "▸2018" in chart["description"]
    assert latest["title"] == "💬 NeurIPS 2018: latest summaries"
    assert [f["value"].split("\n")[0] for f in latest["fields"]] == ["Summary conf/nips/AS18",
                                                                      "Summary conf/nips/BS18"]
    shown = buttons(payload)
    assert parse_venue_id(shown["◀ 2017"]["custom_id"]) == (2017, "nips")
    assert shown["▶"]["disabled"] is True
    older = check(render_venue_page("nips", counts, 2017, summaries))
    assert "NIPS 2017" in older["embeds"][1]["title"]
    assert set(buttons(older)) == {"◀ 2016", "2018 ▶"}
    empty = check(render_venue_page("conf/iclr", {}, None, []))
    assert "No summaries of **ICLR**" in empty["embeds"][0]["description"]


# --- terminal and JSON --------------------------------------------------------------------------------


def test_text_card_for_the_terminal() -> None:
    paper = make_paper(title="Under_scores and *stars* in $\\mathcal{O}(n)$", doi="10.1000/x")
    text = render_card_text(paper, [make_summary(), make_summary("Plain.", author=None, votes=None)])
    assert text.startswith("Under_scores and *stars* in 𝓞(n)\nhttps://arxiv.org/abs/1805.08296\n")
    assert "\\_" not in text and "\\*" not in text  # no markdown escaping noise
    assert "NeurIPS 2018 · cs.LG (primary) · cs.AI · stat.ML" in text
    assert "First published 2018-05-21 · latest v4, 2018-10-05" in text
    assert "DOI: https://doi.org/10.1000/x" in text
    assert "(THE-END)." in text  # the whole abstract
    assert "  Keypoints\n  ─────────" in text and "gₜ ∈ ℝᵈ" in text
    assert "[image: architecture] https://example.org/hiro.png" in text
    assert "── 2. Anonymous" in text
    assert all(len(line) <= 100 or "https://" in line for line in text.split("\n"))
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", text)


def test_card_json_has_every_field() -> None:
    paper, summary = make_paper(doi="10.1000/x"), make_summary()
    data = json.loads(json.dumps(card_json(paper, [summary])))
    for key in ("arxiv_id", "title", "authors", "abstract", "categories", "latest_version", "versions",
                "doi", "journal_ref", "comment", "published", "updated"):
        assert data[key] == getattr(paper, key)
    assert data["source"] == "NeurIPS 2018"
    assert data["links"]["abstract"] == "https://arxiv.org/abs/1805.08296"
    assert data["links"]["html"] is None
    (s,) = data["summaries"]
    assert s["text"] == HIRO_SUMMARY and s["votes"] == 12 and s["bibtex_key"] == "conf/nips/NachumGLL18"
    assert s["venue"] == "NeurIPS 2018" and s["year"] == 2018


def test_html_links_only_where_arxiv_has_html() -> None:
    assert html_url("2312.00001") == "https://arxiv.org/html/2312.00001"
    assert html_url("2311.99999") is None and html_url("hep-th/9901001") is None


def test_random_hostile_records_always_give_valid_payloads() -> None:
    """Seeded fuzz over every renderer: whatever the feeds hold, each payload is one Discord accepts."""
    rng = random.Random(20181005)
    atoms = ["@everyone", "<@123>", "<#9>", "*", "_", "`", "``", "~~", "||", "[", "](", ")", "\\", "$",
             "$x^2$", "$\\foo{", "}", "# ", "\n", "\n\n- ", "```", "![a](https://i.org/x.png)", "é",
             "\u200b", "\x00", "word ", "https://x.org/a_b ", "> ", "**", "\t"]

    def junk(size: int) -> str:
        return "".join(rng.choice(atoms) for _ in range(rng.randint(0, size)))

    for _ in range(60):
        arxiv_id = rng.choice(["1805.08296", "hep-th/9901001", "2412.01234"])
        paper = make_paper(arxiv_id, title=junk(80), authors=[junk(10) for _ in range(rng.randint(0, 30))],
                           abstract=junk(2000), comment=rng.choice([None, junk(50)]),
                           journal_ref=rng.choice([None, junk(50)]),
                           doi=rng.choice([None, "10.1/" + junk(20)]),
                           categories=[junk(5) or "cs.LG" for _ in range(rng.randint(1, 15))])
        summaries = [make_summary(junk(1500), author=rng.choice([None, junk(20)]), title=junk(50),
                                  link=rng.choice([None, "https://www.shortscience.org/p#" + junk(5),
                                                   junk(10)]),
                                  bibtex_key=rng.choice([None, "conf/nips/X18", junk(10)]))
                     for _ in range(rng.randint(0, 4))]
        state = CardState(arxiv_id, rng.random() < 0.5, rng.randint(-2, 6))
        for card in (render_paper_card(paper, summaries, state),
                     render_search_page(junk(200), [paper] * rng.randint(0, 12), rng.randint(0, 3),
                                        rng.choice([None, "cs.LG"]), rng.randint(0, 40)),
                     render_summaries_page(summaries, rng.randint(0, 3), rng.randint(0, 20), arxiv_id),
                     render_venue_page(junk(10) or "nips", venue_counts(summaries) or {2018: 3}, None,
                                       summaries),
                     *(render_summary_only_card(s) for s in summaries)):
            assert not PING.search(all_text(check(card)))
        assert "\x00" not in render_card_text(paper, summaries)
