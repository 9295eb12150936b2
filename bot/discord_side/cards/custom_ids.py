"""Every ``pb:…`` custom id of the /paper surface, written and read in one place.

Components carry their whole view state in the custom id, so buttons keep working after a restart
and no view state lives in memory. The formats are fixed: messages already posted carry them, so a
change here must keep parsing the old ones.

* ``pb:card:{more|less|prev|next}:{expanded 0|1}:{summary index}:{arxiv id}``: a paper card's button
  (the id last: old-style ids hold a slash);
* ``pb:search:{page}:{category or -}:{query}``: search paging (the query last: it may hold ``:``);
* ``pb:sums:{page}:{arxiv id or -}``: summaries paging;
* ``pb:venue:{year}:{venue}``: a venue page's year (the venue last: it may hold ``/``);
* ``pb:saved:{page}``: ``/paper saved`` paging (the channel is the click's own);
* ``pb:open``: the select whose value is the arXiv id of the card to open.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from bot.core.text import collapse_whitespace, truncate
from bot.discord_side.limits import CUSTOM_ID_MAX

OPEN_CUSTOM_ID = "pb:open"
BUTTON_ID_TEMPLATE = r"pb:(?P<kind>card|search|sums|venue|saved):.+"  # every button above, for a dynamic item
PAGE_MAX = 9999  # page numbers and summary indexes in custom ids have at most 4 digits
SEARCH_QUERY_KEY_MAX = 60  # long queries page on their first ~60 characters (see clip_search_query)
SEARCH_CATEGORY_MAX = 24

CardAction = Literal["more", "less", "prev", "next"]
CARD_ACTIONS: tuple[str, ...] = ("more", "less", "prev", "next")

_ID_CHARS = r"[A-Za-z0-9][A-Za-z0-9._/-]*"
_CARD_ID = re.compile(rf"^pb:card:(more|less|prev|next):([01]):(\d{{1,4}}):({_ID_CHARS})$")
_SEARCH_ID = re.compile(r"^pb:search:(\d{1,4}):([^:]{1,24}):(.*)$", re.DOTALL)
_SUMS_ID = re.compile(rf"^pb:sums:(\d{{1,4}}):(-|{_ID_CHARS})$")
_VENUE_ID = re.compile(r"^pb:venue:(\d{4}):(\S+)$")
_SAVED_ID = re.compile(r"^pb:saved:(\d{1,4})$")


def _page(page: int) -> int:
    return min(max(page, 0), PAGE_MAX)


def _match(pattern: re.Pattern[str], custom_id: str) -> re.Match[str] | None:
    return pattern.match(custom_id) if len(custom_id) <= CUSTOM_ID_MAX else None


@dataclass(frozen=True)
class CardState:
    """What a paper card shows: which paper, whether expanded, which summary.

    A button's custom id holds the state the message *showed* plus the action clicked;
    :meth:`apply` gives the state to show next. ``expanded`` is one flag for the whole card: every
    author, the whole abstract and the whole current summary. Paging keeps it. The id format is
    unchanged from before summaries were collapsed, so ids on messages posted earlier parse as they
    did (their More now also expands the summary).
    """

    arxiv_id: str
    expanded: bool = False
    summary_index: int = 0

    def to_custom_id(self, action: str) -> str:
        """The custom id of the button doing ``action`` on this state (at most 100 characters).

        Raises ValueError for an unknown action or an arXiv id that cannot be carried (too long or
        with characters outside ``[A-Za-z0-9._/-]``).
        """
        if action not in CARD_ACTIONS:
            raise ValueError(f"unknown card action {action!r}; expected one of {', '.join(CARD_ACTIONS)}")
        custom_id = f"pb:card:{action}:{int(self.expanded)}:{_page(self.summary_index)}:{self.arxiv_id}"
        if _match(_CARD_ID, custom_id) is None:
            raise ValueError(f"arXiv id {self.arxiv_id[:40]!r} cannot be carried in a custom id")
        return custom_id

    @classmethod
    def parse(cls, custom_id: str) -> tuple[str, CardState] | None:
        """``(action, state shown when clicked)`` from a card button's custom id, or None if it isn't one."""
        match = _match(_CARD_ID, custom_id)
        if match is None:
            return None
        action, expanded, index, arxiv_id = match.groups()
        return action, cls(arxiv_id, expanded == "1", int(index))

    def apply(self, action: str, summary_count: int | None = None) -> CardState:
        """The state after ``action``: more/less set ``expanded``; prev/next move the summary index
        (kept within ``summary_count`` when known; the card clamps anyway)."""
        index = self.summary_index
        if action == "more":
            return CardState(self.arxiv_id, True, index)
        if action == "less":
            return CardState(self.arxiv_id, False, index)
        if action == "prev":
            index -= 1
        elif action == "next":
            index += 1
        else:
            raise ValueError(f"unknown card action {action!r}")
        if summary_count is not None:
            index = min(index, summary_count - 1)
        return CardState(self.arxiv_id, self.expanded, max(index, 0))


def clip_search_query(query: str) -> str:
    """The query as search buttons carry it: whitespace collapsed, cut at a word boundary to ~60
    characters so ``pb:search:{page}:{category}:{query}`` fits 100. Long queries therefore page
    on their first ~60 characters; a cog should search with this same text on the first page too,
    so every page shows one result list."""
    return truncate(collapse_whitespace(query), SEARCH_QUERY_KEY_MAX, ellipsis="")


def search_custom_id(page: int, category: str | None, query: str) -> str:
    """``pb:search:{page}:{category or '-'}:{query}`` within 100 characters."""
    cat = category if category and len(category) <= SEARCH_CATEGORY_MAX and ":" not in category else "-"
    prefix = f"pb:search:{_page(page)}:{cat}:"
    return prefix + clip_search_query(query)[:CUSTOM_ID_MAX - len(prefix)]


def parse_search_id(custom_id: str) -> tuple[int, str | None, str] | None:
    """``(page, category or None, query)`` from a search button's custom id, or None."""
    match = _match(_SEARCH_ID, custom_id)
    if match is None:
        return None
    page, category, query = match.groups()
    return int(page), (None if category == "-" else category), query


def sums_custom_id(page: int, arxiv_id: str | None) -> str:
    """``pb:sums:{page}:{arxiv_id or '-'}``."""
    return f"pb:sums:{_page(page)}:{arxiv_id or '-'}"


def parse_sums_id(custom_id: str) -> tuple[int, str | None] | None:
    """``(page, arxiv_id or None)`` from a summaries button's custom id, or None."""
    match = _match(_SUMS_ID, custom_id)
    if match is None:
        return None
    return int(match.group(1)), (None if match.group(2) == "-" else match.group(2))


def venue_custom_id(year: int, venue: str) -> str:
    """``pb:venue:{year}:{venue}``."""
    return f"pb:venue:{year}:{venue}"


def parse_venue_id(custom_id: str) -> tuple[int, str] | None:
    """``(year, venue)`` from a venue page button's custom id, or None."""
    match = _match(_VENUE_ID, custom_id)
    return (int(match.group(1)), match.group(2)) if match else None


def saved_custom_id(page: int) -> str:
    return f"pb:saved:{_page(page)}"


def parse_saved_id(custom_id: str) -> int | None:
    """The page of a ``pb:saved`` button."""
    m = _match(_SAVED_ID, custom_id)
    return int(m.group(1)) if m else None


__all__ = [
    "BUTTON_ID_TEMPLATE",
    "CARD_ACTIONS",
    "OPEN_CUSTOM_ID",
    "PAGE_MAX",
    "CardAction",
    "CardState",
    "clip_search_query",
    "parse_saved_id",
    "parse_search_id",
    "parse_sums_id",
    "parse_venue_id",
    "saved_custom_id",
    "search_custom_id",
    "sums_custom_id",
    "venue_custom_id",
]
