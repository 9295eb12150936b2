"""Discord's documented limits on application commands, checked when the bot syncs its commands."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from doubles.discord.limits import (
    LIMIT_CHOICE_NAME,
    LIMIT_CHOICE_VALUE,
    LIMIT_CHOICES,
    Problem,
    _blank,
    _join,
    _text,
    _too_long,
    _too_many,
)

LIMIT_COMMAND_NAME = 32
LIMIT_COMMAND_DESCRIPTION = 100
LIMIT_COMMAND_OPTIONS = 25
LIMIT_COMMAND_TOTAL_CHARS = 4000
LIMIT_GLOBAL_COMMANDS = 100
COMMAND_NAME_RE = re.compile(r"^[-_\w]{1,32}$")


def _command_chars(node: Mapping[str, Any]) -> int:
    total = len(_text(node.get("name"))) + len(_text(node.get("description")))
    for choice in node.get("choices") or []:
        total += len(_text(choice.get("name"))) + len(str(choice.get("value", "")))
    for option in node.get("options") or []:
        total += _command_chars(option)
    return total


def _invalid_name(path: str, name: Any, what: str) -> list[Problem]:
    """A chat-input command or option name: 1..32 word characters or dashes, lower case."""
    if not isinstance(name, str) or not COMMAND_NAME_RE.match(name) or name != name.lower():
        return [Problem(path, f"Invalid {what} name {name!r}.", "APPLICATION_COMMAND_INVALID_NAME")]
    return []


def _description(path: str, value: Any) -> list[Problem]:
    return _blank(path, value) + _too_long(path, value, LIMIT_COMMAND_DESCRIPTION)


def _check_options(options: Any, path: str, depth: int) -> list[Problem]:
    if not options:
        return []
    problems = _too_many(path, options, LIMIT_COMMAND_OPTIONS)
    seen_optional = False
    names: set[str] = set()
    for i, option in enumerate(options):
        here = f"{path}.{i}"
        name = option.get("name")
        problems += _invalid_name(f"{here}.name", name, "option")
        if name in names:
            problems.append(Problem(f"{here}.name", f"Duplicate option name {name!r}.",
                                    "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS"))
        names.add(name)
        problems += _description(f"{here}.description", option.get("description"))
        otype = option.get("type")
        if otype in (1, 2):
            if (otype == 2 and depth > 0) or depth > 1:
                problems.append(Problem(f"{here}.type", "Subcommands nest at most two levels deep.",
                                        "APPLICATION_COMMAND_OPTION_TYPE_INVALID"))
            problems += _check_options(option.get("options"), f"{here}.options", depth + 1)
            continue
        if option.get("required"):
            if seen_optional:
                problems.append(Problem(f"{here}.required",
                                        "Required options must come before optional ones.",
                                        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID"))
        else:
            seen_optional = True
        choices = option.get("choices") or []
        problems += _too_many(f"{here}.choices", choices, LIMIT_CHOICES)
        if choices and option.get("autocomplete"):
            problems.append(Problem(f"{here}.autocomplete",
                                    "An option cannot have both choices and autocomplete.",
                                    "APPLICATION_COMMAND_OPTION_AUTOCOMPLETE_CHOICES"))
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
        problems += _invalid_name(_join(path, "name"), name, "command")
        problems += _description(_join(path, "description"), command.get("description"))
    else:
        problems += _blank(_join(path, "name"), name)
        problems += _too_long(_join(path, "name"), name, LIMIT_COMMAND_NAME)
    problems += _check_options(command.get("options"), _join(path, "options"), 0)
    total = _command_chars(command)
    if total > LIMIT_COMMAND_TOTAL_CHARS:
        problems.append(Problem(path or "", f"Command is too large: {total} characters across names, "
                                f"descriptions and choices (max {LIMIT_COMMAND_TOTAL_CHARS}).",
                                "APPLICATION_COMMAND_TOO_LARGE"))
    return problems
