"""/paperboy status|about: feed health, this channel's state, and what Paperboy is."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import __version__
from bot.core.text import truncate
from bot.discord_side.render import EMBED_DESCRIPTION_MAX, EMBED_FIELD_VALUE_MAX
from bot.services.subscriptions import describe_schedule

if TYPE_CHECKING:
    from bot.discord_side.client import Paperboy

NONE = discord.AllowedMentions.none()
ARXIV_THANKS = "Thank you to arXiv for use of its open access interoperability."


def _relative(iso: str | None) -> str:
    if not iso:
        return "never"
    return f"<t:{int(datetime.fromisoformat(iso).timestamp())}:R>"


class Admin(commands.GroupCog, group_name="paperboy"):
    """Paperboy's own state."""

    def __init__(self, bot: Paperboy) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="status", description="Feed health, last poll, and this channel's digest")
    async def status(self, interaction: discord.Interaction) -> None:
        store = self.bot.services.store
        feeds = await store.list_feed_states()
        ok = [f for f in feeds if f.consecutive_failures == 0]
        failing = [f for f in feeds if f.consecutive_failures > 0]
        last_poll = max((f.last_attempt for f in feeds if f.last_attempt), default=None)
        lines = [f"**Feeds:** {len(ok)} healthy, {len(failing)} failing · last poll {_relative(last_poll)}"]
        for feed in failing[:10]:
            lines.append(f"• `{feed.name}`: {feed.consecutive_failures} failure(s), "
                         f"{discord.utils.escape_markdown(feed.last_error or '')[:150]}; next try "
                         f"{_relative(feed.next_poll)}")
        if interaction.channel_id is not None:
            channel = await store.get_channel(interaction.channel_id)
            if channel is None:
                lines.append("**This channel:** follows nothing yet.")
            else:
                lines.append(f"**This channel:** {describe_schedule(channel)}")
                if channel.next_due:
                    lines.append(f"Next digest {_relative(channel.next_due)}.")
                if channel.paused_reason:
                    lines.append(f"⚠️ **Paused:** {channel.paused_reason}. Fix the bot's permissions, "
                                 "then `/digest now` resumes it; nothing was lost.")
        if interaction.guild_id is not None:
            paused = [c for c in await store.list_channels(interaction.guild_id)
                      if c.paused_reason and c.channel_id != interaction.channel_id]
            for channel in paused[:10]:
                lines.append(f"⚠️ <#{channel.channel_id}> is paused: {channel.paused_reason}")
        embeds = []
        if interaction.user.id in await self.bot.owners():
            embeds.append(await self._owner_embed())
        await interaction.response.send_message("\n".join(lines)[:2000], embeds=embeds, ephemeral=True,
                                                allowed_mentions=NONE)

    async def _owner_embed(self) -> discord.Embed:
        """For the bot's owner: every feed, every paused channel, the store's size."""
        store = self.bot.services.store
        feeds = [f"`{f.name}` · last success {_relative(f.last_success)} · {f.consecutive_failures} "
                 f"failure(s) · next poll {_relative(f.next_poll)}" for f in await store.list_feed_states()]
        paused = [f"<#{c.channel_id}> ({c.guild_id}): {c.paused_reason}"
                  for c in await store.list_channels() if c.paused_reason]
        counts = await store.counts()
        size = await store.size_bytes()
        feed_text = "\n".join(feeds) or "no feeds polled yet"
        embed = discord.Embed(title="Owner view", description=truncate(feed_text, EMBED_DESCRIPTION_MAX))
        embed.add_field(name="Paused channels", value=truncate("\n".join(paused) or "none",
                                                                EMBED_FIELD_VALUE_MAX), inline=False)
        embed.add_field(name="Store", value=f"{size / 1e6:.1f} MB · {counts['papers']} papers · "
                                            f"{counts['summaries']} summaries", inline=False)
        return embed

    @app_commands.command(name="about", description="What Paperboy is")
    async def about(self, interaction: discord.Interaction) -> None:
        text = (f"**Paperboy** {__version__}: new research papers and paper summaries, every morning, "
                "in the channels that follow them. `/subscribe add` a category, author, venue or "
                "keyword; `/digest schedule` picks the time.\n"
                "Sources: arXiv's category feeds and API, ShortScience.org and other summary feeds. "
                f"Paperboy is not affiliated with arXiv. {ARXIV_THANKS}")
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NONE)


async def setup(bot: Paperboy) -> None:
    await bot.add_cog(Admin(bot))
