"""A digest entry as plain text for a terminal (``paperboy preview``): what the embed says, unstyled.

No markdown and no control characters (:func:`bot.core.text.strip_control`): feed text can hold
terminal escapes.
"""

from __future__ import annotations

import textwrap

from bot.core.digest import DigestEntry
from bot.core.links import abs_url
from bot.core.text import strip_control
from bot.discord_side.digest_render import (
    ABSTRACT_SNIPPET,
    AUTHORS_SHOWN,
    SUMMARIES_SHOWN,
    SUMMARY_SNIPPET,
    event_label,
)
from bot.discord_side.limits import EMBED_TITLE_MAX, URL_MAX
from bot.discord_side.lines import CATEGORIES_SHOWN, authors_line, votes_byline
from bot.discord_side.markdown import markdown_headings_to_bold
from bot.discord_side.safety import plain_text

CARD_WIDTH = 100


def _wrapped(text: str, indent: str) -> list[str]:
    return textwrap.wrap(text, CARD_WIDTH, initial_indent=indent, subsequent_indent=indent)


def render_text_card(entry: DigestEntry) -> str:
    """A plain-text card for the terminal: the paper (or the summary's title), then its summaries."""
    lines: list[str] = []
    paper = entry.paper
    if paper is not None:
        version = f"v{paper.latest_version}" if paper.latest_version else ""
        title = plain_text(paper.title, EMBED_TITLE_MAX)
        lines.append(f"[{event_label(entry)}] {title}  (arXiv:{paper.arxiv_id}{version})")
        lines.append(f"  {abs_url(paper.arxiv_id)}")
        if paper.authors:
            lines.append(f"  {authors_line(paper.authors, AUTHORS_SHOWN, plain=True)}")
        meta = " · ".join(paper.categories[:CATEGORIES_SHOWN])
        if entry.matched:
            meta += f"   matched: {', '.join(entry.matched)}"
        lines.append(f"  {meta.strip()}")
        if paper.abstract:
            lines += _wrapped(plain_text(paper.abstract, ABSTRACT_SNIPPET), "  ")
    else:
        first = entry.summaries[0] if entry.summaries else None
        title = plain_text(first.title, EMBED_TITLE_MAX) if first else "(untitled)"
        lines.append(f"[{event_label(entry)}] {title}")
        if first and first.link:
            lines.append(f"  {plain_text(first.link, URL_MAX)}")
        if entry.matched:
            lines.append(f"  matched: {', '.join(entry.matched)}")
    for summary in entry.summaries[:SUMMARIES_SHOWN]:
        lines.append(f"  -- summary by {votes_byline(summary, plain=True)} ({summary.source})")
        lines += _wrapped(plain_text(markdown_headings_to_bold(summary.text), SUMMARY_SNIPPET), "     ")
    if len(entry.summaries) > SUMMARIES_SHOWN:
        lines.append(f"  -- and {len(entry.summaries) - SUMMARIES_SHOWN} more summaries")
    return "\n".join(strip_control(line) for line in lines)


__all__ = ["render_text_card"]
