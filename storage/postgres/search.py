"""Words as the PostgreSQL store indexes and queries them: one spelling for both sides.

The index is built from text this module normalised (lower case, diacritics removed, anything
that is not a letter or digit a space), so PostgreSQL only ever sees plain words:

* the papers' full-text vector is those words as they are (``array_to_tsvector``, no parser: it
  is a third of an ingest's server time on PostgreSQL, and its number rules split a word such
  as ``34e1dbe95`` in two), and a search of it is the same words (:func:`words_query`);
* the titles' vector keeps word positions for phrases, so it goes through the ``simple``
  parser, which splits stored and typed titles alike, whatever the database's locale.

Typed text reaches SQL only as a parameter: of ``plainto_tsquery`` (which knows no operators),
as one quoted lexeme for a prefix (``quote_literal``), or as quoted words that hold nothing but
letters and digits (:func:`words_query`); never as tsquery syntax of its own.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from storage.search import query_words

# The SQL of a paper's full-text vector from its document text (:func:`document`) in parameter {}:
# its words as they are, without positions, which no read uses (migration 0003).
SEARCH_VECTOR = "array_to_tsvector(string_to_array({}, ' '))"
SEARCH_COLUMN = "search"
MAX_WORD_BYTES = 2047  # the longest word a vector holds (PostgreSQL's parser drops longer ones too)
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_MAYBE_LONG_WORD = re.compile(f"[^ ]{{{MAX_WORD_BYTES // 4 + 1},}}")  # (4 bytes a character at most)
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
    """What a paper's full-text vector is made of (title, authors, abstract): their words, one
    space between two (an empty word would make ``array_to_tsvector`` refuse the whole batch)."""
    text = " ".join(part for part in (plain(title), *(plain(a) for a in authors), plain(abstract)) if part)
    if _MAYBE_LONG_WORD.search(text) is None:
        return text
    return " ".join(w for w in text.split() if fits_a_vector(w))


def fits_a_vector(word: str) -> bool:
    """Whether a vector can hold ``word``: PostgreSQL keeps a lexeme's length in 11 bits, so a
    longer word would be stored cut short; such words are left out of the papers' vectors."""
    return len(word.encode()) <= MAX_WORD_BYTES


def words_query(terms: str) -> str:
    """The tsquery of a paper vector holding every word of ``terms`` (as :func:`search_terms`
    spells them): each word quoted, joined by ``&``. A word holds letters and digits only, so
    nothing in it is tsquery syntax; anything else is refused (ValueError)."""
    words = terms.split()
    if not words or not all(_WORD.fullmatch(w) for w in words):
        raise ValueError(f"not plain words: {terms!r}")
    return " & ".join(f"'{w}'" for w in words)


def vector_match(column: str, n: int) -> str:
    """SQL: the vector ``column`` holds every word of parameter ``$n`` (given as
    :func:`match_value` spells it for that column)."""
    if column == SEARCH_COLUMN:
        return f"{column} @@ ${n}::tsquery"
    return f"{column} @@ plainto_tsquery('simple', ${n})"


def match_value(column: str, terms: str) -> str:
    """The parameter of :func:`vector_match` for these words."""
    return words_query(terms) if column == SEARCH_COLUMN else terms


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
