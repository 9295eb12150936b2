"""/paperboy status|about: feed health, this channel's state, and what Paperboy is."""

from __future__ import annotations

from datetime import datetime

import discord
from discord import app_commands
from discord.ext import commands

from bot import __version__
from bot.core.text import truncate
from bot.discord_side.context import PaperboyBot
from bot.discord_side.limits import EMBED_DESCRIPTION_MAX, EMBED_FIELD_VALUE_MAX
from bot.discord_side.safety import escape_feed_text
from bot.services.status import OwnerStatus, Status
from bot.services.subscriptions import describe_schedule

NONE = discord.AllowedMentions.none()
ARXIV_THANKS = "Thank you to arXiv for use of its open access interoperability."
FAILING_SHOWN = 10


def _relative(iso: str | None) -> str:
    if not iso:
        return "never"
    return f"<t:{int(datetime.fromisoformat(iso).timestamp())}:R>"


class Admin(commands.GroupCog, group_name="paperboy"):
    """Paperboy's own state."""

    def __init__(self, bot: PaperboyBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="status", description="Feed health, last poll, and this channel's digest")
    async def status(self, interaction: discord.Interaction) -> None:
        status = await self.bot.status_service.status(interaction.channel_id, interaction.guild_id)
        embeds = []
        if interaction.user.id in await self.bot.owners():
            embeds.append(_owner_embed(await self.bot.status_service.owner_status()))
        await interaction.response.send_message(_status_text(status, interaction.channel_id is not None),
                                                embeds=embeds, ephemeral=True, allowed_mentions=NONE)

    @app_commands.command(name="about", description="What Paperboy is")
    async def about(self, interaction: discord.Interaction) -> None:
        text = (f"**Paperboy** {__version__}: new research papers and paper summaries, every morning, "
                "in the channels that follow them. `/subscribe add` a category, author, venue or "
                "keyword; `/digest schedule` picks the time.\n"
                "Sources: arXiv's category feeds and API, ShortScience.org and other summary feeds. "
                f"Paperboy is not affiliated with arXiv. {ARXIV_THANKS}")
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NONE)


def _status_text(status: Status, in_channel: bool) -> str:
    lines = [f"**Feeds:** {status.healthy_feeds} healthy, {len(status.failing_feeds)} failing · last poll "
             f"{_relative(status.last_poll)}"]
    for feed in status.failing_feeds[:FAILING_SHOWN]:
        lines.append(f"• `{feed.name}`: {feed.consecutive_failures} failure(s), "
                     f"{discord.utils.escape_markdown(feed.last_error or '')[:150]}; next try "
                     f"{_relative(feed.next_poll)}")
    channel = status.channel
    if in_channel and channel is None:
        lines.append("**This channel:** follows nothing yet.")
    elif channel is not None:
        lines.append(f"**This channel:** {describe_schedule(channel)}")
        if channel.next_due:
            lines.append(f"Next digest {_relative(channel.next_due)}.")
        if channel.paused_reason:
            lines.append(f"⚠️ **Paused:** {channel.paused_reason}. Fix the bot's permissions, "
                         "then `/digest now` resumes it; nothing was lost.")
    for other in status.paused_elsewhere:
        lines.append(f"⚠️ <#{other.channel_id}> is paused: {other.paused_reason}")
    return "\n".join(lines)[:2000]


def _owner_embed(owner: OwnerStatus) -> discord.Embed:
    """For the bot's owner: every feed, every paused channel, the store's size."""
    feeds = [f"`{f.name}` · last success {_relative(f.last_success)} · {f.consecutive_failures} "
             f"failure(s) · next poll {_relative(f.next_poll)}" for f in owner.feeds]
    paused = [f"<#{c.channel_id}> ({c.guild_id}): {c.paused_reason}" for c in owner.paused]
    feed_text = "\n".join(feeds) or "no feeds polled yet"
    embed = discord.Embed(title="Owner view", description=truncate(feed_text, EMBED_DESCRIPTION_MAX))
    paused_text = "\n".join(paused) or "none"
    embed.add_field(name="Paused channels", value=truncate(paused_text, EMBED_FIELD_VALUE_MAX), inline=False)
    embed.add_field(name="Store", value=f"{owner.store_bytes / 1e6:.1f} MB · {owner.papers} papers · "
                                        f"{owner.summaries} summaries", inline=False)
    fleet = "\n".join(escape_feed_text(line) for line in owner.fleet) or "no live process"
    embed.add_field(name=f"Fleet ({len(owner.fleet)})", value=truncate(fleet, EMBED_FIELD_VALUE_MAX),
                    inline=False)
    return embed


async def setup(bot: PaperboyBot) -> None:
    await bot.add_cog(Admin(bot))
