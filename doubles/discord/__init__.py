"""A fake Discord -- REST API and gateway websocket -- that the unmodified discord.py talks to.

Tests point discord.py at it (``bot.discord_side.endpoints.point_discord_at``) so slash commands,
autocomplete, deferrals, followups and channel messages travel the library's real code paths, and
every payload the bot sends is checked against Discord's documented limits.

In-process use (pytest-asyncio)::

    async with DiscordDouble() as dd:
        point_discord_at(dd.api_base, dd.gateway_url)
        ...start a discord.py client...
        handle = await dd.send_slash_command(dd.guild_id, dd.channel_id, "paper show",
                                             {"query": "1706.03762"})
        callback = await handle.response()

or the ``discord_double`` fixture (import ``discord_double_fixture`` from this package), which also
points discord.py at the double and fails the test at teardown if a violation was recorded, with
:func:`running_bot` to start and stop a client without risking a hang.

Out of process: ``python -m doubles.discord --port 0 --state-file PATH`` prints one JSON line
(``api_base``, ``gateway_url``, ``control_url``, ids) and serves the same features over a control
API under ``/_double/``; :class:`RemoteDouble` drives it and :class:`DoubleProcess` spawns it, so a test
can run the bot in a subprocess, SIGKILL it, and still read what the double recorded.

Crash windows: ``enforce_nonce`` deduplicates for ``nonce_window`` seconds (``None``: forever; Discord:
"the past few minutes"), ``GET /channels/{id}/messages`` pages like Discord's and, like it, never shows
a nonce, and :meth:`DiscordDouble.hold_next_message` creates a message but holds the answer, so a
test can kill the bot between "Discord has the message" and "the bot knows its id".

Everything binds to 127.0.0.1 only. Where each part lives: see :mod:`doubles.discord.double`.
"""

from doubles.discord.command_limits import check_command_payload
from doubles.discord.double import DiscordDouble
from doubles.discord.fixture import discord_double_fixture, running_bot
from doubles.discord.interactions import InteractionHandle
from doubles.discord.limits import (
    Problem,
    Violation,
    check_allowed_mentions,
    check_autocomplete_choices,
    check_components,
    check_embeds,
    check_interaction_callback,
    check_message_payload,
)
from doubles.discord.model import ChannelSpec, GuildSpec, NoGatewayError
from doubles.discord.protocol import (
    DEFAULT_BOT_PERMISSIONS,
    DEFAULT_MEMBER_PERMISSIONS,
    DEFAULT_OWNER_ID,  # noqa: F401 -- importable from here as before; not in __all__ (it never was)
    DEFAULT_USER_ID,  # noqa: F401 -- likewise
    DISCORD_EPOCH_MS,  # noqa: F401 -- likewise
    MANAGER_PERMISSIONS,
    Perm,
)
from doubles.discord.remote import DoubleProcess, RemoteDouble, RemoteInteraction

__all__ = [
    "DEFAULT_BOT_PERMISSIONS",
    "DEFAULT_MEMBER_PERMISSIONS",
    "MANAGER_PERMISSIONS",
    "ChannelSpec",
    "DiscordDouble",
    "DoubleProcess",
    "GuildSpec",
    "InteractionHandle",
    "NoGatewayError",
    "Perm",
    "Problem",
    "RemoteDouble",
    "RemoteInteraction",
    "Violation",
    "check_allowed_mentions",
    "check_autocomplete_choices",
    "check_command_payload",
    "check_components",
    "check_embeds",
    "check_interaction_callback",
    "check_message_payload",
    "discord_double_fixture",
    "running_bot",
]
