"""The compact digest: the top papers as cards, the rest of the day as ranked lines.

A busy category brings 150-500 papers a day; one card each is not read. Here the first
``top`` entries (already ranked) are cards with why they are there, and every other entry is one
line, ``[Title](<abs link>) — Lovelace et al. · **cs.LG** · matched: author:…``, packed
densely: into the room the cards leave, then into message content and embed descriptions, within
every Discord limit; the ranking orders the lines. ``only_top`` drops the lines and says how
many there were and where to see them. Every entry is in exactly one message (or, with
``only_top``, counted in the header), and each message says which entries it carries. Each
message offers a select to save its papers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from bot.core import taxonomy
from bot.core.digest import ChannelDigest, PlannedEntry
from bot.core.links import abs_url
from bot.core.text import truncate
from bot.discord_side.digest_render import RenderedMessage, digest_header, render_digest, render_entry_embed
from bot.discord_side.limits import (
    CONTENT_MAX,
    EMBED_DESCRIPTION_MAX,
    EMBED_TOTAL_MAX,
    EMBEDS_PER_MESSAGE_MAX,
    embed_length,
)
from bot.discord_side.lines import COLORS, DEFAULT_COLOR, authors_line
from bot.discord_side.markdown import link_label
from bot.discord_side.safety import escape_feed_text, render_feed_text
from bot.discord_side.save_controls import SAVES_PER_MESSAGE, save_rows

TOP_ABSTRACT = 280  # a top card's abstract: enough to decide, short enough for ten in one message
LINE_TITLE_MAX = 50
COUNTER_ROOM = 12  # " (12/12)" after the header
LINES_COLOR = COLORS.get("new", DEFAULT_COLOR)


def render_compact_digest(entries: Sequence[PlannedEntry], *, date_text: str, top: int = 10,
                          only_top: bool = False, channel_topics: list[str] | None = None,
                          see_all: str | None = None) -> list[RenderedMessage]:
    """The digest's messages: header and top cards first, then the ranked lines."""
    digest = [p.entry for p in entries]
    cards = list(range(min(max(top, 0), len(entries))))
    rest = list(range(len(cards), len(entries)))
    header = digest_header(digest, date_text, channel_topics)
    dropped: list[int] = []
    if only_top and rest:
        where = f" {see_all}" if see_all else " `/digest preview` shows what is next."
        header = truncate(f"{header}\nTop {len(cards)} of {len(entries)}; {len(rest)} more ranked "
                          f"lower today.{where}", CONTENT_MAX - COUNTER_ROOM)
        rest, dropped = [], rest
    pages = _pages(entries, cards, rest)
    messages = []
    for number, page in enumerate(pages, start=1):
        counter = f" ({number}/{len(pages)})" if len(pages) > 1 else ""
        content = truncate(header, CONTENT_MAX - len(counter)) + counter if number == 1 else counter.strip()
        if page.content_lines:
            content = f"{content}\n" + "\n".join(page.content_lines) if content else "\n".join(
                page.content_lines)
        payload: dict[str, Any] = {"content": content, "embeds": page.embeds,
                                   "allowed_mentions": {"parse": []}}
        rows = save_rows([digest[i] for i in page.indexes], [i + 1 for i in page.indexes])
        if rows:
            payload["components"] = rows
        messages.append(RenderedMessage(payload, [digest[i] for i in page.indexes], page.indexes))
    messages[0].counted_indexes = dropped  # told as a count and a link: delivered with the header
    return messages


class _Page:
    """One message being filled: its card and line embeds, lines in its content, its entries."""

    def __init__(self, content_room: int) -> None:
        self.embeds: list[dict[str, Any]] = []
        self.content_lines: list[str] = []
        self.content_room = content_room
        self.indexes: list[int] = []

    @property
    def embed_room(self) -> int:
        return EMBED_TOTAL_MAX - sum(embed_length(e) for e in self.embeds)

    def add_card(self, embed: dict[str, Any], index: int) -> bool:
        if len(self.embeds) >= EMBEDS_PER_MESSAGE_MAX or embed_length(embed) > self.embed_room:
            return False
        self.embeds.append(embed)
        self.indexes.append(index)
        return True

    def add_line(self, line: str, index: int, in_content: bool) -> bool:
        """Into the content (before any embed, to keep the order) or the last lines embed; never
        more papers than one message's save menus can offer."""
        if len(self.indexes) >= SAVES_PER_MESSAGE:
            return False
        if in_content and not self.embeds and len(line) + 1 <= self.content_room:
            self.content_lines.append(line)
            self.content_room -= len(line) + 1
        elif not self._into_lines_embed(line):
            return False
        self.indexes.append(index)
        return True

    def _into_lines_embed(self, line: str) -> bool:
        last = self.embeds[-1] if self.embeds else None
        if last is not None and last.get("_lines"):
            grown = len(last["description"]) + 1 + len(line)
            if grown <= EMBED_DESCRIPTION_MAX and len(line) + 1 <= self.embed_room:
                last["description"] += "\n" + line
                return True
        if len(self.embeds) >= EMBEDS_PER_MESSAGE_MAX or len(line) > self.embed_room:
            return False
        self.embeds.append({"description": line, "color": LINES_COLOR, "_lines": True})
        return True


_LIKE = re.compile(r"^like \*(.+)\*( \(saved here\))?$", re.DOTALL)


def _pages(entries: Sequence[PlannedEntry], cards: list[int], rest: list[int]) -> list[_Page]:
    header_room = CONTENT_MAX  # the first message's content is the header (lines go to embeds)
    pages = [_Page(0)]
    for index in cards:
        embed = _top_card(entries[index], index + 1)
        if not pages[-1].add_card(embed, index):
            pages.append(_Page(0))
            pages[-1].add_card(embed, index)
    shared = frozenset.intersection(*(frozenset(e.entry.matched) for e in entries)) \
        if entries else frozenset()
    for index in rest:
        line = ranked_line(entries[index], shared=shared)
        in_content = len(pages) > 1
        if not pages[-1].add_line(line, index, in_content):
            pages.append(_Page(header_room - COUNTER_ROOM))
            pages[-1].add_line(line, index, in_content=True)
    for page in pages:
        for embed in page.embeds:
            embed.pop("_lines", None)
    return [p for p in pages if p.indexes] or [_Page(0)]


def _top_card(planned: PlannedEntry, rank: int) -> dict[str, Any]:
    """A full card, a little shorter than the classic one, headed by its rank and reasons."""
    embed = render_entry_embed(planned.entry, abstract_chars=TOP_ABSTRACT, summaries_shown=1)
    reasons = planned.ranked.reasons if planned.ranked else ()
    why = " · ".join([f"**#{rank}**", *(reason_markdown(r) for r in reasons[:2])])
    embed["description"] = truncate(f"{why}\n{embed.get('description', '')}".strip(), EMBED_DESCRIPTION_MAX)
    return embed


def reason_markdown(reason: str) -> str:
    """A ranking reason as Discord markdown: the saved paper's title in italics, the rest escaped."""
    like = _LIKE.match(reason)
    if like:
        return f"like *{escape_feed_text(like.group(1))}*{escape_feed_text(like.group(2) or '')}"
    return escape_feed_text(reason)


def ranked_line(planned: PlannedEntry, *, shared: frozenset[str] = frozenset()) -> str:
    """``[Title](<abs>) — Lovelace et al. · **cs.LG** · matched: author:…``; the topics every entry
    of the digest matched (``shared``) go without saying."""
    entry = planned.entry
    paper = entry.paper
    if paper is None:  # a summary of a paper the store does not have
        first = entry.summaries[0] if entry.summaries else None
        title = render_feed_text(first.title, LINE_TITLE_MAX) if first and first.title else "(untitled)"
        return f"💬 {title}"
    title = render_feed_text(paper.title, LINE_TITLE_MAX) or "(untitled)"
    label = link_label(title)
    url = abs_url(paper.arxiv_id)
    parts = [f"[{label}](<{url}>)" if label else f"{title} (<{url}>)"]
    author = _first_author(paper.authors)
    if author:
        parts[0] += f" — {author}"
    primary = paper.categories[0] if paper.categories else None
    if primary:
        parts.append(f"**{escape_feed_text(primary)}**")
    matched = [t for t in entry.matched if t != primary and t not in shared]
    if matched:
        parts.append("matched: " + escape_feed_text(", ".join(matched[:2])))
    return " · ".join(parts)


def _first_author(authors: Sequence[str]) -> str:
    """``Lovelace et al.``: the first author's family name is enough on a line."""
    names = [a for a in authors if a and a.strip()]
    if not names:
        return ""
    family = authors_line([names[0]], 1, max_chars=30).split(" ")[-1]
    return f"{family} et al." if len(names) > 1 else family


def render_for_channel(entries: Sequence[PlannedEntry], *, layout: str, top: int, only_top: bool,
                       date_text: str, max_items_per_message: int = EMBEDS_PER_MESSAGE_MAX,
                       channel_topics: list[str] | None = None,
                       see_all: str | None = None) -> list[RenderedMessage]:
    """A channel's digest in its layout: ``compact`` (the default) or ``cards``, one per paper."""
    if layout == "cards":
        return render_digest([p.entry for p in entries], date_text=date_text,
                             channel_topics=channel_topics, max_items_per_message=max_items_per_message)
    return render_compact_digest(entries, date_text=date_text, top=top, only_top=only_top,
                                 channel_topics=channel_topics, see_all=see_all)


def see_all_text(digest: ChannelDigest) -> str:
    """Where a channel that gets only its top papers sees the rest: arXiv's listing of the
    category most of them matched, and ``/paper search``."""
    counts: dict[str, int] = {}
    for planned in digest.entries:
        for topic in planned.entry.matched:
            if taxonomy.is_category(topic) or topic in taxonomy.ARCHIVES:
                counts[topic] = counts.get(topic, 0) + 1
    if not counts:
        return "`/paper search` finds any of them."
    category = max(sorted(counts), key=lambda c: counts[c])
    return f"All of them: <https://arxiv.org/list/{category}/new> or `/paper search`."
