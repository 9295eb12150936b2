"""Lists of papers other than search results: ``/paper saved`` (a channel's saves, paged by
``pb:saved:N``) and ``/paper similar`` (the nearest papers to one). Each result reads like a search
result, and a select opens its card."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.text import truncate
from bot.discord_side.cards.controls import CardPayload, open_select, prev_next
from bot.discord_side.cards.custom_ids import saved_custom_id
from bot.discord_side.cards.search import result_entry
from bot.discord_side.fitting import fit_embed
from bot.discord_side.limits import EMBED_TITLE_MAX
from bot.discord_side.lines import PAPER_COLOR, embed_footer
from bot.discord_side.safety import render_feed_text
from bot.services.saves import SavedPaper
from storage.models import StoredPaper

SAVED_PAGE_SIZE = 5
SIMILAR_SHOWN = 5
SAVE_HINT = ("Save a paper with the ⭐ select under a digest, the ⭐ Save button on a paper card, "
             "or `/paper save`; the channel's digest ranks papers like its saves first.")


def render_saved_page(saved: Sequence[SavedPaper], page: int) -> CardPayload:
    """One page of a channel's saved papers, most recently saved first, with how many saved each."""
    title = "⭐ Saved in this channel"
    if not saved:
        return CardPayload(embeds=[fit_embed({"title": title, "color": PAPER_COLOR,
                                              "description": f"Nothing saved here yet.\n\n{SAVE_HINT}"})])
    pages = -(-len(saved) // SAVED_PAGE_SIZE)
    page = min(max(page, 0), pages - 1)
    first = page * SAVED_PAGE_SIZE + 1
    shown = []
    for number, item in enumerate(saved[page * SAVED_PAGE_SIZE:(page + 1) * SAVED_PAGE_SIZE], start=first):
        text, option = result_entry(number, item.paper)
        who = "1 member" if item.savers == 1 else f"{item.savers} members"
        shown.append((f"{text} · ⭐ {who} · {item.last_saved[:10]}", option))
    embed = {"title": title, "description": "\n\n".join(text for text, _ in shown), "color": PAPER_COLOR,
             "footer": embed_footer(f"{len(saved):,} saved · page {page + 1} of {pages} · "
                                    "save again to unsave")}
    row = prev_next(saved_custom_id(page - 1), saved_custom_id(page + 1), at_start=page == 0,
                    at_end=page >= pages - 1) if pages > 1 else []
    return CardPayload(embeds=[fit_embed(embed)], buttons=[row] if row else [],
                       selects=open_select((option for _, option in shown), "Open a paper…"))


def render_similar_page(paper: StoredPaper, similar: Sequence[tuple[StoredPaper, float]]) -> CardPayload:
    """The papers nearest to ``paper`` by title and abstract, most similar first."""
    name = render_feed_text(paper.title, 200) or paper.arxiv_id
    title = truncate(f"🧭 Like: {name}", EMBED_TITLE_MAX)
    if not similar:
        return CardPayload(embeds=[fit_embed({"title": title, "color": PAPER_COLOR,
                                              "description": "No stored paper is close to this one yet."})])
    shown = []
    for number, (other, score) in enumerate(similar[:SIMILAR_SHOWN], start=1):
        text, option = result_entry(number, other)
        shown.append((f"{text} · {score:.0%} similar", option))
    embed = {"title": title, "description": "\n\n".join(text for text, _ in shown), "color": PAPER_COLOR,
             "footer": embed_footer(f"Nearest stored papers to arXiv:{paper.arxiv_id} by title and abstract")}
    return CardPayload(embeds=[fit_embed(embed)],
                       selects=open_select((option for _, option in shown), "Open a paper…"))


__all__ = ["SAVED_PAGE_SIZE", "SIMILAR_SHOWN", "render_saved_page", "render_similar_page"]
