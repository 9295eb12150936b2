"""Plain text shared by sources, matching and rendering: whitespace, TeX escapes, names, cuts, and
the one rule for control characters.

Markdown belongs to the Discord side (:mod:`bot.discord_side.markdown`) and math to
:mod:`bot.core.latex_math`; what is here knows neither.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from pylatexenc.latex2text import LatexNodes2Text

_TEX_HINT = re.compile(r"[\\{}$]")
_UNESCAPED_PERCENT = re.compile(r"(?<!\\)%")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_latex = LatexNodes2Text(math_mode="with-delimiters", strict_latex_spaces=True)

# The one control-character rule, for what is shown (Discord, a terminal) and what is accepted (a
# topic): C0 controls but tab, line feed and carriage return; DEL; C1 controls (U+009B is a
# terminal's CSI). Tab and line breaks are text: shown text has its line breaks made ``\n`` first
# (see strip_control), so no carriage return reaches a terminal either.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def has_control_chars(text: str) -> bool:
    """Whether ``text`` holds a control character (:data:`CONTROL_CHARS`)."""
    return CONTROL_CHARS.search(text) is not None


def strip_control(text: str, replacement: str = "") -> str:
    """``text`` with its line breaks as ``\\n`` (CRLF and a lone CR alike) and every control
    character replaced by ``replacement``: feed text can hold terminal escapes and worse."""
    return CONTROL_CHARS.sub(replacement, text.replace("\r\n", "\n").replace("\r", "\n"))


def collapse_whitespace(text: str) -> str:
    """One space between words, none at the ends (feeds hard-wrap titles and abstracts)."""
    return " ".join(text.split())


@lru_cache(maxsize=65536)
def tex_to_unicode(text: str) -> str:
    """Turn TeX accents and escapes (``Andr\\'e``, ``{\\"o}``) into Unicode; plain text passes through.

    Math (``$...$``) is kept with its delimiters; turning math into Unicode is
    :mod:`bot.core.latex_math`'s job.
    """
    if not _TEX_HINT.search(text):
        return text
    try:  # in TeX "%" starts a comment; in a feed it is a percent sign
        return str(_latex.latex_to_text(_UNESCAPED_PERCENT.sub(r"\\%", text)))
    except Exception:  # pylatexenc is lenient, but a feed can hold anything: keep the raw text
        return text


def strip_accents(text: str) -> str:
    """Remove combining marks: 'André' -> 'Andre'."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalize_name(name: str) -> str:
    """The key an author is matched on: TeX decoded, accents and case folded, punctuation to spaces.

    'Andr\\'e  Pérez-Ruiz' and 'andre perez ruiz' give the same key.
    """
    plain = strip_accents(tex_to_unicode(name)).casefold()
    plain = re.sub(r"[^\w\s]", " ", plain)
    return collapse_whitespace(plain)


def truncate(text: str, limit: int, ellipsis: str = "…") -> str:
    """``text`` cut to at most ``limit`` characters, at a word boundary when one is near, ellipsis
    included; text that fits is returned unchanged.
    """
    if len(text) <= limit:
        return text
    if limit <= len(ellipsis):
        return text[:max(limit, 0)]
    room = limit - len(ellipsis)
    cut = text[:room]
    if not text[room].isspace():
        boundary = max(cut.rfind(" "), cut.rfind("\n"))
        if boundary >= room - min(max(room // 4, 8), 60):
            cut = cut[:boundary]
    cut = cut.rstrip(" \n\t,;:")
    return (cut or text[:room]) + ellipsis


def iso_date(value: str | None) -> str | None:
    """The ``YYYY-MM-DD`` an ISO timestamp starts with, or None (feeds send anything)."""
    return value[:10] if value and _ISO_DATE.match(value) else None


def iso_year(value: str | None) -> int | None:
    """The year of :func:`iso_date`, or None."""
    date = iso_date(value)
    return int(date[:4]) if date else None
