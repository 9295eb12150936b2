"""Cutting markdown and fitting embeds into Discord's limits, never breaking the markup.

A cut closes what it leaves open (code, bold, strike, spoiler) and never ends inside a masked link;
:func:`fit_embed` shortens the longest texts first and drops trailing fields last, so a digest entry
or a card is shortened, never dropped.
"""

from __future__ import annotations

import re
from typing import Any

from bot.core.text import truncate
from bot.discord_side.limits import (
    EMBED_AUTHOR_NAME_MAX,
    EMBED_DESCRIPTION_MAX,
    EMBED_FIELD_NAME_MAX,
    EMBED_FIELD_VALUE_MAX,
    EMBED_FIELDS_MAX,
    EMBED_FOOTER_MAX,
    EMBED_TITLE_MAX,
    EMBED_TOTAL_MAX,
    embed_length,
)
from bot.discord_side.markdown import markdown_closers
from bot.discord_side.safety import ZWSP

_PARTIAL_LINK = re.compile(r"\[([^\]\n]*)\]\([^)\n]*$")
_FIT_FLOOR = 200  # fit_embed shortens texts down to this before removing fields


def markdown_cut(text: str, limit: int) -> str:
    """Markdown cut to ``limit`` with open code, bold, strike and spoiler markers closed again."""
    if len(text) <= limit:
        return text
    if limit < 24:
        return truncate(text, limit)
    room = limit - 12  # space for the ellipsis and the closers
    cut = _PARTIAL_LINK.sub(lambda m: m.group(1), truncate(text, room, ellipsis=""))
    cut = cut.rstrip("\\") + "…"
    if cut.count("```") % 2:
        closers = "\n```"
    else:
        closers = "`" if (cut.count("`") - 3 * cut.count("```")) % 2 else ""
        closers += markdown_closers(cut)
    return (cut + closers)[:limit]


def fit_embed(embed: dict[str, Any], budget: int = EMBED_TOTAL_MAX) -> dict[str, Any]:
    """A copy of ``embed`` with each part within its own limit and the whole within ``budget``.

    Shortens the longest texts first, then removes trailing fields; the embed itself always
    survives.
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
        fitted["fields"] = [{**f, "name": truncate(f.get("name") or ZWSP, EMBED_FIELD_NAME_MAX),
                             "value": markdown_cut(f.get("value") or ZWSP, EMBED_FIELD_VALUE_MAX)}
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
    if isinstance(where, str):
        embed["description"] = markdown_cut(embed["description"], target)
    else:
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


__all__ = ["fit_embed", "markdown_cut"]
