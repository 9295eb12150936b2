"""The renderer: Discord limits never exceeded, packing, escaping, LaTeX to Unicode, text helpers.

Property-style checks use seeded ``random`` (hypothesis is not a dependency), so failures replay.
"""

from __future__ import annotations

import random
import re
from typing import Any

import discord
import pytest

from bot.core.digest import DigestEntry
from bot.core.latex_math import latex_to_unicode, math_to_unicode
from bot.core.text import truncate
from bot.discord_side import digest_render as render
from bot.discord_side.digest_render import render_digest, render_entry_embed
from bot.discord_side.fitting import fit_embed
from bot.discord_side.limits import (
    CONTENT_MAX,
    EMBED_FIELD_VALUE_MAX,
    EMBED_TITLE_MAX,
    EMBED_TOTAL_MAX,
    EMBEDS_PER_MESSAGE_MAX,
    embed_length,
    payload_violations,
)
from bot.discord_side.markdown import markdown_headings_to_bold, summary_markdown
from bot.discord_side.safety import escape_feed_text, neutralize_mentions, render_feed_text
from bot.discord_side.text_card import render_text_card
from storage.models import StoredPaper, StoredSummary

try:  # the Discord double's own validator, an independent reading of the limits
    from doubles.discord import check_message_payload
except ImportError:  # pragma: no cover - the double is optional for these pure tests
    check_message_payload = None

PINGS = ("@everyone", "@here", "<@123>", "<@!123456789012345678>", "<@&456>", "<#789>", "@EVERYONE")
_PING = re.compile(r"@(?:everyone|here)|<@[!&]?\d+>|<#\d+>", re.IGNORECASE)


def paper(arxiv_id: str = "2411.17700", *, title: str = "A Paper", authors: list[str] | None = None,
          abstract: str = "We study things.", categories: list[str] | None = None, version: int = 1,
          event: str = "new") -> StoredPaper:
    return StoredPaper(arxiv_id=arxiv_id, title=title, authors=authors if authors is not None else ["A. One"],
                       abstract=abstract, categories=categories or ["cs.LG", "stat.ML"],
                       latest_version=version, announce_type=event, doi=None, journal_ref=None,
                       comment=None, published=None, updated=None, seq=1)


def summary(text: str = "A summary.", *, author: str | None = "Hugo", votes: int | None = 2,
            title: str = "A Paper", arxiv_id: str | None = "2411.17700",
            link: str | None = "https://www.shortscience.org/paper?bibtexKey=x#hugo") -> StoredSummary:
    return StoredSummary(source="shortscience", guid=f"g{random.random()}", title=title, text=text,
                         author=author, link=link, arxiv_id=arxiv_id, doi=None, bibtex_key="journals/corr/x",
                         votes=votes, edited_at=None, seq=2)


def all_texts(payload: dict[str, Any]) -> list[str]:
    texts = [payload.get("content") or ""]
    for embed in payload.get("embeds") or []:
        texts += [embed.get("title") or "", embed.get("description") or "",
                  (embed.get("footer") or {}).get("text") or "",
                  (embed.get("author") or {}).get("name") or ""]
        for item in embed.get("fields") or []:
            texts += [item["name"], item["value"]]
    return texts


def assert_valid(messages: list[render.RenderedMessage], entries: list[DigestEntry],
                 per_message: int = EMBEDS_PER_MESSAGE_MAX) -> None:
    """Every limit holds, every entry is delivered exactly once and in order."""
    delivered = []
    for message in messages:
        payload = message.payload
        # the save select of its papers (issue: saving from where a paper is shown) may be there too
        assert set(payload) - {"components"} == {"content", "embeds", "allowed_mentions"}
        assert payload["allowed_mentions"] == {"parse": []}
        assert payload_violations(payload) == []
        if check_message_payload is not None:
            assert [str(p) for p in check_message_payload(payload)] == []
        assert len(payload["embeds"]) == len(message.entries) <= min(per_message, EMBEDS_PER_MESSAGE_MAX)
        assert sum(embed_length(e) for e in payload["embeds"]) <= EMBED_TOTAL_MAX
        assert len(payload["content"]) <= CONTENT_MAX
        delivered += message.entries
    assert [id(e) for e in delivered] == [id(e) for e in entries]


def without_escapes(text: str) -> str:
    return re.sub(r"\\.", "", text)


# --- limits -----------------------------------------------------------------------------------------


def test_thousand_author_paper_shows_three_and_et_al() -> None:
    authors = [f"Author Number{i}" for i in range(1000)]
    entry = DigestEntry(paper(authors=authors), matched=["cs.LG"])
    embed = render_entry_embed(entry)
    assert embed["description"].startswith("Author Number0, Author Number1, Author Number2 et al.\n")
    assert_valid(render_digest([entry], date_text="Sat 28 Nov 2026"), [entry])


def test_authors_line_lists_up_to_three_without_et_al() -> None:
    embed = render_entry_embed(DigestEntry(paper(authors=["A", "B", "C"])))
    assert embed["description"].splitlines()[0] == "A, B, C"
    embed = render_entry_embed(DigestEntry(paper(authors=["A", "B", "C", "D"])))
    assert embed["description"].splitlines()[0] == "A, B, C et al."
    embed = render_entry_embed(DigestEntry(paper(authors=["Andr\\'e *Bold* " + "x" * 500])))
    first = embed["description"].splitlines()[0]
    assert first.startswith("André \\*Bold\\*") and len(first) <= render.AUTHOR_NAME_MAX + 10


def test_huge_abstract_becomes_a_snippet_cut_at_a_word_boundary() -> None:
    words = [random.Random(1).choice(["alpha", "beta", "$x^2$", "gamma", "$\\mathcal{L}$", "delta"])
             for _ in range(4000)]
    abstract = " ".join(words)[:20000]
    embed = render_entry_embed(DigestEntry(paper(abstract=abstract)))
    snippet = embed["description"].split("\n\n", 1)[1]
    assert 300 <= len(snippet) <= render.ABSTRACT_SNIPPET
    assert snippet.endswith("…")
    assert snippet[:-1].rstrip() == snippet[:-1]  # cut between words, not inside one
    assert "$" not in snippet


def test_long_titles_are_cut_to_256() -> None:
    title = "Deep " * 60 + "Learning"  # 308 characters
    embed = render_entry_embed(DigestEntry(paper(title=title)))
    assert len(embed["title"]) <= EMBED_TITLE_MAX and embed["title"].endswith("Deep…")
    starry = "*" * 300  # every character escaped doubles it
    embed = render_entry_embed(DigestEntry(paper(title=starry)))
    assert len(embed["title"]) <= EMBED_TITLE_MAX
    assert without_escapes(embed["title"]).strip("…") == ""


def test_ten_thousand_entries_pack_within_limits() -> None:
    entries = [DigestEntry(paper(f"2411.{i:05d}", title=f"Paper {i}", abstract=f"Abstract {i}."),
                           matched=["cs.LG"]) for i in range(10_000)]
    messages = render_digest(entries, date_text="Sat 28 Nov 2026")
    assert_valid(messages, entries)
    assert len(messages) == 1000
    header = messages[0].payload["content"]
    assert header.startswith("📰 **Paperboy digest — Sat 28 Nov 2026** · 10000 new papers")
    assert messages[0].payload["content"].endswith("(1/1000)")
    assert messages[1].payload["content"] == "(2/1000)"


def test_summary_full_of_mentions_and_markdown_cannot_ping() -> None:
    text = "# Keypoints\n" + " ".join(PINGS * 40) + "\n**bold** _it_ ||spoiler|| ```code``` [x](http://e.vil)"
    entry = DigestEntry(paper(title="@everyone <@123> **title**", abstract="@here <#789> hi",
                              authors=["<@&456>", "@everyone"]),
                        summaries=[summary(text, author="@everyone <@123>"), summary(text)],
                        matched=["keyword:@here"])
    messages = render_digest([entry], date_text="@everyone", channel_topics=["<@123>"])
    assert_valid(messages, [entry])
    for text_part in all_texts(messages[0].payload):
        assert _PING.search(text_part) is None, text_part
    field = messages[0].payload["embeds"][0]["fields"][0]["value"]
    assert field.startswith("**Keypoints**")
    assert "http://e.vil" not in field


def test_entry_over_6000_is_shortened_not_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    huge = {"title": "t" * 300, "description": "d" * 5000, "footer": {"text": "f" * 3000},
            "author": {"name": "a" * 300},
            "fields": [{"name": "n" * 300, "value": "v" * 2000} for _ in range(30)]}
    fitted = fit_embed(huge)
    assert embed_length(fitted) <= EMBED_TOTAL_MAX
    assert payload_violations({"content": "", "embeds": [fitted], "allowed_mentions": {"parse": []}}) == []
    assert fitted["title"].startswith("ttt") and fitted["description"].startswith("ddd")

    monkeypatch.setattr(render, "_paper_embed", lambda entry, p, *rest: dict(huge, title=p.title))
    entries = [DigestEntry(paper(f"2411.{i:05d}", title=f"Paper {i}")) for i in range(25)]
    messages = render_digest(entries, date_text="today")
    assert_valid(messages, entries)
    assert [e["title"] for m in messages for e in m.payload["embeds"]] == [f"Paper {i}" for i in range(25)]


def test_many_summaries_and_topics_stay_within_limits() -> None:
    summaries = [summary("word " * 2000, author="x" * 1000) for _ in range(40)]
    entry = DigestEntry(paper(categories=[f"cs.{c}" for c in "ABCDEFGHIJ"]), summaries=summaries,
                        matched=[f"keyword:{'k' * 95}{i}" for i in range(60)])
    embed = render_entry_embed(entry)
    assert len(embed["fields"]) == render.SUMMARIES_SHOWN + 1
    assert embed["fields"][-1]["name"] == "…and 37 more summaries"
    assert "+55 more" in embed["description"]
    assert_valid(render_digest([entry], date_text="d"), [entry])


def random_text(rng: random.Random, size: int) -> str:
    tokens = ["word", "*", "_", "~~", "||", "`", "> ", "\n", "# ", "@everyone", "<@123>", "$\\alpha$",
              "$x^{2}$", "${", "\\", "}", "%", "[a](http://x)", "[b](https://y)", "é", "😀", "  ",
              "\\'e", "$\\foo{$", "<#5>", "-", "```"]
    return "".join(rng.choice(tokens) + rng.choice(["", " "]) for _ in range(size))


def random_entry(rng: random.Random, i: int) -> DigestEntry:
    sums = [summary(random_text(rng, rng.randint(0, 600)), author=random_text(rng, rng.randint(0, 30)),
                    votes=rng.choice([None, 0, 7]), title=random_text(rng, rng.randint(0, 100)),
                    link=rng.choice([None, "https://a.b/c", "javascript:alert(1)", "http://x y"]))
            for _ in range(rng.choice([0, 0, 1, 2, 5, 30]))]
    stored = None if (sums and rng.random() < 0.3) else paper(
        f"2411.{i:05d}", title=random_text(rng, rng.randint(0, 150)),
        authors=[random_text(rng, rng.randint(0, 20)) for _ in range(rng.choice([0, 1, 3, 4, 1200]))],
        abstract=random_text(rng, rng.choice([0, 50, 400, 5000])), version=rng.randint(1, 9),
        categories=[f"cs.{chr(65 + k)}" for k in range(rng.randint(1, 12))])
    return DigestEntry(stored, sums, [random_text(rng, 5)[:100] for _ in range(rng.randint(0, 8))],
                       rng.choice(["new", "cross", "replace", "replace-cross", "summary", "edited", "odd"]))


@pytest.mark.parametrize("seed", range(6))
def test_random_digests_within_limits_every_entry_once(seed: int) -> None:
    rng = random.Random(seed)
    entries = [random_entry(rng, i) for i in range(rng.randint(0, 120))]
    per_message = rng.choice([1, 3, 10, 50])
    messages = render_digest(entries, date_text=random_text(rng, 10), max_items_per_message=per_message,
                             channel_topics=[random_text(rng, 5) for _ in range(rng.randint(0, 40))])
    assert_valid(messages, entries, per_message)
    for message in messages:
        for text in all_texts(message.payload):
            assert _PING.search(text) is None
    for entry in entries:
        card = render_text_card(entry)
        assert "\x1b" not in card and card


# --- packing ----------------------------------------------------------------------------------------


def test_packing_is_greedy_by_count_and_by_characters() -> None:
    small = [{"title": "x" * 100} for _ in range(25)]
    assert render.pack_embeds(small, 10) == [list(range(10)), list(range(10, 20)), list(range(20, 25))]
    big = [{"description": "y" * 2500} for _ in range(5)]  # two fit in 6000, three don't
    assert render.pack_embeds(big, 10) == [[0, 1], [2, 3], [4]]
    assert render.pack_embeds([], 10) == []


def test_max_items_per_message_is_respected() -> None:
    entries = [DigestEntry(paper(f"2411.{i:05d}")) for i in range(7)]
    messages = render_digest(entries, date_text="d", max_items_per_message=3)
    assert [len(m.entries) for m in messages] == [3, 3, 1]
    assert_valid(messages, entries, 3)
    assert [len(m.entries) for m in render_digest(entries, date_text="d", max_items_per_message=0)] == [1] * 7


def test_empty_digest_is_one_header_message() -> None:
    [message] = render_digest([], date_text="Sat 28 Nov 2026")
    assert message.entries == [] and message.payload["embeds"] == []
    assert message.payload["content"] == "📰 **Paperboy digest — Sat 28 Nov 2026** · nothing new"
    assert payload_violations(message.payload) == []


def test_header_counts_kinds_and_lists_topics() -> None:
    entries = [DigestEntry(paper("1"), event="new"), DigestEntry(paper("2"), event="new"),
               DigestEntry(paper("3"), event="cross"), DigestEntry(paper("4"), event="replace-cross"),
               DigestEntry(paper("5"), [summary(), summary()], event="summary"),
               DigestEntry(None, [summary(arxiv_id=None)], event="summary")]
    [message] = render_digest(entries, date_text="Sat 28 Nov 2026", channel_topics=["cs.LG", "author:A_B"])
    assert message.payload["content"] == (
        "📰 **Paperboy digest — Sat 28 Nov 2026** · 2 new papers, 1 cross-list, 1 replacement, "
        "3 summaries\nFollowing: cs.LG, author:A\\_B")


# --- one entry --------------------------------------------------------------------------------------


def test_paper_embed_shape() -> None:
    entry = DigestEntry(paper(title="On $\\alpha$-Divergences", version=3, categories=["cs.LG", "cs.AI"]),
                        [summary("## Idea\nUse $\\beta$.")], ["cs.LG", "author:A. One"], "replace")
    embed = render_entry_embed(entry)
    assert embed["title"] == "On α-Divergences"
    assert embed["url"] == "https://arxiv.org/abs/2411.17700"
    assert embed["description"].splitlines()[1] == "**cs.LG** · cs.AI · matched: cs.LG, author:A. One"
    assert embed["footer"]["text"] == "arXiv:2411.17700v3 · replacement"
    assert embed["color"] == render.COLORS["replace"]
    [field] = embed["fields"]
    assert field["name"] == "💬 Summary by Hugo · ▲ 2 (shortscience)"
    assert field["value"].startswith("**Idea**\nUse β.")
    assert "[Read the summary](<https://www.shortscience.org/" in field["value"]
    assert len(discord.Embed.from_dict(embed)) == embed_length(embed)


def test_event_labels_and_colours_differ() -> None:
    footers = {event: render_entry_embed(DigestEntry(paper(), event=event))["footer"]["text"]
               for event in ("new", "cross", "replace")}
    assert footers == {"new": "arXiv:2411.17700v1 · new", "cross": "arXiv:2411.17700v1 · cross-list",
                       "replace": "arXiv:2411.17700v1 · replacement"}
    colours = {render_entry_embed(DigestEntry(paper(), event=e))["color"]
               for e in ("new", "cross", "replace")}
    assert len(colours) == 3


def test_summary_without_paper() -> None:
    entry = DigestEntry(None, [summary("Text", title="Attention Is All You Need", arxiv_id=None,
                                       link="https://www.shortscience.org/paper?bibtexKey=conf/nips/V17#u")],
                        ["feed:shortscience"], "summary")
    embed = render_entry_embed(entry)
    assert embed["title"] == "Attention Is All You Need"
    assert embed["url"] == "https://www.shortscience.org/paper?bibtexKey=conf/nips/V17#u"
    assert embed["footer"]["text"] == "shortscience · new summary"
    assert embed["color"] == render.COLORS["summary"]
    bad_link = render_entry_embed(DigestEntry(None, [summary(link="javascript:alert(1)")], event="summary"))
    assert "url" not in bad_link


def test_percent_signs_survive_tex_decoding() -> None:
    embed = render_entry_embed(DigestEntry(paper(abstract="We reach 95% of \\emph{Andr\\'e}'s score.")))
    assert embed["description"].endswith("We reach 95% of André's score.")


def test_text_card_is_plain() -> None:
    entry = DigestEntry(paper(title="On $x^2$ \x1b[31mred", authors=["A", "B", "C", "D"]),
                        [summary("# Head\nbody")], ["cs.LG"])
    card = render_text_card(entry)
    assert card.splitlines()[0] == "[new] On x² [31mred  (arXiv:2411.17700v1)"
    assert "A, B, C et al." in card and "matched: cs.LG" in card and "summary by Hugo" in card
    assert "\x1b" not in card
    long_card = render_text_card(DigestEntry(paper(abstract="word " * 5000)))
    assert long_card.endswith("word…") and "……" not in long_card


# --- escaping ---------------------------------------------------------------------------------------


def test_escape_feed_text_escapes_markdown_and_mentions() -> None:
    escaped = escape_feed_text("**bold** _it_ ~~s~~ ||sp|| `code` \\ [x](https://y)")
    assert re.search(r"[*_~|`\\]", without_escapes(escaped)) is None
    for ping in PINGS:
        assert _PING.search(escape_feed_text(f"hi {ping} there")) is None
    assert escape_feed_text("see https://a.b/c_d") == "see https://a.b/c_d"  # URLs stay clickable
    assert escape_feed_text("# heading") == "\\# heading"


def test_neutralize_mentions_keeps_text_readable() -> None:
    assert (neutralize_mentions("@everyone <@123> <#7> a@b.c")
            == "@\u200beveryone <@\u200b123> <#\u200b7> a@b.c")


def test_title_markdown_is_escaped() -> None:
    embed = render_entry_embed(DigestEntry(paper(title="**Bold** and _under_ ~~gone~~ `x` | y")))
    assert embed["title"] == "\\*\\*Bold\\*\\* and \\_under\\_ \\~\\~gone\\~\\~ \\`x\\` \\| y"


def test_summary_links_only_https_survive() -> None:
    text = "[a](https://ok.example) [b](http://plain.example) [c](javascript:alert(1)) ![img](https://i/x.png)"
    assert summary_markdown(text) == "[a](https://ok.example) b c img"


def test_summary_cut_closes_open_markdown() -> None:
    embed = render_entry_embed(DigestEntry(paper(), [summary("**" + "bold words " * 100 + "**")]))
    opening = embed["fields"][0]["value"].split("\n[Read")[0]
    assert opening.count("**") % 2 == 0 and len(opening) <= render.SUMMARY_SNIPPET
    fenced = summary_markdown("```\n" + "code line\n" * 100 + "```")
    cut = render.markdown_cut(fenced, 300)
    assert cut.count("```") == 2 and len(cut) <= 300


# --- payload_violations -----------------------------------------------------------------------------


def test_payload_violations_catches_each_limit() -> None:
    ok = {"content": "hi", "embeds": [], "allowed_mentions": {"parse": []}}
    assert payload_violations(ok) == []
    assert payload_violations({**ok, "allowed_mentions": {"parse": [], "replied_user": False}}) == []
    cases = [
        {**ok, "content": "x" * 2001},
        {**ok, "embeds": [{"title": "t"}] * 11},
        {**ok, "embeds": [{"title": "t" * 257}]},
        {**ok, "embeds": [{"fields": [{"name": "n", "value": "v" * (EMBED_FIELD_VALUE_MAX + 1)}]}]},
        {**ok, "embeds": [{"fields": [{"name": "n", "value": ""}]}]},
        {**ok, "embeds": [{"fields": [{"name": "n", "value": "v"}] * 26}]},
        {**ok, "embeds": [{"description": "d" * 4000}, {"description": "d" * 2001}]},
        {**ok, "embeds": [{"url": "javascript:alert(1)"}]},
        {**ok, "allowed_mentions": {"parse": ["everyone"]}},
        {**ok, "allowed_mentions": {"parse": [], "users": ["1"]}},
        {"content": "hi", "embeds": []},
        {**ok, "content": "hello @everyone"},
        {**ok, "content": ""},
    ]
    for payload in cases:
        assert payload_violations(payload), payload


# --- LaTeX ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("source", "expected"), [
    ("$\\alpha$", "α"),
    ("$x^2$", "x²"),
    ("$\\mathcal{L}$", "𝓛"),
    ("$L_0$", "L₀"),
    ("$\\sum_{j=1}^c \\mathcal{L}(f(x), j) = C$", "∑ⱼ₌₁ᶜ 𝓛(f(x), j) = C"),
    ("$\\mathbb{R}^n$", "ℝⁿ"),
    ("\\(\\|x\\|_2 \\le \\epsilon\\)", "‖x‖₂ ≤ ϵ"),
    ("$$\\frac{a+b}{2}$$", "(a+b)/2"),
    ("$\\hat{\\theta}_t$", "θ̂ₜ"),
    ("$\\widetilde{O}(\\sqrt{T})$", "Õ(√T)"),
    ("$x_{ij}^{(k)}$", "xᵢⱼ⁽ᵏ⁾"),
    ("$\\left( x \\right)$", "( x )"),
    ("$\\circledast$", "⊛"),  # from pylatexenc's symbol table
    ("$O(n^{2.5})$", "`O(n^{2.5})`"),  # no superscript dot: kept as source
    ("$\\foo{x}$", "`\\foo{x}`"),  # unknown macro: kept as source
    ("$W_Q$", "`W_Q`"),
    ("$\\begin{pmatrix}1\\end{pmatrix}$", "`\\begin{pmatrix}1\\end{pmatrix}`"),
    ("$\\foo`b$", "`` \\foo`b ``"),
])
def test_latex_to_unicode(source: str, expected: str) -> None:
    assert latex_to_unicode(source) == expected


def test_latex_leaves_text_alone() -> None:
    for text in ("costs $5 and $10", "Andr\\'e {x} 95%", "plain text", "$ $", "a \\$ b", "$5"):
        assert latex_to_unicode(text) == text
    assert latex_to_unicode("we show $x^2$ grows") == "we show x² grows"
    assert latex_to_unicode("matrix $W_Q\\left( A_n \\right) $ of") == "matrix `W_Q\\left( A_n \\right)` of"
    assert latex_to_unicode("$ \\alpha $ and $a\\$b$") == "α and a$b"


def test_latex_never_raises() -> None:
    rng = random.Random(7)
    alphabet = ["$", "$$", "\\(", "\\)", "{", "}", "^", "_", "\\alpha", "\\frac", "\\sqrt", "[", "]",
                "\\left", "\\", "x", " ", "\\mathcal", "&", "%", "\\begin{", "é", "\\hat", "1", "\n"]
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        assert isinstance(latex_to_unicode(text), str)
        assert isinstance(render_feed_text(text, 100), str) and len(render_feed_text(text, 100)) <= 100
    assert math_to_unicode("{" * 900 + "}" * 900) is None or isinstance(math_to_unicode("{" * 900), str)
    assert latex_to_unicode("$" + "{" * 5000 + "$") .startswith("`")


# --- text helpers -----------------------------------------------------------------------------------


def test_truncate() -> None:
    assert truncate("short", 10) == "short"
    assert truncate("hello wonderful world of things", 20) == "hello wonderful…"
    assert truncate("abcdefghijklmnopqrstuvwxyz", 10) == "abcdefghi…"
    assert truncate("hello world", 3, ellipsis="...") == "hel"
    assert truncate("a, b, c, d, e, f", 9) == "a, b, c…"
    rng = random.Random(3)
    for _ in range(500):
        text = random_text(rng, rng.randint(0, 50))
        limit = rng.randint(0, 80)
        assert len(truncate(text, limit)) <= limit


def test_markdown_headings_to_bold() -> None:
    text = "# Keypoints\n## Details ##\n#hashtag\n```\n# not a heading\n```\n   ### Deep"
    assert markdown_headings_to_bold(text) == (
        "**Keypoints**\n**Details**\n#hashtag\n```\n# not a heading\n```\n**Deep**")
