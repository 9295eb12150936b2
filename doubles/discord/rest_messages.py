"""REST routes of channel messages and threads: create (with ``enforce_nonce``), list (paged like
Discord's), get, edit, delete, and starting threads."""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from doubles.discord.api import ApiError, ApiRequest, json_response, public_message
from doubles.discord.gateway import GatewayMixin
from doubles.discord.limits import LIMIT_THREAD_NAME, Problem, _blank, _too_long
from doubles.discord.model import now_iso
from doubles.discord.protocol import (
    CT_NEWS,
    CT_PRIVATE_THREAD,
    CT_PUBLIC_THREAD,
    CT_TEXT,
    FLAG_EPHEMERAL,
    THREAD_TYPES,
    Perm,
)


class MessageRoutes(GatewayMixin):
    """``/channels/{id}/messages`` and ``/channels/{id}/threads``."""

    async def _post_message(self, req: ApiRequest, channel_id: str) -> web.Response:
        chan = self._channel_or_404(channel_id)
        is_thread = chan["type"] in THREAD_TYPES
        self._require(chan, Perm.SEND_MESSAGES_IN_THREADS if is_thread else Perm.SEND_MESSAGES)
        if is_thread and chan.get("thread_metadata", {}).get("locked"):
            raise ApiError(403, 50083, "Thread is archived")
        payload = req.body
        self._check_new_message(req, payload)
        cid = int(channel_id)
        nonce = payload.get("nonce")
        first = None if nonce is None else self._nonce_message(cid, str(nonce))
        if first is not None and payload.get("enforce_nonce"):
            req.record["outcome"] = "deduplicated"
            return json_response(first)
        message = self._store_message(self._build_message(cid, payload, attachments=req.attachments))
        if nonce is not None and first is None:
            # A nonce past its window (or whose message was deleted) now names the new message.
            self._nonces[(cid, str(nonce))] = (int(message["id"]), time.time())
        await self._dispatch_message_event("MESSAGE_CREATE", message)
        return json_response(message)

    async def _list_messages(self, req: ApiRequest, channel_id: str) -> web.Response:
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
            return json_response([])
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
        return json_response([public_message(m) for m in reversed(page)])

    async def _get_message(self, req: ApiRequest, channel_id: str, message_id: str) -> web.Response:
        self._require(self._channel_or_404(channel_id), Perm.READ_MESSAGE_HISTORY)
        return json_response(public_message(self._message_in(channel_id, message_id)))

    async def _patch_message(self, req: ApiRequest, channel_id: str, message_id: str) -> web.Response:
        message = self._message_in(channel_id, message_id)
        if message["author"]["id"] != str(self.application_id):
            raise ApiError(403, 50005, "Cannot edit a message authored by another user")
        self._check_edit(req, message)
        self._apply_edit(message, req.body, req.attachments)
        await self._dispatch_message_event("MESSAGE_UPDATE", message)
        return json_response(public_message(message))

    async def _delete_message(self, req: ApiRequest, channel_id: str, message_id: str) -> web.Response:
        message = self._message_in(channel_id, message_id)
        if message["author"]["id"] != str(self.application_id):
            self._require(self._channel_or_404(channel_id), Perm.MANAGE_MESSAGES)
        self._forget_message(int(message_id))
        await self._dispatch_message_event(
            "MESSAGE_DELETE",
            {"id": message["id"], "channel_id": message["channel_id"], "guild_id": message.get("guild_id")},
        )
        return web.Response(status=204)

    # -- threads ----------------------------------------------------------------------------------
    def _new_thread(
        self, parent: dict[str, Any], thread_id: int, payload: Mapping[str, Any], thread_type: int
    ) -> dict[str, Any]:
        now = now_iso()
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

    def _check_thread_payload(self, req: ApiRequest) -> None:
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

    def _thread_parent(self, channel_id: str) -> dict[str, Any]:
        """The channel a thread is started in: a text or news channel."""
        parent = self._channel_or_404(channel_id)
        if parent["type"] not in (CT_TEXT, CT_NEWS):
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        return parent

    async def _thread_created(self, parent: dict[str, Any], thread: dict[str, Any]) -> web.Response:
        await self._dispatch_guild_event(
            "THREAD_CREATE", {**thread, "newly_created": True}, int(parent["guild_id"])
        )
        return json_response(thread, status=201)

    async def _start_thread_from_message(
        self, req: ApiRequest, channel_id: str, message_id: str
    ) -> web.Response:
        parent = self._thread_parent(channel_id)
        self._require(parent, Perm.CREATE_PUBLIC_THREADS)
        message = self._message_in(channel_id, message_id)
        self._check_thread_payload(req)
        if int(message_id) in self._thread_of_message:
            raise ApiError(400, 160004, "A thread has already been created for this message")
        # A thread started from a message shares the message's id.
        thread = self._new_thread(parent, int(message_id), req.body, CT_PUBLIC_THREAD)
        self._thread_of_message[int(message_id)] = int(message_id)
        message["thread"] = copy.deepcopy(thread)
        message["flags"] = message.get("flags", 0) | (1 << 5)  # HAS_THREAD
        return await self._thread_created(parent, thread)

    async def _start_thread(self, req: ApiRequest, channel_id: str) -> web.Response:
        parent = self._thread_parent(channel_id)
        body = req.body if isinstance(req.body, dict) else {}
        thread_type = int(body.get("type") or CT_PRIVATE_THREAD)
        self._require(
            parent,
            Perm.CREATE_PRIVATE_THREADS if thread_type == CT_PRIVATE_THREAD else Perm.CREATE_PUBLIC_THREADS,
        )
        self._check_thread_payload(req)
        thread = self._new_thread(parent, self.snowflake(), body, thread_type)
        return await self._thread_created(parent, thread)

