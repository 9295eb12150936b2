"""One answer to every error of an interaction, slash command or component alike.

In this order: a :class:`bot.core.errors.UserError` (a bad topic, an unknown paper, an import
file, a schedule) is answered with its own message; a failed check (no Manage Channels, not in a
server) with the check's message; anything else is a bug: logged with its traceback and answered
with an apology, never the traceback. All answers are ephemeral, with mentions disabled.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

import discord
from discord import app_commands

from bot.core.errors import UserError

log = logging.getLogger(__name__)

SORRY = "Something went wrong on Paperboy's side; the error was logged. Please try again."


def message_for(error: BaseException, where: str) -> str:
    """What the person is told about ``error``; bugs are logged here."""
    original = getattr(error, "original", error)
    if isinstance(original, UserError):
        return str(original)
    if isinstance(error, app_commands.CheckFailure):
        return str(error) or "You cannot use this command here."
    log.error("%s failed", where, exc_info=original)
    return SORRY


async def send_ephemeral(interaction: discord.Interaction, message: str) -> None:
    """Answer (or follow up) ephemerally, mentions disabled."""
    none = discord.AllowedMentions.none()
    if interaction.response.is_done():
        await interaction.followup.send(message, ephemeral=True, allowed_mentions=none)
    else:
        await interaction.response.send_message(message, ephemeral=True, allowed_mentions=none)


async def on_app_command_error(interaction: discord.Interaction,
                               error: app_commands.AppCommandError) -> None:
    """The command tree's error hook."""
    command = interaction.command.qualified_name if interaction.command else "a command"
    await send_ephemeral(interaction, message_for(error, f"command {command}"))


@contextlib.asynccontextmanager
async def answering_errors(interaction: discord.Interaction) -> AsyncIterator[None]:
    """For component callbacks, which the tree's hook does not cover: the same answers."""
    try:
        yield
    except Exception as exc:
        custom_id = interaction.data.get("custom_id") if interaction.data else None
        await send_ephemeral(interaction, message_for(exc, f"component {custom_id}"))
