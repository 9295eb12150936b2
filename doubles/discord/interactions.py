"""Interactions a test sends to the bot -- slash commands, autocomplete, component clicks, modal
submits -- and the :class:`InteractionHandle` that follows each one's callback, followups and edits."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import secrets
import time
from collections.abc import Mapping, Sequence
from typing import Any

from doubles.discord.api import public_message
from doubles.discord.gateway import GatewayMixin
from doubles.discord.model import NoGatewayError
from doubles.discord.options import OptionsMixin, _find_component
from doubles.discord.protocol import (
    ATTACHMENT_SIZE_LIMIT,
    CB_AUTOCOMPLETE,
    DEFAULT_BOT_PERMISSIONS,
    DEFAULT_MEMBER_PERMISSIONS,
    DEFAULT_USER_ID,
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    IT_AUTOCOMPLETE,
    IT_COMMAND,
    IT_COMPONENT,
    IT_MODAL_SUBMIT,
    THREAD_TYPES,
)


class InteractionHandle:
    """What a test holds after sending an interaction: await its callback, followups and edits."""

    def __init__(self, double: InteractionsMixin, payload: dict[str, Any], label: str) -> None:
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


class InteractionsMixin(GatewayMixin, OptionsMixin):
    """Sends interactions over the gateway and keeps a handle on each."""

    def _init_interactions(self, interaction_timeout: float) -> None:
        self.interaction_timeout = interaction_timeout
        self.interactions: dict[int, InteractionHandle] = {}

    async def settle(self, timeout: float | None = None) -> None:
        """Wait until every interaction sent so far is answered or past its deadline."""
        limit = (self.interaction_timeout + 1.0) if timeout is None else timeout
        with contextlib.suppress(TimeoutError):
            await self.wait_until(
                lambda: all(h.answered or h.expired for h in self.interactions.values()),
                limit,
                "interactions to settle",
            )

    def _cancel_deadlines(self) -> None:
        """Stop the clocks of the open interactions (none of them will be a violation any more)."""
        for handle in self.interactions.values():
            if handle._deadline is not None:
                handle._deadline.cancel()

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

    async def _interact(
        self,
        itype: int,
        guild_id: int,
        channel_id: int,
        data: dict[str, Any],
        label: str,
        *,
        user_id: int | None,
        user_permissions: int,
        locale: str = "en-US",
        app_permissions: int | None = None,
        message: Mapping[str, Any] | None = None,
    ) -> InteractionHandle:
        """Build an interaction of type ``itype`` (on ``message``, for a component) and send it."""
        payload = self._base_interaction(itype, guild_id, channel_id, data, user_id=user_id,
                                         user_permissions=user_permissions, locale=locale,
                                         app_permissions=app_permissions)
        if message is not None:
            payload["message"] = copy.deepcopy(public_message(message))
        return await self._send_interaction(payload, label)

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
        return await self._interact(IT_COMMAND, gid, cid, data, f"/{name.strip().lstrip('/')}",
                                    user_id=user_id, user_permissions=user_permissions, locale=locale,
                                    app_permissions=app_permissions)

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
        return await self._interact(IT_AUTOCOMPLETE, gid, cid, data,
                                    f"autocomplete /{name.strip().lstrip('/')} {focused}",
                                    user_id=user_id, user_permissions=user_permissions, locale=locale)

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
        handle = await self._interact(IT_COMPONENT, gid, cid, data, f"component {custom_id!r}",
                                      user_id=user_id, user_permissions=user_permissions, locale=locale,
                                      message=message)
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
        return await self._interact(IT_MODAL_SUBMIT, modal_from.guild_id, modal_from.channel_id, data,
                                    f"modal {modal.get('custom_id')!r}", user_id=user_id,
                                    user_permissions=user_permissions)
