"""The REST API under ``/api/v10``: reading a request, the checks every request passes (API version,
rate limit, faults, route, token), the route table, and the small routes (gateway, users,
application, guilds, channels). Messages, commands and interaction responses have modules of their
own (``rest_messages``, ``rest_commands``, ``rest_interactions``)."""

from __future__ import annotations

import copy
import json
import re
import time
from typing import Any

import aiohttp
from aiohttp import web

from doubles.discord.api import ApiError, ApiRequest, Handler, json_response, not_found
from doubles.discord.faults import Fault, FaultsMixin
from doubles.discord.protocol import API_VERSION, CT_DM, DEFAULT_BOT_PERMISSIONS, Perm
from doubles.discord.rest_commands import CommandRoutes
from doubles.discord.rest_interactions import InteractionRoutes
from doubles.discord.rest_messages import MessageRoutes


class RestMixin(InteractionRoutes, MessageRoutes, CommandRoutes, FaultsMixin):
    """Every REST route, and what every request goes through first."""

    def _init_rest(self) -> None:
        self._routes = self._route_table()

    # -- a request --------------------------------------------------------------------------------
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
            answer, hold = self._apply_faults(method, path, record)
            if answer is not None:
                return answer, hold
            handler, params, known_path = self._resolve(method, path)
            if handler is None:
                record["outcome"] = "unknown_route" if not known_path else "method_not_allowed"
                self.unknown_routes.append(record)
                status = 405 if known_path else 404
                text = "405: Method Not Allowed" if known_path else "404: Not Found"
                return json_response({"message": text, "code": 0}, status=status), hold
            if not path.startswith(("/interactions/", "/webhooks/")):
                auth = request.headers.get("Authorization", "")
                if not auth.startswith("Bot ") or (self.token is not None and auth != f"Bot {self.token}"):
                    record["outcome"] = "unauthorized"
                    return json_response({"message": "401: Unauthorized", "code": 0}, status=401), hold
            api_request = ApiRequest(
                method, path, dict(request.query), body, request.headers, record, attachments
            )
            return await handler(api_request, **params), hold
        except ApiError as error:
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

    def _resolve(self, method: str, path: str) -> tuple[Handler | None, dict[str, str], bool]:
        known = False
        for route_method, pattern, handler in self._routes:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            known = True
            if route_method == method:
                return handler, match.groupdict(), True
        return None, {}, known

    def _route_table(self) -> list[tuple[str, re.Pattern[str], Handler]]:
        app = r"(?P<app_id>\d+)"
        guild = r"(?P<guild_id>\d+)"
        chan = r"(?P<channel_id>\d+)"
        msg = r"(?P<message_id>\d+)"
        token = r"(?P<token>[^/]+)"
        one_command = r"/(?P<command_id>\d+)"
        hook_message = f"/webhooks/{app}/{token}/messages/(?P<message_id>@original|\\d+)"
        commands: list[tuple[str, str, Handler]] = [  # the global commands, then a guild's
            (method, f"{scope}/commands{tail}", handler)
            for scope in (f"/applications/{app}", f"/applications/{app}/guilds/{guild}")
            for method, tail, handler in (
                ("GET", "", self._list_commands),
                ("PUT", "", self._put_commands),
                ("POST", "", self._post_command),
                ("GET", one_command, self._get_command),
                ("PATCH", one_command, self._patch_command),
                ("DELETE", one_command, self._delete_command),
            )
        ]
        table: list[tuple[str, str, Handler]] = [
            ("GET", "/gateway/bot", self._get_gateway_bot),
            ("GET", "/gateway", self._get_gateway),
            ("GET", "/users/@me", self._get_me),
            ("GET", r"/users/(?P<user_id>\d+)", self._get_user),
            ("POST", "/users/@me/channels", self._create_dm),
            ("GET", "/oauth2/applications/@me", self._get_application),
            ("GET", "/applications/@me", self._get_application),
            *commands,
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
            ("GET", hook_message, self._webhook_get),
            ("PATCH", hook_message, self._webhook_patch),
            ("DELETE", hook_message, self._webhook_delete),
            ("POST", f"/webhooks/{app}/{token}", self._webhook_post),
        ]
        return [(m, re.compile(p), h) for m, p, h in table]

    # -- identity ---------------------------------------------------------------------------------
    async def _get_gateway_bot(self, req: ApiRequest) -> web.Response:
        return json_response(
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

    async def _get_gateway(self, req: ApiRequest) -> web.Response:
        return json_response({"url": self.gateway_url})

    async def _get_me(self, req: ApiRequest) -> web.Response:
        return json_response(self.bot_user)

    async def _create_dm(self, req: ApiRequest) -> web.Response:
        """Open (or reopen) the DM channel with a user; its messages are kept like any channel's."""
        recipient = int((req.body or {}).get("recipient_id", 0))
        if recipient not in self._users:
            raise not_found("User", 10013)
        for channel in self._channels.values():
            if channel["type"] == CT_DM and channel["recipients"][0]["id"] == str(recipient):
                return json_response(channel)
        channel = {"id": str(self.snowflake()), "type": CT_DM, "last_message_id": None,
                   "recipients": [copy.deepcopy(self._user(recipient))]}
        self._channels[int(channel["id"])] = channel
        self._bot_permissions[int(channel["id"])] = DEFAULT_BOT_PERMISSIONS
        return json_response(channel)

    async def _get_user(self, req: ApiRequest, user_id: str) -> web.Response:
        user = self._users.get(int(user_id))
        if user is None:
            raise not_found("User", 10013)
        return json_response(user)

    async def _get_application(self, req: ApiRequest) -> web.Response:
        return json_response(
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

    # -- guilds and channels ----------------------------------------------------------------------
    async def _get_guild(self, req: ApiRequest, guild_id: str) -> web.Response:
        if int(guild_id) not in self._guilds:
            raise not_found("Guild", 10004)
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
        return json_response(payload)

    async def _get_guild_channels(self, req: ApiRequest, guild_id: str) -> web.Response:
        if int(guild_id) not in self._guilds:
            raise not_found("Guild", 10004)
        return json_response(self._guild_payload(int(guild_id))["channels"])

    async def _get_channel(self, req: ApiRequest, channel_id: str) -> web.Response:
        chan = self._channel_or_404(channel_id)
        self._require(chan)
        return json_response(chan)

    async def _typing(self, req: ApiRequest, channel_id: str) -> web.Response:
        self._require(self._channel_or_404(channel_id), Perm.SEND_MESSAGES)
        return web.Response(status=204)

