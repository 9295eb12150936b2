"""The /paper card: a paper the way ShortScience.org shows one, with its summaries one at a time.

Title linking to the abstract page, authors, source and year, categories, first-published and
latest-version dates, comment, journal ref, DOI, the abstract with More/Less, then the current
summary with paging. This module only decides layout and budgets; every text goes through the
Discord side's shared renderers, and the state lives in the buttons' custom ids
(:class:`bot.discord_side.cards.custom_ids.CardState`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.core.links import abs_url, doi_url, html_url, pdf_url
from bot.core.text import collapse_whitespace, iso_date, truncate
from bot.core.venues import source_label, venue_label
from bot.discord_side.cards.controls import ButtonSpec, CardPayload, prev_next
from bot.discord_side.cards.custom_ids import CardState
from bot.discord_side.cards.summaries import shortscience_url, summary_body
from bot.discord_side.fitting import fit_embed
from bot.discord_side.limits import (
    BUTTON_URL_MAX,
    CUSTOM_ID_MAX,
    EMBED_DESCRIPTION_MAX,
    EMBED_FIELD_VALUE_MAX,
    EMBED_FIELDS_MAX,
    EMBED_TITLE_MAX,
    EMBED_TOTAL_MAX,
    embed_length,
    safe_url,
)
from bot.discord_side.lines import (
    PAPER_COLOR,
    SUMMARY_COLOR,
    authors_line,
    categories_line,
    embed_footer,
    summaries_count,
    votes_byline,
)
from bot.discord_side.markdown import CODE_SPAN, link_label, markdown_link_url
from bot.discord_side.safety import ZWSP, escape_feed_text, render_feed_text
from bot.discord_side.save_controls import save_button_id
from storage.models import StoredPaper, StoredSummary

ABSTRACT_COLLAPSED = 600  # the abstract's cut when collapsed; More shows it all (within limits)
AUTHORS_COLLAPSED = 10  # names shown when collapsed; More shows up to AUTHORS_EXPANDED_CHARS of them
AUTHORS_EXPANDED_CHARS = 1000
CATEGORIES_SHOWN = 10
META_TEXT_MAX = 300  # comment and journal ref
SUMMARY_MIN = 800  # an expanded abstract always leaves this much room for the current summary
SUMMARY_COLLAPSED = 800  # the current summary's opening when collapsed, link included; More shows it all


def dates_text(paper: StoredPaper) -> str:
    """``First published 2018-05-21 · latest v4, 2018-10-05`` (or what of it is known)."""
    first = iso_date(paper.published)
    latest = iso_date(paper.updated)
    version = paper.latest_version or 1
    if version <= 1:
        return f"Published {first} (v1)" if first else "v1"
    latest_text = f"latest v{version}, {latest}" if latest else f"latest v{version}"
    return f"First published {first} · {latest_text}" if first else latest_text.capitalize()


def _doi_markdown(doi: str) -> str:
    """``[10.x/y](https://doi.org/10.x/y)``; the label escaped, the URL percent-encoded."""
    doi = collapse_whitespace(doi)[:200]
    label = link_label(escape_feed_text(doi)) or "DOI"
    return f"[{label}]({doi_url(doi)})" if doi.startswith("10.") else label


def _header(paper: StoredPaper, summaries: Sequence[StoredSummary], expanded: bool) -> str:
    """Authors, source and categories, dates, then comment, journal ref and DOI when there are any."""
    if expanded:
        authors = authors_line(paper.authors, None, more="and more", max_chars=AUTHORS_EXPANDED_CHARS)
    else:
        authors = authors_line(paper.authors, AUTHORS_COLLAPSED, more="count")
    source = source_label(paper, summaries)
    meta = [escape_feed_text(truncate(source, 120)), categories_line(paper.categories, CATEGORIES_SHOWN)]
    lines = [authors, " · ".join(m for m in meta if m), dates_text(paper)]
    if paper.comment and paper.comment.strip():
        lines.append(f"**Comment:** {render_feed_text(paper.comment, META_TEXT_MAX)}")
    if paper.journal_ref and paper.journal_ref.strip() and collapse_whitespace(paper.journal_ref) != source:
        lines.append(f"**Journal ref:** {render_feed_text(paper.journal_ref, META_TEXT_MAX)}")
    if paper.doi and paper.doi.strip():
        lines.append(f"**DOI:** {_doi_markdown(paper.doi)}")
    return "\n".join(line for line in lines if line)


def render_paper_card(paper: StoredPaper, summaries: Sequence[StoredSummary],
                      state: CardState) -> CardPayload:
    """The /paper card: a paper embed and, when the paper has summaries, one with the current summary.

    ``summaries`` are the paper's summaries in display order (the store gives most voted first);
    ``state.summary_index`` is clamped to them. Collapsed, the abstract is cut to ~600 characters
    and the summary to a readable opening of ~800 (:data:`SUMMARY_COLLAPSED`, cut at a line or
    sentence end, with the "Read the full summary" link); expanded, the abstract is shown whole
    (continuing in fields past the 4,096-character description) while leaving at least
    :data:`SUMMARY_MIN` for the summary, which gets all the room left (up to 4,096); the message
    never exceeds 6,000. One flag (``state.expanded``) expands authors, abstract and summary
    together, and paging keeps it. Buttons: More/Less (only when expanding shows more), ◀ Prev /
    Next ▶ (2+ summaries), and links to the abs page, PDF, HTML (papers from Dec 2023 on) and
    ShortScience (see :func:`bot.discord_side.cards.summaries.shortscience_url`).
    """
    count = len(summaries)
    index = min(max(state.summary_index, 0), max(count - 1, 0))
    state = CardState(paper.arxiv_id, state.expanded, index)
    current = summaries[index] if summaries else None
    ss_url = shortscience_url(paper.arxiv_id, summaries, index)
    header = _header(paper, summaries, state.expanded)

    paper_embed: dict[str, Any] = {
        "title": render_feed_text(paper.title, EMBED_TITLE_MAX) or "(untitled)",
        "url": abs_url(paper.arxiv_id),
        "description": header,
        "color": PAPER_COLOR,
        "footer": embed_footer(f"arXiv:{paper.arxiv_id} · {summaries_count(count)}"),
    }
    tail_fields: list[dict[str, Any]] = []
    summary_embed: dict[str, Any] | None = None
    if current is None:
        write_url = markdown_link_url(ss_url)
        write = f" [Write one on ShortScience]({write_url})" if write_url else ""
        tail_fields.append({"name": "Summaries", "value": f"No summaries yet.{write}", "inline": False})
    else:
        summary_embed = {
            "title": truncate(f"💬 Summary by {votes_byline(current)}", EMBED_TITLE_MAX),
            "description": "",
            "color": SUMMARY_COLOR,
            "footer": embed_footer(_summary_footer(current, index, count)),
        }
        link = safe_url(current.link)
        if link:
            summary_embed["url"] = link

    fixed = embed_length(paper_embed) + sum(len(f["name"]) + len(f["value"]) for f in tail_fields)
    fixed += embed_length(summary_embed) if summary_embed else 0
    available = EMBED_TOTAL_MAX - fixed - 2  # 2: the blank line before the abstract

    full_abstract = render_feed_text(paper.abstract, EMBED_TOTAL_MAX) if paper.abstract else ""
    summary_need = 0
    summary_long = False  # collapsing cuts the current summary: More shows more of it
    if current is not None:
        full_body = summary_body(current, EMBED_DESCRIPTION_MAX)
        summary_need = min(len(full_body), SUMMARY_MIN)
        summary_long = summary_body(current, EMBED_DESCRIPTION_MAX, SUMMARY_COLLAPSED) != full_body
    first_room = EMBED_DESCRIPTION_MAX - len(header) - 2
    if state.expanded:
        first, more_fields = _abstract_parts(paper.abstract, first_room, available - summary_need)
    else:
        first = render_feed_text(paper.abstract, min(ABSTRACT_COLLAPSED, first_room))
        more_fields = []
    if first:
        paper_embed["description"] = f"{header}\n\n{first}" if header else first
    if not paper_embed["description"]:
        del paper_embed["description"]
    fields = more_fields + tail_fields
    if fields:
        paper_embed["fields"] = fields[:EMBED_FIELDS_MAX]
    paper_embed = fit_embed(paper_embed)

    embeds = [paper_embed]
    if summary_embed is not None and current is not None:
        room = EMBED_TOTAL_MAX - embed_length(paper_embed) - embed_length(summary_embed)
        room = min(EMBED_DESCRIPTION_MAX, room)
        opening = None if state.expanded else SUMMARY_COLLAPSED
        summary_embed["description"] = summary_body(current, max(room, 24), opening)
        embeds.append(fit_embed(summary_embed, EMBED_TOTAL_MAX - embed_length(paper_embed)))

    authors_cut = len([a for a in paper.authors if a and a.strip()]) > AUTHORS_COLLAPSED
    expandable = len(full_abstract) > ABSTRACT_COLLAPSED or authors_cut or summary_long
    return CardPayload(embeds=embeds, buttons=_card_buttons(paper, state, count, expandable, ss_url))


def _summary_footer(summary: StoredSummary, index: int, count: int) -> str:
    parts = [f"Summary {index + 1} of {count}", summary.source, venue_label(summary.bibtex_key)]
    edited = iso_date(summary.edited_at)
    if edited:
        parts.append(f"edited {edited}")
    return " · ".join(p for p in parts if p)


def _abstract_parts(abstract: str, first_room: int, total_room: int) -> tuple[str, list[dict[str, Any]]]:
    """The whole abstract (or as much as ``total_room`` holds): the part for the description and
    continuation fields (invisible names, so it reads as one text) of at most 1,024 each."""
    if not abstract or total_room <= 0:
        return "", []
    budget = total_room
    while True:
        text = render_feed_text(abstract, max(budget, 24))
        chunks = _split_text(text, first_room, EMBED_FIELD_VALUE_MAX)
        fields: list[dict[str, Any]] = [{"name": ZWSP, "value": chunk, "inline": False}
                                        for chunk in chunks[1:]]
        used = (len(chunks[0]) if chunks else 0) + sum(len(f["name"]) + len(f["value"]) for f in fields)
        if used <= total_room or budget <= 24:
            return (chunks[0] if chunks else ""), fields[:EMBED_FIELDS_MAX - 1]
        budget -= max(used - total_room, 1)


def _split_text(text: str, first_room: int, room: int) -> list[str]:
    """Rendered single-paragraph text split into chunks (the first at most ``first_room``, the others
    ``room``) at spaces, never inside an inline code span."""
    chunks: list[str] = []
    limit = max(first_room, 1)
    while len(text) > limit:
        cut = _cut_point(text, limit)
        chunks.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
        limit = room
    chunks.append(text)
    return [c for c in chunks if c]


def _cut_point(text: str, limit: int) -> int:
    """Where to end a chunk of at most ``limit`` (``len(text) > limit``): before the last space outside
    inline code, else before the code span crossing the limit, else at the limit."""
    spans = [m.span() for m in CODE_SPAN.finditer(text)]
    for position in range(limit, 0, -1):
        if text[position] == " " and not any(start < position < end for start, end in spans):
            return position
    crossing = [start for start, end in spans if 0 < start < limit < end]
    return crossing[0] if crossing else limit


def _card_buttons(paper: StoredPaper, state: CardState, count: int, expandable: bool,
                  ss_url: str | None) -> list[list[ButtonSpec]]:
    rows: list[list[ButtonSpec]] = []
    interactive: list[ButtonSpec] = []
    try:
        if expandable:
            action = "less" if state.expanded else "more"
            interactive.append(ButtonSpec("Less" if state.expanded else "More",
                                          custom_id=state.to_custom_id(action), style="primary"))
        if count >= 2:
            interactive += prev_next(state.to_custom_id("prev"), state.to_custom_id("next"),
                                     at_start=state.summary_index <= 0,
                                     at_end=state.summary_index >= count - 1, labels=("◀ Prev", "Next ▶"))
    except ValueError:  # an id no custom id can carry: the card still shows, without paging
        interactive = []
    save_id = save_button_id(paper.arxiv_id)
    if len(save_id) <= CUSTOM_ID_MAX:
        interactive.append(ButtonSpec("Save", custom_id=save_id, emoji="⭐"))
    if interactive:
        rows.append(interactive)
    links = [ButtonSpec("Abstract", url=abs_url(paper.arxiv_id), style="link"),
             ButtonSpec("PDF", url=pdf_url(paper.arxiv_id), style="link")]
    html = html_url(paper.arxiv_id)
    if html:
        links.append(ButtonSpec("HTML", url=html, style="link"))
    if ss_url:
        links.append(ButtonSpec("ShortScience", url=ss_url, style="link"))
    rows.append([b for b in links if b.url and len(b.url) <= BUTTON_URL_MAX])
    return rows


__all__ = [
    "ABSTRACT_COLLAPSED",
    "AUTHORS_COLLAPSED",
    "SUMMARY_COLLAPSED",
    "SUMMARY_MIN",
    "dates_text",
    "render_paper_card",
]
