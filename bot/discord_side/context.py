"""The bot as the cogs see it: its services, never its store or its internals.

:class:`bot.discord_side.client.Paperboy` fills these in; cogs type against this class so that
they depend on the services (ARCHITECTURE.md, "Layers"), not on the bot class or the store.
"""

from __future__ import annotations

import discord
from discord.ext import commands

from bot.discord_side.delivery import Dispatcher
from bot.services.digests import DigestService
from bot.services.lookup import LookupService
from bot.services.ranking import RankingService
from bot.services.saves import SavesService
from bot.services.status import StatusService
from bot.services.subscriptions import SubscriptionService


class PaperboyBot(commands.AutoShardedBot):
    """What a cog may use: the services behind its commands, and the dispatcher for /digest now."""

    subscriptions: SubscriptionService
    lookup: LookupService
    digests: DigestService
    status_service: StatusService  # (Client.status is the presence)
    ranking: RankingService  # /paper similar
    saves: SavesService
    dispatcher: Dispatcher

    async def owners(self) -> set[int]:
        """The application's owner (or its team's members)."""
        raise NotImplementedError


def paperboy(client: discord.Client) -> PaperboyBot:
    """``interaction.client`` as the Paperboy bot it is."""
    if not isinstance(client, PaperboyBot):
        raise TypeError(f"not a Paperboy bot: {type(client).__name__}")
    return client
