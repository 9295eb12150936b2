"""Discord's documented limits, and the one check that a payload keeps them and cannot ping.

Every renderer keeps within these numbers; :func:`payload_violations` is how delivery, cogs, the
CLI and tests check a payload (plain JSON in the shape of Discord's REST API). Lengths are code
points, as Discord and discord.py count them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.core.text import has_control_chars
from bot.discord_side.safety import unsafe_mentions

# Messages and embeds (https://discord.com/developers/docs/resources/message#embed-object-embed-limits)
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

# Components (https://discord.com/developers/docs/interactions/message-components)
CUSTOM_ID_MAX = 100
BUTTON_LABEL_MAX = 80
BUTTON_URL_MAX = 512
BUTTONS_PER_ROW = 5
ACTION_ROWS_MAX = 5
SELECT_OPTIONS_MAX = 25
SELECT_TEXT_MAX = 100
SELECT_PLACEHOLDER_MAX = 150


def safe_url(url: str | None) -> str | None:
    """An http(s) URL fit for an embed link (at most 2,048, spaces encoded, no control characters
    or line breaks), or None."""
    if not url:
        return None
    url = url.strip().replace(" ", "%20")
    if not url.lower().startswith(("https://", "http://")) or len(url) > URL_MAX:
        return None
    return None if has_control_chars(url) or any(c in url for c in "\t\n\r") else url


def embed_length(embed: dict[str, Any]) -> int:
    """The characters Discord counts towards the 6000 of a message (as ``len(discord.Embed)``)."""
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    for item in embed.get("fields") or []:
        total += len(item.get("name") or "") + len(item.get("value") or "")
    total += len((embed.get("footer") or {}).get("text") or "")
    return total + len((embed.get("author") or {}).get("name") or "")


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
    texts = [content] + [text for embed in embeds for _name, text, _limit in _embed_texts(embed)]
    problems += [f"unescaped mention {m!r}" for text in texts for m in unsafe_mentions(text)]
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


__all__ = [
    "ACTION_ROWS_MAX",
    "AUTOCOMPLETE_CHOICES_MAX",
    "AUTOCOMPLETE_CHOICE_MAX",
    "BUTTONS_PER_ROW",
    "BUTTON_LABEL_MAX",
    "BUTTON_URL_MAX",
    "CONTENT_MAX",
    "CUSTOM_ID_MAX",
    "EMBEDS_PER_MESSAGE_MAX",
    "EMBED_AUTHOR_NAME_MAX",
    "EMBED_DESCRIPTION_MAX",
    "EMBED_FIELDS_MAX",
    "EMBED_FIELD_NAME_MAX",
    "EMBED_FIELD_VALUE_MAX",
    "EMBED_FOOTER_MAX",
    "EMBED_TITLE_MAX",
    "EMBED_TOTAL_MAX",
    "SELECT_OPTIONS_MAX",
    "SELECT_PLACEHOLDER_MAX",
    "SELECT_TEXT_MAX",
    "URL_MAX",
    "embed_length",
    "payload_violations",
    "safe_url",
]
