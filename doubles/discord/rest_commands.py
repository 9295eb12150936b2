"""REST routes of the application commands (``/applications/{id}[/guilds/{id}]/commands``): what
command sync sends, checked against Discord's command limits."""

from __future__ import annotations

import copy
from typing import Any

from aiohttp import web

from doubles.discord.api import ApiError, ApiRequest, json_response, not_found
from doubles.discord.command_limits import LIMIT_GLOBAL_COMMANDS, check_command_payload
from doubles.discord.limits import Problem
from doubles.discord.state import StateMixin


class CommandRoutes(StateMixin):
    """Global and guild application commands."""

    def _check_app(self, app_id: str) -> None:
        if int(app_id) != self.application_id:
            raise not_found("Application", 10002)

    def _command_list(self, guild_id: str | None) -> list[dict[str, Any]]:
        if guild_id is None:
            return self._global_commands
        gid = int(guild_id)
        if gid not in self._guilds:
            raise ApiError(403, 50001, "Missing Access")
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
        self, req: ApiRequest, app_id: str, guild_id: str | None = None
    ) -> web.Response:
        self._check_app(app_id)
        return json_response(self._command_list(guild_id))

    async def _put_commands(self, req: ApiRequest, app_id: str, guild_id: str | None = None) -> web.Response:
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
        return json_response(new)

    async def _post_command(self, req: ApiRequest, app_id: str, guild_id: str | None = None) -> web.Response:
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
            return json_response(stored)
        target.append(stored)
        return json_response(stored, status=201)

    def _find_command(
        self, app_id: str, guild_id: str | None, command_id: str
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        self._check_app(app_id)
        target = self._command_list(guild_id)
        for command in target:
            if command["id"] == command_id:
                return target, command
        raise not_found("application command", 10063)

    async def _get_command(
        self, req: ApiRequest, app_id: str, command_id: str, guild_id: str | None = None
    ) -> web.Response:
        return json_response(self._find_command(app_id, guild_id, command_id)[1])

    async def _patch_command(
        self, req: ApiRequest, app_id: str, command_id: str, guild_id: str | None = None
    ) -> web.Response:
        target, command = self._find_command(app_id, guild_id, command_id)
        merged = {**command, **(req.body or {})}
        problems = check_command_payload(merged)
        if problems:
            raise self._reject(req, problems, "command")
        stored = self._stored_command(merged, guild_id, command)
        target[target.index(command)] = stored
        return json_response(stored)

    async def _delete_command(
        self, req: ApiRequest, app_id: str, command_id: str, guild_id: str | None = None
    ) -> web.Response:
        target, command = self._find_command(app_id, guild_id, command_id)
        target.remove(command)
        return web.Response(status=204)

