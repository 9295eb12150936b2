"""The one topic parser: what a channel follows, in one syntax for slash commands, CLI and config.

Syntax (ARCHITECTURE.md, "Topics"):

* ``cs.LG``, ``stat.ML``, ``hep-th``: an arXiv category; ``cs``, ``math``, ``astro-ph`` (or
  ``cs.*``): a whole archive. A single-category archive such as ``hep-th`` parses as a category.
* ``author:Sergey Levine``: an author, keyed on :func:`bot.core.text.normalize_name` (TeX escapes such as
  ``Andr\\'e`` are decoded for display, case and accents are folded for the key).
* ``venue:nips``, ``venue:conf/nips``: one word naming a venue, keyed in lower case.
* ``feed:shortscience``: one of the configured feeds.
* ``keyword:...``: a keyword phrase, even one that would otherwise read as something else
  (``keyword:physics``); the prefix is only written back when it is needed.
* anything else: a keyword phrase, keyed in lower case with whitespace collapsed.

Decision on case: an arXiv id typed in the wrong case (``cs.lg``, ``CS.LG``, ``Hep-Th``) is
accepted and normalised to the canonical id (``cs.LG``), because no two arXiv ids differ only in
case, so the reading is never ambiguous; callers that want to tell the user can compare
``str(topic)`` with what was typed. Aliases resolve the same way (``cs.NA`` -> ``math.NA``).
Text that looks like an arXiv id but is none (``cs.LF``, ``stats.ML``, ``hep-tx``) is an error,
never a silent keyword; the :class:`TopicError` names the nearest ids (``did you mean cs.LG?``)
and carries them in ``suggestions``.

Every topic's text, ``str(topic)``, parses back to an equal topic and is at most 100 characters,
the most a Discord autocomplete choice can hold.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from bot.core import taxonomy
from bot.core.errors import UserError
from bot.core.text import collapse_whitespace, has_control_chars, normalize_name, tex_to_unicode

MAX_TOPIC_LENGTH = 100
_MAX_INPUT_LENGTH = 1000  # raw text, before whitespace is collapsed; guards the TeX decoder
_EXAMPLES = "cs.LG, hep-th, author:Sergey Levine, venue:nips, feed:NAME or a keyword phrase"

_PREFIX = re.compile(r"^(author|venue|feed|keyword)\s*:\s*(.*)$", re.IGNORECASE | re.DOTALL)
_DOTTED = re.compile(r"^([a-z]+(?:-[a-z]+)?)\.([a-z]+(?:-[a-z]+)?|\*)$", re.IGNORECASE)
_HYPHENATED = re.compile(r"^([a-z]+)-([a-z]+)$", re.IGNORECASE)
_TWO_CAPITALS = re.compile(r"^[A-Z]{2}$")
_VENUE = re.compile(r"^[^\W_][\w./+&:-]*$")
_LETTER_OR_DIGIT = re.compile(r"[^\W_]")
_LIST_SEPARATOR = re.compile(r"[\s,;]+")
_LIST_PUNCTUATION = re.compile(r"[,;]")
_TEX_LEFTOVER = re.compile(r"[\\{}$]")


class TopicKind(StrEnum):
    """What a topic follows; the value is the stable name stored and shown."""

    CATEGORY = "category"
    ARCHIVE = "archive"
    AUTHOR = "author"
    VENUE = "venue"
    FEED = "feed"
    KEYWORD = "keyword"


class TopicError(UserError, ValueError):
    """Text that is not a valid topic; the message says what is wrong and what would be valid.

    ``text`` is the input, ``suggestions`` the valid topics it probably meant (best first).
    """

    def __init__(self, message: str, *, text: str = "", suggestions: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.text = text
        self.suggestions: tuple[str, ...] = tuple(suggestions)


@dataclass(frozen=True)
class Topic:
    """One thing a channel follows.

    ``value`` is the canonical text (``cs.LG``, ``author:André Martins``); ``key`` is what matching
    compares (``cs.LG``, ``andre martins``). Two topics are equal when kind and key are: the same
    author typed in two spellings is one subscription.
    """

    kind: TopicKind
    value: str = field(compare=False)
    key: str

    def __str__(self) -> str:
        return self.value

    @property
    def label(self) -> str:
        """The text with the arXiv name when there is one: ``cs.LG (Machine Learning)``."""
        if self.kind is TopicKind.CATEGORY:
            return f"{self.value} ({taxonomy.CATEGORIES[self.key]})"
        if self.kind is TopicKind.ARCHIVE:
            return f"{self.value} ({taxonomy.ARCHIVES[self.key]})"
        return self.value


def parse_topic(text: str, feeds: Collection[str] = ()) -> Topic:
    """Parse one topic; ``feeds`` are the configured feed names ``feed:`` may name.

    Raises :class:`TopicError` with a message fit to show the user.
    """
    try:
        return _parse(_checked_input(text), feeds)
    except TopicError as exc:
        exc.text = text
        raise


EXCLUDE_PREFIX = "!"


def parse_subscription(text: str, feeds: Collection[str] = ()) -> tuple[Topic, bool]:
    """A topic as a channel follows it: ``(topic, exclude)``; a leading ``!`` excludes it.

    ``!cs.AI`` means "not cs.AI" in every door (``/subscribe add``, ``paperboy preview --follow``,
    an import file's bare topic text); ``keyword:!x`` follows a keyword that starts with ``!``.
    """
    stripped = text.strip()
    exclude = stripped.startswith(EXCLUDE_PREFIX)
    topic = parse_topic(stripped[len(EXCLUDE_PREFIX):] if exclude else text, feeds)
    return topic, exclude


def _parse(text: str, feeds: Collection[str]) -> Topic:
    """Dispatch on the prefix; ``text`` is already stripped and checked."""
    prefixed = _PREFIX.match(text)
    if prefixed is None:
        return _parse_bare(text)
    kind, rest = prefixed.group(1).lower(), prefixed.group(2)
    if kind == "feed":
        return _parse_feed(rest, feeds)
    return _PREFIXED_PARSERS[kind](rest)


def parse_topics(texts: Iterable[str], feeds: Collection[str] = ()) -> list[Topic]:
    """Parse several topics, dropping repeats (first spelling wins, order kept).

    Every invalid entry is reported at once, one line each, in a single :class:`TopicError`.
    """
    if isinstance(texts, str):
        raise TypeError("parse_topics takes a list of topics; use parse_topic for one")
    topics: dict[Topic, None] = {}
    errors: list[TopicError] = []
    for text in texts:
        try:
            topics.setdefault(parse_topic(text, feeds))
        except TopicError as exc:
            errors.append(exc)
    if errors:
        raise _combined(errors)
    return list(topics)


def _checked_input(text: str) -> str:
    """The input without outer whitespace, or an error for empty, huge or binary input."""
    if not isinstance(text, str):
        raise TypeError(f"a topic is text, not {type(text).__name__}")
    stripped = text.strip()
    if not stripped:
        raise TopicError(f"a topic can't be empty; try {_EXAMPLES}")
    if len(stripped) > _MAX_INPUT_LENGTH:
        raise TopicError(f"a topic can be at most {MAX_TOPIC_LENGTH} characters "
                         f"(this one has {len(stripped)})")
    if has_control_chars(stripped):
        raise TopicError("a topic can't contain control characters")
    return stripped


def _parse_bare(text: str) -> Topic:
    """A topic without a prefix: an arXiv id, an arXiv look-alike (an error) or a keyword."""
    ident = _arxiv_id(text)
    if ident is not None:
        return _arxiv_topic(ident)
    if _looks_like_arxiv(text):
        raise _unknown_arxiv(text)
    several = _several_ids(text)
    if several:
        raise TopicError(f"that looks like several topics; add them one at a time: "
                         f"{', '.join(several)} (to follow the words as a keyword, "
                         f"write keyword:{text})", suggestions=several)
    return _parse_keyword(text)


def _several_ids(text: str) -> list[str]:
    """The ids in ``cs.LG, stat.ML`` or ``cs.LG stat.ML``: a list typed where one topic goes.

    Plain words that happen to be archives (``math physics``) stay a keyword phrase.
    """
    parts = [part for part in _LIST_SEPARATOR.split(text) if part]
    if len(parts) < 2 or not (_LIST_PUNCTUATION.search(text) or any("." in p for p in parts)):
        return []
    ids = [_arxiv_id(part) for part in parts]
    return [] if None in ids else list(dict.fromkeys(i for i in ids if i is not None))


def _arxiv_id(text: str) -> str | None:
    """The canonical archive or category id ``text`` names (any case, ``cs.*`` too), else None."""
    if text.endswith(".*"):
        ident = taxonomy.canonical(text[:-2])
        return ident if ident is not None and taxonomy.is_archive(ident) else None
    return taxonomy.canonical(text)


def _arxiv_topic(ident: str) -> Topic:
    """A category topic for a category id (single-category archives too), else an archive one."""
    kind = TopicKind.CATEGORY if taxonomy.is_category(ident) else TopicKind.ARCHIVE
    return Topic(kind, ident, ident)


def _looks_like_arxiv(text: str) -> bool:
    """Whether unknown text was most likely meant as an arXiv id rather than a keyword.

    Dotted words qualify when one side is arXiv-like (``cs.LF``, ``stats.ML``, ``xx.YY``), so
    ``node.js`` stays a keyword; hyphenated words when they share an archive's shape and a real id
    is one typo away (``hep-tx``, ``bio-ph``), so ``x-ray`` stays a keyword.
    """
    dotted = _DOTTED.match(text)
    if dotted is not None:
        return _arxiv_like_archive(dotted.group(1)) or _arxiv_like_sub(dotted.group(2))
    hyphenated = _HYPHENATED.match(text)
    if hyphenated is None:
        return False
    first, second = hyphenated.group(1).casefold(), hyphenated.group(2).casefold()
    shaped = (first in _archive_heads() or second in _archive_tails()
              or text.casefold() in _subject_classes())
    return shaped and bool(taxonomy.closest(text))


def _arxiv_like_archive(part: str) -> bool:
    """A known archive, or one typo from one (``stats``, ``mathh``); short words don't count."""
    folded = part.casefold()
    if taxonomy.canonical(folded) in taxonomy.ARCHIVES:
        return True
    return len(folded) >= 3 and any(
        taxonomy.typo_distance(folded, archive) <= 1.0 for archive in taxonomy.ARCHIVES)


def _arxiv_like_sub(part: str) -> bool:
    """A known subject class in any case (``ml``, ``optics``), ``*``, or two capitals (``YY``)."""
    return part == "*" or part.casefold() in _subject_classes() or bool(_TWO_CAPITALS.match(part))


@lru_cache(maxsize=1)
def _subject_classes() -> frozenset[str]:
    """Folded subject classes, the part after the dot: ``lg``, ``optics``, ``stat-mech``."""
    return frozenset(c.split(".", 1)[1].casefold() for c in taxonomy.CATEGORIES if "." in c)


@lru_cache(maxsize=1)
def _archive_heads() -> frozenset[str]:
    """First parts of archive ids: ``hep``, ``q``, ``cs``."""
    return frozenset(a.split("-", 1)[0] for a in taxonomy.ARCHIVES)


@lru_cache(maxsize=1)
def _archive_tails() -> frozenset[str]:
    """Second parts of hyphenated archive ids: ``th``, ``ph``, ``qc``, ``bio``."""
    return frozenset(a.split("-", 1)[1] for a in taxonomy.ARCHIVES if "-" in a)


def _unknown_arxiv(text: str) -> TopicError:
    """The error for an arXiv look-alike: the nearest ids, else the archive's categories."""
    suggestions = taxonomy.closest(text)
    archive = taxonomy.canonical(taxonomy.archive_of(text))
    what = "category" if "." in text else "archive"
    if suggestions:
        message = f"unknown arXiv {what} {text!r}; did you mean {_or_list(suggestions)}?"
    elif archive is not None and archive in taxonomy.CATEGORIES:
        suggestions = [archive]
        message = (f"unknown arXiv category {text!r}; {archive} has no subcategories, "
                   f"follow {archive} itself")
    elif archive is not None and archive in taxonomy.ARCHIVES:
        message = (f"unknown arXiv category {text!r}; {archive} has "
                   f"{', '.join(taxonomy.categories_in(archive))}")
    else:
        message = (f"unknown arXiv {what} {text!r}; the archives are "
                   f"{', '.join(taxonomy.ARCHIVES)} (see https://arxiv.org/category_taxonomy)")
    if archive not in taxonomy.ARCHIVES:
        message += f" (to follow it as a keyword, write keyword:{text})"
    return TopicError(message, suggestions=suggestions)


def _parse_author(rest: str) -> Topic:
    """``author:NAME``: display with TeX decoded, key folded by ``normalize_name``.

    TeX syntax the decoder leaves behind (stray ``$``, ``\\``, braces) is dropped from the display,
    so the display decodes to itself and the topic's text parses back to the same text.
    """
    name = collapse_whitespace(_TEX_LEFTOVER.sub(" ", tex_to_unicode(rest)))
    key = normalize_name(rest)
    if not key:
        raise TopicError("author: needs a name with letters, e.g. author:Sergey Levine")
    return _limited(Topic(TopicKind.AUTHOR, f"author:{name}", key))


def _parse_venue(rest: str) -> Topic:
    """``venue:TOKEN``: one word (``nips``, ``conf/nips``), keyed in lower case."""
    token = rest.strip()
    if not token:
        raise TopicError("venue: needs a venue, e.g. venue:nips or venue:conf/iclr")
    if not _VENUE.match(token):
        raise TopicError(f"a venue is one word of letters, digits and / . _ - + & : "
                         f"(e.g. venue:nips, venue:conf/nips), not {token!r}")
    key = token.lower()
    return _limited(Topic(TopicKind.VENUE, f"venue:{key}", key))


def _parse_feed(rest: str, feeds: Collection[str]) -> Topic:
    """``feed:NAME``: a configured feed, matched exactly or, if unambiguous, in any case."""
    name = rest.strip()
    if name and name in feeds:
        return Topic(TopicKind.FEED, f"feed:{name}", name)
    folded = [feed for feed in feeds if feed.casefold() == name.casefold()]
    if name and len(folded) == 1:
        return Topic(TopicKind.FEED, f"feed:{folded[0]}", folded[0])
    raise _unknown_feed(name, feeds)


def _unknown_feed(name: str, feeds: Collection[str]) -> TopicError:
    """The error for a feed that is not configured, listing the ones that are."""
    known = sorted(feeds)
    if not known:
        return TopicError("no feeds are configured, so there is no feed: to follow")
    listed = ", ".join(f"feed:{feed}" for feed in known)
    close = difflib.get_close_matches(name.casefold(), known, n=3, cutoff=0.6)
    suggestions = [f"feed:{feed}" for feed in close]
    problem = "feed: needs a feed name" if not name else f"unknown feed {name!r}"
    hint = f"did you mean {_or_list(suggestions)}? " if suggestions else ""
    return TopicError(f"{problem}; {hint}the configured feeds are {listed}",
                      suggestions=suggestions)


def _parse_keyword(rest: str) -> Topic:
    """A keyword phrase: whitespace collapsed, some letter or digit, keyed in lower case.

    The ``keyword:`` prefix is kept in the text only when the bare phrase would parse as
    something else (``keyword:physics``), so the text always parses back to this topic.
    """
    phrase = collapse_whitespace(rest)
    if not phrase:
        raise TopicError(f"keyword: needs a phrase; try {_EXAMPLES}")
    if not _LETTER_OR_DIGIT.search(phrase):
        raise TopicError(f"a keyword phrase needs at least one letter or digit, not {phrase!r}")
    if len(phrase) > MAX_TOPIC_LENGTH:
        raise TopicError(f"a keyword phrase can be at most {MAX_TOPIC_LENGTH} characters "
                         f"(this one has {len(phrase)})")
    value = phrase if _reads_as_keyword(phrase) else f"keyword:{phrase}"
    return _limited(Topic(TopicKind.KEYWORD, value, phrase.lower()))


def _reads_as_keyword(phrase: str) -> bool:
    """Whether the bare phrase parses as a keyword (no prefix, no arXiv id or look-alike)."""
    return (_PREFIX.match(phrase) is None and _arxiv_id(phrase) is None
            and not _looks_like_arxiv(phrase) and not _several_ids(phrase))


def _limited(topic: Topic) -> Topic:
    """The topic, if its text fits the limit every topic shares (Discord's 100 for choices)."""
    if len(topic.value) > MAX_TOPIC_LENGTH:
        raise TopicError(f"{topic.value[:40]}... is {len(topic.value)} characters as a topic; "
                         f"a topic can be at most {MAX_TOPIC_LENGTH}")
    return topic


def _or_list(items: list[str]) -> str:
    """``a``, ``a or b``, ``a, b or c``."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def _combined(errors: list[TopicError]) -> TopicError:
    """One error for several invalid topics, one line each, naming the input if the line doesn't."""
    if len(errors) == 1:
        return errors[0]
    lines = "\n".join(f"- {error}" if error.text.strip() in str(error) else
                      f"- {error.text.strip()}: {error}" for error in errors)
    suggestions = [s for error in errors for s in error.suggestions]
    return TopicError(f"{len(errors)} topics are invalid:\n{lines}",
                      text="\n".join(error.text for error in errors), suggestions=suggestions)


_PREFIXED_PARSERS: dict[str, Callable[[str], Topic]] = {
    "author": _parse_author,
    "venue": _parse_venue,
    "keyword": _parse_keyword,
}
