"""/digest schedule|preview|now: when a channel gets its digest, a look ahead, and one right away."""

from __future__ import annotations

from datetime import datetime

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.channel_rules import (
    FREQUENCIES,
    LAYOUTS,
    MAX_ITEMS_RANGE,
    TOP_RANGE,
    WEEKDAYS,
    search_timezones,
)
from bot.core.text import truncate
from bot.discord_side.compact_render import render_for_channel
from bot.discord_side.context import PaperboyBot
from bot.discord_side.limits import CONTENT_MAX
from bot.services.subscriptions import ScheduleRequest, describe_schedule
from cogs.checks import manage_channels_only, server_channel

NONE = discord.AllowedMentions.none()
FREQUENCY_CHOICES = [app_commands.Choice(name=f, value=f) for f in FREQUENCIES]
WEEKDAY_CHOICES = [app_commands.Choice(name=d.title(), value=d) for d in WEEKDAYS]
LAYOUT_CHOICES = [app_commands.Choice(name=layout, value=layout) for layout in LAYOUTS]


class Digests(commands.GroupCog, group_name="digest"):
    """This channel's digest: schedule, preview, send now."""

    def __init__(self, bot: PaperboyBot) -> None:
        self.bot = bot
        self.service = bot.subscriptions
        super().__init__()

    @app_commands.command(name="schedule", description="When this channel gets its digest")
    @app_commands.describe(time="Local time of day, HH:MM (24-hour)",
                           timezone="IANA zone, e.g. Europe/Berlin",
                           frequency="daily, weekly or instant (after every poll)",
                           weekday="For weekly digests",
                           max_items=f"Items per message ({MAX_ITEMS_RANGE[0]}-{MAX_ITEMS_RANGE[1]}; "
                                     "10 embeds per message at most)",
                           include_replacements="Also post new versions of papers already posted",
                           layout="compact: top papers as cards, the rest as ranked lines; cards: one each",
                           top=f"Compact: how many top papers are full cards ({TOP_RANGE[0]}-{TOP_RANGE[1]})",
                           only_top="Compact: only the top papers, with a count of the rest")
    @app_commands.choices(frequency=FREQUENCY_CHOICES, weekday=WEEKDAY_CHOICES, layout=LAYOUT_CHOICES)
    @app_commands.guild_only()
    @manage_channels_only()
    async def schedule(self, interaction: discord.Interaction, time: str | None = None,
                       timezone: str | None = None, frequency: str | None = None,
                       weekday: str | None = None, max_items: int | None = None,
                       include_replacements: bool | None = None, layout: str | None = None,
                       top: int | None = None, only_top: bool | None = None) -> None:
        guild_id, channel_id = server_channel(interaction)
        request = ScheduleRequest(time, timezone, frequency, weekday, max_items, include_replacements,
                                  layout, top, only_top)
        channel = await self.service.schedule(guild_id, channel_id, request)
        due = f" Next digest: <t:{_epoch(channel.next_due)}:F>." if channel.next_due else ""
        await interaction.response.send_message(f"{describe_schedule(channel)}{due}", ephemeral=True,
                                                allowed_mentions=NONE)

    @schedule.autocomplete("timezone")
    async def timezone_autocomplete(self, interaction: discord.Interaction,
                                    current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=z, value=z) for z in search_timezones(current)]

    @app_commands.command(name="preview", description="What this channel's next digest holds so far")
    @app_commands.guild_only()
    async def preview(self, interaction: discord.Interaction) -> None:
        _, channel_id = server_channel(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        channel, digest = await self.bot.digests.next_digest(channel_id)
        if not digest.entries:
            await interaction.followup.send("Nothing new for this channel since its last digest.",
                                            ephemeral=True, allowed_mentions=NONE)
            return
        [first, *rest] = render_for_channel(
            digest.entries, layout=channel.digest_layout, top=channel.top, only_top=channel.only_top,
            date_text="preview", max_items_per_message=channel.max_items)
        more = f"\n…and {len(rest)} more message(s) in the real digest." if rest else ""
        await interaction.followup.send(
            content=truncate(first.payload.get("content") or "", CONTENT_MAX - len(more)) + more,
            embeds=[discord.Embed.from_dict(e) for e in first.payload.get("embeds", [])],
            ephemeral=True, allowed_mentions=NONE)

    @app_commands.command(name="now", description="Send this channel's digest now (and resume it if paused)")
    @app_commands.guild_only()
    @manage_channels_only()
    async def now(self, interaction: discord.Interaction) -> None:
        _, channel_id = server_channel(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        channel = await self.service.followed_channel(channel_id)
        was_paused = channel.paused_reason
        report = await self.bot.dispatcher.run_now(channel.channel_id)
        after = await self.service.settings(channel.channel_id)
        if after is not None and after.paused_reason:
            text = (f"Still cannot post here: {after.paused_reason}. Give Paperboy View Channel, Send "
                    "Messages and Embed Links in this channel, then try again.")
        elif report.messages:
            text = f"Sent {report.messages} digest message(s)."
        elif report.failed:
            text = "Discord did not accept the digest just now; it will be retried in a minute."
        else:
            text = "Nothing new to send since the last digest."
        if was_paused and after is not None and not after.paused_reason:
            text = "Digests resumed. " + text
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NONE)


def _epoch(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp())


async def setup(bot: PaperboyBot) -> None:
    await bot.add_cog(Digests(bot))
