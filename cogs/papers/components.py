"""The /paper surface's buttons and selects: discord.py views for rendered cards, and the dynamic
items that answer clicks, the ⭐ saves of digest messages and cards among them. Their state lives in
the custom ids, so old messages keep working after a restart; each click is one call to a service
and one render."""

from __future__ import annotations

import re
from typing import Any, cast

import discord

from bot.core.errors import UserError
from bot.discord_side.cards import (
    OPEN_CUSTOM_ID,
    SUMMARIES_PAGE_SIZE,
    CardPayload,
    CardState,
    parse_saved_id,
    parse_search_id,
    parse_sums_id,
    parse_venue_id,
    render_paper_card,
    render_saved_page,
    render_search_page,
    render_summaries_page,
    render_summary_only_card,
    render_venue_page,
    venue_counts,
)
from bot.discord_side.context import paperboy
from bot.discord_side.errors import answering_errors
from bot.discord_side.safety import escape_feed_text
from bot.discord_side.save_controls import SAVE_BUTTON_PREFIX, SAVE_SELECT_PREFIX, saved_paper_id
from bot.services.lookup import PaperHit, read_query
from bot.services.saves import SaveOutcome
from cogs.checks import server_channel

NONE = discord.AllowedMentions.none()
SEARCH_LIMIT = 25


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
                is_save = (spec.custom_id or "").startswith(SAVE_BUTTON_PREFIX)
                view.add_item(SaveButton(button) if is_save else PaperButton(button))
    for offset, menu in enumerate(payload.selects):
        select: discord.ui.Select[Any] = discord.ui.Select(
            custom_id=menu.custom_id, placeholder=menu.placeholder, row=len(payload.buttons) + offset,
            options=[discord.SelectOption(label=o.label, value=o.value, description=o.description)
                     for o in menu.options])
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


async def find_paper(interaction: discord.Interaction, query: str, *, ephemeral: bool = False) -> PaperHit:
    """Store first (fast, before the 3 s are up); defer, then ask arXiv, only when needed."""
    service = paperboy(interaction.client).lookup
    parsed = read_query(query)
    hit = await service.local(parsed)
    if hit is None:
        await interaction.response.defer(thinking=True, ephemeral=ephemeral)
        hit = await service.remote(parsed)
    return hit


class PaperButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                  template=r"pb:(?P<kind>card|search|sums|venue):.+"):
    """Every interactive button of the /paper surface; what to do is read from its custom id."""

    def __init__(self, button: discord.ui.Button[Any]) -> None:
        super().__init__(button)

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> PaperButton:
        return cls(cast("discord.ui.Button[Any]", item))

    async def callback(self, interaction: discord.Interaction) -> None:
        async with answering_errors(interaction):
            payload = await self._next_payload(interaction, self.item.custom_id or "")
            await interaction.response.edit_message(**message_kwargs(payload))

    async def _next_payload(self, interaction: discord.Interaction, custom_id: str) -> CardPayload:
        lookup = paperboy(interaction.client).lookup
        if (card := CardState.parse(custom_id)) is not None:
            action, shown = card
            hit = await lookup.local(read_query(shown.arxiv_id))
            if hit is None or hit.paper is None:
                raise UserError("That paper is no longer in Paperboy's store; try /paper show again.")
            return card_for(hit, shown.apply(action, len(hit.summaries)))
        if (search := parse_search_id(custom_id)) is not None:
            page, category, query = search
            # The service checks the category from the custom id as it checks a typed one.
            found = await lookup.search(query, category, SEARCH_LIMIT, allow_api=False)
            return render_search_page(query, found.papers, page, found.category, len(found.papers))
        if (sums := parse_sums_id(custom_id)) is not None:
            page, arxiv_id = sums
            summaries, total = await lookup.summaries_page(arxiv_id, page, SUMMARIES_PAGE_SIZE)
            return render_summaries_page(summaries, page, total, arxiv_id)
        if (saved_page := parse_saved_id(custom_id)) is not None:
            saved = await paperboy(interaction.client).saves.saved(save_channel(interaction))
            return render_saved_page(saved, saved_page)
        if (venue := parse_venue_id(custom_id)) is not None:
            year, name = venue
            name, summaries = await lookup.venue(name)
            return render_venue_page(name, venue_counts(summaries), year, summaries)
        raise UserError("This button is from an older Paperboy; run the command again.")


class OpenSelect(discord.ui.DynamicItem[discord.ui.Select[Any]], template=re.escape(OPEN_CUSTOM_ID)):
    """The search results' select menu: opens the chosen paper's card."""

    def __init__(self, select: discord.ui.Select[Any]) -> None:
        super().__init__(select)

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> OpenSelect:
        return cls(cast("discord.ui.Select[Any]", item))

    async def callback(self, interaction: discord.Interaction) -> None:
        async with answering_errors(interaction):
            if not self.item.values:
                raise UserError("Pick a paper from the list.")
            hit = await find_paper(interaction, self.item.values[0], ephemeral=True)
            await respond(interaction, card_for(hit), ephemeral=True)


# -- saves ---------------------------------------------------------------------------------------------


def save_channel(interaction: discord.Interaction) -> int:
    """The channel a save is for: where the click is, or the parent of the digest's thread."""
    _, channel_id = server_channel(interaction)
    channel = interaction.channel
    if isinstance(channel, discord.Thread) and channel.parent_id:
        return channel.parent_id
    return channel_id


def save_answer(outcome: SaveOutcome, channel_id: int) -> str:
    """What the member who clicked reads (only they see it)."""
    title = escape_feed_text(" ".join(outcome.paper.title.split())[:200]) or outcome.paper.arxiv_id
    if not outcome.saved:
        return f"Unsaved **{title}** for <#{channel_id}>."
    others = outcome.savers - 1
    who = "" if others <= 0 else f" ({others} other member{'s' if others > 1 else ''} saved it too)"
    return (f"⭐ Saved **{title}** for <#{channel_id}>{who}. The digest ranks papers like it first; "
            "save it again to unsave.")


async def toggle_and_answer(interaction: discord.Interaction, arxiv_id: str) -> None:
    """Save (or unsave) a paper for the click's channel as the member who clicked."""
    channel_id = save_channel(interaction)
    outcome = await paperboy(interaction.client).saves.toggle(channel_id, arxiv_id, interaction.user.id)
    text = save_answer(outcome, channel_id)
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NONE)
    else:
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NONE)


class SaveButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                 template=re.escape(SAVE_BUTTON_PREFIX) + ".+"):
    """A paper card's ⭐ Save: the paper's id is in the custom id."""

    def __init__(self, button: discord.ui.Button[Any]) -> None:
        super().__init__(button)

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> SaveButton:
        return cls(cast("discord.ui.Button[Any]", item))

    async def callback(self, interaction: discord.Interaction) -> None:
        async with answering_errors(interaction):
            arxiv_id = saved_paper_id(self.item.custom_id or "", ())
            if arxiv_id is None:
                raise UserError("This button is from an older Paperboy; use /paper save.")
            await toggle_and_answer(interaction, arxiv_id)


class SaveSelect(discord.ui.DynamicItem[discord.ui.Select[Any]],
                 template=re.escape(SAVE_SELECT_PREFIX) + r"\d+"):
    """A digest message's ⭐ select: the chosen option's value is the paper's id."""

    def __init__(self, select: discord.ui.Select[Any]) -> None:
        super().__init__(select)

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> SaveSelect:
        return cls(cast("discord.ui.Select[Any]", item))

    async def callback(self, interaction: discord.Interaction) -> None:
        async with answering_errors(interaction):
            arxiv_id = saved_paper_id(self.item.custom_id or "", self.item.values)
            if arxiv_id is None:
                raise UserError("Pick a paper from the list.")
            await toggle_and_answer(interaction, arxiv_id)
