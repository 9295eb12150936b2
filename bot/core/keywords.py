"""Keyword phrases as the matcher reads them: folded text, word boundaries, the index word.

One rule, stated twice on purpose: :meth:`Phrase.occurs_in` (fast, used by the index) and
:func:`phrase_pattern` (a regex, used by the naive reference matcher), so tests compare them.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

from bot.core.text import strip_accents

WORD = re.compile(r"[^\W_]+")  # a word token: letters and digits (underscore separates)
SEPARATOR = "[\\s\\-\u2010\u2011]+"  # what may stand between the words of a phrase
SEPARATORS = re.compile(SEPARATOR)
_TEX_HINT = re.compile(r"[\\{}]")
# \'e, \"{o}, {\"o}, \c{c}, \v s: an accent macro and the letter it sits on (the accent is folded
# away anyway). Letter macros need a brace or space so \cdot or \times are left alone.
_TEX_ACCENT = re.compile(r"""\\(?:[`'^"~=.]\s*|[uvHcdbtkr](?:\s+|(?=\{)))\{?\s*([A-Za-z])\s*\}?""")
STOP_WORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "based", "by", "for", "from", "in", "into", "is", "it",
    "of", "on", "or", "our", "the", "to", "using", "via", "we", "with",
})


def fold_text(text: str) -> str:
    """Text as keywords are matched: TeX accents dropped, case and accents folded.

    ``Schr\\"odinger`` and ``Schrödinger`` both fold to ``schrodinger``. Only accent macros are
    decoded (a regex, not pylatexenc: abstracts are long and this runs once per item).
    """
    if _TEX_HINT.search(text):
        text = _TEX_ACCENT.sub(r"\1", text).replace("{", "").replace("}", "")
    if text.isascii():
        return text.lower()
    folded = strip_accents(text).casefold()
    return folded if folded.isascii() else strip_accents(folded)


@dataclass(frozen=True)
class Phrase:
    """A followed keyword phrase: its folded words, their word tokens, and the text to find.

    The index finds ``needle`` in the item's text (separators already collapsed to one space) and
    checks the word boundaries itself: no regex to compile for thousands of phrases. The naive
    loop uses :attr:`pattern`, an independent spelling of the same rule, so tests compare the two.
    """

    words: tuple[str, ...]
    tokens: frozenset[str]
    single: bool  # one plain word: matching it is set membership in the item's tokens
    needle: str = field(init=False)
    bounded_start: bool = field(init=False)  # the phrase starts with a letter/digit
    bounded_end: bool = field(init=False)

    def __post_init__(self) -> None:
        needle = " ".join(self.words)
        object.__setattr__(self, "needle", needle)
        object.__setattr__(self, "bounded_start", needle[:1].isalnum())
        object.__setattr__(self, "bounded_end", needle[-1:].isalnum())

    def occurs_in(self, text: str) -> bool:
        """Whether the phrase is in normalized ``text`` on word boundaries (``[^\\W_]`` is isalnum)."""
        needle, start = self.needle, text.find(self.needle)
        while start >= 0 and needle:
            end = start + len(needle)
            if ((not self.bounded_start or start == 0 or not text[start - 1].isalnum())
                    and (not self.bounded_end or end == len(text) or not text[end].isalnum())):
                return True
            start = text.find(needle, start + 1)
        return False

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        """The rule as a regex (for :func:`naive_match`), compiled when first needed."""
        return phrase_pattern(list(self.words))


@lru_cache(maxsize=65536)
def read_phrase(key: str) -> Phrase:
    """The parsed form of a keyword topic's key, shared by the index and the naive loop."""
    words = tuple(w for w in SEPARATORS.split(fold_text(key)) if w)
    tokens = frozenset(t for w in words for t in WORD.findall(w))
    single = len(words) == 1 and WORD.fullmatch(words[0]) is not None
    return Phrase(words, tokens, single)


def phrase_pattern(words: list[str]) -> re.Pattern[str]:
    """A regex for folded text: the words in order, separated by whitespace/hyphens, word-bounded.

    ``[^\\W_]`` (a letter or digit) is exactly what ``str.isalnum`` accepts, so this and
    :meth:`Phrase.occurs_in` state one rule twice.

    The start boundary is a lookbehind placed after the first word, so the pattern starts with a
    literal and ``re`` can use its fast literal-prefix search (an abstract is ~1 KB).
    """
    if not words:
        return re.compile(r"(?!)")
    first = re.escape(words[0])
    body = first + "".join(SEPARATOR + re.escape(w) for w in words[1:])
    if WORD.match(words[0][0]):
        body = f"{first}(?<![^\\W_]{first})" + body[len(first):]
    if WORD.match(words[-1][-1]):
        body += r"(?![^\W_])"
    return re.compile(body)


def index_token(phrase: Phrase, frequency: Counter[str]) -> str:
    """The word a phrase is indexed by: not a stop word, rare among followed phrases, then long."""
    return min(phrase.tokens, key=lambda t: (t in STOP_WORDS, frequency[t], -len(t), t))
