"""``/paper search`` results: numbered, linked titles with short author lists, paged by buttons
(``pb:search:…``), and a select that opens a result's card (``pb:open``)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.links import abs_url
from bot.core.text import collapse_whitespace, truncate
from bot.core.venues import paper_year
from bot.discord_side.cards.controls import CardPayload, open_select, prev_next
from bot.discord_side.cards.custom_ids import search_custom_id
from bot.discord_side.fitting import fit_embed
from bot.discord_side.limits import EMBED_TITLE_MAX, SELECT_TEXT_MAX
from bot.discord_side.lines import PAPER_COLOR, authors_line, categories_line, embed_footer
from bot.discord_side.markdown import link_label
from bot.discord_side.safety import escape_feed_text, plain_text, render_feed_text
from storage.models import StoredPaper

SEARCH_PAGE_SIZE = 5
_AUTHORS_SHOWN = 2
_NO_RESULTS_TIPS = (
    "Look a paper up directly by arXiv id, URL or DOI: `/paper show 1805.08296`.",
    "Only papers from followed arXiv categories and earlier lookups are in the store.",
)


def _linked_title(title: str, url: str, limit: int) -> str:
    """``[Title](url)``, or ``Title ([link](url))`` when the title can't be a link label."""
    text = render_feed_text(title, limit) or "(untitled)"
    label = link_label(text)
    return f"[{label}]({url})" if label else f"{text} ([link]({url}))"


def result_entry(number: int, paper: StoredPaper) -> tuple[str, tuple[str, str, str]]:
    """One result as markdown lines, and as a ``pb:open`` option (arxiv_id, label, description)."""
    year = paper_year(paper)
    meta = [authors_line(paper.authors, _AUTHORS_SHOWN), categories_line(paper.categories[:1], 1)]
    if year:
        meta.append(str(year))
    meta.append(f"`{paper.arxiv_id.replace('`', '')}`")
    text = (f"**{number}.** {_linked_title(paper.title, abs_url(paper.arxiv_id), 200)}\n"
            + " · ".join(m for m in meta if m))
    plain_authors = authors_line(paper.authors, _AUTHORS_SHOWN, max_chars=60, plain=True)
    plain_meta = " · ".join(x for x in (f"arXiv:{paper.arxiv_id}", plain_authors, str(year or "")) if x)
    return text, (paper.arxiv_id, f"{number}. {plain_text(paper.title, SELECT_TEXT_MAX)}", plain_meta)


def render_search_page(query: str, papers: Sequence[StoredPaper], page: int, category: str | None,
                       total_hint: int) -> CardPayload:
    """One page (5 results) of ``/paper search``: numbered results with linked titles, short author
    lists, primary category and year; Previous/Next buttons; a select that opens a result's card.

    ``papers`` are the results from the first one on (the store's search has no offset: a cog asks
    for up to ``(page + 1) * 5`` or 25 and passes them all); ``total_hint`` is how many there are
    in all, if known (Next is enabled while a further page exists). ``page`` is clamped.
    """
    shown_query = escape_feed_text(truncate(collapse_whitespace(query), 100)) or "…"
    where = f" in {escape_feed_text(truncate(category, 40))}" if category else ""
    total = max(total_hint, len(papers))
    pages = max(1, -(-total // SEARCH_PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    results = list(papers[page * SEARCH_PAGE_SIZE:(page + 1) * SEARCH_PAGE_SIZE])
    title = truncate(f"🔎 {shown_query}{where}", EMBED_TITLE_MAX)
    if not results:
        tips = ["Try fewer or other words (every word must appear in the title, authors or abstract)."]
        if category:
            tips.append("Search without the category filter.")
        tips += _NO_RESULTS_TIPS
        description = f"No papers found for **{shown_query}**{where}.\n\n" + "\n".join(f"• {t}" for t in tips)
        return CardPayload(embeds=[fit_embed({"title": title, "description": description,
                                              "color": PAPER_COLOR})])
    first = page * SEARCH_PAGE_SIZE + 1
    shown = [result_entry(number, paper) for number, paper in enumerate(results, start=first)]
    embed = {"title": title, "description": "\n\n".join(text for text, _ in shown), "color": PAPER_COLOR,
             "footer": embed_footer(f"Results {first}–{first + len(results) - 1} of {total:,}"
                                    f" · page {page + 1} of {pages}")}
    row = prev_next(search_custom_id(page - 1, category, query), search_custom_id(page + 1, category, query),
                    at_start=page == 0, at_end=page >= pages - 1) if pages > 1 else []
    return CardPayload(embeds=[fit_embed(embed)], buttons=[row] if row else [],
                       selects=open_select((option for _, option in shown), "Open a paper…"))


__all__ = ["SEARCH_PAGE_SIZE", "render_search_page", "result_entry"]
