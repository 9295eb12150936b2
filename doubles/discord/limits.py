"""Discord's documented limits on messages, and the validators that check what the bot sends.

Pure functions, usable without a server (the card and render tests call them directly); the double
runs them on every request and records each :class:`Problem` as a :class:`Violation`. The limits on
application commands (what command sync sends) are in :mod:`doubles.discord.command_limits`.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Mapping, Sized
from dataclasses import dataclass
from typing import Any

from doubles.discord.protocol import (
    CB_AUTOCOMPLETE,
    CB_DEFERRED_MESSAGE,
    CB_DEFERRED_UPDATE,
    CB_MESSAGE,
    CB_MODAL,
    CB_PONG,
    CB_UPDATE,
    FLAG_COMPONENTS_V2,
    IT_AUTOCOMPLETE,
    IT_COMMAND,
    IT_COMPONENT,
    IT_MODAL_SUBMIT,
    IT_PING,
)

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


def _too_many(path: str, items: Sized, limit: int) -> list[Problem]:
    if len(items) > limit:
        return [Problem(path, f"Must be {limit} or fewer in length (got {len(items)}).")]
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
    problems = _too_many(path, embeds, LIMIT_EMBEDS)
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
        problems += _too_many(f"{here}.fields", fields, LIMIT_EMBED_FIELDS)
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
        problems.append(Problem(path, f"Embed size exceeds maximum size of {LIMIT_EMBED_TOTAL} "
                                f"(got {total}).", "MAX_EMBED_SIZE"))
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
            problems.append(Problem(f"{path}.custom_id", "Component custom id cannot be duplicated.",
                                    "COMPONENT_CUSTOM_ID_DUPLICATED"))
        custom_ids.add(custom_id)
    if ctype == 1:  # action row
        children = comp.get("components") or []
        buttons = [c for c in children if isinstance(c, dict) and c.get("type") == 2]
        if len(buttons) > LIMIT_ROW_BUTTONS:
            problems.append(Problem(f"{path}.components", f"Must be {LIMIT_ROW_BUTTONS} or fewer in length."))
        if len(buttons) != len(children) and len(children) > 1:
            problems.append(Problem(f"{path}.components", "A select menu must be alone in its action row.",
                                    "COMPONENT_LAYOUT_WIDTH_EXCEEDED"))
        for k, child in enumerate(children):
            problems += _check_component(child, f"{path}.components.{k}", custom_ids)
    elif ctype == 2:  # button
        problems += _too_long(f"{path}.label", comp.get("label"), LIMIT_BUTTON_LABEL)
        style = comp.get("style")
        if style == 5:
            if not comp.get("url"):
                problems.append(Problem(f"{path}.url", "A link button needs a url.", "BASE_TYPE_REQUIRED"))
            if custom_id is not None:
                problems.append(Problem(f"{path}.custom_id", "A link button cannot have a custom_id.",
                                        "BUTTON_COMPONENT_CUSTOM_ID_FORBIDDEN"))
        elif style != 6 and not custom_id:
            problems.append(Problem(f"{path}.custom_id", "A button needs a custom_id.", "BASE_TYPE_REQUIRED"))
    elif ctype in (3, 5, 6, 7, 8):  # selects
        if not custom_id:
            problems.append(Problem(f"{path}.custom_id", "A select menu needs a custom_id.",
                                    "BASE_TYPE_REQUIRED"))
        problems += _too_long(f"{path}.placeholder", comp.get("placeholder"), LIMIT_SELECT_PLACEHOLDER)
        for key in ("min_values", "max_values"):
            value = comp.get(key)
            if isinstance(value, int) and not 0 <= value <= LIMIT_SELECT_OPTIONS:
                problems.append(Problem(f"{path}.{key}", f"Must be between 0 and {LIMIT_SELECT_OPTIONS}.",
                                        "NUMBER_TYPE_MAX"))
        if ctype == 3:
            options = comp.get("options") or []
            if not options:
                problems.append(Problem(f"{path}.options", "A string select needs at least one option.",
                                        "BASE_TYPE_MIN_LENGTH"))
            problems += _too_many(f"{path}.options", options, LIMIT_SELECT_OPTIONS)
            for k, option in enumerate(options):
                for key in ("label", "value", "description"):
                    problems += _too_long(f"{path}.options.{k}.{key}", option.get(key),
                                          LIMIT_SELECT_OPTION_TEXT)
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
    problems = [] if v2 else _too_many(path, components, LIMIT_ACTION_ROWS)
    custom_ids: set[str] = set()
    for i, comp in enumerate(components):
        if not v2 and isinstance(comp, dict) and comp.get("type") != 1:
            problems.append(Problem(f"{path}.{i}", "Top-level components must be action rows.",
                                    "COMPONENT_TYPE_INVALID"))
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
            return [Problem("allowed_mentions", "Missing: every message must be sent with mentions disabled "
                            "(allowed_mentions={'parse': []}).", "ALLOWED_MENTIONS_REQUIRED")]
        return []
    if not isinstance(mentions, dict):
        return [Problem("allowed_mentions", "Must be an object.", "BASE_TYPE_BAD_TYPE")]
    problems: list[Problem] = []
    parse = mentions.get("parse") or []
    for kind in ("everyone", "roles", "users"):
        if kind in parse:
            problems.append(Problem("allowed_mentions.parse",
                                    f"Allows pinging {kind}; mentions must be disabled.",
                                    "ALLOWED_MENTIONS_PERMISSIVE"))
    for kind in ("users", "roles"):
        if mentions.get(kind):
            problems.append(Problem(f"allowed_mentions.{kind}",
                                    f"Allows pinging specific {kind}; mentions must be disabled.",
                                    "ALLOWED_MENTIONS_PERMISSIVE"))
    if mentions.get("replied_user"):
        problems.append(Problem("allowed_mentions.replied_user",
                                "Pings the replied-to user; mentions must be disabled.",
                                "ALLOWED_MENTIONS_PERMISSIVE"))
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
    problems += check_components(payload.get("components"),
                                 v2=bool(isinstance(flags, int) and flags & FLAG_COMPONENTS_V2))
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
    problems = _too_many(path, choices, LIMIT_CHOICES)
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
        return [Problem("type",
                        f"Callback type {cb_type} is not valid for interaction type {interaction_type}.",
                        "INTERACTION_RESPONSE_TYPE_INVALID")]
    if cb_type in (CB_MESSAGE, CB_UPDATE):
        return [dataclasses.replace(p, field=_join("data", p.field))
                for p in check_message_payload(data, creating=cb_type == CB_MESSAGE)]
    if cb_type == CB_AUTOCOMPLETE:
        return check_autocomplete_choices(data.get("choices"))
    if cb_type == CB_MODAL:
        problems = _too_long("data.title", data.get("title"), LIMIT_MODAL_TITLE)
        problems += _blank("data.title", data.get("title"))
        problems += _too_long("data.custom_id", data.get("custom_id"), LIMIT_CUSTOM_ID)
        rows = data.get("components") or []
        if not 1 <= len(rows) <= 5:
            problems.append(Problem("data.components", "A modal needs 1 to 5 components.",
                                    "BASE_TYPE_BAD_LENGTH"))
        problems += check_components(rows, "data.components", v2=True)
        return problems
    return []


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

