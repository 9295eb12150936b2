"""REST routes of interaction responses: the callback (``/interactions/{id}/{token}/callback``) and the
webhook routes of followups and of ``@original``."""

from __future__ import annotations

import copy
import time
from typing import Any

from aiohttp import web

from doubles.discord.api import ApiError, ApiRequest, json_response, not_found, public_message
from doubles.discord.interactions import InteractionHandle, InteractionsMixin
from doubles.discord.limits import Problem, check_interaction_callback
from doubles.discord.protocol import (
    CB_DEFERRED_MESSAGE,
    CB_MESSAGE,
    CB_MODAL,
    CB_UPDATE,
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    IT_COMMAND,
    MT_CHAT_INPUT_COMMAND,
    MT_DEFAULT,
)


class InteractionRoutes(InteractionsMixin):
    """How the bot answers the interactions a test sent."""

    def _handle_for_token(self, token: str) -> InteractionHandle:
        for handle in self.interactions.values():
            if handle.token == token:
                return handle
        raise not_found("Webhook", 10015)

    async def _interaction_callback(
        self, req: ApiRequest, interaction_id: str, token: str
    ) -> web.StreamResponse:
        handle = self.interactions.get(int(interaction_id))
        if handle is None or handle.token != token:
            raise not_found("interaction", 10062)
        if handle.callback is not None:
            self.violate("double_ack", "the interaction was answered twice", method=req.method, path=req.path)
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        if handle.expired:
            req.record["outcome"] = "late"
            raise not_found("interaction", 10062)
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
        return json_response(result)

    def _acknowledged(self, req: ApiRequest, app_id: str, token: str, what: str) -> InteractionHandle:
        """The interaction a webhook token belongs to; calling its webhook before the interaction was
        acknowledged is a violation (and a 404, as on Discord)."""
        if int(app_id) != self.application_id:
            raise not_found("Webhook", 10015)
        handle = self._handle_for_token(token)
        if handle.callback is None:
            self.violate(
                "followup_before_ack",
                f"{handle.label}: {what} before the interaction was acknowledged",
                method=req.method,
                path=req.path,
            )
            raise not_found("Webhook", 10015)
        return handle

    def _webhook_target(
        self, req: ApiRequest, app_id: str, token: str, message_id: str
    ) -> tuple[InteractionHandle, dict[str, Any]]:
        handle = self._acknowledged(req, app_id, token, "webhook call")
        if message_id == "@original":
            mid = handle.original_message_id
        else:
            mid = int(message_id)
            if mid not in handle.followup_ids and mid != handle.original_message_id:
                raise not_found("Message", 10008)
        message = self._messages.get(mid or 0)
        if message is None:
            raise not_found("Message", 10008)
        return handle, message

    async def _webhook_get(self, req: ApiRequest, app_id: str, token: str, message_id: str) -> web.Response:
        return json_response(public_message(self._webhook_target(req, app_id, token, message_id)[1]))

    async def _webhook_patch(
        self, req: ApiRequest, app_id: str, token: str, message_id: str
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
        return json_response(public_message(message))

    async def _webhook_delete(
        self, req: ApiRequest, app_id: str, token: str, message_id: str
    ) -> web.Response:
        _handle, message = self._webhook_target(req, app_id, token, message_id)
        self._forget_message(int(message["id"]))
        return web.Response(status=204)

    async def _webhook_post(self, req: ApiRequest, app_id: str, token: str) -> web.Response:
        handle = self._acknowledged(req, app_id, token, "followup")
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
            return json_response(message)
        return web.Response(status=204)

