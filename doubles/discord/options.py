"""The ``data`` of the interactions a test sends: for a slash command or autocomplete, built from a
command path such as ``"subscribe add"`` and option values and checked against the commands the bot
synced; for a click, the component it targets."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from doubles.discord.protocol import DEFAULT_MEMBER_PERMISSIONS
from doubles.discord.state import StateMixin


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


class OptionsMixin(StateMixin):
    """Command data for the interactions a test sends."""

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
                entry: dict[str, Any] = {
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

