"""Checks done by the bot itself, not only by Discord's command settings.

Discord's ``guild_only`` and default permissions only decide where a command is offered; the data of
an interaction is still checked here (a DM, a group DM or an app installed to a user's account in a
server Paperboy is not in reaches the bot too), with an explicit answer rather than an ``assert``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import discord
from discord import app_commands

from bot.core.errors import UserError

T = TypeVar("T")
SERVER_CHANNELS_ONLY = "Paperboy's channel commands work in server channels only."
NOT_IN_SERVER = ("Paperboy is not a member of this server, so its channel commands do not work here: "
                 "a server admin has to add Paperboy to the server (installing it to your account "
                 "is not enough).")


class NeedsManageChannels(app_commands.CheckFailure):
    """The member may not change this channel's subscriptions or schedule."""


def server_channel(interaction: discord.Interaction) -> tuple[int, int]:
    """``(guild_id, channel_id)`` of the server channel a channel command acts on.

    Raises :class:`UserError` (answered ephemerally by the tree's error hook) for a DM, a group DM,
    or a server Paperboy is not in.
    """
    guild_id, channel_id = interaction.guild_id, interaction.channel_id
    if guild_id is None or channel_id is None:
        raise UserError(SERVER_CHANNELS_ONLY)
    # Installed to the server (the interaction says so), or at least a member (the gateway said so).
    if not interaction.is_guild_integration() and interaction.client.get_guild(guild_id) is None:
        raise UserError(NOT_IN_SERVER)
    return guild_id, channel_id


def manage_channels_only() -> Callable[[T], T]:
    """Require Manage Channels in this channel (checked in code for every change)."""

    async def predicate(interaction: discord.Interaction) -> bool:
        try:
            server_channel(interaction)
        except UserError as exc:  # a check must fail with a CheckFailure to reach the error hook
            raise NeedsManageChannels(str(exc)) from None
        if not interaction.permissions.manage_channels:
            raise NeedsManageChannels(
                "You need the **Manage Channels** permission in this channel to change what it "
                "follows or when it gets digests. Ask a moderator, or use /subscribe list and "
                "/digest preview, which anyone can use.")
        return True

    return app_commands.check(predicate)
