"""Text helpers shared by sources, matching and rendering: TeX to Unicode, name normalisation."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from pylatexenc.latex2text import LatexNodes2Text

_TEX_HINT = re.compile(r"[\\{}$]")
_latex = LatexNodes2Text(math_mode="with-delimiters", strict_latex_spaces=True)


def collapse_whitespace(text: str) -> str:
    """One space between words, none at the ends (feeds hard-wrap titles and abstracts)."""
    return " ".join(text.split())


@lru_cache(maxsize=65536)
def tex_to_unicode(text: str) -> str:
    """Turn TeX accents and escapes (``Andr\\'e``, ``{\\"o}``) into Unicode; plain text passes through.

    Math (``$...$``) is kept with its delimiters; turning math into Unicode is the renderer's job.
    """
    if not _TEX_HINT.search(text):
        return text
    try:
        return _latex.latex_to_text(text)
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
