"""Summaries on the paper card: a long summary is collapsed to a readable opening (More/Less, the
state in the card's custom id), and a summary whose markdown arrives on one line (as ShortScience's
venue pages and feeds show it) is not turned into one bold heading.

Cards are built from records written here (the HIRO paper, arXiv 1805.08296, with a ~3,900-character
summary) and every payload goes through the limit checks of tests/test_card.py and the Discord
double's checkers.
"""

from __future__ import annotations

import random
import re
from typing import Any

import pytest

from bot.discord_side.cards.custom_ids import CardState
from bot.discord_side.cards.paper import ABSTRACT_COLLAPSED, SUMMARY_COLLAPSED, render_paper_card
from bot.discord_side.cards.terminal import render_card_text
from bot.discord_side.limits import EMBED_DESCRIPTION_MAX, EMBED_TOTAL_MAX, embed_length
from bot.discord_side.markdown import (
    is_heading_text,
    markdown_headings_to_bold,
    markdown_opening,
    summary_markdown,
)
from tests.test_card import PING, all_text, buttons, check, make_paper, make_summary

try:
    from doubles.discord import check_components, check_embeds
except ImportError:  # pragma: no cover - the double is optional for these pure tests
    check_components = check_embeds = None  # type: ignore[assignment]

HIRO_LONG = """# Keypoints
- Proposes the HIerarchical Reinforcement learning with Off-policy correction (**HIRO**) algorithm.
- Does not require careful task-specific design.
- Generic goal representation to make it broadly applicable, without any manual design of goal \
spaces, primitives, or controllable dimensions.
- Use of off-policy experience using a novel off-policy correction.
- A two-level hierarchy architecture.
  - A higher-level controller outputs a goal for the lower-level controller every **c** time steps \
and collects the rewards given by the environment, being the goal the desired change in state space.
  - The lower level controller has the goal given added to its input and acts directly in the \
environment, the reward received is parametrized from the current state and the goal.

# Background
This paper adopts a standard continuous control reinforcement learning setting, in which an agent \
acts on an environment that yields a sequence of transitions $(s_t, a_t, r_t, s_{t+1})$. The goal of \
the agent is to maximize the discounted sum of rewards $R = \\sum_t \\gamma^t r_t$. Off-policy methods \
such as TD3 learn a deterministic policy $\\mu$ and a critic $Q$ from a replay buffer, which makes them \
far more sample-efficient than on-policy methods like PPO or TRPO, at the price of some stability.

## Hierarchy of two policies
The higher-level policy $\\mu^{hi}$ observes the state and produces a high-level action (a goal) \
$g_t \\in \\mathbb{R}^d$ every $c$ steps. In between, the goal is changed by a fixed goal transition \
function $g_{t+1} = s_t + g_t - s_{t+1}$, so that it always points at the same absolute position. The \
lower-level policy $\\mu^{lo}$ observes the state and the goal and produces a low-level action applied \
to the environment. It is rewarded with an intrinsic reward $r = -\\|s_t + g_t - s_{t+1}\\|_2$ that \
measures how close it got to the goal.

## Off-policy correction
The transitions stored for the higher level become stale: the lower-level policy changes during \
training, so the same goal no longer leads to the same behaviour. HIRO relabels each stored \
high-level transition with a goal $\\tilde g_t$ chosen to maximize the probability of the observed \
low-level actions under the current lower-level policy. Ten candidates are tried: the original goal, \
the actual state difference, and eight goals sampled around it.

# Experiments
The method is evaluated on Ant Gather, Ant Maze, Ant Push and Ant Fall, four difficult locomotion \
and navigation tasks built on the MuJoCo simulator, where the agent must reach distant locations and \
sometimes move blocks out of its way. HIRO is compared with FeUdal Networks, Option-Critic, a flat \
TD3 baseline and variants of itself without the correction or with goals learned as embeddings.

# Results
- HIRO solves Ant Maze, Ant Push and Ant Fall, on which the other methods make very little progress.
- It needs about two million environment steps, an order of magnitude less than on-policy \
hierarchical methods.
- The off-policy correction matters: without it the results are significantly worse, and learned \
goal embeddings are worse than raw state goals.

# Discussion
The simplicity of the approach is its main strength. Goals in raw state space are easy to interpret \
and need no representation learning, yet they also assume that the relevant part of the state is \
observed; learning goal representations is left for future work, and the authors argue that the \
off-policy correction would carry over to that setting as well.

# Limitations
- The goal transition function assumes that the goal lives in the same space as the observations, \
which is natural for locomotion but less so for tasks observed through pixels.
- The horizon $c$ of the higher level is fixed by hand (here $c = 10$) and is shared by all tasks.
- All experiments are in simulation; the claim that the method suits real-world robotics follows \
from its sample efficiency, not from a robot experiment (THE-SUMMARY-END).
"""
# The same summary as ShortScience's venue pages show it: every line break gone.
HIRO_ONE_LINE = " ".join(HIRO_LONG.split())
# The HIRO item of the ShortScience RSS sample (../shared/fixtures/feeds/shortscience_rss_sample.xml).
HIRO_FEED_DESCRIPTION = (
    "# Keypoints - Proposes the HIerarchical Reinforcement learning with Off-policy correction "
    "(**HIRO**) algorithm. - Does not require careful task-specific design. - Generic goal "
    "representation to make it broadly applicable, without any manual design of goal spaces, "
    "primitives, or controllable dimensions. - Use of off-policy experience using a novel off-policy "
    "correction. - A two-level hierarchy architecture - A higher-level controller outputs a goal for "
    "the lower-level controller every **c** time ..."
)
READ_MORE = "\n[Read the full summary](https://www.shortscience.org/paper?bibtexKey=conf/nips/NachumGLL18#hugo)"
WHOLE_BOLD_LINE = re.compile(r"^\*\*((?:(?!\*\*).)+)\*\*$")


def checked(payload_card: Any) -> dict[str, Any]:
    """tests/test_card.py's check, plus the double's embed and component checkers on their own."""
    payload = check(payload_card)
    if check_embeds is not None:
        assert [str(p) for p in check_embeds(payload["embeds"])] == []
        assert [str(p) for p in check_components(payload["components"])] == []
    for embed in payload["embeds"]:
        assert len(embed.get("description") or "") <= EMBED_DESCRIPTION_MAX
        assert len(embed.get("fields") or []) <= 25
        assert all(len(f["value"]) <= 1024 for f in embed.get("fields") or [])
    return payload


def summary_text(payload: dict[str, Any]) -> str:
    return payload["embeds"][1]["description"]


def click(payload: dict[str, Any], label: str, summary_count: int) -> CardState:
    parsed = CardState.parse(buttons(payload)[label]["custom_id"])
    assert parsed is not None
    action, shown = parsed
    return shown.apply(action, summary_count)


def bold_headings(markdown: str) -> list[str]:
    return [m.group(1) for line in markdown.split("\n") if (m := WHOLE_BOLD_LINE.match(line.strip()))]


# --- a long summary is collapsed ----------------------------------------------------------------------


def test_the_hiro_summary_collapses_to_a_readable_opening() -> None:
    assert 3800 <= len(HIRO_LONG) <= 4000
    paper, summaries = make_paper(), [make_summary(HIRO_LONG)]
    payload = checked(render_paper_card(paper, summaries, CardState(paper.arxiv_id)))
    text = summary_text(payload)
    assert len(text) <= SUMMARY_COLLAPSED
    assert text.endswith(READ_MORE)  # the link to ShortScience stays when the text is cut
    opening = text[:-len(READ_MORE)]
    assert len(opening) >= 400 and opening.endswith("…")
    assert opening.startswith("**Keypoints**\n- Proposes the HIerarchical")
    # cut where a line ends (here after a list item), not inside a word or a sentence
    assert opening.endswith("being the goal the desired change in state space.\n…")
    assert "Limitations" not in text and "THE-SUMMARY-END" not in text
    assert buttons(payload)["More"]["custom_id"] == "pb:card:more:0:0:1805.08296"
    assert "Less" not in buttons(payload)
    assert sum(embed_length(e) for e in payload["embeds"]) < 2500  # a card, not a wall


def test_more_expands_the_summary_and_less_collapses_it_again() -> None:
    paper, summaries = make_paper(), [make_summary(HIRO_LONG)]
    collapsed = checked(render_paper_card(paper, summaries, CardState(paper.arxiv_id)))
    expanded = checked(render_paper_card(paper, summaries, click(collapsed, "More", 1)))
    text = summary_text(expanded)
    assert len(text) > 3 * len(summary_text(collapsed))
    assert "**Limitations**" in text and "(THE-SUMMARY-END)." in text  # the whole summary fits here
    assert "Read the full summary" not in text
    assert "(THE-END)." in all_text(expanded)  # the abstract is expanded with it
    assert sum(embed_length(e) for e in expanded["embeds"]) <= EMBED_TOTAL_MAX
    assert buttons(expanded)["Less"]["custom_id"] == "pb:card:less:1:0:1805.08296"
    assert "More" not in buttons(expanded)
    again = checked(render_paper_card(paper, summaries, click(expanded, "Less", 1)))
    assert again == collapsed


def test_a_long_summary_alone_makes_the_card_expandable() -> None:
    paper = make_paper(abstract="A short abstract.")  # nothing else to expand
    payload = checked(render_paper_card(paper, [make_summary(HIRO_LONG)], CardState(paper.arxiv_id)))
    assert "More" in buttons(payload)
    short = checked(render_paper_card(paper, [make_summary()], CardState(paper.arxiv_id)))
    assert set(buttons(short)) == {"Save", "Abstract", "PDF", "ShortScience"}  # HIRO_SUMMARY fits: no More
    assert "Read the full summary" not in summary_text(short)
    assert "**Results**" in summary_text(short)  # shown whole


def test_expanded_summary_that_still_does_not_fit_is_cut_with_the_link() -> None:
    paper = make_paper(abstract="A longer abstract sentence goes here. " * 50)  # ~1,900 characters
    huge = make_summary((HIRO_LONG + "\n") * 4)
    payload = checked(render_paper_card(paper, [huge], CardState(paper.arxiv_id, expanded=True)))
    text = summary_text(payload)
    assert 3000 < len(text) <= EMBED_DESCRIPTION_MAX
    assert text.endswith(READ_MORE) and "…" in text[-len(READ_MORE) - 5:]
    assert sum(embed_length(e) for e in payload["embeds"]) > EMBED_TOTAL_MAX - 200  # the room is used


@pytest.mark.parametrize("custom_id", [
    "pb:card:more:0:0:1805.08296", "pb:card:less:1:0:1805.08296", "pb:card:next:0:0:1805.08296",
    "pb:card:prev:1:1:1805.08296",
])
def test_custom_ids_posted_before_summaries_collapsed_still_work(custom_id: str) -> None:
    """The id format is unchanged: ids on messages posted earlier parse as before."""
    parsed = CardState.parse(custom_id)
    assert parsed is not None
    action, shown = parsed
    _, _, name, expanded, index, arxiv_id = custom_id.split(":")
    assert (action, shown) == (name, CardState(arxiv_id, expanded == "1", int(index)))
    assert shown.to_custom_id(action) == custom_id
    paper = make_paper()
    summaries = [make_summary(HIRO_LONG, guid="a"), make_summary(HIRO_LONG, author="B", guid="b")]
    state = shown.apply(action, len(summaries))
    payload = checked(render_paper_card(paper, summaries, state))
    text = summary_text(payload)
    if state.expanded:  # an old More now also expands the summary
        assert "(THE-SUMMARY-END)." in text and "Less" in buttons(payload)
    else:
        assert len(text) <= SUMMARY_COLLAPSED and "More" in buttons(payload)


def test_paging_keeps_the_summary_collapsed_or_expanded() -> None:
    paper = make_paper(abstract="A short abstract.")
    summaries = [make_summary(HIRO_LONG, author="First", guid="1"),
                 make_summary("Short and sweet.", author="Second", guid="2"),
                 make_summary(HIRO_LONG.replace("HIRO", "Third"), author="Third", guid="3")]
    collapsed = checked(render_paper_card(paper, summaries, CardState(paper.arxiv_id)))
    second = checked(render_paper_card(paper, summaries, click(collapsed, "Next ▶", 3)))
    assert summary_text(second) == "Short and sweet."
    assert "More" not in buttons(second)  # nothing to expand on this page
    third = checked(render_paper_card(paper, summaries, click(second, "Next ▶", 3)))
    assert len(summary_text(third)) <= SUMMARY_COLLAPSED and "More" in buttons(third)

    expanded = checked(render_paper_card(paper, summaries, click(collapsed, "More", 3)))
    assert "(THE-SUMMARY-END)." in summary_text(expanded)
    second = checked(render_paper_card(paper, summaries, click(expanded, "Next ▶", 3)))
    assert buttons(second)["Next ▶"]["custom_id"] == "pb:card:next:1:1:1805.08296"  # still expanded
    third = checked(render_paper_card(paper, summaries, click(second, "Next ▶", 3)))
    assert "(THE-SUMMARY-END)." in summary_text(third) and "Less" in buttons(third)
    back = checked(render_paper_card(paper, summaries, click(third, "◀ Prev", 3)))
    assert buttons(back)["◀ Prev"]["custom_id"] == "pb:card:prev:1:1:1805.08296"


def test_the_abstract_still_collapses_as_before() -> None:
    paper, summaries = make_paper(), [make_summary(HIRO_LONG)]
    payload = checked(render_paper_card(paper, summaries, CardState(paper.arxiv_id)))
    abstract = payload["embeds"][0]["description"].split("\n\n", 1)[1]
    assert len(abstract) <= ABSTRACT_COLLAPSED and abstract.endswith("…")


def test_the_terminal_card_keeps_the_whole_summary() -> None:
    text = render_card_text(make_paper(), [make_summary(HIRO_LONG)])
    assert "(THE-SUMMARY-END)." in text and "  Limitations\n  ───────────" in text
    one_line = render_card_text(make_paper(), [make_summary(HIRO_ONE_LINE)])
    assert "(THE-SUMMARY-END)." in one_line
    assert "─" * 90 not in one_line  # no 3,900-character "heading" underlined


# --- one-line markdown --------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [HIRO_ONE_LINE, HIRO_FEED_DESCRIPTION])
def test_a_one_line_summary_is_not_one_bold_heading(text: str) -> None:
    converted = markdown_headings_to_bold(text)
    assert not converted.startswith("**Keypoints - ")
    assert converted.startswith("**Keypoints** - Proposes the HIerarchical")  # a bold lead, then body
    assert all(len(h) <= 80 for h in bold_headings(converted))
    assert not re.search(r"^#", converted, re.MULTILINE)  # no heading marks left at a line start
    assert "(**HIRO**) algorithm. - Does not require" in converted  # the body is kept as written


def test_a_one_line_summary_is_split_at_its_inline_headings() -> None:
    converted = markdown_headings_to_bold(HIRO_ONE_LINE)
    paragraphs = converted.split("\n\n")
    assert len(paragraphs) == 8  # one per heading
    assert paragraphs[1].startswith("Background This paper adopts")  # heading and text can't be told apart
    assert paragraphs[5].startswith("**Results** - HIRO solves Ant Maze")
    assert paragraphs[-1].startswith("**Limitations** - The goal transition function")
    unbold = " ".join(paragraphs).replace("**", "")
    assert unbold == re.sub(r"#{1,6} ", "", HIRO_ONE_LINE).replace("**", "")  # nothing else changed


def test_the_one_line_summary_on_the_card() -> None:
    paper, summaries = make_paper(), [make_summary(HIRO_ONE_LINE)]
    collapsed = checked(render_paper_card(paper, summaries, CardState(paper.arxiv_id)))
    text = summary_text(collapsed)
    assert text.startswith("**Keypoints** - Proposes") and text.endswith(READ_MORE)
    opening = text[:-len(READ_MORE)]
    assert opening.endswith(" …")  # one long paragraph: cut at a sentence end
    assert opening[:-2].endswith(".")
    assert len(text) <= SUMMARY_COLLAPSED
    expanded = checked(render_paper_card(paper, summaries, click(collapsed, "More", 1)))
    assert "**Results** - HIRO solves" in summary_text(expanded)
    assert "(THE-SUMMARY-END)." in summary_text(expanded)


def test_short_heading_lines_still_become_bold_headings() -> None:
    assert markdown_headings_to_bold("# Results") == "**Results**"
    text = ("# Keypoints\n- A\n## 1. Method?\n### **Bold** part ###\n#### Step 2: encode\n"
            "# Results\nBeats FuN.")
    assert markdown_headings_to_bold(text) == (
        "**Keypoints**\n- A\n**1. Method?**\n**Bold part**\n**Step 2: encode**\n**Results**\nBeats FuN.")
    assert bold_headings(summary_markdown("# Results\n\nText.")) == ["Results"]  # digests too


def test_heading_rule() -> None:
    assert is_heading_text("Results") and is_heading_text("1. Introduction") and is_heading_text("Why?")
    assert is_heading_text("x" * 80) and not is_heading_text("x" * 81)
    assert not is_heading_text("This is a sentence. And another one")
    assert not is_heading_text("") and not is_heading_text("   ")
    long_line = "# " + "word " * 30
    assert markdown_headings_to_bold(long_line) == long_line[2:].strip()  # body text, # dropped
    assert markdown_headings_to_bold("# Proposes HIRO. Uses off-policy data.") == (
        "Proposes HIRO. Uses off-policy data.")
    assert markdown_headings_to_bold("```\n# " + "code " * 30 + "\n```") == "```\n# " + "code " * 30 + "\n```"
    inline_code = "# A long line with `x = 1 # not a heading` in code, which goes on and on and on and on."
    assert markdown_headings_to_bold(inline_code) == inline_code[2:]  # not split inside inline code


def test_digest_markdown_of_a_one_line_summary_is_readable() -> None:
    digest = summary_markdown(HIRO_FEED_DESCRIPTION, 300)
    assert digest.startswith("**Keypoints** - Proposes the HIerarchical")
    assert all(len(h) <= 80 for h in bold_headings(digest))


# --- the opening cut ----------------------------------------------------------------------------------


def test_opening_cuts_at_a_line_then_a_sentence_then_gives_up() -> None:
    lines = "\n".join(f"- Item number {i} is a fairly long list item." for i in range(40))
    cut = markdown_opening(lines, 400)
    assert cut is not None and cut.endswith("list item.\n…") and len(cut) <= 400
    prose = " ".join(f"Sentence {i} is here and says something." for i in range(40))
    cut = markdown_opening(prose, 400)
    assert cut is not None and cut.endswith("says something. …") and len(cut) <= 400
    assert markdown_opening("word " * 200, 400) is None  # no boundary: the caller cuts at a word
    assert markdown_opening("Short. Text.", 400) is None  # fits whole


def test_opening_never_cuts_inside_code_links_abbreviations_or_after_a_heading() -> None:
    filler = "Some words without an end " * 12
    assert markdown_opening(filler + "as in e.g. Smith and more " + filler, 400) is None
    assert markdown_opening(filler + "`a. B` " + filler, 400) is None
    assert markdown_opening(filler + "[a. B](https://x.org) " + filler, 400) is None
    heading_last = "x " * 150 + "\n**Results**\n" + "y " * 200
    cut = markdown_opening(heading_last, 400)
    assert cut is None or "**Results**" not in cut
    bold = "**" + "Bold text goes on. " * 40 + "**"
    cut = markdown_opening(bold, 400)
    assert cut is not None and cut.endswith("goes on.** …") and cut.count("**") == 2


def test_random_summaries_always_give_valid_cards() -> None:
    rng = random.Random(1805_08296)
    atoms = ["# Keypoints ", "# ", "## Results\n", "- item. ", "\n", "\n\n", "word ", "Sentence. ",
             "e.g. ", "`code. X` ", "**bold ", "[link. A](https://x.org/a) ", "```\n", "$x_i$ ", "@everyone ",
             "<@1> ", "||spoiler. || ", "~~strike ", "> quote. ", "![img](https://x.org/i.png) "]
    for _ in range(80):
        text = "".join(rng.choice(atoms) for _ in range(rng.randint(0, 900)))
        summaries = [make_summary(text, guid=f"{i}") for i in range(rng.randint(1, 3))]
        state = CardState("1805.08296", rng.random() < 0.5, rng.randint(0, 2))
        payload = checked(render_paper_card(make_paper(), summaries, state))
        shown = summary_text(payload)
        assert not PING.search(all_text(payload))
        if not state.expanded:
            assert len(shown) <= SUMMARY_COLLAPSED
        if shown.endswith(READ_MORE):  # cut: the text ends with an ellipsis (then any closers)
            assert shown.removesuffix(READ_MORE).rstrip("*_~|`\n").endswith("…")
        opening = markdown_opening(summary_markdown(text), 500)
        if opening is not None:
            assert len(opening) <= 500 and opening.endswith("…")
            assert opening.count("```") % 2 == 0 and opening.count("**") % 2 == 0
