"""The one parser of arXiv identifiers, arXiv URLs and DOIs, used everywhere.

New style ``YYMM.NNNN`` (0704-1412) and ``YYMM.NNNNN`` (1501 on), old style ``archive(.SC)/YYMMNNN``
(``math.CA/0611800`` is written ``math/0611800``), each optionally ``vN``; bare, with an
``arXiv:`` prefix, or inside an abs/pdf/html URL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NEW = r"(?P<new>(?P<yy>\d{2})(?P<mm>\d{2})\.(?P<num>\d{4,5}))"
_OLD = r"(?P<old>(?P<archive>[a-z]+(?:-[a-z]+)?)(?:\.[A-Z]{2})?/(?P<oldnum>\d{7}))"
_VERSION = r"(?:v(?P<version>\d{1,3}))?"
_ID = rf"(?:{_NEW}|{_OLD}){_VERSION}"

_BARE = re.compile(rf"^(?:arxiv:\s*)?{_ID}$", re.IGNORECASE)
_URL = re.compile(
    rf"^(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html|format)/{_ID}(?:\.pdf)?/?(?:[?#].*)?$",
    re.IGNORECASE,
)
# Inside running text: an arXiv URL, an "arXiv:" mention, or a bare new-style id with word edges.
_IN_TEXT = re.compile(
    rf"(?:arxiv\.org/(?:abs|pdf|html)/|arxiv:\s*|(?<![\w./-]))(?:{_NEW}|{_OLD}){_VERSION}(?![\w/]|\.\d)",
    re.IGNORECASE,
)
_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"'<>]+)", re.IGNORECASE)
_DOI_TRAILING = ".,;:)]}>"
ARXIV_DOI = re.compile(rf"^10\.48550/arxiv\.{_ID}$", re.IGNORECASE)


class InvalidArxivId(ValueError):
    """Text that is not an arXiv identifier; the message says what a valid one looks like."""


@dataclass(frozen=True, order=True)
class ArxivId:
    """An arXiv identifier: ``base`` has no version (the store's key), ``version`` may be None."""

    base: str
    version: int | None = None

    def __str__(self) -> str:
        return f"{self.base}v{self.version}" if self.version else self.base

    @property
    def abs_url(self) -> str:
        return f"https://arxiv.org/abs/{self}"


def _from_match(match: re.Match[str]) -> ArxivId | None:
    """Build an id from a regex match, checking the month and the number width for that month."""
    version = int(match.group("version")) if match.group("version") else None
    if version == 0:
        return None
    if match.group("new"):
        yy, mm = int(match.group("yy")), int(match.group("mm"))
        width = len(match.group("num"))
        if not 1 <= mm <= 12 or (yy, mm) < (7, 4):
            return None
        if (width == 5) != ((yy, mm) >= (15, 1)):
            return None
        return ArxivId(match.group("new"), version)
    archive = match.group("archive").lower()
    number = match.group("oldnum")
    yy, mm = int(number[:2]), int(number[2:4])
    if not 1 <= mm <= 12 or 8 <= yy <= 90:  # old-style ids run from 1991 to March 2007
        return None
    return ArxivId(f"{archive}/{number}", version)


def parse_arxiv_id(text: str) -> ArxivId:
    """Parse one identifier or arXiv URL; raise :class:`InvalidArxivId` with a helpful message."""
    candidate = text.strip()
    match = _BARE.match(candidate) or _URL.match(candidate)
    parsed = _from_match(match) if match else None
    if parsed is None:
        raise InvalidArxivId(
            f"{text.strip()[:60]!r} is not an arXiv identifier: expected e.g. 2411.17700, "
            "1805.08296v2, arXiv:1805.08296, hep-th/9901001 or an arxiv.org/abs/... link"
        )
    return parsed


def try_parse_arxiv_id(text: str) -> ArxivId | None:
    """Like :func:`parse_arxiv_id`, but None instead of an error."""
    try:
        return parse_arxiv_id(text)
    except InvalidArxivId:
        return None


def find_arxiv_ids(text: str) -> list[ArxivId]:
    """Every arXiv id mentioned in free text or links, in order of appearance, without repeats."""
    found: dict[str, ArxivId] = {}
    for match in _IN_TEXT.finditer(text):
        parsed = _from_match(match)
        if parsed and parsed.base not in found:
            found[parsed.base] = parsed
    return list(found.values())


def normalize_doi(text: str) -> str | None:
    """A DOI in canonical lower case, from bare text, ``doi:`` or a doi.org URL."""
    match = _DOI.search(text.strip())
    if not match:
        return None
    return match.group(1).rstrip(_DOI_TRAILING).lower()


def find_dois(text: str) -> list[str]:
    """Every DOI mentioned in free text or links, without repeats."""
    found: dict[str, None] = {}
    for match in _DOI.finditer(text):
        found[match.group(1).rstrip(_DOI_TRAILING).lower()] = None
    return list(found)


def arxiv_id_from_doi(doi: str) -> ArxivId | None:
    """arXiv's own DOIs (10.48550/arXiv.2411.17700) name the paper directly."""
    match = ARXIV_DOI.match(doi)
    return _from_match(match) if match else None
