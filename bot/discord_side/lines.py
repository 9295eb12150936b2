"""The lines every surface shows alike: colours, authors, categories, the votes byline, footers.

The digest, the paper card, search, summaries and venue pages and the terminal cards each show a
paper's authors and categories and a summary's author and votes; one function each, with
parameters for what differs (how many, escaped for Discord or plain for a terminal).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal
from urllib.parse import urlsplit

from bot.core.links import abs_url
from bot.core.text import collapse_whitespace, tex_to_unicode, truncate
from bot.discord_side.limits import EMBED_FOOTER_MAX
from bot.discord_side.safety import escape_feed_text, neutralize_mentions, plain_text
from storage.models import StoredSummary

COLORS = {  # by digest event; the /paper surface uses PAPER_COLOR, SUMMARY_COLOR and VENUE_COLOR
    "new": 0x2ECC71,
    "cross": 0x3498DB,
    "replace": 0xE67E22,
    "replace-cross": 0xF39C12,
    "fetched": 0x95A5A6,
    "updated": 0x95A5A6,
    "summary": 0x9B59B6,
    "edited": 0x8E44AD,
}
DEFAULT_COLOR = 0x95A5A6
PAPER_COLOR = 0x2E86C1
SUMMARY_COLOR = COLORS["summary"]
VENUE_COLOR = 0x16A085

AUTHOR_NAME_MAX = 80
CATEGORY_MAX = 40
CATEGORIES_SHOWN = 6  # the digest's; the paper card shows 10
MATCHED_SHOWN = 5
TOPIC_TEXT_MAX = 100

# What follows the names shown when there are more: "A, B et al.", "A, B et al. (40 authors)"
# (the collapsed card, which says how many), "A, B … and 38 more" (the expanded card, terminals).
MoreAuthors = Literal["et al.", "count", "and more"]


def author_name(author: str, *, plain: bool = False, limit: int = AUTHOR_NAME_MAX) -> str:
    """One author as shown: TeX decoded, whitespace collapsed, at most ``limit`` (80) characters,
    escaped for Discord (``plain``: for a terminal)."""
    if plain:
        return plain_text(author, limit)
    return escape_feed_text(truncate(collapse_whitespace(tex_to_unicode(author)), limit))


def authors_line(authors: Sequence[str], shown: int | None, *, more: MoreAuthors = "et al.",
                 max_chars: int | None = None, plain: bool = False) -> str:
    """The first ``shown`` authors (all when None; blank ones skipped), within ``max_chars`` when
    given (a 1,000-author paper never crowds out its abstract; the first name is always shown, cut
    to fit), then ``more`` when some are left."""
    authors = [a for a in authors if a and a.strip()]
    names: list[str] = []
    size = 0
    for author in authors[:shown]:
        name = author_name(author, plain=plain, limit=min(AUTHOR_NAME_MAX, max_chars or AUTHOR_NAME_MAX))
        if max_chars is not None and names and size + len(name) + 2 > max_chars:
            break
        names.append(name)
        size += len(name) + 2
    line = ", ".join(n for n in names if n)
    hidden = len(authors) - len(names)
    if not hidden or not line:
        return line
    if more == "count":
        return f"{line} et al. ({len(authors):,} authors)"
    if more == "and more":
        return f"{line} … and {hidden:,} more"
    return f"{line} et al."


def categories_line(categories: Sequence[str], shown: int = CATEGORIES_SHOWN,
                    matched: Sequence[str] = ()) -> str:
    """``**cs.LG** · cs.AI · +3 · matched: cs.LG, author:X``: the primary category first and bold,
    long lists cut to a count, then the topics the paper matched (the digest's)."""
    categories = [c for c in categories if c]
    parts = [escape_feed_text(truncate(c, CATEGORY_MAX)) for c in categories[:shown]]
    if parts:
        parts[0] = f"**{parts[0]}**"
    if len(categories) > shown:
        parts.append(f"+{len(categories) - shown}")
    if matched:
        topics = [escape_feed_text(truncate(t, TOPIC_TEXT_MAX)) for t in matched[:MATCHED_SHOWN]]
        rest = f" +{len(matched) - MATCHED_SHOWN} more" if len(matched) > MATCHED_SHOWN else ""
        parts.append(f"matched: {', '.join(topics)}{rest}")
    return " · ".join(parts)


def is_huggingface(summary: StoredSummary) -> bool:
    """Whether a summary is Hugging Face Daily Papers' (its link is a huggingface.co page)."""
    try:
        host = (urlsplit((summary.link or "").strip()).hostname or "").lower()
    except ValueError:
        return False
    return host == "huggingface.co" or host.endswith(".huggingface.co")


def votes_byline(summary: StoredSummary, *, plain: bool = False) -> str:
    """``Hugo Larochelle · ▲ 12``: who wrote a summary (Anonymous when no one says), its votes and,
    where its source counts them, its comments; Hugging Face's votes are upvotes:
    ``Hugging Face (AI summary) · ▲ 12 upvotes · 💬 2``."""
    parts = [author_name(summary.author or "Anonymous", plain=plain) or "Anonymous"]
    if summary.votes is not None:
        unit = (" upvote" if summary.votes == 1 else " upvotes") if is_huggingface(summary) else ""
        parts.append(f"▲ {summary.votes}{unit}")
    if summary.comments:
        parts.append(f"💬 {summary.comments}")
    return " · ".join(parts)


def arxiv_link(arxiv_id: str) -> str:
    """``[arXiv:1805.08296](https://arxiv.org/abs/1805.08296)``."""
    return f"[arXiv:{escape_feed_text(arxiv_id)}]({abs_url(arxiv_id)})"


def summaries_count(count: int) -> str:
    """``1 summary``, ``1,204 summaries``."""
    return f"{count:,} {'summary' if count == 1 else 'summaries'}"


def embed_footer(text: str) -> dict[str, str]:
    """An embed footer: one line, no mentions, within its limit."""
    return {"text": truncate(neutralize_mentions(collapse_whitespace(text)), EMBED_FOOTER_MAX)}


__all__ = [
    "AUTHOR_NAME_MAX",
    "CATEGORIES_SHOWN",
    "COLORS",
    "DEFAULT_COLOR",
    "PAPER_COLOR",
    "SUMMARY_COLOR",
    "VENUE_COLOR",
    "MoreAuthors",
    "arxiv_link",
    "author_name",
    "authors_line",
    "categories_line",
    "embed_footer",
    "is_huggingface",
    "summaries_count",
    "votes_byline",
]
