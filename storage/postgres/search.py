"""Words as the PostgreSQL store indexes and queries them: one spelling for both sides.

The index is built from text this module normalised (lower case, diacritics removed, anything
that is not a letter or digit a space), so PostgreSQL's parser only ever sees plain words and
splits stored text and typed text alike, whatever the database's locale. Typed text reaches SQL
only as a parameter of ``plainto_tsquery`` (which knows no operators) or, for a prefix, as one
quoted lexeme (``quote_literal``): never as tsquery syntax.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from storage.search import query_words

# The SQL of a paper's full-text vector from its document text (:func:`document`) in parameter {};
# without word positions, which no read uses (migration 0003).
SEARCH_VECTOR = "strip(to_tsvector('simple', {}))"
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)
# What _NOT_WORD turns into spaces, for ASCII text: every character but a letter or a digit.
_ASCII_SPACES = str.maketrans({chr(c): " " for c in range(128) if not chr(c).isalnum()})


def plain(text: str) -> str:
    """``text`` as indexed words: ``"Jörg Müller's GAN-2"`` -> ``"jorg muller s gan 2"``."""
    if text.isascii():  # most of arXiv: nothing to decompose, and a table is quicker than a regex
        return " ".join(text.lower().translate(_ASCII_SPACES).split())
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_NOT_WORD.sub(" ", bare.lower()).split())


def document(title: str, authors: Iterable[str], abstract: str) -> str:
    """What a paper's full-text vector is made of (title, authors, abstract)."""
    return " ".join((plain(title), *(plain(a) for a in authors), plain(abstract)))


def category_keys(categories: Iterable[str]) -> list[str]:
    """A paper's categories and their archives (``cs.LG`` -> ``cs.LG``, ``cs``), for filters."""
    keys: list[str] = []
    for category in categories:
        for key in (category, category.split(".", 1)[0]):
            if key not in keys:
                keys.append(key)
    return keys


def search_terms(text: str) -> str | None:
    """The words of a query (as :func:`storage.search.query_words` cuts them), spelled for the
    index; None when nothing is searchable."""
    words = plain(" ".join(query_words(text)))
    return words or None


def prefix_terms(text: str, *, min_prefix: int = 3) -> tuple[str, str | None] | None:
    """(whole words, last word as a prefix or None) for autocomplete; None when nothing is typed.

    The last word is a prefix when it has ``min_prefix`` characters or more and the text does not
    end with a space (as in :func:`storage.search.fts_match`).
    """
    words = (search_terms(text) or "").split()
    if not words:
        return None
    if len(words[-1]) >= min_prefix and not text[-1:].isspace():
        return " ".join(words[:-1]), words[-1]
    return " ".join(words), None
