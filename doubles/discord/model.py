"""What the double is made of, before any behaviour: the guilds and channels it is configured with, the
records it keeps, and the payload helpers every part uses."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from doubles.discord.protocol import (
    CT_TEXT,
    DEFAULT_BOT_PERMISSIONS,
    DEFAULT_CHANNEL_IDS,
    DEFAULT_GUILD_ID,
    DEFAULT_OWNER_ID,
)


@dataclass
class ChannelSpec:
    """A guild channel the double serves. ``bot_permissions`` is what the bot may do there."""

    id: int
    name: str
    type: int = CT_TEXT
    position: int = 0
    parent_id: int | None = None
    topic: str | None = None
    bot_permissions: int = DEFAULT_BOT_PERMISSIONS


@dataclass
class GuildSpec:
    """A guild the bot is in. Its ``@everyone`` role grants :data:`DEFAULT_MEMBER_PERMISSIONS`."""

    id: int
    name: str
    channels: list[ChannelSpec] = dataclasses.field(default_factory=list)
    member_count: int = 42
    owner_id: int = DEFAULT_OWNER_ID
    locale: str = "en-US"

    @classmethod
    def default(cls) -> GuildSpec:
        """One guild with two text channels, ``#general`` and ``#papers``."""
        return cls(
            id=DEFAULT_GUILD_ID,
            name="Paperboy Test Guild",
            channels=[
                ChannelSpec(DEFAULT_CHANNEL_IDS[0], "general", position=0),
                ChannelSpec(DEFAULT_CHANNEL_IDS[1], "papers", position=1),
            ],
        )


class NoGatewayError(RuntimeError):
    """Raised when a test sends an interaction but no bot session is connected to the gateway."""


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def user_payload(user_id: int, username: str, *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": str(user_id),
        "username": username,
        "discriminator": "0",
        "global_name": username.title(),
        "avatar": None,
        "bot": bot,
        "system": False,
        "public_flags": 0,
        "flags": 0,
    }

