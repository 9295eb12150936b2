"""The one renderer for Discord: digest entries -> message payloads that never exceed Discord's limits.

Pure functions returning plain JSON-able dicts (the shape of Discord's REST API), so delivery, cogs,
the CLI and tests share one code path and can check every payload with :func:`payload_violations`.

Feed text is untrusted: titles and authors have their markdown escaped, summaries keep their
markdown but lose non-https masked links, and every text has its mentions neutralised with a
zero-width space (payloads also carry ``allowed_mentions: {"parse": []}``, so even a missed mention
cannot ping). Lengths are counted in code points, as Discord and discord.py count them.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from discord.utils import escape_markdown

from bot.core.digest import DigestEntry
from bot.core.text import (
    collapse_whitespace,
    inline_code,
    iter_latex_segments,
    latex_segments,
    latex_to_unicode,
    markdown_headings_to_bold,
    tex_to_unicode,
    truncate,
)
from storage.models import StoredPaper, StoredSummary

# Discord's limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits)
CONTENT_MAX = 2000
EMBED_TITLE_MAX = 256
EMBED_DESCRIPTION_MAX = 4096
EMBED_FIELDS_MAX = 25
EMBED_FIELD_NAME_MAX = 256
EMBED_FIELD_VALUE_MAX = 1024
EMBED_FOOTER_MAX = 2048
EMBED_AUTHOR_NAME_MAX = 256
EMBED_TOTAL_MAX = 6000  # title + description + field names/values + footer text + author name, per message
EMBEDS_PER_MESSAGE_MAX = 10
URL_MAX = 2048
AUTOCOMPLETE_CHOICES_MAX = 25
AUTOCOMPLETE_CHOICE_MAX = 100

# How much of each text a digest entry shows: enough to decide whether to open the paper.
AUTHORS_SHOWN = 3
AUTHOR_NAME_MAX = 80
ABSTRACT_SNIPPET = 500
SUMMARY_SNIPPET = 300
SUMMARIES_SHOWN = 3
CATEGORIES_SHOWN = 6
MATCHED_SHOWN = 5
TOPIC_TEXT_MAX = 100
_FIT_FLOOR = 200  # fit_embed shortens texts down to this before removing fields

ABS_URL = "https://arxiv.org/abs/{arxiv_id}"
NO_MENTIONS: dict[str, list[str]] = {"parse": []}
ZWSP = "\u200b"

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
COLORS = {
    "new": 0x2ECC71,
    "cross": 0x3498DB,
    "replace": 0xE67E22,
    "replace-cross": 0xF39C12,
    "fetched": 0x95A5A6,
    "updated": 0x95A5A6,
    "summary": 0x9B59B6,
    "edited": 0x8E44AD,
}
_DEFAULT_COLOR = 0x95A5A6
_SUMMARY_EVENTS = frozenset({"summary", "edited"})

_MENTION_AT = re.compile(r"@(?=everyone|here)", re.IGNORECASE)
_MENTION_TAG = re.compile(r"<([@#])")
_UNSAFE_MENTION = re.compile(r"@(?:everyone|here)|<@[!&]?\d+>|<#\d+>", re.IGNORECASE)
_IMAGE = re.compile(r"!\[([^\]\n]*)\]\([^)\n]*\)")
_MASKED_LINK = re.compile(r"\[([^\]\n]+)\]\(\s*<?((?:[^()\s>]|\([^()\s]*\))*)>?(?:\s+\"[^\"\n]*\")?\s*\)")
_PARTIAL_LINK = re.compile(r"\[([^\]\n]*)\]\([^)\n]*$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_BLANK_LINES = re.compile(r"\n\s*\n(?:\s*\n)+")
_CARD_WIDTH = 100


@dataclass
class RenderedMessage:
    """One Discord message of a digest and the entries it delivers (delivery marks those sent)."""

    payload: dict[str, Any]
    entries: list[DigestEntry]


# --- escaping -----------------------------------------------------------------------------------------


def neutralize_mentions(text: str) -> str:
    """``@everyone``, ``@here``, ``<@123>``, ``<@&123>``, ``<#123>`` made inert with a zero-width space.

    ``discord.utils.escape_mentions`` misses channel mentions and ids shorter than 17 digits, so
    every ``<@``/``<#`` is broken, whatever follows.
    """
    return _MENTION_TAG.sub(lambda m: f"<{m.group(1)}{ZWSP}", _MENTION_AT.sub(f"@{ZWSP}", text))


def escape_feed_text(text: str) -> str:
    """Feed text (a title, an author, a topic) shown literally: no markdown, no mentions.

    ``discord.utils.escape_markdown`` escapes ``* _ ~ | ` \\``, quotes, headings, list dashes and
    masked links, and leaves bare URLs alone so they stay clickable.
    """
    return neutralize_mentions(escape_markdown(text))


def summary_markdown(text: str, limit: int | None = None) -> str:
    """Summary text with its markdown kept but made safe and compact for a digest.

    Headings become bold lines, images become their alt text, masked links survive only for https
    URLs (others keep their label), math becomes Unicode, mentions are neutralised. With ``limit``
    only the opening is processed (the caller cuts it to ``limit``): full-text feeds are long.
    """
    if limit is not None:
        text = truncate(text, max(4 * limit, 2000), ellipsis="")
    text = _IMAGE.sub(lambda m: m.group(1), markdown_headings_to_bold(text))
    text = _MASKED_LINK.sub(_safe_link, text)
    parts = []
    for kind, part in latex_segments(text):
        if kind == "code":
            parts.append(inline_code(part))
        elif kind == "math":
            parts.append(escape_markdown(part, ignore_links=False))
        else:
            parts.append(part)
    text = _CONTROL.sub("", "".join(parts).replace("\r\n", "\n"))
    return neutralize_mentions(_BLANK_LINES.sub("\n\n", text)).strip()


def _safe_link(match: re.Match[str]) -> str:
    label, url = match.group(1), match.group(2)
    return f"[{label}]({url})" if url.lower().startswith("https://") else label


# --- feed text to Discord text ------------------------------------------------------------------------


def _feed_pieces(text: str, enough: int | None = None) -> tuple[list[tuple[str, bool]], bool]:
    """Feed text with TeX as (text, is_code) pieces: Unicode text (not yet escaped) or math source
    for inline code; the ends are stripped. The flag says whether the pieces hold all of ``text``.

    Stops once the pieces hold more than ``enough`` characters, since a snippet never shows more:
    a 20,000-character abstract costs no more than a short one.
    """
    pieces: list[tuple[str, bool]] = []
    size = 0
    complete = True
    for kind, part in iter_latex_segments(text):
        if kind == "code":
            pieces.append((part, True))
        else:
            if kind == "text" and enough is not None and len(part) > enough - size + 64:
                part = part[:enough - size + 64]  # TeX decoding only shortens text; keep some slack
                complete = False
            plain = tex_to_unicode(part) if kind == "text" else part
            pieces.append((re.sub(r"\s+", " ", plain), False))
        size += len(pieces[-1][0])
        if enough is not None and size > enough:
            complete = False
            break
    if pieces and not pieces[0][1]:
        pieces[0] = (pieces[0][0].lstrip(), False)
    if pieces and not pieces[-1][1]:
        pieces[-1] = (pieces[-1][0].rstrip(), False)
    return [piece for piece in pieces if piece[0]], complete


def _escape_piece(text: str, line_start: bool) -> str:
    """Markdown escaped; the line-start rules (``#``, ``>``, ``-``) only where a line really starts."""
    return escape_markdown(text) if line_start else escape_markdown("x" + text)[1:]


def _show_piece(piece: tuple[str, bool], first: bool) -> str:
    text, is_code = piece
    return inline_code(text) if is_code else _escape_piece(text, first)


def render_feed_text(text: str, limit: int) -> str:
    """Feed text (title, abstract) as escaped Discord text with Unicode math, at most ``limit`` long,
    cut at a word boundary with an ellipsis; mentions are neutralised, even inside inline code.
    """
    pieces, complete = _feed_pieces(text, enough=limit + 1)
    budget = limit
    while True:
        shown = neutralize_mentions(_fit_pieces(pieces, budget, complete))
        if len(shown) <= limit or budget <= 1:
            return shown if len(shown) <= limit else truncate(shown, limit)
        budget -= len(shown) - limit  # the zero-width spaces took room: fit again, tighter


def _fit_pieces(pieces: list[tuple[str, bool]], budget: int, complete: bool = True) -> str:
    """The pieces shown within ``budget``; a cut ends at a word boundary with an ellipsis and never
    splits an inline code span (one too long to show whole is cut inside its backticks). Pieces
    that are not the ``complete`` text always end with the ellipsis.
    """
    shown = [_show_piece(piece, i == 0) for i, piece in enumerate(pieces)]
    if sum(len(s) for s in shown) <= (budget if complete else budget - 1):
        return "".join(shown) + ("" if complete else "…")
    room = budget - 1
    out: list[str] = []
    used = 0
    for i, ((text, is_code), rendered) in enumerate(zip(pieces, shown, strict=True)):
        if used + len(rendered) <= room:
            out.append(rendered)
            used += len(rendered)
            continue
        if not is_code:
            out.append(_cut_escaped(text, room - used, line_start=i == 0))
        elif not out and room >= 8:
            return inline_code(truncate(text, room - 4))
        break
    return "".join(out).rstrip(" ,;:").rstrip("\\") + "…"


def _cut_escaped(raw: str, room: int, line_start: bool) -> str:
    """The longest word-boundary prefix of ``raw`` whose escaped form fits ``room``."""
    size = room
    while size > 0:
        escaped = _escape_piece(truncate(raw, size, ellipsis=""), line_start)
        if len(escaped) <= room:
            return escaped
        size -= max(1, len(escaped) - room)
    return ""


def markdown_cut(text: str, limit: int) -> str:
    """Markdown cut to ``limit`` with open code, bold, strike and spoiler markers closed again."""
    if len(text) <= limit:
        return text
    if limit < 24:
        return truncate(text, limit)
    room = limit - 12  # space for the ellipsis and the closers
    cut = _PARTIAL_LINK.sub(lambda m: m.group(1), truncate(text, room, ellipsis=""))
    cut = cut.rstrip("\\") + "…"
    closers = ""
    if cut.count("```") % 2:
        closers += "\n```"
    else:
        if (cut.count("`") - 3 * cut.count("```")) % 2:
            closers += "`"
        for marker in ("**", "__", "~~", "||"):
            if cut.count(marker) % 2:
                closers += marker
    return (cut + closers)[:limit]


# --- one entry ----------------------------------------------------------------------------------------


def _kind(entry: DigestEntry) -> str:
    """What the entry is about, for colour and footer: the paper's event or a summary event."""
    if entry.paper is None:
        return "edited" if entry.event == "edited" else "summary"
    return entry.event


def _authors_line(authors: Sequence[str]) -> str:
    """``A, B, C et al.``: the first three authors, escaped, each name capped."""
    names = [escape_feed_text(truncate(collapse_whitespace(tex_to_unicode(a)), AUTHOR_NAME_MAX))
             for a in authors[:AUTHORS_SHOWN]]
    line = ", ".join(n for n in names if n)
    return f"{line} et al." if len(authors) > AUTHORS_SHOWN and line else line


def _categories_line(categories: Sequence[str], matched: Sequence[str]) -> str:
    """``**cs.LG** · cs.AI · matched: cs.LG, author:X``, with long lists cut to a count."""
    shown = [escape_feed_text(truncate(c, 40)) for c in categories[:CATEGORIES_SHOWN]]
    if shown:
        shown[0] = f"**{shown[0]}**"
    if len(categories) > CATEGORIES_SHOWN:
        shown.append(f"+{len(categories) - CATEGORIES_SHOWN}")
    parts = [" · ".join(shown)] if shown else []
    if matched:
        topics = [escape_feed_text(truncate(t, TOPIC_TEXT_MAX)) for t in matched[:MATCHED_SHOWN]]
        more = f" +{len(matched) - MATCHED_SHOWN} more" if len(matched) > MATCHED_SHOWN else ""
        parts.append(f"matched: {', '.join(topics)}{more}")
    return " · ".join(parts)


def safe_url(url: str | None) -> str | None:
    """An http(s) URL fit for an embed link, or None."""
    if not url:
        return None
    url = url.strip().replace(" ", "%20")
    if not url.lower().startswith(("https://", "http://")) or len(url) > URL_MAX:
        return None
    return url if not _CONTROL.search(url) else None


def abs_url(arxiv_id: str) -> str:
    """The arXiv abstract page (never the PDF, as arXiv asks)."""
    return ABS_URL.format(arxiv_id=quote(arxiv_id, safe="/."))


def _summary_field(summary: StoredSummary) -> dict[str, Any]:
    """One summary as an embed field: who wrote it and its votes, then its opening."""
    author = escape_feed_text(truncate(collapse_whitespace(summary.author or "Anonymous"), AUTHOR_NAME_MAX))
    votes = f" · ▲ {summary.votes}" if summary.votes is not None else ""
    source = escape_feed_text(truncate(summary.source, 60))
    name = truncate(f"💬 Summary by {author}{votes} ({source})", EMBED_FIELD_NAME_MAX)
    opening = markdown_cut(summary_markdown(summary.text, SUMMARY_SNIPPET), SUMMARY_SNIPPET)
    opening = opening or "*(empty summary)*"
    link = safe_url(summary.link)
    if link and link.lower().startswith("https://") and len(link) <= 400:
        opening += f"\n[Read the summary](<{link.replace(')', '%29')}>)"
    return {"name": name, "value": opening[:EMBED_FIELD_VALUE_MAX], "inline": False}


def _summary_fields(summaries: Sequence[StoredSummary]) -> list[dict[str, Any]]:
    fields = [_summary_field(s) for s in summaries[:SUMMARIES_SHOWN]]
    if len(summaries) > SUMMARIES_SHOWN:
        extra = len(summaries) - SUMMARIES_SHOWN
        fields.append({"name": f"…and {extra} more summar{'y' if extra == 1 else 'ies'}",
                       "value": "Use `/paper summaries` to read them all.", "inline": False})
    return fields


def _paper_embed(entry: DigestEntry, paper: StoredPaper) -> dict[str, Any]:
    lines = [_authors_line(paper.authors), _categories_line(paper.categories, entry.matched)]
    description = "\n".join(line for line in lines if line)
    abstract = render_feed_text(paper.abstract, ABSTRACT_SNIPPET) if paper.abstract else ""
    if abstract:
        description = f"{description}\n\n{abstract}" if description else abstract
    kind = _kind(entry)
    version = f"v{paper.latest_version}" if paper.latest_version else ""
    footer = f"arXiv:{paper.arxiv_id}{version} · {EVENT_LABELS.get(kind, kind)}"
    if paper.journal_ref:
        footer += f" · {collapse_whitespace(paper.journal_ref)}"
    return {
        "title": render_feed_text(paper.title, EMBED_TITLE_MAX) or "(untitled)",
        "url": abs_url(paper.arxiv_id),
        "description": description,
        "color": COLORS.get(kind, _DEFAULT_COLOR),
        "fields": _summary_fields(entry.summaries),
        "footer": {"text": truncate(neutralize_mentions(footer), EMBED_FOOTER_MAX)},
    }


def _summary_only_embed(entry: DigestEntry) -> dict[str, Any]:
    """A summary whose paper the store doesn't have: titled with the paper's title, linked to it."""
    first = entry.summaries[0] if entry.summaries else None
    title = render_feed_text(first.title, EMBED_TITLE_MAX) if first and first.title else ""
    lines = []
    if first and first.arxiv_id:
        lines.append(f"[arXiv:{escape_feed_text(first.arxiv_id)}]({abs_url(first.arxiv_id)})")
    elif first and first.bibtex_key:
        lines.append(f"`{truncate(first.bibtex_key, 100).replace('`', '')}`")
    lines.append(_categories_line([], entry.matched))
    kind = _kind(entry)
    source = first.source if first else "summary"
    footer = f"{source} · {EVENT_LABELS.get(kind, kind)}"
    embed: dict[str, Any] = {
        "title": title or "(untitled)",
        "description": "\n".join(line for line in lines if line),
        "color": COLORS.get(kind, _DEFAULT_COLOR),
        "fields": _summary_fields(entry.summaries),
        "footer": {"text": truncate(neutralize_mentions(footer), EMBED_FOOTER_MAX)},
    }
    url = safe_url(first.link if first else None)
    if url:
        embed["url"] = url
    return embed


def render_entry_embed(entry: DigestEntry) -> dict[str, Any]:
    """One digest entry as one embed dict, every part within its limit and the whole within 6000."""
    embed = _paper_embed(entry, entry.paper) if entry.paper is not None else _summary_only_embed(entry)
    if not embed["fields"]:
        del embed["fields"]
    if not embed["description"]:
        del embed["description"]
    return fit_embed(embed)


# --- limits -------------------------------------------------------------------------------------------


def embed_length(embed: dict[str, Any]) -> int:
    """The characters Discord counts towards the 6000 of a message (as ``len(discord.Embed)``)."""
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    for item in embed.get("fields") or []:
        total += len(item.get("name") or "") + len(item.get("value") or "")
    total += len((embed.get("footer") or {}).get("text") or "")
    return total + len((embed.get("author") or {}).get("name") or "")


def fit_embed(embed: dict[str, Any], budget: int = EMBED_TOTAL_MAX) -> dict[str, Any]:
    """A copy of ``embed`` with each part within its own limit and the whole within ``budget``.

    Shortens the longest texts first, then removes trailing fields; the embed itself always
    survives, so a digest entry is shortened, never dropped.
    """
    fitted = _fit_parts(embed)
    while embed_length(fitted) > budget:
        if not _shorten_longest(fitted, embed_length(fitted) - budget):
            if fitted.get("fields"):
                fitted["fields"].pop()
                continue
            return _fit_hard(fitted, budget)
    return fitted


def _fit_parts(embed: dict[str, Any]) -> dict[str, Any]:
    """A copy with every part cut to its own limit and at most 25 fields."""
    fitted = dict(embed)
    for key, limit in (("title", EMBED_TITLE_MAX), ("description", EMBED_DESCRIPTION_MAX)):
        if isinstance(fitted.get(key), str):
            fitted[key] = markdown_cut(fitted[key], limit)
    if "footer" in fitted:
        fitted["footer"] = {**fitted["footer"], "text": truncate(fitted["footer"].get("text") or "",
                                                                 EMBED_FOOTER_MAX)}
    if "author" in fitted:
        fitted["author"] = {**fitted["author"], "name": truncate(fitted["author"].get("name") or "",
                                                                 EMBED_AUTHOR_NAME_MAX)}
    if "fields" in fitted:
        fitted["fields"] = [{**f, "name": truncate(f.get("name") or "\u200b", EMBED_FIELD_NAME_MAX),
                             "value": markdown_cut(f.get("value") or "\u200b", EMBED_FIELD_VALUE_MAX)}
                            for f in fitted["fields"][:EMBED_FIELDS_MAX]]
    return fitted


def _shorten_longest(embed: dict[str, Any], excess: int) -> bool:
    """Cut the longest of description and field values by ``excess`` (not below the floor)."""
    texts: list[tuple[int, str | int]] = []
    if embed.get("description"):
        texts.append((len(embed["description"]), "description"))
    texts += [(len(f["value"]), i) for i, f in enumerate(embed.get("fields") or [])]
    if not texts:
        return False
    size, where = max(texts, key=lambda t: t[0])
    if size <= _FIT_FLOOR:
        return False
    target = max(_FIT_FLOOR, size - excess)
    if where == "description":
        embed["description"] = markdown_cut(embed["description"], target)
    else:
        assert isinstance(where, int)
        embed["fields"][where] = {**embed["fields"][where],
                                  "value": markdown_cut(embed["fields"][where]["value"], target)}
    return True


def _fit_hard(embed: dict[str, Any], budget: int) -> dict[str, Any]:
    """Last resort for tiny budgets: share the budget between title, description and footer."""
    share = max(budget // 4, 1)
    embed["title"] = truncate(embed.get("title") or "", share)
    embed["description"] = markdown_cut(embed.get("description") or "", share)
    if "footer" in embed:
        embed["footer"] = {**embed["footer"], "text": truncate(embed["footer"].get("text") or "", share)}
    embed.pop("author", None)
    return embed


def payload_violations(payload: dict[str, Any]) -> list[str]:
    """Every way ``payload`` breaks Discord's limits or our safety rules (empty when it is fine)."""
    problems: list[str] = []
    content = payload.get("content") or ""
    embeds = payload.get("embeds") or []
    if not content and not embeds:
        problems.append("message has neither content nor embeds")
    if len(content) > CONTENT_MAX:
        problems.append(f"content is {len(content)} characters (max {CONTENT_MAX})")
    if len(embeds) > EMBEDS_PER_MESSAGE_MAX:
        problems.append(f"{len(embeds)} embeds (max {EMBEDS_PER_MESSAGE_MAX})")
    if not _mentions_disabled(payload.get("allowed_mentions")):
        problems.append(f"allowed_mentions {payload.get('allowed_mentions')!r} lets mentions ping")
    total = 0
    for index, embed in enumerate(embeds):
        problems += [f"embed {index}: {p}" for p in _embed_violations(embed)]
        total += embed_length(embed)
    if total > EMBED_TOTAL_MAX:
        problems.append(f"embeds hold {total} characters (max {EMBED_TOTAL_MAX})")
    problems += [f"unescaped mention {m!r}" for m in _mentions_in(payload)]
    return problems


def _mentions_disabled(allowed: Any) -> bool:
    """Whether ``allowed_mentions`` pings nobody: ``{"parse": []}``, optionally with empty lists."""
    if not isinstance(allowed, dict) or allowed.get("parse") != []:
        return False
    return not allowed.get("users") and not allowed.get("roles") and not allowed.get("replied_user")


def _embed_violations(embed: dict[str, Any]) -> list[str]:
    problems = [f"{name} is {len(text)} characters (max {limit})"
                for name, text, limit in _embed_texts(embed) if len(text) > limit]
    fields = embed.get("fields") or []
    if len(fields) > EMBED_FIELDS_MAX:
        problems.append(f"{len(fields)} fields (max {EMBED_FIELDS_MAX})")
    problems += [f"field {i} has an empty name or value" for i, f in enumerate(fields)
                 if not (f.get("name") or "").strip() or not (f.get("value") or "").strip()]
    url = embed.get("url")
    if url is not None and safe_url(url) != url:
        problems.append(f"url {url[:80]!r} is not an http(s) URL of at most {URL_MAX} characters")
    color = embed.get("color")
    if color is not None and not (isinstance(color, int) and 0 <= color <= 0xFFFFFF):
        problems.append(f"color {color!r} is not a 24-bit integer")
    return problems


def _embed_texts(embed: dict[str, Any]) -> Iterable[tuple[str, str, int]]:
    yield "title", embed.get("title") or "", EMBED_TITLE_MAX
    yield "description", embed.get("description") or "", EMBED_DESCRIPTION_MAX
    yield "footer", (embed.get("footer") or {}).get("text") or "", EMBED_FOOTER_MAX
    yield "author name", (embed.get("author") or {}).get("name") or "", EMBED_AUTHOR_NAME_MAX
    for i, item in enumerate(embed.get("fields") or []):
        yield f"field {i} name", item.get("name") or "", EMBED_FIELD_NAME_MAX
        yield f"field {i} value", item.get("value") or "", EMBED_FIELD_VALUE_MAX


def _mentions_in(payload: dict[str, Any]) -> list[str]:
    """Mentions that would ping if ``allowed_mentions`` were lost."""
    texts = [payload.get("content") or ""]
    for embed in payload.get("embeds") or []:
        texts += [text for _name, text, _limit in _embed_texts(embed)]
    return [m.group(0) for text in texts for m in _UNSAFE_MENTION.finditer(text)]


# --- a digest -----------------------------------------------------------------------------------------


def render_digest(entries: Sequence[DigestEntry], *, date_text: str,
                  channel_topics: list[str] | None = None,
                  max_items_per_message: int = EMBEDS_PER_MESSAGE_MAX) -> list[RenderedMessage]:
    """A digest as Discord messages: a header, then one embed per entry packed greedily.

    Each message holds at most ``min(10, max_items_per_message)`` embeds and 6000 embed
    characters; every entry is in exactly one message, in order. An empty digest is one message
    with the header alone.
    """
    per_message = max(1, min(EMBEDS_PER_MESSAGE_MAX, max_items_per_message))
    embeds = [render_entry_embed(entry) for entry in entries]
    groups = pack_embeds(embeds, per_message) or [[]]
    header = digest_header(entries, date_text, channel_topics)
    messages = []
    for number, group in enumerate(groups, start=1):
        counter = f" ({number}/{len(groups)})" if len(groups) > 1 else ""
        content = truncate(header, CONTENT_MAX - len(counter)) + counter if number == 1 else counter.strip()
        payload = {"content": content, "embeds": [embeds[i] for i in group],
                   "allowed_mentions": {"parse": []}}
        messages.append(RenderedMessage(payload, [entries[i] for i in group]))
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


# --- terminal -----------------------------------------------------------------------------------------


def render_text_card(entry: DigestEntry) -> str:
    """A plain-text card for the terminal (``paperboy preview``): no markdown, no control codes."""
    kind = _kind(entry)
    lines: list[str] = []
    paper = entry.paper
    if paper is not None:
        version = f"v{paper.latest_version}" if paper.latest_version else ""
        label = EVENT_LABELS.get(kind, kind)
        title = plain_text(paper.title, EMBED_TITLE_MAX)
        lines.append(f"[{label}] {title}  (arXiv:{paper.arxiv_id}{version})")
        lines.append(f"  {abs_url(paper.arxiv_id)}")
        if paper.authors:
            names = [plain_text(a, AUTHOR_NAME_MAX) for a in paper.authors[:AUTHORS_SHOWN]]
            more = " et al." if len(paper.authors) > AUTHORS_SHOWN else ""
            lines.append(f"  {', '.join(names)}{more}")
        meta = " · ".join(paper.categories[:CATEGORIES_SHOWN])
        if entry.matched:
            meta += f"   matched: {', '.join(entry.matched)}"
        lines.append(f"  {meta.strip()}")
        if paper.abstract:
            lines += textwrap.wrap(plain_text(paper.abstract, ABSTRACT_SNIPPET), _CARD_WIDTH,
                                   initial_indent="  ", subsequent_indent="  ")
    else:
        first = entry.summaries[0] if entry.summaries else None
        title = plain_text(first.title, EMBED_TITLE_MAX) if first else "(untitled)"
        lines.append(f"[{EVENT_LABELS.get(kind, kind)}] {title}")
        if first and first.link:
            lines.append(f"  {plain_text(first.link, URL_MAX)}")
        if entry.matched:
            lines.append(f"  matched: {', '.join(entry.matched)}")
    for summary in entry.summaries[:SUMMARIES_SHOWN]:
        votes = f", ▲ {summary.votes}" if summary.votes is not None else ""
        author = plain_text(summary.author or "Anonymous", AUTHOR_NAME_MAX)
        lines.append(f"  -- summary by {author} ({summary.source}{votes})")
        opening = plain_text(markdown_headings_to_bold(summary.text), SUMMARY_SNIPPET)
        lines += textwrap.wrap(opening, _CARD_WIDTH, initial_indent="     ", subsequent_indent="     ")
    if len(entry.summaries) > SUMMARIES_SHOWN:
        lines.append(f"  -- and {len(entry.summaries) - SUMMARIES_SHOWN} more summaries")
    return "\n".join(_CONTROL.sub("", line) for line in lines)


def plain_text(text: str, limit: int) -> str:
    """Feed text for a terminal: TeX and math to Unicode, whitespace collapsed, control codes gone,
    cut to ``limit``.
    """
    pieces, complete = _feed_pieces(_CONTROL.sub(" ", text), enough=limit + 1)
    joined = collapse_whitespace("".join(inline_code(p) if is_code else p for p, is_code in pieces))
    return truncate(joined, limit) if complete else truncate(joined, limit - 1, ellipsis="") + "…"


__all__ = [
    "DigestEntry",
    "RenderedMessage",
    "abs_url",
    "digest_header",
    "embed_length",
    "escape_feed_text",
    "fit_embed",
    "latex_to_unicode",
    "neutralize_mentions",
    "pack_embeds",
    "payload_violations",
    "render_digest",
    "render_entry_embed",
    "render_feed_text",
    "render_text_card",
    "summary_markdown",
]
