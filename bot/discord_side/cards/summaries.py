"""Summaries on the /paper surface: a summary's body within its room, ``/paper summaries`` pages,
the card of a summary whose paper is not in the store, and where to read them on ShortScience."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.core.links import abs_url, is_shortscience, shortscience_paper_url
from bot.core.text import iso_date
from bot.core.venues import venue_label
from bot.discord_side.cards.controls import ButtonSpec, CardPayload, open_select, prev_next
from bot.discord_side.cards.custom_ids import sums_custom_id
from bot.discord_side.fitting import fit_embed, markdown_cut
from bot.discord_side.limits import (
    BUTTON_URL_MAX,
    EMBED_DESCRIPTION_MAX,
    EMBED_TITLE_MAX,
    EMBED_TOTAL_MAX,
    SELECT_TEXT_MAX,
    embed_length,
    safe_url,
)
from bot.discord_side.lines import SUMMARY_COLOR, arxiv_link, embed_footer, votes_byline
from bot.discord_side.markdown import images_as_links, markdown_link_url, markdown_opening, summary_markdown
from bot.discord_side.safety import escape_feed_text, plain_text, render_feed_text
from storage.models import StoredSummary

SUMMARIES_PAGE_SIZE = 3


def shortscience_url(arxiv_id: str | None, summaries: Sequence[StoredSummary] = (),
                     current: int = 0) -> str | None:
    """Where to read (or write) summaries on ShortScience.org.

    The current summary's own link when it is a shortscience.org URL (it opens that summary), else
    any summary's shortscience.org link, else the paper page ShortScience keys by arXiv id (see
    :func:`bot.core.links.shortscience_paper_url`: new-style ids only).
    """
    ordered = list(summaries[current:current + 1]) + list(summaries)
    for summary in ordered:
        link = safe_url(summary.link)
        if link and is_shortscience(link) and len(link) <= BUTTON_URL_MAX:
            return link
    return shortscience_paper_url(arxiv_id) if arxiv_id else None


def summary_body(summary: StoredSummary, room: int, opening: int | None = None) -> str:
    """The summary's markdown (safe, math as Unicode, images as links) within ``room`` characters;
    a cut one ends with a link to the full summary when there is an https one.

    With ``opening`` (a collapsed card) at most that many characters, link included, are shown: a
    readable opening, cut at the last line or sentence end in its last quarter
    (:func:`bot.discord_side.markdown.markdown_opening`), else at a word, always ending with an
    ellipsis.
    """
    raw = summary.text or ""
    if opening is not None:
        room = min(room, opening)
    window = max(4 * room, 2000)  # summary_markdown reads no further; longer texts are cut ones
    complete = len(raw) <= window
    text = summary_markdown(images_as_links(raw[:window + 200]), room) or "*(empty summary)*"
    if complete and len(text) <= room:
        return text
    link = markdown_link_url(summary.link)
    more = f"\n[Read the full summary]({link})" if link else ""
    limit = max(room - len(more), 24)
    if not complete:
        limit = min(limit, len(text) - 1)  # the text was cut before rendering: force the ellipsis
    cut = markdown_opening(text, limit) if opening is not None else None
    cut = cut or markdown_cut(text, max(limit, 24))
    return cut + more if len(cut) + len(more) <= room else markdown_cut(text, room)


def _where(summary: StoredSummary) -> list[str]:
    """The venue its bibtex key names and a link to its paper's abstract page, as known."""
    label = venue_label(summary.bibtex_key)
    where = [escape_feed_text(label)] if label else []
    return where + ([arxiv_link(summary.arxiv_id)] if summary.arxiv_id else [])


def _summary_embed(summary: StoredSummary, room: int) -> dict[str, Any]:
    """A summary as one embed of about ``room`` characters: paper title (linked), byline, venue, text."""
    link = safe_url(summary.link)
    header = " · ".join([f"by **{votes_byline(summary)}**", *_where(summary)])
    edited = iso_date(summary.edited_at)
    embed: dict[str, Any] = {
        "title": render_feed_text(summary.title, 200) or "(untitled)",
        "color": SUMMARY_COLOR,
        "footer": embed_footer(summary.source + (f" · edited {edited}" if edited else "")),
    }
    if link:
        embed["url"] = link
    body_room = min(room - embed_length(embed) - len(header) - 2, EMBED_DESCRIPTION_MAX - len(header) - 2)
    embed["description"] = f"{header}\n\n{summary_body(summary, max(body_room, 24))}"
    return fit_embed(embed, max(room, 400))


def render_summaries_page(summaries: Sequence[StoredSummary], page: int, total: int,
                          arxiv_id: str | None) -> CardPayload:
    """A page of ``/paper summaries``: the latest summaries (all, or of one paper), 3 per page as embeds.

    ``summaries`` are this page's summaries (the store pages them:
    ``latest_summaries(arxiv_id=..., limit=3, offset=page * 3)``; more are cut to 3) and ``total``
    how many there are in all. Previous/Next carry ``pb:sums:{page}:{arxiv_id or '-'}``; a select
    opens the card of a summary's paper.
    """
    items = list(summaries[:SUMMARIES_PAGE_SIZE])
    total = max(total, page * SUMMARIES_PAGE_SIZE + len(items))
    pages = max(1, -(-total // SUMMARIES_PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    of = f" of arXiv:{escape_feed_text(arxiv_id)}" if arxiv_id else ""
    if not items:
        tips = "Summaries come from the configured summary feeds (ShortScience.org and others)."
        url = markdown_link_url(shortscience_url(arxiv_id)) if arxiv_id else None
        if url:
            tips += f" [Write one on ShortScience]({url})."
        embed = {"title": f"💬 No summaries{of} yet", "description": tips, "color": SUMMARY_COLOR}
        return CardPayload(embeds=[fit_embed(embed)])
    first = page * SUMMARIES_PAGE_SIZE + 1
    content = f"💬 **Latest summaries{of}** · {first}–{first + len(items) - 1} of {total:,}"
    room = (EMBED_TOTAL_MAX - 10) // len(items)
    embeds = [_summary_embed(s, room) for s in items]
    row = prev_next(sums_custom_id(page - 1, arxiv_id), sums_custom_id(page + 1, arxiv_id),
                    at_start=page == 0, at_end=page >= pages - 1) if pages > 1 else []
    options = [(s.arxiv_id, plain_text(s.title or s.arxiv_id, SELECT_TEXT_MAX),
                f"arXiv:{s.arxiv_id} · summary by {plain_text(s.author or 'Anonymous', 60)}")
               for s in items if s.arxiv_id]
    return CardPayload(embeds=embeds, buttons=[row] if row else [], content=content,
                       selects=open_select(options, "Open a paper's card…"))


def render_summary_only_card(summary: StoredSummary) -> CardPayload:
    """A summary whose paper is not in the store: the paper's title (linked to the summary), who wrote
    it, its venue, its text, and links to ShortScience (or the summary's page) and arXiv."""
    link = safe_url(summary.link)
    where = _where(summary)
    header = "\n".join([f"Summary by **{votes_byline(summary)}**"] + ([" · ".join(where)] if where else []))
    embed: dict[str, Any] = {
        "title": render_feed_text(summary.title, EMBED_TITLE_MAX) or "(untitled)",
        "color": SUMMARY_COLOR,
        "footer": embed_footer(" · ".join(x for x in (summary.source, summary.bibtex_key,
                                                      iso_date(summary.edited_at)) if x)),
    }
    if link:
        embed["url"] = link
    room = min(EMBED_DESCRIPTION_MAX, EMBED_TOTAL_MAX - embed_length(embed)) - len(header) - 2
    embed["description"] = f"{header}\n\n{summary_body(summary, room)}"
    buttons: list[ButtonSpec] = []
    ss_url = shortscience_url(summary.arxiv_id, [summary])
    if ss_url:
        buttons.append(ButtonSpec("ShortScience", url=ss_url, style="link"))
    if link and link != ss_url and len(link) <= BUTTON_URL_MAX:
        buttons.append(ButtonSpec("Open summary", url=link, style="link"))
    if summary.arxiv_id:
        buttons.append(ButtonSpec("Abstract", url=abs_url(summary.arxiv_id), style="link"))
    return CardPayload(embeds=[fit_embed(embed)], buttons=[buttons] if buttons else [])


__all__ = [
    "SUMMARIES_PAGE_SIZE",
    "render_summaries_page",
    "render_summary_only_card",
    "shortscience_url",
    "summary_body",
]
