"""Discord markdown: summaries made safe and compact, headings made bold, readable openings, links.

Summaries keep their markdown (unlike titles, which :mod:`bot.discord_side.safety` escapes), so this
is where it is tamed: headings become bold lines (digests stay compact), images their alt text,
masked links survive only for https URLs, math becomes Unicode, mentions are neutralised.
"""

from __future__ import annotations

import re

from discord.utils import escape_markdown

from bot.core.latex_math import inline_code, latex_segments
from bot.core.text import strip_control, truncate
from bot.discord_side.limits import safe_url
from bot.discord_side.safety import neutralize_mentions

CLOSED_MARKERS = ("**", "__", "~~", "||")  # what markdown_closers closes again after a cut
CODE_SPAN = re.compile(r"`` .*? ``|`[^`]*`")

# --- headings ----------------------------------------------------------------------------------------

_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
HEADING_TEXT_MAX = 80  # a "# ..." line whose text is longer is body text, not a heading
LEAD_PHRASE_MAX = 40  # the lead of a long "# Lead - body" line shown bold (see markdown_headings_to_bold)
# A sentence ending inside the text: a letter, then . ! or ? (and closing quotes or brackets), then
# more words. "1. Introduction" (a digit before the dot) and "Why?" (nothing after) are not one.
_SENTENCE_BREAK = re.compile(r"[^\W\d_][.!?]+[\"'’”)\]]*\s+\S")
_LEAD_PHRASE = re.compile(r"^([^*_`\[\]~|\n]+?)[ \t]+([-–—])[ \t]+(\S.*)$", re.DOTALL)
_INLINE_HEADING = re.compile(r"[ \t]+(?=#{1,6}[ \t]+[^\s#])")
_CLOSING_HASHES = re.compile(r"[ \t]+#+[ \t]*$")


def _heading_title(text: str) -> str:
    """A heading's text without its bold markers (``**Bold** part`` -> ``Bold part``), for ``**...**``."""
    return text.replace("**", "").strip().strip("*").strip()


def is_heading_text(text: str) -> bool:
    """Whether a ``# ...`` line's text reads as a heading: at most :data:`HEADING_TEXT_MAX` (80)
    characters and no sentence ending inside it (``# Results`` and ``## 1. Method?`` are headings;
    ``# Keypoints - Proposes HIRO. - Uses ...``, a whole summary on one line, is not)."""
    text = text.strip()
    return 0 < len(text) <= HEADING_TEXT_MAX and not _SENTENCE_BREAK.search(text)


def _collapsed_part(text: str) -> str:
    """One part of a collapsed markdown line, its ``#`` marks dropped: a short plain lead phrase
    before a dash (an inline bullet follows) is bold, else a part that is only short heading text
    (at most 40 characters here: a longer part may well be a heading and its first sentence) is a
    bold heading, else it is body text."""
    heading = _HEADING.match(text)
    if heading is not None:
        text = heading.group(1).strip()
    lead = _LEAD_PHRASE.match(text)
    if lead is not None:
        phrase = lead.group(1).strip()
        if len(phrase) <= LEAD_PHRASE_MAX and is_heading_text(phrase):
            return f"**{phrase}** {lead.group(2)} {lead.group(3)}"
    title = _heading_title(text)
    if heading is not None and len(title) <= LEAD_PHRASE_MAX and is_heading_text(title):
        return f"**{title}**"
    return text


def _collapsed_markdown(line: str) -> str:
    """A ``# ...`` line too long to be a heading: a summary's markdown collapsed onto one line. It
    is split before each later ``# `` heading mark (outside inline code) into paragraphs of their
    own, each shown by :func:`_collapsed_part`."""
    parts: list[str] = []
    start = 0
    for match in _INLINE_HEADING.finditer(line):
        piece = line[start:match.start()]
        if (line[:match.start()].count("`") % 2) == 0 and piece.strip():
            parts.append(piece)
            start = match.end()
    parts.append(line[start:])
    return "\n\n".join(_collapsed_part(part.strip()) for part in parts if part.strip())


def markdown_headings_to_bold(text: str) -> str:
    """``# Keypoints`` -> ``**Keypoints**``: digests stay compact; code blocks are left alone.

    The heading rule: a ``# ...`` line becomes a bold heading only when its text
    :func:`is_heading_text`: at most 80 characters (:data:`HEADING_TEXT_MAX`) and no sentence
    ending inside it. A longer one is body text, typically a whole summary's markdown collapsed
    onto one line, as ShortScience's venue pages and feeds show it (``# Keypoints - Proposes ... -
    Uses ... # Results ...``), and is never made bold whole. It is split before each later
    `` # `` (a heading mark after a space, outside inline code) into paragraphs, each with its
    ``#`` marks dropped; in each, a short plain lead phrase before a dash (at most 40 characters,
    :data:`LEAD_PHRASE_MAX`) is made bold (``**Keypoints** - Proposes ...``), a part that is only
    such a short phrase is a bold heading, and the rest is plain text (inline bullets stay inline).
    """
    lines = text.split("\n")
    in_fence = False
    for i, line in enumerate(lines):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        heading = None if in_fence else _HEADING.match(line)
        if heading is None:
            continue
        title = _heading_title(heading.group(1))
        if not title:
            lines[i] = ""
        elif is_heading_text(title):
            lines[i] = f"**{title}**"
        else:
            lines[i] = _collapsed_markdown(_CLOSING_HASHES.sub("", line.strip()))
    return "\n".join(lines)


# --- a readable opening -----------------------------------------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[^\W_][.!?])[\"'’”)\]*_]*(?=[ \t]+\S)")
_WORD_BEFORE = re.compile(r"(\S+?)[.!?]+[\"'’”)\]*_]*$")
_ABBREVIATIONS = frozenset({"e.g", "i.e", "al", "cf", "vs", "etc", "fig", "figs", "eq", "eqs", "sec",
                            "no", "approx", "resp", "ca", "dr", "mr", "ms", "prof", "st", "vol", "pp"})
_BOLD_ONLY_LINE = re.compile(r"^\*\*[^*\n]+\*\*$")
_OPEN_LINK_URL = re.compile(r"\]\([^)\n]*$")


def _inside_span(head: str) -> bool:
    """Whether ``head`` ends inside a code block, inline code or a masked link (label or URL)."""
    fences = head.count("```")
    if fences % 2 or (head.count("`") - 3 * fences) % 2:
        return True
    return head.count("[") > head.count("]") or bool(_OPEN_LINK_URL.search(head))


def _last_line(head: str) -> str:
    return head.rstrip().rsplit("\n", 1)[-1].strip()


def markdown_closers(text: str) -> str:
    """What closes the ``**``, ``__``, ``~~`` and ``||`` left open at the end of cut markdown."""
    return "".join(marker for marker in CLOSED_MARKERS if text.count(marker) % 2)


def markdown_opening(text: str, limit: int, floor: int | None = None) -> str | None:
    """A readable opening of (rendered, safe) markdown ``text``, at most ``limit`` characters: cut at
    the end of the last line (a paragraph, a list item) or else of the last sentence that ends
    between ``floor`` (default: 3/4 of ``limit``) and ``limit``; then the closers of any bold,
    underline, strike or spoiler left open, then an ellipsis (on a line of its own after a line).

    None when ``text`` has no such boundary (the caller cuts at a word instead) or fits whole. Never
    cuts inside code or a masked link, after a bold heading line, or at a "sentence end" that is an
    abbreviation (e.g., et al.), an initial or a list number, or is followed by a lowercase word.
    """
    if len(text) <= limit:
        return None
    floor = limit * 3 // 4 if floor is None else floor
    room = limit - 2 - 8  # the ellipsis (and its newline or space) and up to four closers
    if room <= 0 or floor > room:
        return None
    window = text[:room + 1]
    for position in range(min(room, len(window) - 1), floor - 1, -1):
        if window[position] == "\n":
            head = window[:position].rstrip()
            if len(head) >= floor and not _inside_span(head) and not _BOLD_ONLY_LINE.match(_last_line(head)):
                return head + markdown_closers(head) + "\n…"
    for match in reversed(list(_SENTENCE_END.finditer(window))):
        head = window[:match.end()]
        if len(head) < floor:
            break
        if len(head) > room or _inside_span(head):
            continue
        word = _WORD_BEFORE.search(head)
        token = word.group(1).lstrip("([\"'*_").lower() if word else ""
        after = window[match.end():].lstrip()[:1]
        if token in _ABBREVIATIONS or len(token) <= 1 or after.islower():
            continue
        return head + markdown_closers(head) + " …"
    return None


# --- a summary's markdown, made safe ------------------------------------------------------------------

_IMAGE = re.compile(r"!\[([^\]\n]*)\]\([^)\n]*\)")
_IMAGE_HTTPS = re.compile(r"!\[([^\]\n]*)\]\(\s*<?(https://[^\s()<>]+)>?(?:\s+\"[^\"\n]*\")?\s*\)")
_MASKED_LINK = re.compile(r"\[([^\]\n]+)\]\(\s*<?((?:[^()\s>]|\([^()\s]*\))*)>?(?:\s+\"[^\"\n]*\")?\s*\)")
_BLANK_LINES = re.compile(r"\n\s*\n(?:\s*\n)+")


def summary_markdown(text: str, limit: int | None = None) -> str:
    """Summary text with its markdown kept but made safe and compact.

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
    text = strip_control("".join(parts))
    return neutralize_mentions(_BLANK_LINES.sub("\n\n", text)).strip()


def _safe_link(match: re.Match[str]) -> str:
    label, url = match.group(1), match.group(2)
    return f"[{label}]({url})" if url.lower().startswith("https://") else label


def images_as_links(text: str) -> str:
    """``![alt](https://…)`` -> ``[alt](https://…)``, so :func:`summary_markdown` keeps it as a link
    (it shows other images as their alt text)."""
    return _IMAGE_HTTPS.sub(lambda m: f"[{m.group(1).strip() or 'image'}]({m.group(2)})", text)


# --- masked links -------------------------------------------------------------------------------------

_UNESCAPED_BRACKET = re.compile(r"(?<!\\)([\[\]])")
_LINK_UNSAFE = re.compile(r"[\s()<>`\\\[\]\"']")
_PING_LIKE = re.compile(r"@(?:everyone|here)", re.IGNORECASE)


def link_label(text: str) -> str | None:
    """Escaped text made safe as a masked-link label (brackets escaped), or None when it holds inline
    code with a bracket, which no escaping can keep inside a label."""
    spans = list(CODE_SPAN.finditer(text))
    if any("[" in m.group(0) or "]" in m.group(0) for m in spans):
        return None
    out: list[str] = []
    last = 0
    for span in spans:
        out.append(_UNESCAPED_BRACKET.sub(r"\\\1", text[last:span.start()]))
        out.append(span.group(0))
        last = span.end()
    out.append(_UNESCAPED_BRACKET.sub(r"\\\1", text[last:]))
    return "".join(out)


def markdown_link_url(url: str | None) -> str | None:
    """An https URL fit for a masked link in markdown text, or None: nothing that could end the link,
    open markdown or read as a mention (``…#@everyone``); such links are left out, not mangled."""
    link = safe_url(url)
    if not link or not link.startswith("https://") or len(link) > 400 or _LINK_UNSAFE.search(link):
        return None
    return link if neutralize_mentions(link) == link and not _PING_LIKE.search(link) else None


__all__ = [
    "CODE_SPAN",
    "HEADING_TEXT_MAX",
    "LEAD_PHRASE_MAX",
    "images_as_links",
    "is_heading_text",
    "link_label",
    "markdown_closers",
    "markdown_headings_to_bold",
    "markdown_link_url",
    "markdown_opening",
    "summary_markdown",
]
