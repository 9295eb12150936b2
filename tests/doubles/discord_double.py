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

or the ``discord_double`` fixture (import ``discord_double_fixture`` from this module), which also
points discord.py at the double and fails the test at teardown if a violation was recorded, with
:func:`running_bot` to start and stop a client without risking a hang.

Out of process: ``python -m tests.doubles.discord_double --port 0 --state-file PATH`` prints one JSON
line (``api_base``, ``gateway_url``, ``control_url``, ids) and serves the same features over a control
API under ``/_double/``; :class:`RemoteDouble` drives it and :class:`DoubleProcess` spawns it, so a test
can run the bot in a subprocess, SIGKILL it, and still read what the double recorded.

Crash windows: ``enforce_nonce`` deduplicates for ``nonce_window`` seconds (``None``: forever; Discord:
"the past few minutes"), ``GET /channels/{id}/messages`` pages like Discord's and, like it, never shows
a nonce, and :meth:`DiscordDouble.hold_next_message` creates a message but holds the answer, so a
test can kill the bot between "Discord has the message" and "the bot knows its id".

Everything binds to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import dataclasses
import fnmatch
import json
import math
import os
import re
import secrets
import signal
import sys
import tempfile
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web

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

HOST = "127.0.0.1"
API_VERSION = 10
API_PREFIX = f"/api/v{API_VERSION}"
CONTROL_PREFIX = "/_double"
DISCORD_EPOCH_MS = 1_420_070_400_000
REPO_ROOT = Path(__file__).resolve().parents[2]

# Fixed ids so a test in another process knows them without asking.
DEFAULT_GUILD_ID = 900_000_000_000_000_001
DEFAULT_CHANNEL_IDS = (900_000_000_000_000_011, 900_000_000_000_000_012)
DEFAULT_BOT_ID = 900_000_000_000_000_100
DEFAULT_OWNER_ID = 900_000_000_000_000_200
DEFAULT_USER_ID = 900_000_000_000_000_300


class Perm:
    """Discord permission bits the double and the tests care about."""

    CREATE_INSTANT_INVITE = 1 << 0
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    USE_APPLICATION_COMMANDS = 1 << 31
    MANAGE_THREADS = 1 << 34
    CREATE_PUBLIC_THREADS = 1 << 35
    CREATE_PRIVATE_THREADS = 1 << 36
    SEND_MESSAGES_IN_THREADS = 1 << 38


DEFAULT_MEMBER_PERMISSIONS = (
    Perm.VIEW_CHANNEL
    | Perm.SEND_MESSAGES
    | Perm.READ_MESSAGE_HISTORY
    | Perm.ADD_REACTIONS
    | Perm.EMBED_LINKS
    | Perm.ATTACH_FILES
    | Perm.USE_EXTERNAL_EMOJIS
    | Perm.USE_APPLICATION_COMMANDS
    | Perm.CREATE_PUBLIC_THREADS
    | Perm.SEND_MESSAGES_IN_THREADS
    | Perm.CREATE_INSTANT_INVITE
)
"""What an ordinary member may do: no Manage Channels."""

MANAGER_PERMISSIONS = DEFAULT_MEMBER_PERMISSIONS | Perm.MANAGE_CHANNELS
"""A member who may change a channel's subscriptions and digests."""

DEFAULT_BOT_PERMISSIONS = (
    Perm.VIEW_CHANNEL
    | Perm.SEND_MESSAGES
    | Perm.EMBED_LINKS
    | Perm.ATTACH_FILES
    | Perm.READ_MESSAGE_HISTORY
    | Perm.ADD_REACTIONS
    | Perm.USE_EXTERNAL_EMOJIS
    | Perm.CREATE_PUBLIC_THREADS
    | Perm.SEND_MESSAGES_IN_THREADS
)
"""What the bot may do in a channel unless a test takes it away."""

INTENT_GUILDS = 1 << 0
INTENT_GUILD_MESSAGES = 1 << 9
PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | (1 << 15)  # members, presences, message_content

# Message flags.
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7
FLAG_COMPONENTS_V2 = 1 << 15

# Interaction and callback types.
IT_PING, IT_COMMAND, IT_COMPONENT, IT_AUTOCOMPLETE, IT_MODAL_SUBMIT = 1, 2, 3, 4, 5
CB_PONG, CB_MESSAGE, CB_DEFERRED_MESSAGE, CB_DEFERRED_UPDATE, CB_UPDATE, CB_AUTOCOMPLETE, CB_MODAL = (
    1,
    4,
    5,
    6,
    7,
    8,
    9,
)

# Message types.
MT_DEFAULT, MT_THREAD_CREATED, MT_CHAT_INPUT_COMMAND = 0, 18, 20

# Channel types.
CT_TEXT, CT_CATEGORY, CT_NEWS, CT_PUBLIC_THREAD, CT_PRIVATE_THREAD = 0, 4, 5, 11, 12
CT_DM = 1
THREAD_TYPES = (10, CT_PUBLIC_THREAD, CT_PRIVATE_THREAD)

ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024


# --------------------------------------------------------------------------------------------------
# Limits: pure functions, usable without a server.
# --------------------------------------------------------------------------------------------------

LIMIT_CONTENT = 2000
LIMIT_EMBEDS = 10
LIMIT_EMBED_TITLE = 256
LIMIT_EMBED_DESCRIPTION = 4096
LIMIT_EMBED_FIELDS = 25
LIMIT_FIELD_NAME = 256
LIMIT_FIELD_VALUE = 1024
LIMIT_FOOTER_TEXT = 2048
LIMIT_AUTHOR_NAME = 256
LIMIT_EMBED_TOTAL = 6000
LIMIT_CHOICES = 25
LIMIT_CHOICE_NAME = 100
LIMIT_CHOICE_VALUE = 100
LIMIT_CUSTOM_ID = 100
LIMIT_BUTTON_LABEL = 80
LIMIT_SELECT_OPTIONS = 25
LIMIT_SELECT_OPTION_TEXT = 100
LIMIT_SELECT_PLACEHOLDER = 150
LIMIT_ACTION_ROWS = 5
LIMIT_ROW_BUTTONS = 5
LIMIT_NONCE = 25
LIMIT_THREAD_NAME = 100
LIMIT_MODAL_TITLE = 45
LIMIT_TEXT_INPUT_LABEL = 45
LIMIT_COMMAND_NAME = 32
LIMIT_COMMAND_DESCRIPTION = 100
LIMIT_COMMAND_OPTIONS = 25
LIMIT_COMMAND_TOTAL_CHARS = 4000
LIMIT_GLOBAL_COMMANDS = 100
COMMAND_NAME_RE = re.compile(r"^[-_\w]{1,32}$")


@dataclass(frozen=True)
class Problem:
    """One way a payload breaks Discord's rules: where (dotted path), what, and Discord's code."""

    field: str
    message: str
    code: str = "BASE_TYPE_MAX_LENGTH"

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def _too_long(path: str, value: Any, limit: int) -> list[Problem]:
    if isinstance(value, str) and len(value) > limit:
        return [Problem(path, f"Must be {limit} or fewer in length (got {len(value)}).")]
    return []


def _blank(path: str, value: Any) -> list[Problem]:
    if not isinstance(value, str) or not value.strip():
        return [Problem(path, "This field is required and must not be empty.", "BASE_TYPE_REQUIRED")]
    return []


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def check_embeds(embeds: Any, path: str = "embeds") -> list[Problem]:
    """Check a list of embed dicts: count, each field's length, and the 6,000-character total."""
    if embeds is None:
        return []
    if not isinstance(embeds, list):
        return [Problem(path, "Must be a list.", "BASE_TYPE_BAD_TYPE")]
    problems: list[Problem] = []
    if len(embeds) > LIMIT_EMBEDS:
        problems.append(Problem(path, f"Must be {LIMIT_EMBEDS} or fewer in length (got {len(embeds)})."))
    total = 0
    for i, embed in enumerate(embeds):
        here = f"{path}.{i}"
        if not isinstance(embed, dict):
            problems.append(Problem(here, "Must be an object.", "BASE_TYPE_BAD_TYPE"))
            continue
        title = _text(embed.get("title"))
        description = _text(embed.get("description"))
        problems += _too_long(f"{here}.title", title, LIMIT_EMBED_TITLE)
        problems += _too_long(f"{here}.description", description, LIMIT_EMBED_DESCRIPTION)
        total += len(title) + len(description)
        fields = embed.get("fields") or []
        if len(fields) > LIMIT_EMBED_FIELDS:
            problems.append(
                Problem(
                    f"{here}.fields", f"Must be {LIMIT_EMBED_FIELDS} or fewer in length (got {len(fields)})."
                )
            )
        for j, fld in enumerate(fields):
            name, value = _text(fld.get("name")), _text(fld.get("value"))
            problems += _blank(f"{here}.fields.{j}.name", fld.get("name"))
            problems += _blank(f"{here}.fields.{j}.value", fld.get("value"))
            problems += _too_long(f"{here}.fields.{j}.name", name, LIMIT_FIELD_NAME)
            problems += _too_long(f"{here}.fields.{j}.value", value, LIMIT_FIELD_VALUE)
            total += len(name) + len(value)
        footer = embed.get("footer") or {}
        footer_text = _text(footer.get("text"))
        problems += _too_long(f"{here}.footer.text", footer_text, LIMIT_FOOTER_TEXT)
        author = embed.get("author") or {}
        author_name = _text(author.get("name"))
        problems += _too_long(f"{here}.author.name", author_name, LIMIT_AUTHOR_NAME)
        total += len(footer_text) + len(author_name)
    if total > LIMIT_EMBED_TOTAL:
        problems.append(
            Problem(
                path,
                f"Embed size exceeds maximum size of {LIMIT_EMBED_TOTAL} (got {total}).",
                "MAX_EMBED_SIZE",
            )
        )
    return problems


def _check_component(comp: Any, path: str, custom_ids: set[str]) -> list[Problem]:
    if not isinstance(comp, dict):
        return [Problem(path, "Must be an object.", "BASE_TYPE_BAD_TYPE")]
    problems: list[Problem] = []
    ctype = comp.get("type")
    custom_id = comp.get("custom_id")
    if custom_id is not None:
        problems += _too_long(f"{path}.custom_id", custom_id, LIMIT_CUSTOM_ID)
        if custom_id in custom_ids:
            problems.append(
                Problem(
                    f"{path}.custom_id",
                    "Component custom id cannot be duplicated.",
                    "COMPONENT_CUSTOM_ID_DUPLICATED",
                )
            )
        custom_ids.add(custom_id)
    if ctype == 1:  # action row
        children = comp.get("components") or []
        buttons = [c for c in children if isinstance(c, dict) and c.get("type") == 2]
        if len(buttons) > LIMIT_ROW_BUTTONS:
            problems.append(Problem(f"{path}.components", f"Must be {LIMIT_ROW_BUTTONS} or fewer in length."))
        if len(buttons) != len(children) and len(children) > 1:
            problems.append(
                Problem(
                    f"{path}.components",
                    "A select menu must be alone in its action row.",
                    "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                )
            )
        for k, child in enumerate(children):
            problems += _check_component(child, f"{path}.components.{k}", custom_ids)
    elif ctype == 2:  # button
        problems += _too_long(f"{path}.label", comp.get("label"), LIMIT_BUTTON_LABEL)
        style = comp.get("style")
        if style == 5:
            if not comp.get("url"):
                problems.append(Problem(f"{path}.url", "A link button needs a url.", "BASE_TYPE_REQUIRED"))
            if custom_id is not None:
                problems.append(
                    Problem(
                        f"{path}.custom_id",
                        "A link button cannot have a custom_id.",
                        "BUTTON_COMPONENT_CUSTOM_ID_FORBIDDEN",
                    )
                )
        elif style != 6 and not custom_id:
            problems.append(Problem(f"{path}.custom_id", "A button needs a custom_id.", "BASE_TYPE_REQUIRED"))
    elif ctype in (3, 5, 6, 7, 8):  # selects
        if not custom_id:
            problems.append(
                Problem(f"{path}.custom_id", "A select menu needs a custom_id.", "BASE_TYPE_REQUIRED")
            )
        problems += _too_long(f"{path}.placeholder", comp.get("placeholder"), LIMIT_SELECT_PLACEHOLDER)
        for key in ("min_values", "max_values"):
            value = comp.get(key)
            if isinstance(value, int) and not 0 <= value <= LIMIT_SELECT_OPTIONS:
                problems.append(
                    Problem(
                        f"{path}.{key}", f"Must be between 0 and {LIMIT_SELECT_OPTIONS}.", "NUMBER_TYPE_MAX"
                    )
                )
        if ctype == 3:
            options = comp.get("options") or []
            if not options:
                problems.append(
                    Problem(
                        f"{path}.options",
                        "A string select needs at least one option.",
                        "BASE_TYPE_MIN_LENGTH",
                    )
                )
            if len(options) > LIMIT_SELECT_OPTIONS:
                problems.append(
                    Problem(
                        f"{path}.options",
                        f"Must be {LIMIT_SELECT_OPTIONS} or fewer in length (got {len(options)}).",
                    )
                )
            for k, option in enumerate(options):
                for key in ("label", "value", "description"):
                    problems += _too_long(
                        f"{path}.options.{k}.{key}", option.get(key), LIMIT_SELECT_OPTION_TEXT
                    )
                problems += _blank(f"{path}.options.{k}.label", option.get("label"))
                problems += _blank(f"{path}.options.{k}.value", option.get("value"))
    elif ctype == 4:  # text input (modals)
        problems += _too_long(f"{path}.label", comp.get("label"), LIMIT_TEXT_INPUT_LABEL)
        problems += _too_long(f"{path}.value", comp.get("value"), 4000)
        problems += _too_long(f"{path}.placeholder", comp.get("placeholder"), 100)
    else:  # components v2 containers and friends: just walk their children
        for k, child in enumerate(comp.get("components") or []):
            problems += _check_component(child, f"{path}.components.{k}", custom_ids)
        accessory = comp.get("accessory")
        if accessory is not None:
            problems += _check_component(accessory, f"{path}.accessory", custom_ids)
    return problems


def check_components(components: Any, path: str = "components", *, v2: bool = False) -> list[Problem]:
    """Check message components: rows, buttons, selects, custom_id length and uniqueness."""
    if components is None:
        return []
    if not isinstance(components, list):
        return [Problem(path, "Must be a list.", "BASE_TYPE_BAD_TYPE")]
    problems: list[Problem] = []
    if not v2 and len(components) > LIMIT_ACTION_ROWS:
        problems.append(
            Problem(path, f"Must be {LIMIT_ACTION_ROWS} or fewer in length (got {len(components)}).")
        )
    custom_ids: set[str] = set()
    for i, comp in enumerate(components):
        if not v2 and isinstance(comp, dict) and comp.get("type") != 1:
            problems.append(
                Problem(f"{path}.{i}", "Top-level components must be action rows.", "COMPONENT_TYPE_INVALID")
            )
        problems += _check_component(comp, f"{path}.{i}", custom_ids)
    return problems


def check_allowed_mentions(payload: Mapping[str, Any], *, required: bool = True) -> list[Problem]:
    """``allowed_mentions`` must be present and must ping nobody.

    The bot sends every message with mentions disabled (``AllowedMentions.none()`` on the client),
    so feed text can never ping. discord.py then adds it to every message it creates and to every
    edit that sets ``content``; an edit that leaves the content alone cannot ping and may omit it,
    which is what ``required=False`` is for (the checker uses it for such edits).
    """
    mentions = payload.get("allowed_mentions")
    content = payload.get("content")
    if mentions is None:
        if required or (isinstance(content, str) and content):
            return [
                Problem(
                    "allowed_mentions",
                    "Missing: every message must be sent with mentions disabled "
                    "(allowed_mentions={'parse': []}).",
                    "ALLOWED_MENTIONS_REQUIRED",
                )
            ]
        return []
    if not isinstance(mentions, dict):
        return [Problem("allowed_mentions", "Must be an object.", "BASE_TYPE_BAD_TYPE")]
    problems: list[Problem] = []
    parse = mentions.get("parse") or []
    for kind in ("everyone", "roles", "users"):
        if kind in parse:
            problems.append(
                Problem(
                    "allowed_mentions.parse",
                    f"Allows pinging {kind}; mentions must be disabled.",
                    "ALLOWED_MENTIONS_PERMISSIVE",
                )
            )
    for kind in ("users", "roles"):
        if mentions.get(kind):
            problems.append(
                Problem(
                    f"allowed_mentions.{kind}",
                    f"Allows pinging specific {kind}; mentions must be disabled.",
                    "ALLOWED_MENTIONS_PERMISSIVE",
                )
            )
    if mentions.get("replied_user"):
        problems.append(
            Problem(
                "allowed_mentions.replied_user",
                "Pings the replied-to user; mentions must be disabled.",
                "ALLOWED_MENTIONS_PERMISSIVE",
            )
        )
    return problems


def _is_empty_message(message: Mapping[str, Any]) -> bool:
    keys = ("embeds", "components", "attachments", "sticker_ids", "files", "poll")
    return not message.get("content") and not any(message.get(key) for key in keys)


def check_message_payload(payload: Mapping[str, Any], *, creating: bool = True) -> list[Problem]:
    """Check a message create/edit payload (channel message, callback data, followup, webhook edit)."""
    if not isinstance(payload, Mapping):
        return [Problem("", "The body must be a JSON object.", "BASE_TYPE_BAD_TYPE")]
    problems: list[Problem] = []
    content = payload.get("content")
    if content is not None and not isinstance(content, str):
        problems.append(Problem("content", "Must be a string.", "BASE_TYPE_BAD_TYPE"))
    problems += _too_long("content", content, LIMIT_CONTENT)
    problems += check_embeds(payload.get("embeds"))
    flags = payload.get("flags") or 0
    problems += check_components(
        payload.get("components"), v2=bool(isinstance(flags, int) and flags & FLAG_COMPONENTS_V2)
    )
    problems += check_allowed_mentions(payload, required=creating)
    nonce = payload.get("nonce")
    if nonce is not None:
        if isinstance(nonce, str) and len(nonce) > LIMIT_NONCE:
            problems.append(Problem("nonce", f"Must be {LIMIT_NONCE} or fewer in length (got {len(nonce)})."))
        elif not isinstance(nonce, (str, int)) or isinstance(nonce, bool):
            problems.append(Problem("nonce", "Must be a string or an integer.", "BASE_TYPE_BAD_TYPE"))
    if creating and _is_empty_message(payload):
        problems.append(Problem("", "Cannot send an empty message.", "EMPTY_MESSAGE"))
    return problems


def check_autocomplete_choices(choices: Any, path: str = "data.choices") -> list[Problem]:
    """Check an autocomplete answer: at most 25 choices, each name 1..100 and value <= 100 chars."""
    if not isinstance(choices, list):
        return [Problem(path, "Must be a list.", "BASE_TYPE_BAD_TYPE")]
    problems: list[Problem] = []
    if len(choices) > LIMIT_CHOICES:
        problems.append(Problem(path, f"Must be {LIMIT_CHOICES} or fewer in length (got {len(choices)})."))
    for i, choice in enumerate(choices):
        if not isinstance(choice, dict):
            problems.append(Problem(f"{path}.{i}", "Must be an object.", "BASE_TYPE_BAD_TYPE"))
            continue
        problems += _blank(f"{path}.{i}.name", choice.get("name"))
        problems += _too_long(f"{path}.{i}.name", choice.get("name"), LIMIT_CHOICE_NAME)
        problems += _too_long(f"{path}.{i}.value", choice.get("value"), LIMIT_CHOICE_VALUE)
        if "value" not in choice:
            problems.append(Problem(f"{path}.{i}.value", "This field is required.", "BASE_TYPE_REQUIRED"))
    return problems


def check_interaction_callback(body: Any, interaction_type: int) -> list[Problem]:
    """Check an interaction callback body against the interaction it answers."""
    if not isinstance(body, dict):
        return [Problem("", "The body must be a JSON object.", "BASE_TYPE_BAD_TYPE")]
    cb_type = body.get("type")
    data = body.get("data") or {}
    allowed = {
        IT_PING: {CB_PONG},
        IT_COMMAND: {CB_MESSAGE, CB_DEFERRED_MESSAGE, CB_MODAL},
        IT_COMPONENT: {CB_MESSAGE, CB_DEFERRED_MESSAGE, CB_DEFERRED_UPDATE, CB_UPDATE, CB_MODAL},
        IT_AUTOCOMPLETE: {CB_AUTOCOMPLETE},
        IT_MODAL_SUBMIT: {CB_MESSAGE, CB_DEFERRED_MESSAGE, CB_DEFERRED_UPDATE, CB_UPDATE},
    }.get(interaction_type, set())
    if cb_type not in allowed:
        return [
            Problem(
                "type",
                f"Callback type {cb_type} is not valid for interaction type {interaction_type}.",
                "INTERACTION_RESPONSE_TYPE_INVALID",
            )
        ]
    if cb_type == CB_MESSAGE:
        return [dataclasses.replace(p, field=_join("data", p.field)) for p in check_message_payload(data)]
    if cb_type == CB_UPDATE:
        return [
            dataclasses.replace(p, field=_join("data", p.field))
            for p in check_message_payload(data, creating=False)
        ]
    if cb_type == CB_AUTOCOMPLETE:
        return check_autocomplete_choices(data.get("choices"))
    if cb_type == CB_MODAL:
        problems = _too_long("data.title", data.get("title"), LIMIT_MODAL_TITLE)
        problems += _blank("data.title", data.get("title"))
        problems += _too_long("data.custom_id", data.get("custom_id"), LIMIT_CUSTOM_ID)
        rows = data.get("components") or []
        if not 1 <= len(rows) <= 5:
            problems.append(
                Problem("data.components", "A modal needs 1 to 5 components.", "BASE_TYPE_BAD_LENGTH")
            )
        problems += check_components(rows, "data.components", v2=True)
        return problems
    return []


def _command_chars(node: Mapping[str, Any]) -> int:
    total = len(_text(node.get("name"))) + len(_text(node.get("description")))
    for choice in node.get("choices") or []:
        total += len(_text(choice.get("name"))) + len(str(choice.get("value", "")))
    for option in node.get("options") or []:
        total += _command_chars(option)
    return total


def _check_options(options: Any, path: str, depth: int) -> list[Problem]:
    if not options:
        return []
    problems: list[Problem] = []
    if len(options) > LIMIT_COMMAND_OPTIONS:
        problems.append(
            Problem(path, f"Must be {LIMIT_COMMAND_OPTIONS} or fewer in length (got {len(options)}).")
        )
    seen_optional = False
    names: set[str] = set()
    for i, option in enumerate(options):
        here = f"{path}.{i}"
        name = option.get("name")
        if not isinstance(name, str) or not COMMAND_NAME_RE.match(name) or name != name.lower():
            problems.append(
                Problem(f"{here}.name", f"Invalid option name {name!r}.", "APPLICATION_COMMAND_INVALID_NAME")
            )
        if name in names:
            problems.append(
                Problem(
                    f"{here}.name",
                    f"Duplicate option name {name!r}.",
                    "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
                )
            )
        names.add(name)
        problems += _blank(f"{here}.description", option.get("description"))
        problems += _too_long(f"{here}.description", option.get("description"), LIMIT_COMMAND_DESCRIPTION)
        otype = option.get("type")
        if otype in (1, 2):
            if (otype == 2 and depth > 0) or depth > 1:
                problems.append(
                    Problem(
                        f"{here}.type",
                        "Subcommands nest at most two levels deep.",
                        "APPLICATION_COMMAND_OPTION_TYPE_INVALID",
                    )
                )
            problems += _check_options(option.get("options"), f"{here}.options", depth + 1)
            continue
        if option.get("required"):
            if seen_optional:
                problems.append(
                    Problem(
                        f"{here}.required",
                        "Required options must come before optional ones.",
                        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    )
                )
        else:
            seen_optional = True
        choices = option.get("choices") or []
        if len(choices) > LIMIT_CHOICES:
            problems.append(
                Problem(
                    f"{here}.choices", f"Must be {LIMIT_CHOICES} or fewer in length (got {len(choices)})."
                )
            )
        if choices and option.get("autocomplete"):
            problems.append(
                Problem(
                    f"{here}.autocomplete",
                    "An option cannot have both choices and autocomplete.",
                    "APPLICATION_COMMAND_OPTION_AUTOCOMPLETE_CHOICES",
                )
            )
        for k, choice in enumerate(choices):
            problems += _too_long(f"{here}.choices.{k}.name", choice.get("name"), LIMIT_CHOICE_NAME)
            problems += _too_long(f"{here}.choices.{k}.value", choice.get("value"), LIMIT_CHOICE_VALUE)
    return problems


def check_command_payload(command: Any, path: str = "") -> list[Problem]:
    """Check one application command as sent to the command sync endpoints."""
    if not isinstance(command, dict):
        return [Problem(path, "Must be an object.", "BASE_TYPE_BAD_TYPE")]
    problems: list[Problem] = []
    name = command.get("name")
    ctype = command.get("type", 1)
    if ctype == 1:
        if not isinstance(name, str) or not COMMAND_NAME_RE.match(name) or name != name.lower():
            problems.append(
                Problem(
                    _join(path, "name"), f"Invalid command name {name!r}.", "APPLICATION_COMMAND_INVALID_NAME"
                )
            )
        problems += _blank(_join(path, "description"), command.get("description"))
        problems += _too_long(
            _join(path, "description"), command.get("description"), LIMIT_COMMAND_DESCRIPTION
        )
    else:
        problems += _blank(_join(path, "name"), name)
        problems += _too_long(_join(path, "name"), name, LIMIT_COMMAND_NAME)
    problems += _check_options(command.get("options"), _join(path, "options"), 0)
    total = _command_chars(command)
    if total > LIMIT_COMMAND_TOTAL_CHARS:
        problems.append(
            Problem(
                path or "",
                f"Command is too large: {total} characters across names, descriptions and choices "
                f"(max {LIMIT_COMMAND_TOTAL_CHARS}).",
                "APPLICATION_COMMAND_TOO_LARGE",
            )
        )
    return problems


def _join(prefix: str, rest: str) -> str:
    return ".".join(part for part in (prefix, rest) if part)


def _errors_tree(problems: Iterable[Problem]) -> dict[str, Any]:
    """Nest problems the way Discord reports form errors.

    ``{"embeds": {"0": {"title": {"_errors": [{"code": ..., "message": ...}]}}}}``
    """
    tree: dict[str, Any] = {}
    for problem in problems:
        node = tree
        for part in [p for p in problem.field.split(".") if p]:
            node = node.setdefault(part, {})
        node.setdefault("_errors", []).append({"code": problem.code, "message": problem.message})
    return tree


# --------------------------------------------------------------------------------------------------
# Configuration and records.
# --------------------------------------------------------------------------------------------------


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


@dataclass
class Violation:
    """Something the bot did that real Discord would reject or that breaks a rule of the brief."""

    kind: str
    message: str
    method: str = ""
    path: str = ""
    field: str = ""
    time: float = dataclasses.field(default_factory=time.time)

    def __str__(self) -> str:
        where = f" [{self.method} {self.path}]" if self.method else ""
        at = f" {self.field}:" if self.field else ""
        return f"{self.kind}{where}{at} {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class Fault:
    """A scripted failure: answer ``status`` to the next ``remaining`` matching requests.

    ``skip`` lets that many matching requests through first (so a test can aim at the 4th post of
    a digest); ``seen`` counts the matching requests so far, ``hits`` those the fault answered.
    ``hold`` withholds the answer: ``True`` until :meth:`DiscordDouble.release_held` or until the
    client goes away, a number for that many seconds at most. A 2xx ``status`` with a hold does
    not fail the request: the double performs it (the message is created, its nonce registered)
    and only the answer is late -- a client killed meanwhile never learns that its message exists.
    """

    status: int
    path: str = "*"
    method: str | None = None
    channel_id: int | None = None
    remaining: int | None = 1
    retry_after: float = 1.0
    is_global: bool = False
    code: int | None = None
    message: str | None = None
    hits: int = 0
    skip: int = 0
    seen: int = 0
    hold: bool | float = False

    @property
    def passes_through(self) -> bool:
        """Whether the request is performed (a held 2xx) rather than answered with an error."""
        return bool(self.hold) and 200 <= self.status < 300

    def matches(self, method: str, path: str) -> bool:
        if self.remaining is not None and self.remaining <= 0:
            return False
        if self.method is not None and self.method.upper() != method:
            return False
        if self.channel_id is not None:
            prefix = f"/channels/{self.channel_id}"
            if path != prefix and not path.startswith(prefix + "/"):
                return False
        return fnmatch.fnmatchcase(path, self.path)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class NoGatewayError(RuntimeError):
    """Raised when a test sends an interaction but no bot session is connected to the gateway."""


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


def _user_payload(user_id: int, username: str, *, bot: bool = False) -> dict[str, Any]:
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


# --------------------------------------------------------------------------------------------------
# Gateway sessions and interactions.
# --------------------------------------------------------------------------------------------------


@dataclass
class _Session:
    session_id: str
    token: str
    intents: int
    shard: tuple[int, int]
    identified_at: float
    ws: web.WebSocketResponse | None = None
    seq: int = 0
    events: deque[dict[str, Any]] = dataclasses.field(default_factory=lambda: deque(maxlen=2000))
    invalid: bool = False
    resumes: int = 0
    lock: asyncio.Lock = dataclasses.field(default_factory=asyncio.Lock)

    @property
    def connected(self) -> bool:
        return self.ws is not None and not self.ws.closed

    def covers(self, guild_id: int | None) -> bool:
        if guild_id is None:
            return self.shard[0] == 0
        return (guild_id >> 22) % self.shard[1] == self.shard[0]

    def to_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "intents": self.intents,
            "shard": list(self.shard),
            "connected": self.connected,
            "invalid": self.invalid,
            "seq": self.seq,
            "resumes": self.resumes,
        }


class InteractionHandle:
    """What a test holds after sending an interaction: await its callback, followups and edits."""

    def __init__(self, double: DiscordDouble, payload: dict[str, Any], label: str) -> None:
        self._double = double
        self.payload = payload
        self.label = label
        self.id = int(payload["id"])
        self.token: str = payload["token"]
        self.type: int = payload["type"]
        self.guild_id = int(payload["guild_id"]) if payload.get("guild_id") else None
        self.channel_id = int(payload["channel_id"]) if payload.get("channel_id") else None
        self.created_at = time.monotonic()
        self.callback: dict[str, Any] | None = None
        self.callback_latency: float | None = None
        self.expired = False
        self.original_message_id: int | None = None
        self.followup_ids: list[int] = []
        self.original_edits: list[dict[str, Any]] = []
        self.modal: dict[str, Any] | None = None
        self._deadline: asyncio.TimerHandle | None = None

    # -- state ------------------------------------------------------------------------------------
    @property
    def answered(self) -> bool:
        return self.callback is not None

    @property
    def callback_type(self) -> int | None:
        return None if self.callback is None else self.callback.get("type")

    @property
    def choices(self) -> list[dict[str, Any]] | None:
        """The autocomplete choices, once the bot answered with callback type 8."""
        if self.callback is None or self.callback.get("type") != CB_AUTOCOMPLETE:
            return None
        return (self.callback.get("data") or {}).get("choices")

    @property
    def original(self) -> dict[str, Any] | None:
        """The current state of ``@original`` (the response message, or the clicked message)."""
        if self.original_message_id is None:
            return None
        return self._double.message(self.original_message_id)

    @property
    def followups(self) -> list[dict[str, Any]]:
        found = (self._double.message(mid) for mid in self.followup_ids)
        return [m for m in found if m is not None]

    @property
    def ephemeral(self) -> bool:
        original = self.original
        return bool(original and original.get("flags", 0) & FLAG_EPHEMERAL)

    # -- waiting ----------------------------------------------------------------------------------
    async def response(self, timeout: float = 5.0) -> dict[str, Any]:
        """Wait for the interaction callback and return its body (``{"type": .., "data": ..}``)."""
        await self._double.wait_until(
            lambda: self.callback is not None or self.expired, timeout, f"a callback for {self.label}"
        )
        if self.callback is None:
            raise AssertionError(f"{self.label}: the application did not respond in time")
        return self.callback

    async def wait_choices(self, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Wait for an autocomplete answer and return its choices."""
        callback = await self.response(timeout)
        if callback.get("type") != CB_AUTOCOMPLETE:
            raise AssertionError(
                f"{self.label}: expected an autocomplete result, got callback type {callback.get('type')}"
            )
        return list((callback.get("data") or {}).get("choices") or [])

    async def wait_original(self, timeout: float = 5.0, *, loaded: bool = True) -> dict[str, Any]:
        """Wait until ``@original`` exists (and, with ``loaded``, is no longer "thinking")."""

        def ready() -> bool:
            message = self.original
            if message is None:
                return False
            return not loaded or not message.get("flags", 0) & FLAG_LOADING

        await self._double.wait_until(ready, timeout, f"the original response of {self.label}")
        message = self.original
        assert message is not None
        return message

    async def wait_followups(self, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Wait for at least ``count`` followup messages and return them all, oldest first."""
        await self._double.wait_until(
            lambda: len(self.followup_ids) >= count, timeout, f"{count} followup(s) of {self.label}"
        )
        return self.followups

    def messages(self) -> list[dict[str, Any]]:
        """The original response (if it is a message of its own) then the followups."""
        result = []
        original = self.original
        if original is not None and original.get("interaction_metadata", {}).get("id") == str(self.id):
            result.append(original)
        result += [m for m in self.followups if m["id"] != (original or {}).get("id")]
        return result

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "token": self.token,
            "type": self.type,
            "label": self.label,
            "guild_id": None if self.guild_id is None else str(self.guild_id),
            "channel_id": None if self.channel_id is None else str(self.channel_id),
            "callback": self.callback,
            "callback_latency": self.callback_latency,
            "expired": self.expired,
            "original": self.original,
            "followups": self.followups,
            "original_edits": self.original_edits,
            "modal": self.modal,
            "payload": self.payload,
        }


@dataclass
class _ApiRequest:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: Mapping[str, str]
    record: dict[str, Any]
    attachments: list[dict[str, Any]] = dataclasses.field(default_factory=list)


@dataclass
class _Held:
    """An answer the double withholds (see :attr:`Fault.hold`): released by setting ``release``."""

    record: dict[str, Any]
    release: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)


class _ApiError(Exception):
    """Raised by a route handler to answer with a Discord-style error."""

    def __init__(self, status: int, code: int, message: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.errors = status, code, message, errors

    def response(self) -> web.Response:
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = self.errors
        return _json_response(body, status=self.status)


def _json_response(
    data: Any,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    dumps: Callable[[Any], str] = json.dumps,
) -> web.Response:
    """A JSON response whose Content-Type is exactly ``application/json``, as Discord sends it.

    discord.py compares the header for equality; aiohttp's ``json_response`` appends a charset, which
    would make discord.py treat every body as text.
    """
    return web.Response(
        body=dumps(data).encode("utf-8"), status=status, headers=headers, content_type="application/json"
    )


def _response_json(response: web.StreamResponse) -> Any:
    """The JSON body of a response the double built (``None`` if it has none)."""
    body = response.body if isinstance(response, web.Response) else None
    if not isinstance(body, bytes) or not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def _public_message(message: Mapping[str, Any]) -> dict[str, Any]:
    """A stored message as Discord serves it when read back: without the ``nonce``.

    Discord echoes a nonce only in the create response and the ``MESSAGE_CREATE`` event, so a bot
    cannot find "its" message in the history by nonce; the double must not let it either.
    """
    return {k: v for k, v in message.items() if k != "nonce"}


def _not_found(what: str, code: int) -> _ApiError:
    return _ApiError(404, code, f"Unknown {what}")


_Handler = Callable[..., Awaitable[web.StreamResponse]]


# --------------------------------------------------------------------------------------------------
# The double.
# --------------------------------------------------------------------------------------------------


class DiscordDouble:
    """A fake Discord on 127.0.0.1: REST under ``/api/v10``, the gateway at ``/``, control at ``/_double``.

    Read state with :meth:`channel_messages`, :attr:`requests`, :attr:`violations`,
    :attr:`identifies`, :meth:`commands`, :meth:`nonces`, :meth:`held`; script failures with
    :meth:`inject_fault`, :meth:`hold_next_message`, :meth:`set_nonce_window` and
    :meth:`set_global_rate_limit`; drive the bot with :meth:`send_slash_command`,
    :meth:`send_autocomplete`, :meth:`send_component` and :meth:`send_modal_submit`.
    """

    def __init__(
        self,
        *,
        port: int = 0,
        guilds: Sequence[GuildSpec] | None = None,
        token: str | None = None,
        application_id: int = DEFAULT_BOT_ID,
        bot_name: str = "Paperboy",
        owner_id: int = DEFAULT_OWNER_ID,
        interaction_timeout: float = 3.0,
        heartbeat_interval_ms: int = 41_250,
        shards: int = 1,
        allow_privileged_intents: bool = False,
        state_file: str | os.PathLike[str] | None = None,
        nonce_window: float | None = None,
    ) -> None:
        self.host = HOST
        self._requested_port = port
        self.port = 0
        self.token = token
        self.application_id = application_id
        self.bot_user = _user_payload(application_id, bot_name, bot=True)
        self.bot_user.update({"verified": True, "mfa_enabled": False, "locale": "en-US"})
        self.owner_id = owner_id
        self.interaction_timeout = interaction_timeout
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.shards = shards
        self.allow_privileged_intents = allow_privileged_intents
        self.state_file = Path(state_file) if state_file else None
        self.nonce_window: float | None = None
        self.set_nonce_window(nonce_window)

        self.requests: list[dict[str, Any]] = []
        self.violations: list[Violation] = []
        self.unknown_routes: list[dict[str, Any]] = []
        self.identifies: list[dict[str, Any]] = []
        self.gateway_log: list[dict[str, Any]] = []
        self.interactions: dict[int, InteractionHandle] = {}
        self.faults: list[Fault] = []
        self.deleted_messages: list[dict[str, Any]] = []

        self._users: dict[int, dict[str, Any]] = {
            application_id: self.bot_user,
            owner_id: _user_payload(owner_id, "owner"),
        }
        self._guilds: dict[int, dict[str, Any]] = {}
        self._channels: dict[int, dict[str, Any]] = {}
        self._bot_permissions: dict[int, int] = {}
        self._messages: dict[int, dict[str, Any]] = {}
        self._channel_index: dict[int, list[int]] = {}
        # (channel id, nonce) -> (id of the message it created, wall-clock epoch seconds of that).
        # Wall clock, not monotonic: the state file carries these across restarts of the double.
        self._nonces: dict[tuple[int, str], tuple[int, float]] = {}
        self._held: list[_Held] = []
        self._thread_of_message: dict[int, int] = {}
        self._global_commands: list[dict[str, Any]] = []
        self._guild_commands: dict[int, list[dict[str, Any]]] = {}
        self._command_ids: dict[tuple[int, int, str], int] = {}
        self._sessions: list[_Session] = []
        self._sockets: set[web.WebSocketResponse] = set()
        self._closed_by_us: set[web.WebSocketResponse] = set()
        self._rate_limit: int | None = None
        self._rate_window: deque[float] = deque()
        self.rate_limited_count = 0
        self._last_snowflake = 0
        self._changed = asyncio.Event()
        self._started_at = time.monotonic()
        self._runner: web.AppRunner | None = None
        self._dirty = False
        self._saver: asyncio.Task[None] | None = None
        self._routes = self._route_table()

        for spec in guilds if guilds is not None else [GuildSpec.default()]:
            self._install_guild(spec)
        self._load_state()

    # -- lifecycle --------------------------------------------------------------------------------
    async def start(self) -> None:
        """Bind to 127.0.0.1 (the given port, or an ephemeral one) and serve."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._entry)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, HOST, self._requested_port)
        await site.start()
        server = site._server
        assert server is not None and server.sockets
        self.port = server.sockets[0].getsockname()[1]
        self._changed = asyncio.Event()
        if self.state_file is not None:
            self._saver = asyncio.create_task(self._save_loop())

    async def stop(self) -> None:
        """Close every gateway socket, stop serving and write the state file (if any)."""
        self.release_held()  # a held request would otherwise keep the server from shutting down
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                await self._close_ws(ws, code=1001, message=b"double stopping")
        for handle in self.interactions.values():
            if handle._deadline is not None:
                handle._deadline.cancel()
        if self._saver is not None:
            self._saver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._saver
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.save_state()

    async def __aenter__(self) -> DiscordDouble:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- addresses --------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def api_base(self) -> str:
        return f"{self.base_url}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://{HOST}:{self.port}/"

    @property
    def control_url(self) -> str:
        return f"{self.base_url}{CONTROL_PREFIX}"

    @property
    def guild_id(self) -> int:
        """The first configured guild."""
        return next(iter(self._guilds))

    @property
    def channel_id(self) -> int:
        """The first text channel of the first guild."""
        return self.text_channel_ids(self.guild_id)[0]

    def text_channel_ids(self, guild_id: int | None = None) -> list[int]:
        gid = self.guild_id if guild_id is None else guild_id
        chans = [
            c
            for c in self._channels.values()
            if c.get("guild_id") == str(gid) and c["type"] in (CT_TEXT, CT_NEWS)
        ]
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

    # -- snowflakes, change notification ---------------------------------------------------------
    def snowflake(self) -> int:
        """A new id that sorts after every id this double handed out before."""
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        self._last_snowflake = max(ms << 22, self._last_snowflake + 1)
        return self._last_snowflake

    def _bump(self) -> None:
        self._dirty = True
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    async def wait_until(
        self, predicate: Callable[[], bool], timeout: float = 5.0, what: str = "a condition"
    ) -> None:
        """Wait until ``predicate()`` holds, re-checking whenever the double records something."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            event = self._changed
            if predicate():
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"timed out after {timeout:.1f}s waiting for {what}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), min(remaining, 0.25))

    # -- guilds and channels ----------------------------------------------------------------------
    def _install_guild(self, spec: GuildSpec) -> None:
        self._guilds[spec.id] = {
            "id": spec.id,
            "name": spec.name,
            "member_count": spec.member_count,
            "owner_id": spec.owner_id,
            "locale": spec.locale,
        }
        self._users.setdefault(spec.owner_id, _user_payload(spec.owner_id, f"owner{spec.owner_id % 1000}"))
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
        channels = [
            copy.deepcopy(c)
            for c in self._channels.values()
            if c.get("guild_id") == str(guild_id) and c["type"] not in THREAD_TYPES
        ]
        threads = [
            copy.deepcopy(c)
            for c in self._channels.values()
            if c.get("guild_id") == str(guild_id) and c["type"] in THREAD_TYPES
        ]
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
            self._users[user_id] = _user_payload(user_id, f"user{user_id % 100000}")
        return self._users[user_id]

    async def add_guild(self, spec: GuildSpec) -> None:
        """Add a guild; a connected bot gets ``GUILD_CREATE`` as if it had just been invited."""
        self._install_guild(spec)
        await self._dispatch_guild_event("GUILD_CREATE", self._guild_payload(spec.id), spec.id)
        self._bump()

    async def remove_guild(self, guild_id: int) -> None:
        """Remove a guild (the bot was kicked); a connected bot gets ``GUILD_DELETE``."""
        self._guilds.pop(guild_id, None)
        for cid in [cid for cid, c in self._channels.items() if c.get("guild_id") == str(guild_id)]:
            del self._channels[cid]
        await self._dispatch_guild_event("GUILD_DELETE", {"id": str(guild_id)}, guild_id)
        self._bump()

    async def delete_channel(self, channel_id: int) -> None:
        """Delete a channel: later sends get 404 Unknown Channel, a connected bot gets ``CHANNEL_DELETE``."""
        chan = self._channels.pop(int(channel_id), None)
        if chan is not None:
            gid = int(chan["guild_id"])
            event = "THREAD_DELETE" if chan["type"] in THREAD_TYPES else "CHANNEL_DELETE"
            await self._dispatch_guild_event(event, chan, gid)
        self._bump()

    def set_bot_permissions(self, channel_id: int, permissions: int) -> None:
        """Change what the bot may do in a channel (e.g. drop SEND_MESSAGES to get 403 50013)."""
        self._bot_permissions[int(channel_id)] = permissions

    # -- reading recorded state -------------------------------------------------------------------
    def message(self, message_id: int) -> dict[str, Any] | None:
        """One stored message (a copy), or ``None`` (also for deleted messages)."""
        msg = self._messages.get(int(message_id))
        return None if msg is None else copy.deepcopy(msg)

    def channel_messages(
        self, channel_id: int, *, include_ephemeral: bool = False, include_threads: bool = False
    ) -> list[dict[str, Any]]:
        """Messages in a channel, oldest first. Ephemeral ones only on request.

        With ``include_threads``, each message that started a thread is followed by the thread's
        messages (each carrying the thread's id as ``channel_id``).
        """
        result: list[dict[str, Any]] = []
        for mid in self._channel_index.get(int(channel_id), []):
            msg = self._messages.get(mid)
            if msg is None:
                continue
            if not include_ephemeral and msg.get("flags", 0) & FLAG_EPHEMERAL:
                continue
            result.append(copy.deepcopy(msg))
            if include_threads and mid in self._thread_of_message:
                result += self.channel_messages(
                    self._thread_of_message[mid], include_ephemeral=include_ephemeral
                )
        return result

    def all_messages(self, *, include_ephemeral: bool = False) -> list[dict[str, Any]]:
        """Every stored message in every channel, by id (that is, by creation)."""
        msgs = [
            m for m in self._messages.values() if include_ephemeral or not m.get("flags", 0) & FLAG_EPHEMERAL
        ]
        return [copy.deepcopy(m) for m in sorted(msgs, key=lambda m: int(m["id"]))]

    def threads(self, parent_id: int | None = None) -> list[dict[str, Any]]:
        """Thread channels created through the API (optionally only those under ``parent_id``)."""
        found = [c for c in self._channels.values() if c["type"] in THREAD_TYPES]
        if parent_id is not None:
            found = [c for c in found if c.get("parent_id") == str(parent_id)]
        return [copy.deepcopy(c) for c in sorted(found, key=lambda c: int(c["id"]))]

    def thread_for_message(self, message_id: int) -> dict[str, Any] | None:
        tid = self._thread_of_message.get(int(message_id))
        return None if tid is None else self.channel(tid)

    async def wait_for_messages(
        self, channel_id: int, count: int = 1, timeout: float = 5.0, **kwargs: bool
    ) -> list[dict[str, Any]]:
        """Wait until a channel holds at least ``count`` messages; return them all."""
        await self.wait_until(
            lambda: len(self.channel_messages(channel_id, **kwargs)) >= count,
            timeout,
            f"{count} message(s) in channel {channel_id}",
        )
        return self.channel_messages(channel_id, **kwargs)

    def requests_to(self, pattern: str, method: str | None = None) -> list[dict[str, Any]]:
        """Recorded API requests whose path (without ``/api/v10``) matches a glob.

        For example ``requests_to("/channels/*/messages", "POST")``.
        """
        return [
            r
            for r in self.requests
            if fnmatch.fnmatchcase(r["path"], pattern) and (method is None or r["method"] == method.upper())
        ]

    def commands(self, guild_id: int | None = None) -> list[dict[str, Any]]:
        """The synced application commands: global ones, or those of one guild."""
        source = self._global_commands if guild_id is None else self._guild_commands.get(int(guild_id), [])
        return copy.deepcopy(source)

    @property
    def last_intents(self) -> int | None:
        """The intents bitfield of the latest IDENTIFY (``None`` before the first)."""
        return self.identifies[-1].get("intents") if self.identifies else None

    @property
    def sessions(self) -> list[dict[str, Any]]:
        return [s.to_dict() for s in self._sessions]

    @property
    def connected(self) -> bool:
        """Whether a bot session is connected to the gateway right now."""
        return any(s.connected and not s.invalid for s in self._sessions)

    async def wait_for_gateway(self, timeout: float = 5.0) -> None:
        """Wait until a bot has identified (READY and the GUILD_CREATEs have been sent)."""
        await self.wait_until(lambda: self.connected, timeout, "a bot to connect to the gateway")

    def take_violations(self) -> list[Violation]:
        """Return the recorded violations and forget them (for tests that provoke them on purpose)."""
        taken, self.violations = self.violations, []
        return taken

    def assert_no_violations(self) -> None:
        if self.violations:
            lines = "\n".join(f"  - {v}" for v in self.violations)
            raise AssertionError(f"the Discord double recorded {len(self.violations)} violation(s):\n{lines}")

    async def settle(self, timeout: float | None = None) -> None:
        """Wait until every interaction sent so far is answered or past its deadline."""
        limit = (self.interaction_timeout + 1.0) if timeout is None else timeout
        with contextlib.suppress(TimeoutError):
            await self.wait_until(
                lambda: all(h.answered or h.expired for h in self.interactions.values()),
                limit,
                "interactions to settle",
            )

    def reset(self) -> None:
        """Forget requests, messages, violations, faults and interactions; keep guilds and commands."""
        self.requests.clear()
        self.violations.clear()
        self.unknown_routes.clear()
        self.faults.clear()
        self.deleted_messages.clear()
        for handle in self.interactions.values():
            if handle._deadline is not None:
                handle._deadline.cancel()
        self.interactions.clear()
        self.release_held()
        self._held.clear()
        self._messages.clear()
        self._nonces.clear()
        self._thread_of_message.clear()
        for cid in [cid for cid, c in self._channels.items() if c["type"] in THREAD_TYPES]:
            del self._channels[cid]
        self._channel_index = {cid: [] for cid in self._channels}
        self._rate_limit = None
        self._rate_window.clear()
        self.rate_limited_count = 0
        self._bump()

    def violate(
        self, kind: str, message: str, *, method: str = "", path: str = "", field: str = ""
    ) -> Violation:
        """Record a violation (the fixture fails the test at teardown if any is left)."""
        violation = Violation(kind, message, method, path, field)
        self.violations.append(violation)
        self._bump()
        return violation

    # -- fault injection --------------------------------------------------------------------------
    def inject_fault(
        self,
        path: str = "*",
        *,
        status: int,
        count: int | None = 1,
        method: str | None = None,
        channel_id: int | None = None,
        retry_after: float = 1.0,
        is_global: bool = False,
        code: int | None = None,
        message: str | None = None,
        skip: int = 0,
        hold: bool | float = False,
    ) -> Fault:
        """Answer ``status`` to the next ``count`` requests matching (``count=None``: until cleared).

        ``path`` is a glob on the API path without ``/api/v10`` (``/channels/*/messages``);
        ``channel_id`` narrows it to ``/channels/{id}`` and below. 429 carries ``Retry-After``, a JSON
        ``retry_after`` and ``global`` (``is_global``); 403 defaults to 50013 Missing Permissions (pass
        ``code=50001`` for Missing Access); 404 to 10003 Unknown Channel; 5xx to a bare server error.

        ``skip`` lets the first ``skip`` matching requests through untouched (other faults still
        apply to them). ``hold`` withholds the answer (``True``: until :meth:`release_held` or the
        client disconnects; seconds: at most that long); with a 2xx ``status`` the request itself is
        performed -- see :meth:`hold_next_message`, and :meth:`held`/:meth:`wait_held` to observe it.
        """
        if skip < 0:
            raise ValueError("skip must be 0 or more")
        if not isinstance(hold, bool) and hold < 0:
            raise ValueError("hold must be True, False or a number of seconds")
        fault = Fault(
            status=status,
            path=path,
            method=method.upper() if method else None,
            channel_id=None if channel_id is None else int(channel_id),
            remaining=count,
            retry_after=retry_after,
            is_global=is_global,
            code=code,
            message=message,
            skip=skip,
            hold=hold,
        )
        self.faults.append(fault)
        return fault

    def hold_next_message(
        self,
        channel_id: int | None = None,
        *,
        skip: int = 0,
        count: int | None = 1,
        seconds: float | None = None,
    ) -> Fault:
        """Create the next channel message(s) but hold the answer to the ``POST``.

        The message is stored (listings and :meth:`channel_messages` show it, a ``MESSAGE_CREATE``
        goes out, its nonce is registered), yet the HTTP request is left unanswered until
        :meth:`release_held`, for ``seconds`` if given, or until the client disconnects -- so a test
        can kill the bot while Discord "has" the message and the bot has no id for it. ``skip`` lets
        that many matching posts through first (``skip=3`` holds the 4th); ``channel_id`` (a thread
        id works too) narrows it to one channel. The request record gets ``outcome: "held"``.
        """
        return self.inject_fault(
            "/channels/*/messages",
            status=200,
            method="POST",
            channel_id=channel_id,
            count=count,
            skip=skip,
            hold=True if seconds is None else float(seconds),
        )

    def held(self) -> list[dict[str, Any]]:
        """Records of every request whose answer was held, oldest first.

        Each has ``outcome: "held"`` and ``hold``: ``"holding"`` (still unanswered), ``"answered"``
        (released or timed out) or ``"disconnected"`` (the client went away first, e.g. was killed);
        ``held_status``, ``held_outcome`` and ``held_response`` say what the answer is or was.
        """
        return [h.record for h in self._held]

    def release_held(self, count: int | None = None) -> int:
        """Send the answers still held (the oldest ``count`` of them; all by default); how many."""
        waiting = [h for h in self._held if h.record.get("hold") == "holding" and not h.release.is_set()]
        for held in waiting if count is None else waiting[:count]:
            held.release.set()
        return len(waiting) if count is None else min(count, len(waiting))

    async def wait_held(self, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Wait until at least ``count`` answers have been held (now or before); return the records."""
        await self.wait_until(lambda: len(self._held) >= count, timeout, f"{count} held answer(s)")
        return self.held()

    async def _hold(
        self, request: web.Request, record: dict[str, Any], fault: Fault, response: web.StreamResponse
    ) -> None:
        """Keep ``response`` back as ``fault.hold`` says, noting in ``record`` how the hold ends."""
        held = _Held(record)
        record["held_outcome"] = record["outcome"]
        record["held_status"] = response.status
        record["held_response"] = _response_json(response)
        record["outcome"] = "held"
        record["hold"] = "holding"
        self._held.append(held)
        self._bump()
        loop = asyncio.get_running_loop()
        deadline = None if isinstance(fault.hold, bool) else loop.time() + float(fault.hold)
        try:
            # Polled, not awaited once: aiohttp does not cancel a handler whose client went away.
            while not held.release.is_set():
                transport = request.transport
                if transport is None or transport.is_closing():
                    record["hold"] = "disconnected"
                    return
                step = 0.05 if deadline is None else min(0.05, deadline - loop.time())
                if step <= 0:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(held.release.wait(), step)
            record["hold"] = "answered"
        except asyncio.CancelledError:
            record["hold"] = "disconnected"
            raise
        finally:
            self._bump()

    def clear_faults(self) -> None:
        """Forget every fault; answers already held stay held (see :meth:`release_held`)."""
        self.faults.clear()

    # -- nonces -----------------------------------------------------------------------------------
    def set_nonce_window(self, seconds: float | None) -> None:
        """How long ``enforce_nonce`` deduplicates: ``None`` forever, else that many seconds.

        Discord checks a nonce "for uniqueness in the past few minutes": after that the same nonce
        creates a new message, which is why a bot resending long after a crash must look first.
        """
        if seconds is not None and (not math.isfinite(float(seconds)) or float(seconds) < 0):
            raise ValueError("the nonce window is a number of seconds (0 or more), or None")
        self.nonce_window = None if seconds is None else float(seconds)

    def nonces(self) -> list[dict[str, Any]]:
        """The registered nonces: channel, nonce, the message it created and when (epoch seconds)."""
        return [
            {
                "channel_id": str(cid),
                "nonce": nonce,
                "message_id": str(mid),
                "created": created,
                "live": self._nonce_live(created),
            }
            for (cid, nonce), (mid, created) in self._nonces.items()
        ]

    def age_nonces(self, seconds: float) -> None:
        """Pretend every registered nonce was created ``seconds`` earlier (to pass a window at once)."""
        self._nonces = {k: (mid, created - seconds) for k, (mid, created) in self._nonces.items()}
        self._bump()

    def _nonce_live(self, created: float) -> bool:
        return self.nonce_window is None or time.time() - created < self.nonce_window

    def _nonce_message(self, channel_id: int, nonce: str) -> dict[str, Any] | None:
        """The message a nonce created, if it still exists and the nonce is inside the window."""
        entry = self._nonces.get((channel_id, nonce))
        if entry is None or not self._nonce_live(entry[1]):
            return None
        return self._messages.get(entry[0])

    def set_global_rate_limit(self, per_second: int | None) -> None:
        """Allow at most ``per_second`` API requests in any 1 s window (``None`` lifts the limit).

        Interaction callbacks and webhook (followup) calls are exempt, as on Discord.
        """
        self._rate_limit = per_second
        self._rate_window.clear()

    def _fault_response(self, fault: Fault) -> web.Response:
        fault.hits += 1
        if fault.remaining is not None:
            fault.remaining -= 1
        if fault.status == 429:
            return self._rate_limited_response(
                fault.retry_after, fault.is_global, scope="user" if not fault.is_global else "global"
            )
        defaults = {
            403: (50013, "Missing Permissions"),
            404: (10003, "Unknown Channel"),
            400: (50035, "Invalid Form Body"),
            401: (0, "401: Unauthorized"),
        }
        code, message = defaults.get(fault.status, (0, f"{fault.status}: Server Error"))
        if fault.status == 403 and fault.code == 50001:
            message = "Missing Access"
        return _json_response(
            {"message": fault.message or message, "code": fault.code if fault.code is not None else code},
            status=fault.status,
        )

    @staticmethod
    def _rate_limited_response(retry_after: float, is_global: bool, scope: str) -> web.Response:
        retry_after = max(round(retry_after, 3), 0.001)
        headers = {
            "Retry-After": str(max(1, math.ceil(retry_after))),
            "X-RateLimit-Scope": scope,
            # discord.py treats a 429 without Via as a Cloudflare ban and does not retry.
            "Via": "1.1 google",
        }
        if is_global:
            headers["X-RateLimit-Global"] = "true"
        body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": is_global}
        if is_global:
            body["code"] = 0
        return _json_response(body, status=429, headers=headers)

    def _check_global_rate_limit(self, path: str) -> web.Response | None:
        if self._rate_limit is None or path.startswith(("/interactions/", "/webhooks/")):
            return None
        now = time.monotonic()
        window = self._rate_window
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) >= self._rate_limit:
            self.rate_limited_count += 1
            return self._rate_limited_response(window[0] + 1.0 - now, True, "global")
        window.append(now)
        return None

    # -- HTTP entry -------------------------------------------------------------------------------
    async def _entry(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        match = re.match(r"^/api/v(\d+)(/.*)?$", path)
        if match:
            return await self._api(request, match.group(2) or "/", int(match.group(1)))
        if path.startswith(CONTROL_PREFIX):
            return await self._control(request, path[len(CONTROL_PREFIX) :] or "/")
        if path in ("/", "/gateway", "/gateway/") and request.method == "GET":
            ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
            if ws.can_prepare(request).ok:
                return await self._gateway(request, ws)
            return _json_response({"double": "discord", **self.info()})
        return _json_response({"message": "404: Not Found", "code": 0}, status=404)

    async def _api(self, request: web.Request, path: str, version: int) -> web.StreamResponse:
        method = request.method.upper()
        body, attachments = await self._read_body(request)
        record = {
            "index": len(self.requests),
            "time": time.monotonic() - self._started_at,
            "wall": time.time(),
            "method": method,
            "path": path,
            "query": dict(request.query),
            "json": body,
            "status": None,
            "outcome": "ok",
        }
        if attachments:
            record["attachments"] = attachments
        self.requests.append(record)
        try:
            response, hold = await self._answer(request, method, path, version, body, attachments, record)
            if hold is not None:
                await self._hold(request, record, hold, response)
                if record["hold"] == "disconnected":
                    return response  # nobody to answer: the record keeps ``status: None``
            return self._finish(record, response)
        finally:
            self._bump()

    async def _answer(
        self,
        request: web.Request,
        method: str,
        path: str,
        version: int,
        body: Any,
        attachments: list[dict[str, Any]],
        record: dict[str, Any],
    ) -> tuple[web.StreamResponse, Fault | None]:
        """The answer to one API request, and the fault that says to hold it back (if any)."""
        hold: Fault | None = None
        try:
            if version != API_VERSION:
                self.violate(
                    "api_version",
                    f"request to API v{version}; the bot must use v{API_VERSION}",
                    method=method,
                    path=path,
                )
            limited = self._check_global_rate_limit(path)
            if limited is not None:
                record["outcome"] = "rate_limited"
                return limited, None
            for fault in self.faults:
                if not fault.matches(method, path):
                    continue
                fault.seen += 1
                if fault.seen <= fault.skip:
                    continue
                if fault.passes_through:  # performed as usual; only the answer is held
                    fault.hits += 1
                    if fault.remaining is not None:
                        fault.remaining -= 1
                    hold = fault
                    break
                record["outcome"] = "fault"
                return self._fault_response(fault), (fault if fault.hold else None)
            handler, params, known_path = self._resolve(method, path)
            if handler is None:
                record["outcome"] = "unknown_route" if not known_path else "method_not_allowed"
                self.unknown_routes.append(record)
                status = 405 if known_path else 404
                text = "405: Method Not Allowed" if known_path else "404: Not Found"
                return _json_response({"message": text, "code": 0}, status=status), hold
            if not path.startswith(("/interactions/", "/webhooks/")):
                auth = request.headers.get("Authorization", "")
                if not auth.startswith("Bot ") or (self.token is not None and auth != f"Bot {self.token}"):
                    record["outcome"] = "unauthorized"
                    return _json_response({"message": "401: Unauthorized", "code": 0}, status=401), hold
            api_request = _ApiRequest(
                method, path, dict(request.query), body, request.headers, record, attachments
            )
            return await handler(api_request, **params), hold
        except _ApiError as error:
            if record["outcome"] == "ok":
                record["outcome"] = "error"
            return error.response(), hold

    @staticmethod
    def _finish(record: dict[str, Any], response: web.StreamResponse) -> web.StreamResponse:
        record["status"] = response.status
        return response

    async def _read_body(self, request: web.Request) -> tuple[Any, list[dict[str, Any]]]:
        if not request.can_read_body:
            return None, []
        ctype = request.content_type
        if ctype.startswith("multipart/"):
            body: Any = None
            attachments: list[dict[str, Any]] = []
            reader = await request.multipart()
            while True:
                part = await reader.next()
                if part is None:
                    break
                if not isinstance(part, aiohttp.BodyPartReader):
                    continue
                data = await part.read(decode=False)
                if part.name == "payload_json":
                    body = json.loads(data.decode("utf-8"))
                elif part.filename is not None:
                    attachments.append(
                        {
                            "field": part.name,
                            "filename": part.filename,
                            "size": len(data),
                            "content_type": part.headers.get("Content-Type"),
                        }
                    )
            return body, attachments
        raw = await request.read()
        if not raw:
            return None, []
        try:
            return json.loads(raw), []
        except ValueError:
            return raw.decode("utf-8", "replace"), []

    def _resolve(self, method: str, path: str) -> tuple[_Handler | None, dict[str, str], bool]:
        known = False
        for route_method, pattern, handler in self._routes:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            known = True
            if route_method == method:
                return handler, match.groupdict(), True
        return None, {}, known

    def _route_table(self) -> list[tuple[str, re.Pattern[str], _Handler]]:
        app = r"(?P<app_id>\d+)"
        guild = r"(?P<guild_id>\d+)"
        chan = r"(?P<channel_id>\d+)"
        msg = r"(?P<message_id>\d+)"
        token = r"(?P<token>[^/]+)"
        table: list[tuple[str, str, _Handler]] = [
            ("GET", "/gateway/bot", self._get_gateway_bot),
            ("GET", "/gateway", self._get_gateway),
            ("GET", "/users/@me", self._get_me),
            ("GET", r"/users/(?P<user_id>\d+)", self._get_user),
            ("POST", "/users/@me/channels", self._create_dm),
            ("GET", "/oauth2/applications/@me", self._get_application),
            ("GET", "/applications/@me", self._get_application),
            ("GET", f"/applications/{app}/commands", self._list_commands),
            ("PUT", f"/applications/{app}/commands", self._put_commands),
            ("POST", f"/applications/{app}/commands", self._post_command),
            ("GET", f"/applications/{app}/commands/(?P<command_id>\\d+)", self._get_command),
            ("PATCH", f"/applications/{app}/commands/(?P<command_id>\\d+)", self._patch_command),
            ("DELETE", f"/applications/{app}/commands/(?P<command_id>\\d+)", self._delete_command),
            ("GET", f"/applications/{app}/guilds/{guild}/commands", self._list_commands),
            ("PUT", f"/applications/{app}/guilds/{guild}/commands", self._put_commands),
            ("POST", f"/applications/{app}/guilds/{guild}/commands", self._post_command),
            ("GET", f"/applications/{app}/guilds/{guild}/commands/(?P<command_id>\\d+)", self._get_command),
            (
                "PATCH",
                f"/applications/{app}/guilds/{guild}/commands/(?P<command_id>\\d+)",
                self._patch_command,
            ),
            (
                "DELETE",
                f"/applications/{app}/guilds/{guild}/commands/(?P<command_id>\\d+)",
                self._delete_command,
            ),
            ("GET", f"/guilds/{guild}", self._get_guild),
            ("GET", f"/guilds/{guild}/channels", self._get_guild_channels),
            ("GET", f"/channels/{chan}", self._get_channel),
            ("GET", f"/channels/{chan}/messages", self._list_messages),
            ("POST", f"/channels/{chan}/messages", self._post_message),
            ("GET", f"/channels/{chan}/messages/{msg}", self._get_message),
            ("PATCH", f"/channels/{chan}/messages/{msg}", self._patch_message),
            ("DELETE", f"/channels/{chan}/messages/{msg}", self._delete_message),
            ("POST", f"/channels/{chan}/messages/{msg}/threads", self._start_thread_from_message),
            ("POST", f"/channels/{chan}/threads", self._start_thread),
            ("POST", f"/channels/{chan}/typing", self._typing),
            ("POST", f"/interactions/(?P<interaction_id>\\d+)/{token}/callback", self._interaction_callback),
            ("GET", f"/webhooks/{app}/{token}/messages/(?P<message_id>@original|\\d+)", self._webhook_get),
            (
                "PATCH",
                f"/webhooks/{app}/{token}/messages/(?P<message_id>@original|\\d+)",
                self._webhook_patch,
            ),
            (
                "DELETE",
                f"/webhooks/{app}/{token}/messages/(?P<message_id>@original|\\d+)",
                self._webhook_delete,
            ),
            ("POST", f"/webhooks/{app}/{token}", self._webhook_post),
        ]
        return [(m, re.compile(p), h) for m, p, h in table]

    def _reject(self, req: _ApiRequest, problems: list[Problem], kind: str = "limit") -> _ApiError:
        """Record each problem as a violation and build the 400 Discord would answer."""
        req.record["outcome"] = "violation"
        for problem in problems:
            this_kind = kind
            if problem.code.startswith("ALLOWED_MENTIONS"):
                this_kind = "allowed_mentions"
            elif problem.code == "EMPTY_MESSAGE":
                this_kind = "empty_message"
            self.violate(this_kind, problem.message, method=req.method, path=req.path, field=problem.field)
        if len(problems) == 1 and problems[0].code == "EMPTY_MESSAGE":
            return _ApiError(400, 50006, "Cannot send an empty message")
        return _ApiError(400, 50035, "Invalid Form Body", _errors_tree(problems))

    # -- REST: identity ---------------------------------------------------------------------------
    async def _get_gateway_bot(self, req: _ApiRequest) -> web.Response:
        return _json_response(
            {
                "url": self.gateway_url,
                "shards": self.shards,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 14_400_000,
                    "max_concurrency": 1,
                },
            }
        )

    async def _get_gateway(self, req: _ApiRequest) -> web.Response:
        return _json_response({"url": self.gateway_url})

    async def _get_me(self, req: _ApiRequest) -> web.Response:
        return _json_response(self.bot_user)

    async def _create_dm(self, req: _ApiRequest) -> web.Response:
        """Open (or reopen) the DM channel with a user; its messages are kept like any channel's."""
        recipient = int((req.body or {}).get("recipient_id", 0))
        if recipient not in self._users:
            raise _not_found("User", 10013)
        for channel in self._channels.values():
            if channel["type"] == CT_DM and channel["recipients"][0]["id"] == str(recipient):
                return _json_response(channel)
        channel = {"id": str(self.snowflake()), "type": CT_DM, "last_message_id": None,
                   "recipients": [copy.deepcopy(self._user(recipient))]}
        self._channels[int(channel["id"])] = channel
        self._bot_permissions[int(channel["id"])] = DEFAULT_BOT_PERMISSIONS
        return _json_response(channel)

    def dm_messages(self, user_id: int) -> list[dict[str, Any]]:
        """Messages the bot sent to a user by DM, oldest first."""
        for channel in self._channels.values():
            if channel["type"] == CT_DM and channel["recipients"][0]["id"] == str(user_id):
                return self.channel_messages(int(channel["id"]))
        return []

    async def _get_user(self, req: _ApiRequest, user_id: str) -> web.Response:
        user = self._users.get(int(user_id))
        if user is None:
            raise _not_found("User", 10013)
        return _json_response(user)

    async def _get_application(self, req: _ApiRequest) -> web.Response:
        return _json_response(
            {
                "id": str(self.application_id),
                "name": self.bot_user["username"],
                "icon": None,
                "description": "Paperboy (test double)",
                "summary": "",
                "bot_public": True,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "flags": 0,
                "owner": self._users[self.owner_id],
                "team": None,
                "bot": self.bot_user,
                "redirect_uris": [],
                "interactions_endpoint_url": None,
                "tags": [],
                "approximate_guild_count": len(self._guilds),
            }
        )

    # -- REST: application commands ---------------------------------------------------------------
    def _check_app(self, app_id: str) -> None:
        if int(app_id) != self.application_id:
            raise _not_found("Application", 10002)

    def _command_list(self, guild_id: str | None) -> list[dict[str, Any]]:
        if guild_id is None:
            return self._global_commands
        gid = int(guild_id)
        if gid not in self._guilds:
            raise _ApiError(403, 50001, "Missing Access")
        return self._guild_commands.setdefault(gid, [])

    def _stored_command(
        self, payload: dict[str, Any], guild_id: str | None, existing: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        scope = 0 if guild_id is None else int(guild_id)
        ctype = payload.get("type", 1)
        key = (scope, ctype, payload.get("name", ""))
        if existing is not None:
            cmd_id = int(existing["id"])
        else:
            cmd_id = self._command_ids.get(key) or self.snowflake()
        self._command_ids[key] = cmd_id
        stored = {
            "id": str(cmd_id),
            "application_id": str(self.application_id),
            "version": str(self.snowflake()),
            "type": ctype,
            "name": payload.get("name"),
            "description": payload.get("description", ""),
            "options": copy.deepcopy(payload.get("options") or []),
            "default_member_permissions": payload.get("default_member_permissions"),
            "dm_permission": payload.get("dm_permission", True),
            "contexts": payload.get("contexts"),
            "integration_types": payload.get("integration_types", [0]),
            "nsfw": payload.get("nsfw", False),
            "name_localizations": payload.get("name_localizations"),
            "description_localizations": payload.get("description_localizations"),
        }
        if guild_id is not None:
            stored["guild_id"] = str(guild_id)
        return stored

    async def _list_commands(
        self, req: _ApiRequest, app_id: str, guild_id: str | None = None
    ) -> web.Response:
        self._check_app(app_id)
        return _json_response(self._command_list(guild_id))

    async def _put_commands(self, req: _ApiRequest, app_id: str, guild_id: str | None = None) -> web.Response:
        self._check_app(app_id)
        target = self._command_list(guild_id)
        payload = req.body
        if not isinstance(payload, list):
            raise self._reject(req, [Problem("", "Must be a list of commands.", "BASE_TYPE_BAD_TYPE")])
        problems: list[Problem] = []
        for i, command in enumerate(payload):
            problems += check_command_payload(command, str(i))
        if len(payload) > LIMIT_GLOBAL_COMMANDS:
            problems.append(
                Problem("", f"Must be {LIMIT_GLOBAL_COMMANDS} or fewer in length.", "BASE_TYPE_MAX_LENGTH")
            )
        names = [(c.get("type", 1), c.get("name")) for c in payload if isinstance(c, dict)]
        if len(names) != len(set(names)):
            problems.append(
                Problem(
                    "", "Application command names must be unique.", "APPLICATION_COMMANDS_DUPLICATE_NAME"
                )
            )
        if problems:
            raise self._reject(req, problems, "command")
        by_key = {(c["type"], c["name"]): c for c in target}
        new = [
            self._stored_command(c, guild_id, by_key.get((c.get("type", 1), c.get("name")))) for c in payload
        ]
        target[:] = new
        return _json_response(new)

    async def _post_command(self, req: _ApiRequest, app_id: str, guild_id: str | None = None) -> web.Response:
        self._check_app(app_id)
        target = self._command_list(guild_id)
        problems = check_command_payload(req.body)
        if problems:
            raise self._reject(req, problems, "command")
        key = (req.body.get("type", 1), req.body.get("name"))
        existing = next((c for c in target if (c["type"], c["name"]) == key), None)
        stored = self._stored_command(req.body, guild_id, existing)
        if existing is not None:
            target[target.index(existing)] = stored
            return _json_response(stored)
        target.append(stored)
        return _json_response(stored, status=201)

    def _find_command(
        self, app_id: str, guild_id: str | None, command_id: str
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        self._check_app(app_id)
        target = self._command_list(guild_id)
        for command in target:
            if command["id"] == command_id:
                return target, command
        raise _not_found("application command", 10063)

    async def _get_command(
        self, req: _ApiRequest, app_id: str, command_id: str, guild_id: str | None = None
    ) -> web.Response:
        return _json_response(self._find_command(app_id, guild_id, command_id)[1])

    async def _patch_command(
        self, req: _ApiRequest, app_id: str, command_id: str, guild_id: str | None = None
    ) -> web.Response:
        target, command = self._find_command(app_id, guild_id, command_id)
        merged = {**command, **(req.body or {})}
        problems = check_command_payload(merged)
        if problems:
            raise self._reject(req, problems, "command")
        stored = self._stored_command(merged, guild_id, command)
        target[target.index(command)] = stored
        return _json_response(stored)

    async def _delete_command(
        self, req: _ApiRequest, app_id: str, command_id: str, guild_id: str | None = None
    ) -> web.Response:
        target, command = self._find_command(app_id, guild_id, command_id)
        target.remove(command)
        return web.Response(status=204)

    # -- REST: guilds and channels ----------------------------------------------------------------
    async def _get_guild(self, req: _ApiRequest, guild_id: str) -> web.Response:
        if int(guild_id) not in self._guilds:
            raise _not_found("Guild", 10004)
        payload = self._guild_payload(int(guild_id))
        for key in (
            "channels",
            "threads",
            "members",
            "presences",
            "voice_states",
            "joined_at",
            "large",
            "member_count",
        ):
            payload.pop(key, None)
        return _json_response(payload)

    async def _get_guild_channels(self, req: _ApiRequest, guild_id: str) -> web.Response:
        if int(guild_id) not in self._guilds:
            raise _not_found("Guild", 10004)
        return _json_response(self._guild_payload(int(guild_id))["channels"])

    def _channel_or_404(self, channel_id: str | int) -> dict[str, Any]:
        chan = self._channels.get(int(channel_id))
        if chan is None:
            raise _not_found("Channel", 10003)
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
            raise _ApiError(403, 50001, "Missing Access")
        for bit in needed:
            if not perms & bit:
                raise _ApiError(403, 50013, "Missing Permissions")

    async def _get_channel(self, req: _ApiRequest, channel_id: str) -> web.Response:
        chan = self._channel_or_404(channel_id)
        self._require(chan)
        return _json_response(chan)

    async def _typing(self, req: _ApiRequest, channel_id: str) -> web.Response:
        self._require(self._channel_or_404(channel_id), Perm.SEND_MESSAGES)
        return web.Response(status=204)

    # -- REST: messages ---------------------------------------------------------------------------
    def _build_message(
        self,
        channel_id: int,
        payload: Mapping[str, Any],
        *,
        message_type: int = MT_DEFAULT,
        flags: int = 0,
        interaction: InteractionHandle | None = None,
        attachments: Sequence[Mapping[str, Any]] = (),
    ) -> dict[str, Any]:
        chan = self._channels.get(channel_id, {})
        mid = self.snowflake()
        message: dict[str, Any] = {
            "id": str(mid),
            "channel_id": str(channel_id),
            "author": copy.deepcopy(self.bot_user),
            "content": payload.get("content") or "",
            "timestamp": _now_iso(),
            "edited_timestamp": None,
            "tts": bool(payload.get("tts", False)),
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "mention_channels": [],
            "attachments": [self._attachment(a) for a in attachments],
            "embeds": copy.deepcopy(payload.get("embeds") or []),
            "reactions": [],
            "pinned": False,
            "type": message_type,
            "flags": int(payload.get("flags") or 0) | flags,
            "components": copy.deepcopy(payload.get("components") or []),
        }
        if chan.get("guild_id"):
            message["guild_id"] = chan["guild_id"]
        if payload.get("nonce") is not None:
            message["nonce"] = payload["nonce"]
        if payload.get("message_reference"):
            message["message_reference"] = copy.deepcopy(payload["message_reference"])
        if interaction is not None:
            message["webhook_id"] = str(self.application_id)
            message["application_id"] = str(self.application_id)
            user = interaction.payload.get("member", {}).get("user") or interaction.payload.get("user") or {}
            message["interaction_metadata"] = {
                "id": str(interaction.id),
                "type": interaction.type,
                "user": copy.deepcopy(user),
                "authorizing_integration_owners": interaction.payload.get(
                    "authorizing_integration_owners", {}
                ),
            }
        return message

    def _attachment(self, data: Mapping[str, Any]) -> dict[str, Any]:
        aid = self.snowflake()
        url = f"{self.base_url}/attachments/{aid}/{data.get('filename')}"
        return {
            "id": str(aid),
            "filename": data.get("filename"),
            "size": data.get("size", 0),
            "url": url,
            "proxy_url": url,
            "content_type": data.get("content_type"),
        }

    def _store_message(self, message: dict[str, Any]) -> dict[str, Any]:
        mid = int(message["id"])
        cid = int(message["channel_id"])
        self._messages[mid] = message
        self._channel_index.setdefault(cid, []).append(mid)
        chan = self._channels.get(cid)
        if chan is not None:
            chan["last_message_id"] = message["id"]
            if chan["type"] in THREAD_TYPES:
                chan["message_count"] = chan.get("message_count", 0) + 1
                chan["total_message_sent"] = chan.get("total_message_sent", 0) + 1
        return message

    def _apply_edit(
        self,
        message: dict[str, Any],
        payload: Mapping[str, Any],
        attachments: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        for key in ("content", "embeds", "components"):
            if key in payload:
                value = payload[key]
                message[key] = copy.deepcopy(value) if value is not None else ("" if key == "content" else [])
        if "flags" in payload and payload["flags"] is not None:
            keep = message.get("flags", 0) & FLAG_EPHEMERAL
            message["flags"] = int(payload["flags"]) | keep
        if "attachments" in payload:
            keep_ids = {str(a.get("id")) for a in payload.get("attachments") or [] if isinstance(a, dict)}
            message["attachments"] = [a for a in message.get("attachments", []) if a["id"] in keep_ids]
        message["attachments"] = message.get("attachments", []) + [self._attachment(a) for a in attachments]
        message["edited_timestamp"] = _now_iso()

    def _check_new_message(self, req: _ApiRequest, payload: Any, *, creating: bool = True) -> None:
        if not isinstance(payload, dict):
            raise self._reject(req, [Problem("", "The body must be a JSON object.", "BASE_TYPE_BAD_TYPE")])
        problems = check_message_payload(
            {**payload, "files": req.attachments} if req.attachments else payload, creating=creating
        )
        if len(req.attachments) > 10:
            problems.append(Problem("attachments", "Must be 10 or fewer in length.", "BASE_TYPE_MAX_LENGTH"))
        if sum(a["size"] for a in req.attachments) > ATTACHMENT_SIZE_LIMIT:
            problems.append(Problem("attachments", "Request entity too large.", "ENTITY_TOO_LARGE"))
        if problems:
            raise self._reject(req, problems)

    async def _post_message(self, req: _ApiRequest, channel_id: str) -> web.Response:
        chan = self._channel_or_404(channel_id)
        is_thread = chan["type"] in THREAD_TYPES
        self._require(chan, Perm.SEND_MESSAGES_IN_THREADS if is_thread else Perm.SEND_MESSAGES)
        if is_thread and chan.get("thread_metadata", {}).get("locked"):
            raise _ApiError(403, 50083, "Thread is archived")
        payload = req.body
        self._check_new_message(req, payload)
        cid = int(channel_id)
        nonce = payload.get("nonce")
        first = None if nonce is None else self._nonce_message(cid, str(nonce))
        if first is not None and payload.get("enforce_nonce"):
            req.record["outcome"] = "deduplicated"
            return _json_response(first)
        message = self._store_message(self._build_message(cid, payload, attachments=req.attachments))
        if nonce is not None and first is None:
            # A nonce past its window (or whose message was deleted) now names the new message.
            self._nonces[(cid, str(nonce))] = (int(message["id"]), time.time())
        await self._dispatch_message_event("MESSAGE_CREATE", message)
        return _json_response(message)

    async def _list_messages(self, req: _ApiRequest, channel_id: str) -> web.Response:
        """``GET /channels/{id}/messages``: newest first, as Discord pages it.

        ``before``: the ``limit`` newest messages older than the id; ``after``: the ``limit``
        messages right after the id (the oldest ones newer than it); ``around``: up to ``limit // 2``
        older ones and the rest from the id on (Discord takes only one of the three; given several,
        the double honours around, else after, and records a violation). ``limit`` is 1..100
        (default 50); outside that Discord answers 400. Without View Channel: 403 50001. Without Read
        Message History Discord answers 200 and an empty list ("no messages will be returned") -- not
        an error, so a bot that reads its way out of a crash must not take an empty page for "not
        sent". Like Discord's, the messages carry no ``nonce``.
        """
        chan = self._channel_or_404(channel_id)
        self._require(chan)
        query = req.query
        problems: list[Problem] = []
        limit = 50
        if "limit" in query:
            try:
                limit = int(query["limit"])
            except ValueError:
                problems.append(Problem("limit", "Value is not int.", "NUMBER_TYPE_COERCE"))
            else:
                if not 1 <= limit <= 100:
                    code = "NUMBER_TYPE_MIN" if limit < 1 else "NUMBER_TYPE_MAX"
                    problems.append(Problem("limit", "int value should be between 1 and 100.", code))
        anchors: dict[str, int] = {}
        for key in ("around", "before", "after"):
            if key in query:
                try:
                    anchors[key] = int(query[key])
                except ValueError:
                    problems.append(Problem(key, "Value is not snowflake.", "NUMBER_TYPE_COERCE"))
        if problems:
            raise self._reject(req, problems, "query")
        if len(anchors) > 1:
            # Discord answers, honouring one of them; which one is undocumented, so flag it.
            self.violate(
                "query",
                f"{sorted(anchors)} passed together; before, after and around are mutually exclusive",
                method=req.method,
                path=req.path,
            )
        if not self._can_read_history(chan):
            return _json_response([])
        msgs = [
            self._messages[m] for m in self._channel_index.get(int(channel_id), []) if m in self._messages
        ]
        msgs = sorted((m for m in msgs if not m.get("flags", 0) & FLAG_EPHEMERAL), key=lambda m: int(m["id"]))
        if "around" in anchors:
            older = [m for m in msgs if int(m["id"]) < anchors["around"]]
            rest = [m for m in msgs if int(m["id"]) >= anchors["around"]]
            page = older[max(0, len(older) - limit // 2) :] if limit // 2 else []
            page += rest[: limit - len(page)]
        elif "after" in anchors:
            page = [m for m in msgs if int(m["id"]) > anchors["after"]][:limit]
        elif "before" in anchors:
            older = [m for m in msgs if int(m["id"]) < anchors["before"]]
            page = older[max(0, len(older) - limit) :]
        else:
            page = msgs[max(0, len(msgs) - limit) :]
        return _json_response([_public_message(m) for m in reversed(page)])

    def _can_read_history(self, channel: dict[str, Any]) -> bool:
        try:
            self._require(channel, Perm.READ_MESSAGE_HISTORY)
        except _ApiError:
            return False
        return True

    def _message_in(self, channel_id: str, message_id: str) -> dict[str, Any]:
        self._channel_or_404(channel_id)
        message = self._messages.get(int(message_id))
        if message is None or message["channel_id"] != str(channel_id):
            raise _not_found("Message", 10008)
        return message

    async def _get_message(self, req: _ApiRequest, channel_id: str, message_id: str) -> web.Response:
        self._require(self._channel_or_404(channel_id), Perm.READ_MESSAGE_HISTORY)
        return _json_response(_public_message(self._message_in(channel_id, message_id)))

    async def _patch_message(self, req: _ApiRequest, channel_id: str, message_id: str) -> web.Response:
        message = self._message_in(channel_id, message_id)
        if message["author"]["id"] != str(self.application_id):
            raise _ApiError(403, 50005, "Cannot edit a message authored by another user")
        self._check_edit(req, message)
        self._apply_edit(message, req.body, req.attachments)
        await self._dispatch_message_event("MESSAGE_UPDATE", message)
        return _json_response(_public_message(message))

    def _check_edit(self, req: _ApiRequest, message: Mapping[str, Any]) -> None:
        self._check_new_message(req, req.body, creating=False)
        merged = copy.deepcopy(dict(message))
        self._apply_edit(merged, req.body, req.attachments)
        problems = check_embeds(merged.get("embeds"))
        if _is_empty_message(merged):
            problems.append(Problem("", "Cannot send an empty message.", "EMPTY_MESSAGE"))
        if problems:
            raise self._reject(req, problems)

    async def _delete_message(self, req: _ApiRequest, channel_id: str, message_id: str) -> web.Response:
        message = self._message_in(channel_id, message_id)
        if message["author"]["id"] != str(self.application_id):
            self._require(self._channel_or_404(channel_id), Perm.MANAGE_MESSAGES)
        self._forget_message(int(message_id))
        await self._dispatch_message_event(
            "MESSAGE_DELETE",
            {"id": message["id"], "channel_id": message["channel_id"], "guild_id": message.get("guild_id")},
        )
        return web.Response(status=204)

    def _forget_message(self, message_id: int) -> None:
        message = self._messages.pop(message_id, None)
        if message is None:
            return
        self.deleted_messages.append(message)
        index = self._channel_index.get(int(message["channel_id"]), [])
        if message_id in index:
            index.remove(message_id)

    # -- REST: threads ----------------------------------------------------------------------------
    def _new_thread(
        self, parent: dict[str, Any], thread_id: int, payload: Mapping[str, Any], thread_type: int
    ) -> dict[str, Any]:
        now = _now_iso()
        thread = {
            "id": str(thread_id),
            "guild_id": parent["guild_id"],
            "parent_id": parent["id"],
            "owner_id": str(self.application_id),
            "name": payload.get("name"),
            "type": thread_type,
            "last_message_id": None,
            "rate_limit_per_user": payload.get("rate_limit_per_user") or 0,
            "message_count": 0,
            "member_count": 1,
            "total_message_sent": 0,
            "flags": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": payload.get("auto_archive_duration") or 1440,
                "archive_timestamp": now,
                "locked": False,
                "invitable": payload.get("invitable", True),
                "create_timestamp": now,
            },
            "member": {
                "id": str(thread_id),
                "user_id": str(self.application_id),
                "join_timestamp": now,
                "flags": 0,
            },
        }
        self._channels[thread_id] = thread
        self._channel_index.setdefault(thread_id, [])
        return thread

    def _check_thread_payload(self, req: _ApiRequest) -> None:
        payload = req.body if isinstance(req.body, dict) else {}
        problems = _blank("name", payload.get("name")) + _too_long(
            "name", payload.get("name"), LIMIT_THREAD_NAME
        )
        duration = payload.get("auto_archive_duration")
        if duration is not None and duration not in (60, 1440, 4320, 10080):
            problems.append(
                Problem("auto_archive_duration", "Must be one of 60, 1440, 4320, 10080.", "BASE_TYPE_CHOICES")
            )
        if problems:
            raise self._reject(req, problems)

    async def _start_thread_from_message(
        self, req: _ApiRequest, channel_id: str, message_id: str
    ) -> web.Response:
        parent = self._channel_or_404(channel_id)
        if parent["type"] not in (CT_TEXT, CT_NEWS):
            raise _ApiError(400, 50024, "Cannot execute action on this channel type")
        self._require(parent, Perm.CREATE_PUBLIC_THREADS)
        message = self._message_in(channel_id, message_id)
        self._check_thread_payload(req)
        if int(message_id) in self._thread_of_message:
            raise _ApiError(400, 160004, "A thread has already been created for this message")
        # A thread started from a message shares the message's id.
        thread = self._new_thread(parent, int(message_id), req.body, CT_PUBLIC_THREAD)
        self._thread_of_message[int(message_id)] = int(message_id)
        message["thread"] = copy.deepcopy(thread)
        message["flags"] = message.get("flags", 0) | (1 << 5)  # HAS_THREAD
        await self._dispatch_guild_event(
            "THREAD_CREATE", {**thread, "newly_created": True}, int(parent["guild_id"])
        )
        return _json_response(thread, status=201)

    async def _start_thread(self, req: _ApiRequest, channel_id: str) -> web.Response:
        parent = self._channel_or_404(channel_id)
        if parent["type"] not in (CT_TEXT, CT_NEWS):
            raise _ApiError(400, 50024, "Cannot execute action on this channel type")
        body = req.body if isinstance(req.body, dict) else {}
        thread_type = int(body.get("type") or CT_PRIVATE_THREAD)
        self._require(
            parent,
            Perm.CREATE_PRIVATE_THREADS if thread_type == CT_PRIVATE_THREAD else Perm.CREATE_PUBLIC_THREADS,
        )
        self._check_thread_payload(req)
        thread = self._new_thread(parent, self.snowflake(), body, thread_type)
        await self._dispatch_guild_event(
            "THREAD_CREATE", {**thread, "newly_created": True}, int(parent["guild_id"])
        )
        return _json_response(thread, status=201)

    # -- REST: interactions -----------------------------------------------------------------------
    def _handle_for_token(self, token: str) -> InteractionHandle:
        for handle in self.interactions.values():
            if handle.token == token:
                return handle
        raise _not_found("Webhook", 10015)

    async def _interaction_callback(
        self, req: _ApiRequest, interaction_id: str, token: str
    ) -> web.StreamResponse:
        handle = self.interactions.get(int(interaction_id))
        if handle is None or handle.token != token:
            raise _not_found("interaction", 10062)
        if handle.callback is not None:
            self.violate("double_ack", "the interaction was answered twice", method=req.method, path=req.path)
            raise _ApiError(400, 40060, "Interaction has already been acknowledged.")
        if handle.expired:
            req.record["outcome"] = "late"
            raise _not_found("interaction", 10062)
        body = req.body if isinstance(req.body, dict) else {}
        problems = check_interaction_callback(body, handle.type)
        if req.attachments:
            problems = [p for p in problems if p.code != "EMPTY_MESSAGE"]
        if problems:
            raise self._reject(req, problems)
        handle.callback = copy.deepcopy(body)
        handle.callback_latency = time.monotonic() - handle.created_at
        if handle._deadline is not None:
            handle._deadline.cancel()
        cb_type = body.get("type")
        data = body.get("data") or {}
        message: dict[str, Any] | None = None
        if cb_type in (CB_MESSAGE, CB_DEFERRED_MESSAGE):
            flags = int(data.get("flags") or 0) & FLAG_EPHEMERAL
            if cb_type == CB_DEFERRED_MESSAGE:
                flags |= FLAG_LOADING
                data = {}
            message = self._build_message(
                handle.channel_id or 0,
                data,
                message_type=MT_CHAT_INPUT_COMMAND if handle.type == IT_COMMAND else MT_DEFAULT,
                flags=flags,
                interaction=handle,
                attachments=req.attachments,
            )
            self._store_message(message)
            handle.original_message_id = int(message["id"])
            await self._dispatch_message_event("MESSAGE_CREATE", message)
        elif cb_type == CB_UPDATE:
            message = self._messages.get(handle.original_message_id or 0)
            if message is not None:
                self._apply_edit(message, data, req.attachments)
                await self._dispatch_message_event("MESSAGE_UPDATE", message)
        elif cb_type == CB_MODAL:
            handle.modal = copy.deepcopy(data)
        if "with_response" not in req.query or req.query.get("with_response") in ("0", "false"):
            return web.Response(status=204)
        result: dict[str, Any] = {"interaction": {"id": str(handle.id), "type": handle.type}}
        if message is not None:
            result["interaction"].update(
                {
                    "response_message_id": message["id"],
                    "response_message_loading": bool(message["flags"] & FLAG_LOADING),
                    "response_message_ephemeral": bool(message["flags"] & FLAG_EPHEMERAL),
                }
            )
            result["resource"] = {"type": cb_type, "message": message}
        return _json_response(result)

    def _webhook_target(
        self, req: _ApiRequest, app_id: str, token: str, message_id: str
    ) -> tuple[InteractionHandle, dict[str, Any]]:
        method, path = req.method, req.path
        if int(app_id) != self.application_id:
            raise _not_found("Webhook", 10015)
        handle = self._handle_for_token(token)
        if handle.callback is None:
            self.violate(
                "followup_before_ack",
                f"{handle.label}: webhook call before the interaction was acknowledged",
                method=method,
                path=path,
            )
            raise _not_found("Webhook", 10015)
        if message_id == "@original":
            mid = handle.original_message_id
        else:
            mid = int(message_id)
            if mid not in handle.followup_ids and mid != handle.original_message_id:
                raise _not_found("Message", 10008)
        message = self._messages.get(mid or 0)
        if message is None:
            raise _not_found("Message", 10008)
        return handle, message

    async def _webhook_get(self, req: _ApiRequest, app_id: str, token: str, message_id: str) -> web.Response:
        return _json_response(_public_message(self._webhook_target(req, app_id, token, message_id)[1]))

    async def _webhook_patch(
        self, req: _ApiRequest, app_id: str, token: str, message_id: str
    ) -> web.Response:
        handle, message = self._webhook_target(req, app_id, token, message_id)
        if not isinstance(req.body, dict):
            raise self._reject(req, [Problem("", "The body must be a JSON object.", "BASE_TYPE_BAD_TYPE")])
        self._check_edit(req, {**message, "flags": message.get("flags", 0) & ~FLAG_LOADING})
        was_loading = message.get("flags", 0) & FLAG_LOADING
        self._apply_edit(message, req.body, req.attachments)
        message["flags"] = message.get("flags", 0) & ~FLAG_LOADING
        if was_loading:
            message["edited_timestamp"] = None
        if message_id == "@original":
            handle.original_edits.append(copy.deepcopy(req.body))
        await self._dispatch_message_event("MESSAGE_UPDATE", message)
        return _json_response(_public_message(message))

    async def _webhook_delete(
        self, req: _ApiRequest, app_id: str, token: str, message_id: str
    ) -> web.Response:
        _handle, message = self._webhook_target(req, app_id, token, message_id)
        self._forget_message(int(message["id"]))
        return web.Response(status=204)

    async def _webhook_post(self, req: _ApiRequest, app_id: str, token: str) -> web.Response:
        if int(app_id) != self.application_id:
            raise _not_found("Webhook", 10015)
        handle = self._handle_for_token(token)
        if handle.callback is None:
            self.violate(
                "followup_before_ack",
                f"{handle.label}: followup before the interaction was acknowledged",
                method=req.method,
                path=req.path,
            )
            raise _not_found("Webhook", 10015)
        self._check_new_message(req, req.body)
        payload = req.body
        original = self._messages.get(handle.original_message_id or 0)
        if (
            original is not None
            and original.get("flags", 0) & FLAG_LOADING
            and handle.callback_type == CB_DEFERRED_MESSAGE
        ):
            # Discord: the first followup after a "thinking" deferral replaces the thinking message.
            self._apply_edit(original, payload, req.attachments)
            original["flags"] = original.get("flags", 0) & ~FLAG_LOADING
            original["edited_timestamp"] = None
            message = original
            await self._dispatch_message_event("MESSAGE_UPDATE", message)
        else:
            flags = int(payload.get("flags") or 0) & FLAG_EPHEMERAL
            message = self._store_message(
                self._build_message(
                    handle.channel_id or 0,
                    payload,
                    flags=flags,
                    interaction=handle,
                    attachments=req.attachments,
                )
            )
            await self._dispatch_message_event("MESSAGE_CREATE", message)
        handle.followup_ids.append(int(message["id"]))
        if req.query.get("wait") in ("true", "True", "1"):
            return _json_response(message)
        return web.Response(status=204)

    # -- gateway ----------------------------------------------------------------------------------
    async def _gateway(self, request: web.Request, ws: web.WebSocketResponse) -> web.WebSocketResponse:
        await ws.prepare(request)
        self._sockets.add(ws)
        query = dict(request.query)
        self.gateway_log.append({"event": "connect", "query": query, "time": time.time()})
        session: _Session | None = None
        try:
            if query.get("encoding", "json") != "json":
                await self._close_ws(ws, code=4002, message=b"Only JSON encoding is supported by the double")
                return ws
            await ws.send_str(
                json.dumps(
                    {"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}, "s": None, "t": None}
                )
            )
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    continue
                try:
                    frame = json.loads(msg.data)
                except ValueError:
                    await self._close_ws(ws, code=4002, message=b"Decode error")
                    break
                op, data = frame.get("op"), frame.get("d")
                if op == 1:
                    await ws.send_str(json.dumps({"op": 11, "d": None, "s": None, "t": None}))
                elif op == 2:
                    session = await self._identify(ws, data or {})
                elif op == 6:
                    session = await self._resume(ws, data or {})
                else:
                    self.gateway_log.append({"event": "op", "op": op, "d": data, "time": time.time()})
        finally:
            self._sockets.discard(ws)
            closed_by_client = ws not in self._closed_by_us
            self._closed_by_us.discard(ws)
            if session is not None:
                if session.ws is ws:
                    session.ws = None
                # A client that closes with 1000/1001 ends its session (it cannot RESUME it).
                if closed_by_client and ws.close_code in (1000, 1001):
                    session.invalid = True
            self.gateway_log.append({"event": "disconnect", "code": ws.close_code, "time": time.time()})
            self._bump()
        return ws

    async def _close_ws(self, ws: web.WebSocketResponse, *, code: int, message: bytes = b"") -> None:
        """Close a gateway socket from our side (which does not end the session, unlike a client 1000)."""
        self._closed_by_us.add(ws)
        await ws.close(code=code, message=message)

    async def _identify(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> _Session | None:
        record = {k: v for k, v in data.items() if k != "token"}
        record["token"] = data.get("token")
        record["time"] = time.time()
        self.identifies.append(record)
        self._bump()
        token = data.get("token")
        if not token or (self.token is not None and token != self.token):
            await self._close_ws(ws, code=4004, message=b"Authentication failed.")
            return None
        intents = int(data.get("intents") or 0)
        if intents & PRIVILEGED_INTENTS and not self.allow_privileged_intents:
            self.violate(
                "intents",
                f"IDENTIFY asked for privileged intents ({intents & PRIVILEGED_INTENTS:#x}); "
                "the bot needs guilds only",
            )
            await self._close_ws(ws, code=4014, message=b"Disallowed intent(s).")
            return None
        shard_data = data.get("shard") or [0, 1]
        shard = (int(shard_data[0]), int(shard_data[1]))
        if not 0 <= shard[0] < shard[1]:
            await self._close_ws(ws, code=4010, message=b"Invalid shard.")
            return None
        session = _Session(secrets.token_hex(16), token, intents, shard, time.time(), ws=ws)
        self._sessions.append(session)
        guild_ids = [gid for gid in self._guilds if session.covers(gid)]
        ready = {
            "v": API_VERSION,
            "user": self.bot_user,
            "guilds": [{"id": str(gid), "unavailable": True} for gid in guild_ids],
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "shard": list(shard),
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
            "_trace": ["discord-double"],
        }
        await self._send_event(session, "READY", ready)
        for gid in guild_ids:
            await self._send_event(session, "GUILD_CREATE", self._guild_payload(gid))
        self._bump()
        return session

    async def _resume(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> _Session | None:
        session = next((s for s in self._sessions if s.session_id == data.get("session_id")), None)
        self.gateway_log.append(
            {
                "event": "resume",
                "session_id": data.get("session_id"),
                "seq": data.get("seq"),
                "time": time.time(),
            }
        )
        if session is None or session.invalid or session.token != data.get("token"):
            await ws.send_str(json.dumps({"op": 9, "d": False, "s": None, "t": None}))
            return None
        old = session.ws
        session.ws = ws
        if old is not None and old is not ws and not old.closed:
            await self._close_ws(old, code=4000)
        session.resumes += 1
        last = int(data.get("seq") or 0)
        async with session.lock:
            for event in list(session.events):
                if event["s"] > last:
                    await ws.send_str(json.dumps(event))
        await self._send_event(session, "RESUMED", {"_trace": ["discord-double"]})
        self._bump()
        return session

    async def _send_event(self, session: _Session, name: str, data: Any) -> None:
        async with session.lock:
            session.seq += 1
            frame = {"op": 0, "t": name, "s": session.seq, "d": data}
            session.events.append(frame)
            if session.connected:
                assert session.ws is not None
                with contextlib.suppress(ConnectionResetError, RuntimeError):
                    await session.ws.send_str(json.dumps(frame))

    def _session_for_guild(self, guild_id: int | None) -> _Session | None:
        candidates = [s for s in self._sessions if not s.invalid and s.covers(guild_id)]
        connected = [s for s in candidates if s.connected]
        pool = connected or candidates
        return max(pool, key=lambda s: s.identified_at) if pool else None

    async def _dispatch_guild_event(
        self, name: str, data: Any, guild_id: int | None, *, intent: int = INTENT_GUILDS
    ) -> bool:
        session = self._session_for_guild(guild_id)
        if session is None or not session.intents & intent:
            return False
        await self._send_event(session, name, data)
        return True

    async def _dispatch_message_event(self, name: str, message: Mapping[str, Any]) -> None:
        """MESSAGE_* events go only to sessions with the GUILD_MESSAGES intent (not ours: guilds only)."""
        if message.get("flags", 0) & FLAG_EPHEMERAL:
            return
        gid = int(message["guild_id"]) if message.get("guild_id") else None
        session = self._session_for_guild(gid)
        if session is not None and session.intents & INTENT_GUILD_MESSAGES:
            # Only MESSAGE_CREATE echoes the nonce, as on Discord.
            data = dict(message) if name == "MESSAGE_CREATE" else _public_message(message)
            await self._send_event(session, name, copy.deepcopy(data))

    async def gateway_reconnect(self) -> None:
        """Send RECONNECT (op 7) to every connected session; discord.py should RESUME."""
        for session in self._sessions:
            if session.connected:
                assert session.ws is not None
                await session.ws.send_str(json.dumps({"op": 7, "d": None, "s": None, "t": None}))

    async def gateway_invalidate(self, resumable: bool = False) -> None:
        """Send INVALID_SESSION (op 9) to every connected session."""
        for session in self._sessions:
            if session.connected:
                assert session.ws is not None
                if not resumable:
                    session.invalid = True
                await session.ws.send_str(json.dumps({"op": 9, "d": resumable, "s": None, "t": None}))

    async def gateway_drop(self, code: int = 4000) -> None:
        """Close every gateway socket with ``code`` (4000: resumable; discord.py reconnects)."""
        for ws in list(self._sockets):
            await self._close_ws(ws, code=code, message=b"dropped by the double")

    # -- interactions -----------------------------------------------------------------------------
    def _resolve_ids(self, guild_id: int | None, channel_id: int | None) -> tuple[int, int]:
        gid = self.guild_id if guild_id is None else int(guild_id)
        if gid not in self._guilds:
            raise ValueError(f"unknown guild {gid}")
        cid = self.text_channel_ids(gid)[0] if channel_id is None else int(channel_id)
        chan = self._channels.get(cid)
        if chan is None or chan.get("guild_id") != str(gid):
            raise ValueError(f"channel {cid} is not a channel of guild {gid}")
        return gid, cid

    def _base_interaction(
        self,
        itype: int,
        guild_id: int,
        channel_id: int,
        data: dict[str, Any],
        *,
        user_id: int | None,
        user_permissions: int,
        locale: str,
        app_permissions: int | None,
    ) -> dict[str, Any]:
        iid = self.snowflake()
        chan = copy.deepcopy(self._channels[channel_id])
        perms_channel = (
            int(chan["parent_id"]) if chan["type"] in THREAD_TYPES and chan.get("parent_id") else channel_id
        )
        bot_perms = (
            self._bot_permissions.get(perms_channel, DEFAULT_BOT_PERMISSIONS)
            if app_permissions is None
            else app_permissions
        )
        chan["permissions"] = str(int(user_permissions))
        return {
            "id": str(iid),
            "application_id": str(self.application_id),
            "type": itype,
            "data": data,
            "guild_id": str(guild_id),
            "guild": {"id": str(guild_id), "locale": self._guilds[guild_id]["locale"], "features": []},
            "channel_id": str(channel_id),
            "channel": chan,
            "member": self._member_payload(
                DEFAULT_USER_ID if user_id is None else int(user_id), permissions=int(user_permissions)
            ),
            "token": f"itok-{iid}-{secrets.token_urlsafe(24)}",
            "version": 1,
            "app_permissions": str(bot_perms),
            "locale": locale,
            "guild_locale": self._guilds[guild_id]["locale"],
            "entitlements": [],
            "entitlement_sku_ids": [],
            "authorizing_integration_owners": {"0": str(guild_id)},
            "context": 0,
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        }

    async def _send_interaction(self, payload: dict[str, Any], label: str) -> InteractionHandle:
        guild_id = int(payload["guild_id"]) if payload.get("guild_id") else None
        session = self._session_for_guild(guild_id)
        if session is None:
            raise NoGatewayError("no bot session is connected to the Discord double's gateway")
        handle = InteractionHandle(self, payload, label)
        self.interactions[handle.id] = handle
        loop = asyncio.get_running_loop()
        handle._deadline = loop.call_later(self.interaction_timeout, self._interaction_deadline, handle)
        await self._send_event(session, "INTERACTION_CREATE", payload)
        self._bump()
        return handle

    def _interaction_deadline(self, handle: InteractionHandle) -> None:
        if handle.callback is None:
            handle.expired = True
            self.violate(
                "no_response",
                f"application did not respond: {handle.label} was not answered within "
                f"{self.interaction_timeout:g}s (defer before any slow work)",
            )

    def _command_schema(self, root: str, guild_id: int) -> tuple[dict[str, Any] | None, int | None]:
        for command in self._guild_commands.get(guild_id, []):
            if command["name"] == root and command.get("type", 1) == 1:
                return command, guild_id
        for command in self._global_commands:
            if command["name"] == root and command.get("type", 1) == 1:
                return command, None
        return None, None

    def _command_data(
        self,
        guild_id: int,
        name: str,
        options: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None,
        focused: str | None,
        command_guild_id: int | bool | None,
    ) -> dict[str, Any]:
        parts = name.strip().lstrip("/").split()
        if not parts:
            raise ValueError("a command name is needed")
        schema, scope = self._command_schema(parts[0], guild_id)
        if command_guild_id is not False:  # explicit override: an id, or None for "global"
            scope = None if command_guild_id is None else int(command_guild_id)
        key = (scope or 0, 1, parts[0])
        cmd_id = int(schema["id"]) if schema else self._command_ids.setdefault(key, self.snowflake())
        resolved: dict[str, dict[str, Any]] = {}
        built = self._build_options(
            schema.get("options") if schema else None,
            parts[1:],
            options,
            focused,
            resolved,
            guild_id,
            check_required=focused is None,
        )
        data: dict[str, Any] = {"id": str(cmd_id), "name": parts[0], "type": 1}
        if built:
            data["options"] = built
        if scope is not None:
            data["guild_id"] = str(scope)
        if resolved:
            data["resolved"] = resolved
        return data

    def _build_options(
        self,
        schema: list[dict[str, Any]] | None,
        path: list[str],
        values: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None,
        focused: str | None,
        resolved: dict[str, dict[str, Any]],
        guild_id: int,
        *,
        check_required: bool,
    ) -> list[dict[str, Any]]:
        if path:
            head, rest = path[0], path[1:]
            sub = next((o for o in schema or [] if o.get("name") == head), None)
            if schema is not None and sub is None:
                raise ValueError(f"the synced command has no subcommand {head!r}")
            sub_type = sub["type"] if sub else (2 if rest else 1)
            inner = self._build_options(
                sub.get("options") if sub else None,
                rest,
                values,
                focused,
                resolved,
                guild_id,
                check_required=check_required,
            )
            return [{"type": sub_type, "name": head, "options": inner}]
        if values is None:
            values = {}
        if not isinstance(values, Mapping):
            return [dict(v) for v in values]
        known = {o["name"]: o for o in schema or [] if o.get("type") not in (1, 2)}
        if schema is not None:
            unknown = set(values) - set(known)
            if unknown:
                raise ValueError(f"the synced command has no option(s) {sorted(unknown)}")
            if check_required:
                missing = [n for n, o in known.items() if o.get("required") and n not in values]
                if missing:
                    raise ValueError(f"required option(s) {missing} missing")
        result = []
        for opt_name, value in values.items():
            spec = known.get(opt_name)
            otype = spec["type"] if spec else _infer_option_type(value)
            entry: dict[str, Any] = {"name": opt_name, "type": otype}
            if opt_name == focused:
                entry["value"] = value if isinstance(value, str) else str(value)
                entry["focused"] = True
            else:
                entry["value"] = self._option_value(otype, value, resolved, guild_id)
                choices = (spec or {}).get("choices")
                if choices and entry["value"] not in [c["value"] for c in choices]:
                    raise ValueError(f"{entry['value']!r} is not one of the choices of option {opt_name!r}")
            result.append(entry)
        return result

    def _option_value(
        self, otype: int, value: Any, resolved: dict[str, dict[str, Any]], guild_id: int
    ) -> Any:
        if otype == 4:
            return int(value)
        if otype == 10:
            return float(value)
        if otype == 5:
            return bool(value)
        if otype in (6, 7, 8, 9):
            snowflake = str(int(value))
            sid = int(snowflake)
            if otype == 7 or (otype == 9 and sid in self._channels):
                chan = self._channels.get(sid)
                if chan is None:
                    raise ValueError(f"unknown channel {sid}")
                entry = {
                    k: chan.get(k)
                    for k in ("id", "name", "type", "parent_id", "guild_id", "thread_metadata")
                    if k in chan
                }
                entry["permissions"] = str(DEFAULT_MEMBER_PERMISSIONS)
                resolved.setdefault("channels", {})[snowflake] = entry
            elif otype == 8 or (otype == 9 and sid == guild_id):
                role = (
                    self._guild_payload(guild_id)["roles"][0]
                    if sid == guild_id
                    else {
                        "id": snowflake,
                        "name": f"role{sid % 1000}",
                        "permissions": "0",
                        "position": 1,
                        "color": 0,
                        "hoist": False,
                        "managed": False,
                        "mentionable": True,
                        "flags": 0,
                    }
                )
                resolved.setdefault("roles", {})[snowflake] = role
            else:
                resolved.setdefault("users", {})[snowflake] = copy.deepcopy(self._user(sid))
                member = self._member_payload(sid, permissions=DEFAULT_MEMBER_PERMISSIONS)
                member.pop("user")
                resolved.setdefault("members", {})[snowflake] = member
            return snowflake
        return value

    async def send_slash_command(
        self,
        guild_id: int | None = None,
        channel_id: int | None = None,
        name: str = "",
        options: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
        *,
        user_permissions: int = DEFAULT_MEMBER_PERMISSIONS,
        user_id: int | None = None,
        locale: str = "en-US",
        app_permissions: int | None = None,
        command_guild_id: int | bool | None = False,
    ) -> InteractionHandle:
        """Send ``/name options`` as INTERACTION_CREATE (type 2) and return its handle.

        ``name`` is the full path, ``"paper show"`` or ``"subscribe add"``: groups and subcommands
        become nested options. ``options`` maps option names to values (channels, users and roles by
        id; they are added to ``resolved``); option types come from the synced commands when the bot
        synced them, else from the Python type. A list of raw option dicts is sent as is.
        ``command_guild_id`` overrides where the command is registered (default: where it was synced).
        """
        gid, cid = self._resolve_ids(guild_id, channel_id)
        data = self._command_data(gid, name, options, None, command_guild_id)
        payload = self._base_interaction(
            IT_COMMAND,
            gid,
            cid,
            data,
            user_id=user_id,
            user_permissions=user_permissions,
            locale=locale,
            app_permissions=app_permissions,
        )
        return await self._send_interaction(payload, f"/{name.strip().lstrip('/')}")

    async def send_autocomplete(
        self,
        guild_id: int | None = None,
        channel_id: int | None = None,
        name: str = "",
        options: Mapping[str, Any] | None = None,
        focused: str = "",
        *,
        user_permissions: int = DEFAULT_MEMBER_PERMISSIONS,
        user_id: int | None = None,
        locale: str = "en-US",
        command_guild_id: int | bool | None = False,
    ) -> InteractionHandle:
        """Send an autocomplete request (type 4) for option ``focused`` holding what the user typed."""
        gid, cid = self._resolve_ids(guild_id, channel_id)
        opts = dict(options or {})
        if not focused:
            if len(opts) != 1:
                raise ValueError("say which option is focused")
            focused = next(iter(opts))
        opts.setdefault(focused, "")
        data = self._command_data(gid, name, opts, focused, command_guild_id)
        payload = self._base_interaction(
            IT_AUTOCOMPLETE,
            gid,
            cid,
            data,
            user_id=user_id,
            user_permissions=user_permissions,
            locale=locale,
            app_permissions=None,
        )
        return await self._send_interaction(payload, f"autocomplete /{name.strip().lstrip('/')} {focused}")

    async def send_component(
        self,
        message_id: int,
        custom_id: str,
        values: Sequence[str] | None = None,
        *,
        user_permissions: int = DEFAULT_MEMBER_PERMISSIONS,
        user_id: int | None = None,
        locale: str = "en-US",
    ) -> InteractionHandle:
        """Click a button (or pick ``values`` in a select) on a stored message: INTERACTION_CREATE type 3."""
        message = self._messages.get(int(message_id))
        if message is None:
            raise ValueError(f"unknown message {message_id}")
        component = _find_component(message.get("components") or [], custom_id)
        if component is None:
            raise ValueError(f"message {message_id} has no component with custom_id {custom_id!r}")
        if component.get("disabled"):
            raise ValueError(f"component {custom_id!r} is disabled; a user cannot use it")
        cid = int(message["channel_id"])
        gid = int(message.get("guild_id") or self._channels[cid]["guild_id"])
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": component.get("type", 2)}
        if component.get("type") != 2:
            data["values"] = list(values or [])
        payload = self._base_interaction(
            IT_COMPONENT,
            gid,
            cid,
            data,
            user_id=user_id,
            user_permissions=user_permissions,
            locale=locale,
            app_permissions=None,
        )
        payload["message"] = copy.deepcopy(_public_message(message))
        handle = await self._send_interaction(payload, f"component {custom_id!r}")
        handle.original_message_id = int(message_id)
        return handle

    async def send_modal_submit(
        self,
        modal_from: InteractionHandle,
        values: Mapping[str, str],
        *,
        user_id: int | None = None,
        user_permissions: int = DEFAULT_MEMBER_PERMISSIONS,
    ) -> InteractionHandle:
        """Submit the modal the bot opened in answer to ``modal_from`` (type 5), filling ``values``."""
        modal = modal_from.modal
        if modal is None:
            raise ValueError(f"{modal_from.label} was not answered with a modal")
        rows = []
        for row in modal.get("components") or []:
            children = [c for c in row.get("components") or [] if c.get("type") == 4]
            if row.get("type") == 18 and row.get("component", {}).get("type") == 4:  # label wrapper
                children = [row["component"]]
            rows.append(
                {
                    "type": 1,
                    "components": [
                        {"type": 4, "custom_id": c["custom_id"], "value": values.get(c["custom_id"], "")}
                        for c in children
                    ],
                }
            )
        data = {"custom_id": modal.get("custom_id"), "components": rows}
        assert modal_from.guild_id is not None and modal_from.channel_id is not None
        payload = self._base_interaction(
            IT_MODAL_SUBMIT,
            modal_from.guild_id,
            modal_from.channel_id,
            data,
            user_id=user_id,
            user_permissions=user_permissions,
            locale="en-US",
            app_permissions=None,
        )
        return await self._send_interaction(payload, f"modal {modal.get('custom_id')!r}")

    # -- control API (for other processes) --------------------------------------------------------
    async def _control(self, request: web.Request, sub: str) -> web.StreamResponse:
        method = request.method.upper()
        body: dict[str, Any] = {}
        if request.can_read_body:
            raw = await request.read()
            body = json.loads(raw) if raw else {}
        query = request.query
        try:
            result = await self._control_dispatch(method, sub.rstrip("/") or "/", body, query)
        except (ValueError, KeyError, TypeError) as error:
            return _json_response({"error": f"{type(error).__name__}: {error}"}, status=400)
        except NoGatewayError as error:
            return _json_response({"error": str(error)}, status=409)
        except TimeoutError as error:
            return _json_response({"error": str(error)}, status=408)
        return _json_response(result, dumps=lambda obj: json.dumps(obj, default=str))

    async def _control_dispatch(
        self, method: str, sub: str, body: dict[str, Any], query: Mapping[str, str]
    ) -> Any:
        def opt_int(value: Any) -> int | None:
            return None if value in (None, "") else int(value)

        if (method, sub) == ("GET", "/info"):
            return self.info()
        if (method, sub) == ("GET", "/state"):
            return {
                **self.info(),
                "sessions": self.sessions,
                "identifies": len(self.identifies),
                "messages": len(self._messages),
                "requests": len(self.requests),
                "violations": len(self.violations),
                "rate_limited": self.rate_limited_count,
                "nonce_window": self.nonce_window,
                "holding": sum(1 for h in self._held if h.record.get("hold") == "holding"),
            }
        if (method, sub) == ("GET", "/requests"):
            since = int(query.get("since", "0"))
            return self.requests[since:]
        if (method, sub) == ("GET", "/messages"):
            include_ephemeral = query.get("include_ephemeral") in ("1", "true")
            include_threads = query.get("include_threads") in ("1", "true")
            if "channel_id" in query:
                return self.channel_messages(
                    int(query["channel_id"]),
                    include_ephemeral=include_ephemeral,
                    include_threads=include_threads,
                )
            return self.all_messages(include_ephemeral=include_ephemeral)
        if (method, sub) == ("GET", "/threads"):
            return self.threads(opt_int(query.get("parent_id")))
        if (method, sub) == ("GET", "/violations"):
            return [v.to_dict() for v in self.violations]
        if (method, sub) == ("POST", "/violations/take"):
            return [v.to_dict() for v in self.take_violations()]
        if (method, sub) == ("GET", "/identifies"):
            return self.identifies
        if (method, sub) == ("GET", "/commands"):
            return self.commands(opt_int(query.get("guild_id")))
        if (method, sub) == ("GET", "/unknown_routes"):
            return self.unknown_routes
        if (method, sub) == ("POST", "/faults"):
            fault = self.inject_fault(
                body.get("path", "*"),
                status=int(body["status"]),
                count=body.get("count", 1),
                method=body.get("method"),
                channel_id=opt_int(body.get("channel_id")),
                retry_after=float(body.get("retry_after", 1.0)),
                is_global=bool(body.get("global", False)),
                code=body.get("code"),
                message=body.get("message"),
                skip=int(body.get("skip") or 0),
                hold=_hold_value(body.get("hold")),
            )
            return fault.to_dict()
        if (method, sub) == ("POST", "/hold"):
            seconds = body.get("seconds")
            fault = self.hold_next_message(
                opt_int(body.get("channel_id")),
                skip=int(body.get("skip") or 0),
                count=body.get("count", 1),
                seconds=None if seconds is None else float(seconds),
            )
            return fault.to_dict()
        if (method, sub) == ("GET", "/held"):
            return self.held()
        if (method, sub) == ("POST", "/held/release"):
            return {"released": self.release_held(opt_int(body.get("count")))}
        if (method, sub) == ("GET", "/wait_held"):
            return await self.wait_held(int(query.get("count", "1")), float(query.get("timeout", "5")))
        if (method, sub) == ("GET", "/nonce_window"):
            return {"seconds": self.nonce_window}
        if (method, sub) == ("POST", "/nonce_window"):
            seconds = body.get("seconds")
            self.set_nonce_window(None if seconds is None else float(seconds))
            return {"seconds": self.nonce_window}
        if (method, sub) == ("GET", "/nonces"):
            return self.nonces()
        if (method, sub) == ("POST", "/nonces/age"):
            self.age_nonces(float(body["seconds"]))
            return {"ok": True}
        if (method, sub) == ("GET", "/faults"):
            return [f.to_dict() for f in self.faults]
        if (method, sub) == ("DELETE", "/faults"):
            self.clear_faults()
            return {"ok": True}
        if (method, sub) == ("POST", "/rate_limit"):
            self.set_global_rate_limit(opt_int(body.get("per_second")))
            return {"per_second": self._rate_limit}
        if (method, sub) == ("POST", "/permissions"):
            self.set_bot_permissions(int(body["channel_id"]), int(body["permissions"]))
            return {"ok": True}
        if (method, sub) == ("POST", "/reset"):
            self.reset()
            return {"ok": True}
        if (method, sub) == ("POST", "/save"):
            self.save_state()
            return {"ok": True, "state_file": str(self.state_file) if self.state_file else None}
        if (method, sub) == ("GET", "/wait_for_gateway"):
            await self.wait_for_gateway(float(query.get("timeout", "5")))
            return {"sessions": self.sessions}
        if (method, sub) == ("POST", "/gateway/reconnect"):
            await self.gateway_reconnect()
            return {"ok": True}
        if (method, sub) == ("POST", "/gateway/drop"):
            await self.gateway_drop(int(body.get("code", 4000)))
            return {"ok": True}
        if (method, sub) == ("POST", "/gateway/invalidate"):
            await self.gateway_invalidate(bool(body.get("resumable", False)))
            return {"ok": True}
        if (method, sub) == ("POST", "/channels/delete"):
            await self.delete_channel(int(body["channel_id"]))
            return {"ok": True}
        if (method, sub) == ("POST", "/interactions/slash"):
            handle = await self.send_slash_command(
                opt_int(body.get("guild_id")),
                opt_int(body.get("channel_id")),
                body["name"],
                body.get("options"),
                user_permissions=int(body.get("user_permissions", DEFAULT_MEMBER_PERMISSIONS)),
                user_id=opt_int(body.get("user_id")),
                locale=body.get("locale", "en-US"),
                app_permissions=opt_int(body.get("app_permissions")),
            )
            return handle.to_dict()
        if (method, sub) == ("POST", "/interactions/autocomplete"):
            handle = await self.send_autocomplete(
                opt_int(body.get("guild_id")),
                opt_int(body.get("channel_id")),
                body["name"],
                body.get("options"),
                body.get("focused", ""),
                user_permissions=int(body.get("user_permissions", DEFAULT_MEMBER_PERMISSIONS)),
                user_id=opt_int(body.get("user_id")),
            )
            return handle.to_dict()
        if (method, sub) == ("POST", "/interactions/component"):
            handle = await self.send_component(
                int(body["message_id"]),
                body["custom_id"],
                body.get("values"),
                user_permissions=int(body.get("user_permissions", DEFAULT_MEMBER_PERMISSIONS)),
                user_id=opt_int(body.get("user_id")),
            )
            return handle.to_dict()
        match = re.fullmatch(r"/interactions/(\d+)", sub)
        if match and method == "GET":
            handle = self.interactions.get(int(match.group(1)))
            if handle is None:
                raise KeyError(f"unknown interaction {match.group(1)}")
            return handle.to_dict()
        match = re.fullmatch(r"/interactions/(\d+)/modal", sub)
        if match and method == "POST":
            handle = self.interactions[int(match.group(1))]
            return (await self.send_modal_submit(handle, body.get("values") or {})).to_dict()
        if (method, sub) == ("GET", "/interactions"):
            return [h.to_dict() for h in self.interactions.values()]
        raise KeyError(f"no control route {method} {sub}")

    # -- state file -------------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """Everything recorded, as JSON-ready data (what the state file holds)."""
        return {
            "info": self.info() if self.port else None,
            "messages": list(self._messages.values()),
            "channel_index": {str(k): v for k, v in self._channel_index.items()},
            "threads": [c for c in self._channels.values() if c["type"] in THREAD_TYPES],
            "thread_of_message": {str(k): v for k, v in self._thread_of_message.items()},
            "nonces": [[cid, nonce, mid, created] for (cid, nonce), (mid, created) in self._nonces.items()],
            "deleted_messages": self.deleted_messages,
            "global_commands": self._global_commands,
            "guild_commands": {str(k): v for k, v in self._guild_commands.items()},
            "command_ids": [[s, t, n, i] for (s, t, n), i in self._command_ids.items()],
            "requests": self.requests,
            "violations": [v.to_dict() for v in self.violations],
            "identifies": self.identifies,
            "interactions": [h.to_dict() for h in self.interactions.values()],
            "last_snowflake": self._last_snowflake,
        }

    def save_state(self) -> None:
        """Write :meth:`snapshot` to the state file atomically (no-op without one)."""
        if self.state_file is None:
            return
        tmp = self.state_file.with_name(self.state_file.name + ".tmp")
        tmp.write_text(json.dumps(self.snapshot(), default=str))
        os.replace(tmp, self.state_file)
        self._dirty = False

    def _load_state(self) -> None:
        if self.state_file is None or not self.state_file.exists():
            return
        data = json.loads(self.state_file.read_text())
        for thread in data.get("threads", []):
            self._channels[int(thread["id"])] = thread
        self._messages = {int(m["id"]): m for m in data.get("messages", [])}
        for cid, ids in data.get("channel_index", {}).items():
            self._channel_index[int(cid)] = [int(i) for i in ids]
        self._thread_of_message = {int(k): int(v) for k, v in data.get("thread_of_message", {}).items()}
        self._nonces = {}
        for cid, nonce, mid, *created in data.get("nonces", []):
            # State files from before nonce times: the message id (a snowflake) says when it was made.
            when = float(created[0]) if created else ((int(mid) >> 22) + DISCORD_EPOCH_MS) / 1000
            self._nonces[(int(cid), str(nonce))] = (int(mid), when)
        self.deleted_messages = data.get("deleted_messages", [])
        self._global_commands = data.get("global_commands", [])
        self._guild_commands = {int(k): v for k, v in data.get("guild_commands", {}).items()}
        self._command_ids = {(int(s), int(t), n): int(i) for s, t, n, i in data.get("command_ids", [])}
        self.requests = data.get("requests", [])
        self.violations = [Violation(**v) for v in data.get("violations", [])]
        self.identifies = data.get("identifies", [])
        self._last_snowflake = int(data.get("last_snowflake", 0))

    async def _save_loop(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            if self._dirty:
                self.save_state()


def _hold_value(value: Any) -> bool | float:
    """``hold`` as the control API carries it: true/false, or seconds (null: no hold)."""
    if value is None or isinstance(value, bool):
        return bool(value)
    return float(value)


def _infer_option_type(value: Any) -> int:
    if isinstance(value, bool):
        return 5
    if isinstance(value, int):
        return 4
    if isinstance(value, float):
        return 10
    return 3


def _find_component(components: Iterable[Mapping[str, Any]], custom_id: str) -> Mapping[str, Any] | None:
    for comp in components:
        if comp.get("custom_id") == custom_id:
            return comp
        for key in ("components",):
            found = _find_component(comp.get(key) or [], custom_id)
            if found is not None:
                return found
        accessory = comp.get("accessory")
        if isinstance(accessory, Mapping) and accessory.get("custom_id") == custom_id:
            return accessory
    return None


@contextlib.asynccontextmanager
async def running_bot(client: Any, token: str = "test-token", *, timeout: float = 10.0) -> AsyncIterator[Any]:
    """Start a discord.py ``Client``/``Bot`` (already pointed at a double), wait for READY, close it after.

    Every wait is bounded, and a client that dies while starting re-raises its error instead of
    leaving the test waiting. Tip: build the client with ``guild_ready_timeout=0.1`` -- discord.py
    otherwise waits 2 s after the last GUILD_CREATE before it dispatches READY.
    """
    task = asyncio.create_task(client.start(token))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        while not client.is_ready():
            if task.done():
                task.result()  # re-raise why the client stopped
                raise RuntimeError("the client stopped before it became ready")
            if loop.time() > deadline:
                raise TimeoutError(f"the client did not become ready within {timeout:g}s")
            await asyncio.sleep(0.02)
        yield client
    finally:
        await asyncio.wait_for(client.close(), timeout)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout)


# --------------------------------------------------------------------------------------------------
# pytest fixture.
# --------------------------------------------------------------------------------------------------


@pytest_asyncio.fixture(name="discord_double")
async def discord_double_fixture() -> AsyncIterator[DiscordDouble]:
    """A started :class:`DiscordDouble` with discord.py pointed at it.

    At teardown it waits for open interactions to be answered or to time out, restores discord.py's
    endpoints, and fails the test if any violation is left (use ``take_violations()`` for the ones a
    test provokes on purpose). Register it in a test module with
    ``from tests.doubles.discord_double import discord_double_fixture  # noqa: F401``.
    """
    from bot.discord_side.endpoints import discord_endpoints, point_discord_at

    previous = discord_endpoints()
    double = DiscordDouble()
    await double.start()
    point_discord_at(double.api_base, double.gateway_url)
    try:
        yield double
        await double.settle()
    finally:
        point_discord_at(*previous)
        await double.stop()
    if double.violations:
        lines = "\n".join(f"  - {v}" for v in double.violations)
        pytest.fail(
            f"the Discord double recorded {len(double.violations)} violation(s):\n{lines}", pytrace=False
        )


# --------------------------------------------------------------------------------------------------
# Driving a double that runs in another process.
# --------------------------------------------------------------------------------------------------


class RemoteInteraction:
    """An interaction sent through a :class:`RemoteDouble`; polls the control API for its progress."""

    def __init__(self, remote: RemoteDouble, data: dict[str, Any]) -> None:
        self._remote = remote
        self.data = data
        self.id = int(data["id"])

    async def refresh(self) -> dict[str, Any]:
        self.data = await self._remote._call("GET", f"/interactions/{self.id}")
        return self.data

    async def _poll(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float, what: str
    ) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            data = await self.refresh()
            if predicate(data):
                return data
            if loop.time() >= deadline:
                raise TimeoutError(f"timed out after {timeout:.1f}s waiting for {what}")
            await asyncio.sleep(0.05)

    async def response(self, timeout: float = 5.0) -> dict[str, Any]:
        data = await self._poll(lambda d: d["callback"] is not None or d["expired"], timeout, "the callback")
        if data["callback"] is None:
            raise AssertionError(f"{data['label']}: the application did not respond in time")
        return data["callback"]

    async def wait_original(self, timeout: float = 5.0) -> dict[str, Any]:
        data = await self._poll(
            lambda d: d["original"] is not None and not d["original"].get("flags", 0) & FLAG_LOADING,
            timeout,
            "the original response",
        )
        return data["original"]

    async def wait_followups(self, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        data = await self._poll(lambda d: len(d["followups"]) >= count, timeout, f"{count} followup(s)")
        return data["followups"]


class RemoteDouble:
    """Async client for the control API of a double in another process (see ``--help``)."""

    def __init__(self, control_url: str, info: dict[str, Any] | None = None) -> None:
        self.control_url = control_url.rstrip("/")
        self.info = info or {}
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> RemoteDouble:
        if not self.info:
            self.info = await self._call("GET", "/info")
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def api_base(self) -> str:
        return self.info["api_base"]

    @property
    def gateway_url(self) -> str:
        return self.info["gateway_url"]

    @property
    def guild_id(self) -> int:
        return int(self.info["guild_id"])

    @property
    def channel_id(self) -> int:
        return int(self.info["channel_id"])

    async def _call(self, method: str, sub: str, body: Any = None, **query: Any) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        params = {
            k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in query.items() if v is not None
        }
        async with self._session.request(
            method, self.control_url + sub, json=body, params=params
        ) as response:
            data = await response.json()
            if response.status >= 400:
                raise RuntimeError(f"double control {method} {sub}: {response.status} {data.get('error')}")
            return data

    async def state(self) -> dict[str, Any]:
        return await self._call("GET", "/state")

    async def wait_for_gateway(self, timeout: float = 10.0) -> None:
        await self._call("GET", "/wait_for_gateway", timeout=timeout)

    async def requests(self, since: int = 0) -> list[dict[str, Any]]:
        return await self._call("GET", "/requests", since=since)

    async def channel_messages(
        self, channel_id: int, *, include_ephemeral: bool = False, include_threads: bool = False
    ) -> list[dict[str, Any]]:
        return await self._call(
            "GET",
            "/messages",
            channel_id=channel_id,
            include_ephemeral=include_ephemeral,
            include_threads=include_threads,
        )

    async def all_messages(self, *, include_ephemeral: bool = False) -> list[dict[str, Any]]:
        return await self._call("GET", "/messages", include_ephemeral=include_ephemeral)

    async def wait_for_messages(
        self, channel_id: int, count: int = 1, timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            messages = await self.channel_messages(channel_id)
            if len(messages) >= count:
                return messages
            if loop.time() >= deadline:
                raise TimeoutError(
                    f"timed out waiting for {count} message(s) in channel {channel_id}; have {len(messages)}"
                )
            await asyncio.sleep(0.05)

    async def threads(self, parent_id: int | None = None) -> list[dict[str, Any]]:
        return await self._call("GET", "/threads", parent_id=parent_id)

    async def violations(self) -> list[dict[str, Any]]:
        return await self._call("GET", "/violations")

    async def take_violations(self) -> list[dict[str, Any]]:
        return await self._call("POST", "/violations/take")

    async def identifies(self) -> list[dict[str, Any]]:
        return await self._call("GET", "/identifies")

    async def commands(self, guild_id: int | None = None) -> list[dict[str, Any]]:
        return await self._call("GET", "/commands", guild_id=guild_id)

    async def inject_fault(
        self,
        path: str = "*",
        *,
        status: int,
        count: int | None = 1,
        method: str | None = None,
        channel_id: int | None = None,
        retry_after: float = 1.0,
        is_global: bool = False,
        code: int | None = None,
        message: str | None = None,
        skip: int = 0,
        hold: bool | float = False,
    ) -> dict[str, Any]:
        body = {
            "path": path,
            "status": status,
            "count": count,
            "method": method,
            "channel_id": channel_id,
            "retry_after": retry_after,
            "global": is_global,
            "code": code,
            "message": message,
            "skip": skip,
            "hold": hold,
        }
        return await self._call("POST", "/faults", body)

    async def hold_next_message(
        self,
        channel_id: int | None = None,
        *,
        skip: int = 0,
        count: int | None = 1,
        seconds: float | None = None,
    ) -> dict[str, Any]:
        """See :meth:`DiscordDouble.hold_next_message`; returns the fault as a dict."""
        body = {"channel_id": channel_id, "skip": skip, "count": count, "seconds": seconds}
        return await self._call("POST", "/hold", body)

    async def held(self) -> list[dict[str, Any]]:
        return await self._call("GET", "/held")

    async def release_held(self, count: int | None = None) -> int:
        return int((await self._call("POST", "/held/release", {"count": count}))["released"])

    async def wait_held(self, count: int = 1, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Wait until the double has held at least ``count`` answers; their request records."""
        return await self._call("GET", "/wait_held", count=count, timeout=timeout)

    async def set_nonce_window(self, seconds: float | None) -> None:
        await self._call("POST", "/nonce_window", {"seconds": seconds})

    async def nonce_window(self) -> float | None:
        return (await self._call("GET", "/nonce_window"))["seconds"]

    async def nonces(self) -> list[dict[str, Any]]:
        return await self._call("GET", "/nonces")

    async def age_nonces(self, seconds: float) -> None:
        await self._call("POST", "/nonces/age", {"seconds": seconds})

    async def clear_faults(self) -> None:
        await self._call("DELETE", "/faults")

    async def set_global_rate_limit(self, per_second: int | None) -> None:
        await self._call("POST", "/rate_limit", {"per_second": per_second})

    async def set_bot_permissions(self, channel_id: int, permissions: int) -> None:
        await self._call("POST", "/permissions", {"channel_id": channel_id, "permissions": permissions})

    async def delete_channel(self, channel_id: int) -> None:
        await self._call("POST", "/channels/delete", {"channel_id": channel_id})

    async def reset(self) -> None:
        await self._call("POST", "/reset")

    async def save(self) -> None:
        await self._call("POST", "/save")

    async def gateway_reconnect(self) -> None:
        await self._call("POST", "/gateway/reconnect")

    async def gateway_drop(self, code: int = 4000) -> None:
        await self._call("POST", "/gateway/drop", {"code": code})

    async def send_slash_command(
        self,
        guild_id: int | None = None,
        channel_id: int | None = None,
        name: str = "",
        options: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
        *,
        user_permissions: int = DEFAULT_MEMBER_PERMISSIONS,
        user_id: int | None = None,
        locale: str = "en-US",
    ) -> RemoteInteraction:
        body = {
            "guild_id": guild_id,
            "channel_id": channel_id,
            "name": name,
            "options": options,
            "user_permissions": user_permissions,
            "user_id": user_id,
            "locale": locale,
        }
        return RemoteInteraction(self, await self._call("POST", "/interactions/slash", body))

    async def send_autocomplete(
        self,
        guild_id: int | None = None,
        channel_id: int | None = None,
        name: str = "",
        options: Mapping[str, Any] | None = None,
        focused: str = "",
        *,
        user_permissions: int = DEFAULT_MEMBER_PERMISSIONS,
        user_id: int | None = None,
    ) -> RemoteInteraction:
        body = {
            "guild_id": guild_id,
            "channel_id": channel_id,
            "name": name,
            "options": options,
            "focused": focused,
            "user_permissions": user_permissions,
            "user_id": user_id,
        }
        return RemoteInteraction(self, await self._call("POST", "/interactions/autocomplete", body))

    async def send_component(
        self,
        message_id: int,
        custom_id: str,
        values: Sequence[str] | None = None,
        *,
        user_permissions: int = DEFAULT_MEMBER_PERMISSIONS,
        user_id: int | None = None,
    ) -> RemoteInteraction:
        body = {
            "message_id": message_id,
            "custom_id": custom_id,
            "values": values,
            "user_permissions": user_permissions,
            "user_id": user_id,
        }
        return RemoteInteraction(self, await self._call("POST", "/interactions/component", body))


class DoubleProcess:
    """Run the double as ``python -m tests.doubles.discord_double`` and yield a :class:`RemoteDouble`.

    ``async with DoubleProcess(state_file=tmp_path / "discord.json") as remote: ...`` -- the process
    outlives any bot process the test kills, and stops (writing its state file) on exit.
    """

    def __init__(
        self,
        *,
        state_file: str | os.PathLike[str] | None = None,
        port: int = 0,
        extra_args: Sequence[str] = (),
        startup_timeout: float = 15.0,
        nonce_window: float | None = None,
    ) -> None:
        self.state_file = state_file
        self.nonce_window = nonce_window
        self.port = port
        self.extra_args = list(extra_args)
        self.startup_timeout = startup_timeout
        self.process: asyncio.subprocess.Process | None = None
        self.remote: RemoteDouble | None = None
        self._stderr: IO[bytes] | None = None

    async def __aenter__(self) -> RemoteDouble:
        args = [
            sys.executable,
            "-m",
            "tests.doubles.discord_double",
            "--port",
            str(self.port),
            *self.extra_args,
        ]
        if self.state_file is not None:
            args += ["--state-file", str(self.state_file)]
        if self.nonce_window is not None:
            args += ["--nonce-window", repr(float(self.nonce_window))]
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        }
        # stderr goes to a file, not a pipe: a pipe nobody reads would block the double once full.
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 -- closed in __aexit__
        self.process = await asyncio.create_subprocess_exec(
            *args, cwd=str(REPO_ROOT), env=env, stdout=asyncio.subprocess.PIPE, stderr=self._stderr
        )
        assert self.process.stdout is not None
        try:
            line = await asyncio.wait_for(self.process.stdout.readline(), self.startup_timeout)
        except TimeoutError:
            await self._terminate()
            raise TimeoutError(f"the Discord double did not start: {self.stderr_text()[-2000:]}") from None
        if not line:
            await self._terminate()
            raise RuntimeError(f"the Discord double did not start: {self.stderr_text()[-2000:]}")
        info = json.loads(line)
        self.remote = RemoteDouble(info["control_url"], info)
        return self.remote

    async def __aexit__(self, *exc: object) -> None:
        if self.remote is not None:
            await self.remote.close()
        await self._terminate()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def stderr_text(self) -> str:
        """What the double process wrote to stderr so far (tracebacks, for debugging a test)."""
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")

    async def _terminate(self) -> None:
        process = self.process
        if process is None or process.returncode is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 5.0)
        except TimeoutError:
            process.kill()
            await process.wait()


# --------------------------------------------------------------------------------------------------
# Standalone process.
# --------------------------------------------------------------------------------------------------


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.doubles.discord_double",
        description="Serve a fake Discord (REST /api/v10, gateway at /, control API at /_double) on "
        "127.0.0.1. Prints one JSON line with api_base, gateway_url, control_url and the ids once it "
        "listens.",
    )
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: pick a free one)")
    parser.add_argument(
        "--state-file", help="JSON file holding the recorded state; loaded at start, rewritten as it changes"
    )
    parser.add_argument("--ready-file", help="also write the startup JSON line to this file")
    parser.add_argument("--token", help="accept only this bot token (default: any)")
    parser.add_argument(
        "--interaction-timeout",
        type=float,
        default=3.0,
        help="seconds before an unanswered interaction is a violation",
    )
    parser.add_argument("--heartbeat-interval-ms", type=int, default=41_250)
    parser.add_argument("--shards", type=int, default=1, help="shard count announced by GET /gateway/bot")
    parser.add_argument(
        "--nonce-window",
        type=float,
        default=None,
        metavar="SECONDS",
        help="how long enforce_nonce deduplicates a repeated nonce (default: forever); Discord: minutes",
    )
    parser.add_argument(
        "--guild",
        action="append",
        default=[],
        metavar="ID:NAME",
        help="a guild (repeatable); without any, one default guild",
    )
    parser.add_argument(
        "--channel",
        action="append",
        default=[],
        metavar="GUILD_ID:CHANNEL_ID:NAME",
        help="a text channel of a --guild (repeatable)",
    )
    return parser.parse_args(argv)


def _guilds_from_args(args: argparse.Namespace) -> list[GuildSpec] | None:
    if not args.guild:
        return None
    guilds: dict[int, GuildSpec] = {}
    for item in args.guild:
        gid, _, name = item.partition(":")
        guilds[int(gid)] = GuildSpec(int(gid), name or f"guild {gid}")
    for item in args.channel:
        gid, cid, name = [*item.split(":", 2), "", ""][:3]
        spec = guilds[int(gid)]
        spec.channels.append(ChannelSpec(int(cid), name or f"channel-{cid}", position=len(spec.channels)))
    return list(guilds.values())


async def _serve(args: argparse.Namespace) -> None:
    double = DiscordDouble(
        port=args.port,
        guilds=_guilds_from_args(args),
        token=args.token,
        interaction_timeout=args.interaction_timeout,
        heartbeat_interval_ms=args.heartbeat_interval_ms,
        shards=args.shards,
        state_file=args.state_file,
        nonce_window=args.nonce_window,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with double:
        line = json.dumps(double.info())
        if args.ready_file:
            Path(args.ready_file).write_text(line + "\n")
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> None:
    asyncio.run(_serve(_parse_args(argv)))


if __name__ == "__main__":
    main()
