"""/paper show|search|summaries|venue: look any paper up, with its abstract and its summaries.

Thin: the query goes to :class:`bot.services.lookup.LookupService`, the answer through
:mod:`bot.discord_side.card`.
The store answers within the 3 s Discord allows; before any call to arXiv the interaction is
deferred. Buttons and the select menu are dynamic items whose state lives in their custom ids,
so they keep working on old messages after a restart.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_side.card import (
    OPEN_CUSTOM_ID,
    SEARCH_PAGE_SIZE,
    SUMMARIES_PAGE_SIZE,
    CardPayload,
    CardState,
    clip_search_query,
    parse_search_id,
    parse_sums_id,
    parse_venue_id,
    render_paper_card,
    render_search_page,
    render_summaries_page,
    render_summary_only_card,
    render_venue_page,
    venue_counts,
)
from bot.discord_side.client import send_ephemeral
from bot.services.lookup import LookupFailure, LookupService, PaperHit, read_query
from bot.services.subscriptions import UserError

if TYPE_CHECKING:
    from bot.discord_side.client import Paperboy

log = logging.getLogger(__name__)
NONE = discord.AllowedMentions.none()
SEARCH_LIMIT = 25


def lookup_service(client: discord.Client) -> LookupService:
    bot: Paperboy = client  # type: ignore[assignment]
    return bot.services.lookup


def build_view(payload: CardPayload) -> discord.ui.View | None:
    """discord.py components for a rendered payload: links plainly, the rest as dynamic items."""
    if not payload.buttons and not payload.selects:
        return None
    view = discord.ui.View(timeout=None)
    for row, specs in enumerate(payload.buttons):
        for spec in specs:
            emoji = spec.emoji or None
            if spec.url:
                view.add_item(discord.ui.Button(label=spec.label, url=spec.url, emoji=emoji, row=row))
            else:
                button: discord.ui.Button[Any] = discord.ui.Button(
                    label=spec.label, custom_id=spec.custom_id, emoji=emoji, disabled=spec.disabled,
                    style=getattr(discord.ButtonStyle, spec.style), row=row)
                view.add_item(PaperButton(button))
    for offset, spec in enumerate(payload.selects):
        select: discord.ui.Select[Any] = discord.ui.Select(
            custom_id=spec.custom_id, placeholder=spec.placeholder, row=len(payload.buttons) + offset,
            options=[discord.SelectOption(label=o.label, value=o.value, description=o.description)
                     for o in spec.options])
        view.add_item(OpenSelect(select))
    # Nothing to remember: the state is in the custom ids and the dynamic items registered by the
    # cog answer every click. A finished view is not put in discord.py's view store, whose removal
    # of old views would otherwise also unregister those dynamic items.
    view.stop()
    return view


def message_kwargs(payload: CardPayload) -> dict[str, Any]:
    """What ``send_message``/``edit_message`` take for a rendered payload."""
    kwargs: dict[str, Any] = {"embeds": [discord.Embed.from_dict(e) for e in payload.embeds],
                              "allowed_mentions": NONE, "content": payload.content}
    view = build_view(payload)
    if view is not None:
        kwargs["view"] = view
    return kwargs


def card_for(hit: PaperHit, state: CardState | None = None) -> CardPayload:
    if hit.paper is None:
        return render_summary_only_card(hit.summaries[0])
    return render_paper_card(hit.paper, hit.summaries, state or CardState(hit.paper.arxiv_id))


async def respond(interaction: discord.Interaction, payload: CardPayload, *, ephemeral: bool = False) -> None:
    """Answer, or follow up when the interaction was deferred."""
    kwargs = message_kwargs(payload)
    if interaction.response.is_done():
        await interaction.followup.send(**{k: v for k, v in kwargs.items() if v is not None},
                                        ephemeral=ephemeral)
    else:
        await interaction.response.send_message(**kwargs, ephemeral=ephemeral)


@contextlib.asynccontextmanager
async def answering_errors(interaction: discord.Interaction) -> AsyncIterator[None]:
    """Component callbacks are not covered by the tree's error hook: answer their errors here."""
    try:
        yield
    except (UserError, LookupFailure) as exc:
        await send_ephemeral(interaction, str(exc))
    except Exception:
        log.exception("component %s failed", (interaction.data or {}).get("custom_id"))
        await send_ephemeral(interaction, "Something went wrong on Paperboy's side; the error was logged.")


async def find_paper(interaction: discord.Interaction, query: str, *, ephemeral: bool = False) -> PaperHit:
    """Store first (fast, before the 3 s are up); defer, then ask arXiv, only when needed."""
    service = lookup_service(interaction.client)
    try:
        parsed = read_query(query)
        hit = await service.local(parsed)
        if hit is None:
            await interaction.response.defer(thinking=True, ephemeral=ephemeral)
            hit = await service.remote(parsed)
    except LookupFailure as exc:
        raise UserError(str(exc)) from None
    return hit


class PaperButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                  template=r"pb:(?P<kind>card|search|sums|venue):.+"):
    """Every interactive button of the /paper surface; what to do is read from its custom id."""

    def __init__(self, button: discord.ui.Button[Any]) -> None:
        super().__init__(button)

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button[Any],
                             match: re.Match[str], /) -> PaperButton:
        return cls(item)

    async def callback(self, interaction: discord.Interaction) -> None:
        async with answering_errors(interaction):
            payload = await self._next_payload(interaction, self.item.custom_id or "")
            await interaction.response.edit_message(**message_kwargs(payload))

    async def _next_payload(self, interaction: discord.Interaction, custom_id: str) -> CardPayload:
        store = lookup_service(interaction.client).store
        if (card := CardState.parse(custom_id)) is not None:
            action, shown = card
            hit = await lookup_service(interaction.client).local(read_query(shown.arxiv_id))
            if hit is None or hit.paper is None:
                raise UserError("That paper is no longer in Paperboy's store; try /paper show again.")
            return card_for(hit, shown.apply(action, len(hit.summaries)))
        if (search := parse_search_id(custom_id)) is not None:
            page, category, query = search
            # The service checks the category from the custom id as it checks a typed one.
            found = await lookup_service(interaction.client).search(query, category, SEARCH_LIMIT,
                                                                    allow_api=False)
            return render_search_page(query, found.papers, page, found.category, len(found.papers))
        if (sums := parse_sums_id(custom_id)) is not None:
            page, arxiv_id = sums
            total = await store.count_summaries(arxiv_id=arxiv_id)
            found = await store.latest_summaries(arxiv_id=arxiv_id, limit=SUMMARIES_PAGE_SIZE,
                                                 offset=page * SUMMARIES_PAGE_SIZE)
            return render_summaries_page(found, page, total, arxiv_id)
        if (venue := parse_venue_id(custom_id)) is not None:
            year, name = venue
            summaries = await store.venue_summaries(name)
            return render_venue_page(name, venue_counts(summaries), year, summaries)
        raise UserError("This button is from an older Paperboy; run the command again.")


class OpenSelect(discord.ui.DynamicItem[discord.ui.Select[Any]], template=re.escape(OPEN_CUSTOM_ID)):
    """The search results' select menu: opens the chosen paper's card."""

    def __init__(self, select: discord.ui.Select[Any]) -> None:
        super().__init__(select)

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Select[Any],
                             match: re.Match[str], /) -> OpenSelect:
        return cls(item)

    async def callback(self, interaction: discord.Interaction) -> None:
        async with answering_errors(interaction):
            if not self.item.values:
                raise UserError("Pick a paper from the list.")
            hit = await find_paper(interaction, self.item.values[0], ephemeral=True)
            await respond(interaction, card_for(hit), ephemeral=True)


class Papers(commands.GroupCog, group_name="paper"):
    """Look papers up and read their summaries."""

    def __init__(self, bot: Paperboy) -> None:
        self.bot = bot
        super().__init__()

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(PaperButton, OpenSelect)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(PaperButton, OpenSelect)

    @app_commands.command(name="show", description="A paper's card: abstract and summaries")
    @app_commands.describe(query="arXiv id or link, DOI, ShortScience link, or title words")
    async def show(self, interaction: discord.Interaction, query: str) -> None:
        hit = await find_paper(interaction, query)
        await respond(interaction, card_for(hit))

    @show.autocomplete("query")
    async def show_autocomplete(self, interaction: discord.Interaction,
                                current: str) -> list[app_commands.Choice[str]]:
        found = await self.bot.services.store.autocomplete_papers(current[:100], limit=25)
        return [app_commands.Choice(name=_choice_name(arxiv_id, title), value=arxiv_id)
                for arxiv_id, title in found]

    @app_commands.command(name="search", description="Search papers by title, authors and abstract")
    @app_commands.describe(query="Words to look for", category="Only this arXiv category, e.g. cs.LG")
    async def search(self, interaction: discord.Interaction, query: str, category: str | None = None) -> None:
        service = lookup_service(self.bot)
        clipped = clip_search_query(query)
        try:  # the service reads the category ('cs.lg' -> 'cs.LG') and explains a bad one
            found = await service.search(clipped, category, SEARCH_LIMIT, allow_api=False)
            if len(found.papers) < SEARCH_PAGE_SIZE:
                await interaction.response.defer(thinking=True)
                found = await service.search(clipped, category, SEARCH_LIMIT)
        except LookupFailure as exc:
            raise UserError(str(exc)) from None
        await respond(interaction, render_search_page(clipped, found.papers, 0, found.category,
                                                      len(found.papers)))

    @app_commands.command(name="summaries", description="The latest summaries, of all papers or of one")
    @app_commands.describe(query="A paper (id, link or title words); leave empty for all")
    async def summaries(self, interaction: discord.Interaction, query: str | None = None) -> None:
        store = self.bot.services.store
        arxiv_id = None
        if query:
            hit = await find_paper(interaction, query)
            arxiv_id = hit.paper.arxiv_id if hit.paper else None
        total = await store.count_summaries(arxiv_id=arxiv_id)
        found = await store.latest_summaries(arxiv_id=arxiv_id, limit=SUMMARIES_PAGE_SIZE)
        await respond(interaction, render_summaries_page(found, 0, total, arxiv_id))

    @app_commands.command(name="venue", description="A venue's summaries per year (e.g. nips, iclr)")
    @app_commands.describe(name="Venue, as in bibtex keys: nips, iclr, icml, cvpr ...", year="A year")
    async def venue(self, interaction: discord.Interaction, name: str, year: int | None = None) -> None:
        venue = name.strip().lower()
        if not re.fullmatch(r"[a-z0-9][a-z0-9/_.-]{0,40}", venue):
            raise UserError("A venue is one word as in bibtex keys, e.g. nips, iclr or conf/icml.")
        summaries = await self.bot.services.store.venue_summaries(venue)
        if not summaries:
            raise UserError(f"No summaries of {venue} papers are in Paperboy's store yet.")
        await respond(interaction, render_venue_page(venue, venue_counts(summaries), year, summaries))


def _choice_name(arxiv_id: str, title: str) -> str:
    name = f"{arxiv_id} — {' '.join(title.split())}"
    return name if len(name) <= 100 else name[:99] + "…"


async def setup(bot: Paperboy) -> None:
    await bot.add_cog(Papers(bot))
