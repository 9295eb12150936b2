"""/paper show|search|summaries|venue|similar|save|saved: look any paper up, with its abstract and
its summaries; find papers like it; save papers for the channel (its digest ranks by them).

Thin: each command reads its options, asks :class:`bot.services.lookup.LookupService`, and renders
the answer with :mod:`bot.discord_side.cards`. The store answers within the 3 s Discord allows;
before any call to arXiv the interaction is deferred. The buttons and the select are in
:mod:`cogs.papers.components`.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.errors import UserError
from bot.discord_side.cards import (
    SEARCH_PAGE_SIZE,
    SUMMARIES_PAGE_SIZE,
    clip_search_query,
    render_saved_page,
    render_search_page,
    render_similar_page,
    render_summaries_page,
    render_venue_page,
    venue_counts,
)
from bot.discord_side.cards.lists import SIMILAR_SHOWN
from bot.discord_side.context import PaperboyBot
from cogs.papers.components import (
    SEARCH_LIMIT,
    OpenSelect,
    PaperButton,
    SaveButton,
    SaveSelect,
    card_for,
    find_paper,
    respond,
    save_channel,
    toggle_and_answer,
)

DYNAMIC_ITEMS = (PaperButton, OpenSelect, SaveButton, SaveSelect)

AUTOCOMPLETE_LIMIT = 25


class Papers(commands.GroupCog, group_name="paper"):
    """Look papers up and read their summaries."""

    def __init__(self, bot: PaperboyBot) -> None:
        self.bot = bot
        self.lookup = bot.lookup
        super().__init__()

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(*DYNAMIC_ITEMS)

    @app_commands.command(name="show", description="A paper's card: abstract and summaries")
    @app_commands.describe(query="arXiv id or link, DOI, ShortScience link, or title words")
    async def show(self, interaction: discord.Interaction, query: str) -> None:
        hit = await find_paper(interaction, query)
        await respond(interaction, card_for(hit))

    @show.autocomplete("query")
    async def show_autocomplete(self, interaction: discord.Interaction,
                                current: str) -> list[app_commands.Choice[str]]:
        found = await self.lookup.autocomplete(current, limit=AUTOCOMPLETE_LIMIT)
        return [app_commands.Choice(name=_choice_name(arxiv_id, title), value=arxiv_id)
                for arxiv_id, title in found]

    @app_commands.command(name="similar", description="Stored papers most like a paper (title and abstract)")
    @app_commands.describe(query="arXiv id or link, DOI, or title words")
    async def similar(self, interaction: discord.Interaction, query: str) -> None:
        hit = await find_paper(interaction, query)
        if hit.paper is None:
            raise UserError("That summary's paper is not on arXiv, so Paperboy has no abstract to compare.")
        if not interaction.response.is_done() and not await self.bot.ranking.is_fitted():
            await interaction.response.defer(thinking=True)  # the first use fits the text vectors
        found = await self.bot.ranking.similar(hit.paper, SIMILAR_SHOWN)
        await respond(interaction, render_similar_page(hit.paper, found))

    @app_commands.command(name="save", description="Save a paper for this channel (again: unsave)")
    @app_commands.describe(query="arXiv id or link, DOI, or title words")
    @app_commands.guild_only()
    async def save(self, interaction: discord.Interaction, query: str) -> None:
        save_channel(interaction)  # a DM gets its answer before any lookup
        hit = await find_paper(interaction, query, ephemeral=True)
        if hit.paper is None:
            raise UserError("Only arXiv papers can be saved; that summary's paper is not on arXiv.")
        await toggle_and_answer(interaction, hit.paper.arxiv_id)

    @app_commands.command(name="saved", description="The papers saved in this channel")
    @app_commands.guild_only()
    async def saved(self, interaction: discord.Interaction) -> None:
        saved = await self.bot.saves.saved(save_channel(interaction))
        await respond(interaction, render_saved_page(saved, 0))

    similar.autocomplete("query")(show_autocomplete)
    save.autocomplete("query")(show_autocomplete)

    @app_commands.command(name="search", description="Search papers by title, authors and abstract")
    @app_commands.describe(query="Words to look for", category="Only this arXiv category, e.g. cs.LG")
    async def search(self, interaction: discord.Interaction, query: str, category: str | None = None) -> None:
        clipped = clip_search_query(query)
        # The service reads the category ('cs.lg' -> 'cs.LG') and explains a bad one.
        found = await self.lookup.search(clipped, category, SEARCH_LIMIT, allow_api=False)
        if len(found.papers) < SEARCH_PAGE_SIZE:
            await interaction.response.defer(thinking=True)
            found = await self.lookup.search(clipped, category, SEARCH_LIMIT)
        await respond(interaction, render_search_page(clipped, found.papers, 0, found.category,
                                                      len(found.papers)))

    @app_commands.command(name="summaries", description="The latest summaries, of all papers or of one")
    @app_commands.describe(query="A paper (id, link or title words); leave empty for all")
    async def summaries(self, interaction: discord.Interaction, query: str | None = None) -> None:
        arxiv_id = None
        if query:
            hit = await find_paper(interaction, query)
            arxiv_id = hit.paper.arxiv_id if hit.paper else None
        found, total = await self.lookup.summaries_page(arxiv_id, 0, SUMMARIES_PAGE_SIZE)
        await respond(interaction, render_summaries_page(found, 0, total, arxiv_id))

    @app_commands.command(name="venue", description="A venue's summaries per year (e.g. nips, iclr)")
    @app_commands.describe(name="Venue, as in bibtex keys: nips, iclr, icml, cvpr ...", year="A year")
    async def venue(self, interaction: discord.Interaction, name: str, year: int | None = None) -> None:
        venue, summaries = await self.lookup.venue(name)
        await respond(interaction, render_venue_page(venue, venue_counts(summaries), year, summaries))


def _choice_name(arxiv_id: str, title: str) -> str:
    name = f"{arxiv_id} — {' '.join(title.split())}"
    return name if len(name) <= 100 else name[:99] + "…"


async def setup(bot: PaperboyBot) -> None:
    await bot.add_cog(Papers(bot))
