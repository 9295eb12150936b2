"""Feed text made safe to show: mentions neutralised, markdown escaped, math as Unicode.

Feed text is untrusted. Titles, authors and topics have their markdown escaped and every text has
its mentions broken with a zero-width space (payloads also carry ``allowed_mentions: {"parse": []}``,
so even a missed mention cannot ping); control characters go by the one rule of
:data:`bot.core.text.CONTROL_CHARS`. Lengths are counted in code points, as Discord counts them.
"""

from __future__ import annotations

import re

from discord.utils import escape_markdown

from bot.core.latex_math import inline_code, iter_latex_segments
from bot.core.text import collapse_whitespace, strip_control, tex_to_unicode, truncate

ZWSP = "\u200b"
NO_MENTIONS: dict[str, list[str]] = {"parse": []}

_MENTION_AT = re.compile(r"@(?=everyone|here)", re.IGNORECASE)
_MENTION_TAG = re.compile(r"<([@#])")
_UNSAFE_MENTION = re.compile(r"@(?:everyone|here)|<@[!&]?\d+>|<#\d+>", re.IGNORECASE)

Piece = tuple[str, bool]  # (text, is_code): Unicode text not yet escaped, or math source for inline code


def neutralize_mentions(text: str) -> str:
    """``@everyone``, ``@here``, ``<@123>``, ``<@&123>``, ``<#123>`` made inert with a zero-width space.

    ``discord.utils.escape_mentions`` misses channel mentions and ids shorter than 17 digits, so
    every ``<@``/``<#`` is broken, whatever follows.
    """
    return _MENTION_TAG.sub(lambda m: f"<{m.group(1)}{ZWSP}", _MENTION_AT.sub(f"@{ZWSP}", text))


def unsafe_mentions(text: str) -> list[str]:
    """The mentions in ``text`` that would ping if ``allowed_mentions`` were lost."""
    return [m.group(0) for m in _UNSAFE_MENTION.finditer(text)]


def escape_feed_text(text: str) -> str:
    """Feed text (a title, an author, a topic) shown literally: no markdown, no mentions.

    ``discord.utils.escape_markdown`` escapes ``* _ ~ | ` \\``, quotes, headings, list dashes and
    masked links, and leaves bare URLs alone so they stay clickable.
    """
    return neutralize_mentions(escape_markdown(text))


def _feed_pieces(text: str, enough: int | None = None) -> tuple[list[Piece], bool]:
    """Feed text with TeX as pieces (control characters gone, the ends stripped); the flag says
    whether the pieces hold all of ``text``.

    Stops once the pieces hold more than ``enough`` characters, since a snippet never shows more:
    a 20,000-character abstract costs no more than a short one.
    """
    pieces: list[Piece] = []
    size = 0
    complete = True
    for kind, part in iter_latex_segments(strip_control(text, " ")):
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


def _show_piece(piece: Piece, first: bool) -> str:
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


def _fit_pieces(pieces: list[Piece], budget: int, complete: bool = True) -> str:
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


def plain_text(text: str, limit: int) -> str:
    """Feed text for a terminal: TeX and math to Unicode, whitespace collapsed, control characters
    gone, cut to ``limit``."""
    pieces, complete = _feed_pieces(text, enough=limit + 1)
    joined = collapse_whitespace("".join(inline_code(p) if is_code else p for p, is_code in pieces))
    return truncate(joined, limit) if complete else truncate(joined, limit - 1, ellipsis="") + "…"


__all__ = [
    "NO_MENTIONS",
    "ZWSP",
    "escape_feed_text",
    "neutralize_mentions",
    "plain_text",
    "render_feed_text",
    "unsafe_mentions",
]
