"""Permission checks done by the bot itself, not only by Discord's default command permissions."""

from __future__ import annotations

import discord
from discord import app_commands


class NeedsManageChannels(app_commands.CheckFailure):
    """The member may not change this channel's subscriptions or schedule."""


def manage_channels_only() -> object:
    """Require Manage Channels in this channel (checked in code for every change)."""

    async def predicate(interaction: discord.Interaction) -> bool:
        if interaction.guild is None:
            raise NeedsManageChannels("Paperboy's channel commands work in server channels only.")
        if not interaction.permissions.manage_channels:
            raise NeedsManageChannels(
                "You need the **Manage Channels** permission in this channel to change what it "
                "follows or when it gets digests. Ask a moderator, or use /subscribe list and "
                "/digest preview, which anyone can use.")
        return True

    return app_commands.check(predicate)
