"""The ``/paper`` surface as pure data: the paper card, search results, summary pages, venue pages.

Nothing here touches discord.py objects or the network: each renderer turns store records into a
:class:`CardPayload` whose :meth:`CardPayload.to_payload` is Discord's message JSON, so the cog,
``paperboy lookup`` and the tests share one code path. Components carry their whole view state in
their custom ids (:mod:`bot.discord_side.cards.custom_ids`), so buttons keep working after a
restart. The names the cog and the CLI use are exported here.
"""

from __future__ import annotations

from bot.core.venues import venue_counts
from bot.discord_side.cards.controls import ButtonSpec, CardPayload, SelectOption, SelectSpec
from bot.discord_side.cards.custom_ids import (
    BUTTON_ID_TEMPLATE,
    OPEN_CUSTOM_ID,
    CardState,
    clip_search_query,
    parse_saved_id,
    parse_search_id,
    parse_sums_id,
    parse_venue_id,
)
from bot.discord_side.cards.lists import SAVED_PAGE_SIZE, render_saved_page, render_similar_page
from bot.discord_side.cards.paper import render_paper_card
from bot.discord_side.cards.search import SEARCH_PAGE_SIZE, render_search_page
from bot.discord_side.cards.summaries import (
    SUMMARIES_PAGE_SIZE,
    render_summaries_page,
    render_summary_only_card,
)
from bot.discord_side.cards.terminal import card_json, render_card_text
from bot.discord_side.cards.venue import render_venue_page

__all__ = [
    "BUTTON_ID_TEMPLATE",
    "OPEN_CUSTOM_ID",
    "SAVED_PAGE_SIZE",
    "SEARCH_PAGE_SIZE",
    "SUMMARIES_PAGE_SIZE",
    "ButtonSpec",
    "CardPayload",
    "CardState",
    "SelectOption",
    "SelectSpec",
    "card_json",
    "clip_search_query",
    "parse_saved_id",
    "parse_search_id",
    "parse_sums_id",
    "parse_venue_id",
    "render_card_text",
    "render_paper_card",
    "render_saved_page",
    "render_search_page",
    "render_similar_page",
    "render_summaries_page",
    "render_summary_only_card",
    "render_venue_page",
    "venue_counts",
]
