"""/subscribe add|remove|list: what a channel follows."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.core import taxonomy
from bot.discord_side.context import PaperboyBot
from bot.discord_side.safety import escape_feed_text
from bot.services.subscriptions import NOT_FOLLOWING, describe_schedule
from cogs.checks import manage_channels_only, server_channel

NONE = discord.AllowedMentions.none()


class Subscriptions(commands.GroupCog, group_name="subscribe"):
    """Follow arXiv categories, authors, venues, feeds and keywords in this channel."""

    def __init__(self, bot: PaperboyBot) -> None:
        self.bot = bot
        self.service = bot.subscriptions
        super().__init__()

    @app_commands.command(name="add", description="Follow a topic in this channel (or exclude it)")
    @app_commands.describe(topic="cs.LG, cs, author:Sergey Levine, venue:nips, feed:shortscience "
                                 "or a keyword; !topic excludes it",
                           exclude="Remove items that match this topic instead of adding them")
    @app_commands.guild_only()
    @manage_channels_only()
    async def add(self, interaction: discord.Interaction, topic: str, exclude: bool = False) -> None:
        guild_id, channel_id = server_channel(interaction)
        added, excluded = await self.service.add(guild_id, channel_id, topic, exclude)
        verb = "excludes" if excluded else "follows"
        typed = topic.strip().removeprefix("!").strip() if excluded else topic.strip()
        note = "" if str(added) == typed else f" (read `{typed[:80]}` as `{added}`)"
        count = len(await self.service.topics(channel_id))
        await interaction.response.send_message(
            f"This channel now {verb} **{escape_feed_text(str(added))}**{note}. "
            f"It has {count} topic(s); /digest schedule sets when digests come.",
            ephemeral=True, allowed_mentions=NONE)

    @add.autocomplete("topic")
    async def add_autocomplete(self, interaction: discord.Interaction,
                               current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=f"{cid} — {name}"[:100], value=cid)
                for cid, name in taxonomy.search_categories(current, limit=25)]

    @app_commands.command(name="remove", description="Stop following a topic in this channel")
    @app_commands.describe(topic="One of this channel's topics")
    @app_commands.guild_only()
    @manage_channels_only()
    async def remove(self, interaction: discord.Interaction, topic: str) -> None:
        _, channel_id = server_channel(interaction)
        removed = await self.service.remove(channel_id, topic)
        await interaction.response.send_message(
            f"This channel no longer follows **{escape_feed_text(str(removed))}**.",
            ephemeral=True, allowed_mentions=NONE)

    @remove.autocomplete("topic")
    async def remove_autocomplete(self, interaction: discord.Interaction,
                                  current: str) -> list[app_commands.Choice[str]]:
        if interaction.channel_id is None:
            return []
        needle = current.strip().lower()
        rows = await self.service.topics(interaction.channel_id)
        return [app_commands.Choice(name=(("exclude " if r.exclude else "") + r.value)[:100], value=r.value)
                for r in rows if needle in r.value.lower()][:25]

    @app_commands.command(name="list", description="What this channel follows, and its digest schedule")
    @app_commands.guild_only()
    async def list_(self, interaction: discord.Interaction) -> None:
        _, channel_id = server_channel(interaction)
        channel = await self.service.settings(channel_id)
        rows = await self.service.topics(channel_id)
        if channel is None or not rows:
            await interaction.response.send_message(NOT_FOLLOWING, ephemeral=True, allowed_mentions=NONE)
            return
        follows = [f"• {escape_feed_text(r.value)}" for r in rows if not r.exclude]
        excludes = [f"• {escape_feed_text(r.value)}" for r in rows if r.exclude]
        lines = [f"**This channel follows {len(follows)} topic(s):**", *follows]
        if excludes:
            lines += ["**and excludes:**", *excludes]
        lines.append(describe_schedule(channel))
        if channel.paused_reason:
            lines.append(f"⚠️ **Digests are paused:** {channel.paused_reason}. Fix the bot's "
                         "permissions here, then run `/digest now` to resume; nothing was lost.")
        await interaction.response.send_message("\n".join(lines)[:2000], ephemeral=True,
                                                allowed_mentions=NONE)


async def setup(bot: PaperboyBot) -> None:
    await bot.add_cog(Subscriptions(bot))
