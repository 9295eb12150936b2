"""Guilds, channels, users and the bot's permissions: what the double serves and how it looks in
Discord's payloads, plus the synced application commands."""

from __future__ import annotations

import copy
import os
from datetime import UTC, datetime
from typing import Any

from doubles.discord.api import ApiError, not_found
from doubles.discord.base import DoubleBase
from doubles.discord.model import GuildSpec, user_payload
from doubles.discord.protocol import (
    CT_NEWS,
    CT_TEXT,
    DEFAULT_BOT_PERMISSIONS,
    DEFAULT_MEMBER_PERMISSIONS,
    DISCORD_EPOCH_MS,
    THREAD_TYPES,
    Perm,
)


class StateMixin(DoubleBase):
    """The guilds the bot is in, their channels (threads too), users, permissions and commands."""

    def _init_state(self) -> None:
        self._users: dict[int, dict[str, Any]] = {
            self.application_id: self.bot_user,
            self.owner_id: user_payload(self.owner_id, "owner"),
        }
        self._guilds: dict[int, dict[str, Any]] = {}
        self._channels: dict[int, dict[str, Any]] = {}
        self._bot_permissions: dict[int, int] = {}
        # channel id -> ids of its messages, oldest first
        self._channel_index: dict[int, list[int]] = {}
        self._global_commands: list[dict[str, Any]] = []
        self._guild_commands: dict[int, list[dict[str, Any]]] = {}
        self._command_ids: dict[tuple[int, int, str], int] = {}

    # -- ids --------------------------------------------------------------------------------------
    @property
    def guild_id(self) -> int:
        """The first configured guild."""
        first: int = next(iter(self._guilds))
        return first

    @property
    def channel_id(self) -> int:
        """The first text channel of the first guild."""
        return self.text_channel_ids(self.guild_id)[0]

    def text_channel_ids(self, guild_id: int | None = None) -> list[int]:
        gid = self.guild_id if guild_id is None else guild_id
        chans = [c for c in self._channels.values()
                 if c.get("guild_id") == str(gid) and c["type"] in (CT_TEXT, CT_NEWS)]
        return [int(c["id"]) for c in sorted(chans, key=lambda c: c.get("position", 0))]

    def info(self) -> dict[str, Any]:
        """What another process needs to know: URLs and the configured ids."""
        return {
            "api_base": self.api_base,
            "gateway_url": self.gateway_url,
            "control_url": self.control_url,
            "application_id": str(self.application_id),
            "guild_id": str(self.guild_id),
            "channel_id": str(self.channel_id),
            "guilds": {
                str(gid): {"name": g["name"], "channels": [str(c) for c in self.text_channel_ids(gid)]}
                for gid, g in self._guilds.items()
            },
            "pid": os.getpid(),
        }

    # -- guilds and channels ----------------------------------------------------------------------
    def _install_guild(self, spec: GuildSpec) -> None:
        self._guilds[spec.id] = {
            "id": spec.id,
            "name": spec.name,
            "member_count": spec.member_count,
            "owner_id": spec.owner_id,
            "locale": spec.locale,
        }
        self._users.setdefault(spec.owner_id, user_payload(spec.owner_id, f"owner{spec.owner_id % 1000}"))
        for chan in spec.channels:
            self._channels[chan.id] = {
                "id": str(chan.id),
                "guild_id": str(spec.id),
                "name": chan.name,
                "type": chan.type,
                "position": chan.position,
                "parent_id": None if chan.parent_id is None else str(chan.parent_id),
                "topic": chan.topic,
                "nsfw": False,
                "rate_limit_per_user": 0,
                "last_message_id": None,
                "permission_overwrites": [],
                "flags": 0,
            }
            self._bot_permissions[chan.id] = chan.bot_permissions
            self._channel_index.setdefault(chan.id, [])

    def channel(self, channel_id: int) -> dict[str, Any] | None:
        """The channel (or thread) payload, or ``None``."""
        chan = self._channels.get(int(channel_id))
        return None if chan is None else copy.deepcopy(chan)

    def _guild_payload(self, guild_id: int) -> dict[str, Any]:
        g = self._guilds[guild_id]
        mine = [copy.deepcopy(c) for c in self._channels.values() if c.get("guild_id") == str(guild_id)]
        channels = [c for c in mine if c["type"] not in THREAD_TYPES]
        threads = [c for c in mine if c["type"] in THREAD_TYPES]
        joined = datetime.fromtimestamp(((guild_id >> 22) + DISCORD_EPOCH_MS) / 1000, UTC).isoformat()
        return {
            "id": str(guild_id),
            "name": g["name"],
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(g["owner_id"]),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": g["locale"],
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "features": [],
            "roles": [
                {
                    "id": str(guild_id),
                    "name": "@everyone",
                    "permissions": str(DEFAULT_MEMBER_PERMISSIONS),
                    "position": 0,
                    "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
                    "color": 0,
                    "hoist": False,
                    "managed": False,
                    "mentionable": False,
                    "icon": None,
                    "unicode_emoji": None,
                    "flags": 0,
                }
            ],
            "emojis": [],
            "stickers": [],
            "joined_at": joined,
            "large": False,
            "unavailable": False,
            "member_count": g["member_count"],
            "voice_states": [],
            "members": [self._member_payload(self.application_id, permissions=None)],
            "channels": channels,
            "threads": threads,
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "premium_progress_bar_enabled": False,
        }

    def _member_payload(self, user_id: int, *, permissions: int | None) -> dict[str, Any]:
        member: dict[str, Any] = {
            "user": copy.deepcopy(self._user(user_id)),
            "roles": [],
            "joined_at": "2024-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "nick": None,
            "avatar": None,
            "premium_since": None,
            "communication_disabled_until": None,
        }
        if permissions is not None:
            member["permissions"] = str(permissions)
        return member

    def _user(self, user_id: int) -> dict[str, Any]:
        if user_id not in self._users:
            self._users[user_id] = user_payload(user_id, f"user{user_id % 100000}")
        return self._users[user_id]

    def set_bot_permissions(self, channel_id: int, permissions: int) -> None:
        """Change what the bot may do in a channel (e.g. drop SEND_MESSAGES to get 403 50013)."""
        self._bot_permissions[int(channel_id)] = permissions

    def threads(self, parent_id: int | None = None) -> list[dict[str, Any]]:
        """Thread channels created through the API (optionally only those under ``parent_id``)."""
        found = [c for c in self._channels.values() if c["type"] in THREAD_TYPES]
        if parent_id is not None:
            found = [c for c in found if c.get("parent_id") == str(parent_id)]
        return [copy.deepcopy(c) for c in sorted(found, key=lambda c: int(c["id"]))]

    def commands(self, guild_id: int | None = None) -> list[dict[str, Any]]:
        """The synced application commands: global ones, or those of one guild."""
        source = self._global_commands if guild_id is None else self._guild_commands.get(int(guild_id), [])
        return copy.deepcopy(source)

    # -- permissions ------------------------------------------------------------------------------
    def _channel_or_404(self, channel_id: str | int) -> dict[str, Any]:
        chan = self._channels.get(int(channel_id))
        if chan is None:
            raise not_found("Channel", 10003)
        return chan

    def _require(self, channel: dict[str, Any], *needed: int) -> None:
        """Answer 403 like Discord when the bot lacks a permission in the channel."""
        cid = int(channel["id"])
        if channel["type"] in THREAD_TYPES and channel.get("parent_id"):
            cid = int(channel["parent_id"])
        perms = self._bot_permissions.get(cid, DEFAULT_BOT_PERMISSIONS)
        if perms & Perm.ADMINISTRATOR:
            return
        if not perms & Perm.VIEW_CHANNEL:
            raise ApiError(403, 50001, "Missing Access")
        for bit in needed:
            if not perms & bit:
                raise ApiError(403, 50013, "Missing Permissions")

    def _can_read_history(self, channel: dict[str, Any]) -> bool:
        try:
            self._require(channel, Perm.READ_MESSAGE_HISTORY)
        except ApiError:
            return False
        return True

