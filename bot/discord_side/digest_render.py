"""A digest as Discord messages: a header, then one embed per entry, packed within Discord's limits.

Pure functions returning plain JSON-able dicts (the shape of Discord's REST API), so delivery, the
CLI and tests share one code path and can check every payload with
:func:`bot.discord_side.limits.payload_violations`. Each :class:`RenderedMessage` says which
entries it carries (by index), which is what delivery marks as sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.core.digest import DigestEntry
from bot.core.links import abs_url
from bot.core.text import collapse_whitespace, truncate
from bot.discord_side.fitting import fit_embed, markdown_cut
from bot.discord_side.limits import (
    CONTENT_MAX,
    EMBED_FIELD_NAME_MAX,
    EMBED_FIELD_VALUE_MAX,
    EMBED_TITLE_MAX,
    EMBED_TOTAL_MAX,
    EMBEDS_PER_MESSAGE_MAX,
    embed_length,
    safe_url,
)
from bot.discord_side.lines import (
    AUTHOR_NAME_MAX,
    COLORS,
    DEFAULT_COLOR,
    TOPIC_TEXT_MAX,
    arxiv_link,
    authors_line,
    categories_line,
    embed_footer,
    votes_byline,
)
from bot.discord_side.markdown import summary_markdown
from bot.discord_side.safety import escape_feed_text, render_feed_text
from bot.discord_side.save_controls import save_rows
from storage.models import StoredPaper, StoredSummary

# How much of each text a digest entry shows: enough to decide whether to open the paper.
AUTHORS_SHOWN = 3
ABSTRACT_SNIPPET = 500
SUMMARY_SNIPPET = 300
SUMMARIES_SHOWN = 3

EVENT_LABELS = {
    "new": "new",
    "cross": "cross-list",
    "replace": "replacement",
    "replace-cross": "replacement (cross-list)",
    "fetched": "looked up",
    "updated": "updated",
    "summary": "new summary",
    "edited": "edited summary",
}
_SUMMARY_EVENTS = frozenset({"summary", "edited"})


@dataclass
class RenderedMessage:
    """One Discord message of a digest and what it delivers: ``entry_indexes`` are the positions,
    in the list given to :func:`render_digest`, of the entries it carries (``entries``, the same
    entries), so delivery can mark them sent without matching objects back. ``counted_indexes``
    are entries it only counts (``only_top``: "12 more ranked lower today", with a link to see
    them): delivered with it too, so exactly-once holds for them as for the rest."""

    payload: dict[str, Any]
    entries: list[DigestEntry]
    entry_indexes: list[int]
    counted_indexes: list[int] = field(default_factory=list)

    @property
    def delivered_indexes(self) -> list[int]:
        """Every entry this message delivers: the ones it shows, then the ones it counts."""
        return [*self.entry_indexes, *self.counted_indexes]


def entry_kind(entry: DigestEntry) -> str:
    """What the entry is about, for colour and label: the paper's event or a summary event."""
    if entry.paper is None:
        return "edited" if entry.event == "edited" else "summary"
    return entry.event


def event_label(entry: DigestEntry) -> str:
    """``new``, ``cross-list``, ``new summary``, …: the entry's kind as people say it."""
    kind = entry_kind(entry)
    return EVENT_LABELS.get(kind, kind)


# --- one entry ----------------------------------------------------------------------------------------


def _summary_field(summary: StoredSummary) -> dict[str, Any]:
    """One summary as an embed field: who wrote it and its votes, then its opening."""
    source = escape_feed_text(truncate(summary.source, 60))
    name = truncate(f"💬 Summary by {votes_byline(summary)} ({source})", EMBED_FIELD_NAME_MAX)
    opening = markdown_cut(summary_markdown(summary.text, SUMMARY_SNIPPET), SUMMARY_SNIPPET)
    opening = opening or "*(empty summary)*"
    link = safe_url(summary.link)
    if link and link.lower().startswith("https://") and len(link) <= 400:
        opening += f"\n[Read the summary](<{link.replace(')', '%29')}>)"
    return {"name": name, "value": opening[:EMBED_FIELD_VALUE_MAX], "inline": False}


def _summary_fields(summaries: Sequence[StoredSummary], shown: int = SUMMARIES_SHOWN) -> list[dict[str, Any]]:
    fields = [_summary_field(s) for s in summaries[:shown]]
    if len(summaries) > shown:
        extra = len(summaries) - shown
        fields.append({"name": f"…and {extra} more summar{'y' if extra == 1 else 'ies'}",
                       "value": "Use `/paper summaries` to read them all.", "inline": False})
    return fields


def _paper_embed(entry: DigestEntry, paper: StoredPaper, abstract_chars: int = ABSTRACT_SNIPPET,
                 summaries_shown: int = SUMMARIES_SHOWN) -> dict[str, Any]:
    lines = [authors_line(paper.authors, AUTHORS_SHOWN),
             categories_line(paper.categories, matched=entry.matched)]
    description = "\n".join(line for line in lines if line)
    abstract = render_feed_text(paper.abstract, abstract_chars) if paper.abstract else ""
    if abstract:
        description = f"{description}\n\n{abstract}" if description else abstract
    version = f"v{paper.latest_version}" if paper.latest_version else ""
    footer = f"arXiv:{paper.arxiv_id}{version} · {event_label(entry)}"
    if paper.journal_ref:
        footer += f" · {collapse_whitespace(paper.journal_ref)}"
    return {
        "title": render_feed_text(paper.title, EMBED_TITLE_MAX) or "(untitled)",
        "url": abs_url(paper.arxiv_id),
        "description": description,
        "color": COLORS.get(entry_kind(entry), DEFAULT_COLOR),
        "fields": _summary_fields(entry.summaries, summaries_shown),
        "footer": embed_footer(footer),
    }


def _summary_only_embed(entry: DigestEntry) -> dict[str, Any]:
    """A summary whose paper the store doesn't have: titled with the paper's title, linked to it."""
    first = entry.summaries[0] if entry.summaries else None
    title = render_feed_text(first.title, EMBED_TITLE_MAX) if first and first.title else ""
    lines = []
    if first and first.arxiv_id:
        lines.append(arxiv_link(first.arxiv_id))
    elif first and first.bibtex_key:
        lines.append(f"`{truncate(first.bibtex_key, 100).replace('`', '')}`")
    lines.append(categories_line([], matched=entry.matched))
    source = first.source if first else "summary"
    embed: dict[str, Any] = {
        "title": title or "(untitled)",
        "description": "\n".join(line for line in lines if line),
        "color": COLORS.get(entry_kind(entry), DEFAULT_COLOR),
        "fields": _summary_fields(entry.summaries),
        "footer": embed_footer(f"{source} · {event_label(entry)}"),
    }
    url = safe_url(first.link if first else None)
    if url:
        embed["url"] = url
    return embed


def render_entry_embed(entry: DigestEntry, *, abstract_chars: int = ABSTRACT_SNIPPET,
                       summaries_shown: int = SUMMARIES_SHOWN) -> dict[str, Any]:
    """One digest entry as one embed dict, every part within its limit and the whole within 6000."""
    embed = (_paper_embed(entry, entry.paper, abstract_chars, summaries_shown) if entry.paper is not None
             else _summary_only_embed(entry))
    if not embed["fields"]:
        del embed["fields"]
    if not embed["description"]:
        del embed["description"]
    return fit_embed(embed)


# --- a digest -----------------------------------------------------------------------------------------


def render_digest(entries: Sequence[DigestEntry], *, date_text: str,
                  channel_topics: list[str] | None = None,
                  max_items_per_message: int = EMBEDS_PER_MESSAGE_MAX) -> list[RenderedMessage]:
    """A digest as Discord messages: a header, then one embed per entry packed greedily.

    Each message holds at most ``min(10, max_items_per_message)`` embeds and 6000 embed
    characters; every entry is in exactly one message, in order, and each message names the
    indexes of its entries. An empty digest is one message with the header alone.
    """
    per_message = max(1, min(EMBEDS_PER_MESSAGE_MAX, max_items_per_message))
    embeds = [render_entry_embed(entry) for entry in entries]
    groups = pack_embeds(embeds, per_message) or [[]]
    header = digest_header(entries, date_text, channel_topics)
    messages = []
    for number, group in enumerate(groups, start=1):
        counter = f" ({number}/{len(groups)})" if len(groups) > 1 else ""
        content = truncate(header, CONTENT_MAX - len(counter)) + counter if number == 1 else counter.strip()
        payload: dict[str, Any] = {"content": content, "embeds": [embeds[i] for i in group],
                                   "allowed_mentions": {"parse": []}}
        rows = save_rows([entries[i] for i in group], [i + 1 for i in group])
        if rows:
            payload["components"] = rows
        messages.append(RenderedMessage(payload, [entries[i] for i in group], list(group)))
    return messages


def pack_embeds(embeds: Sequence[dict[str, Any]], per_message: int = EMBEDS_PER_MESSAGE_MAX,
                budget: int = EMBED_TOTAL_MAX) -> list[list[int]]:
    """Greedy packing of embeds (by index, order kept) into groups within the count and char limits.

    Each embed must already fit ``budget`` on its own (:func:`fit_embed` sees to that).
    """
    groups: list[list[int]] = []
    current: list[int] = []
    size = 0
    for index, embed in enumerate(embeds):
        length = embed_length(embed)
        if current and (len(current) >= per_message or size + length > budget):
            groups.append(current)
            current, size = [], 0
        current.append(index)
        size += length
    if current:
        groups.append(current)
    return groups


def digest_header(entries: Sequence[DigestEntry], date_text: str,
                  channel_topics: list[str] | None = None) -> str:
    """``📰 **Paperboy digest — Sat 28 Nov 2026** · 37 new papers, 2 summaries`` (+ followed topics)."""
    date = escape_feed_text(collapse_whitespace(date_text))
    header = f"📰 **Paperboy digest — {date}** · {_counts(entries)}"
    if channel_topics:
        topics = ", ".join(escape_feed_text(truncate(t, TOPIC_TEXT_MAX)) for t in channel_topics)
        header += "\n" + truncate(f"Following: {topics}", 500)
    return truncate(header, CONTENT_MAX - 10)


def _counts(entries: Sequence[DigestEntry]) -> str:
    """``37 new papers, 5 cross-lists, 2 summaries`` for the header."""
    kinds = {"new": 0, "cross": 0, "replace": 0, "other": 0}
    for entry in entries:
        if entry.paper is not None and entry.event not in _SUMMARY_EVENTS:
            kind = {"replace-cross": "replace"}.get(entry.event, entry.event)
            kinds[kind if kind in kinds else "other"] += 1
    summaries = sum(len(entry.summaries) for entry in entries)
    names = {"new": ("new paper", "new papers"), "cross": ("cross-list", "cross-lists"),
             "replace": ("replacement", "replacements"), "other": ("updated paper", "updated papers")}
    parts = [f"{n} {names[k][n != 1]}" for k, n in kinds.items() if n]
    if summaries:
        parts.append(f"{summaries} summar{'y' if summaries == 1 else 'ies'}")
    return ", ".join(parts) or "nothing new"


__all__ = [
    "ABSTRACT_SNIPPET",
    "AUTHORS_SHOWN",
    "AUTHOR_NAME_MAX",
    "COLORS",
    "EVENT_LABELS",
    "SUMMARIES_SHOWN",
    "SUMMARY_SNIPPET",
    "DigestEntry",
    "RenderedMessage",
    "digest_header",
    "entry_kind",
    "event_label",
    "markdown_cut",
    "pack_embeds",
    "render_digest",
    "render_entry_embed",
]
