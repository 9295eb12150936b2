"""Messages: building, storing, editing and deleting them, reading them back, the checks every message
create/edit goes through, and the nonces ``enforce_nonce`` deduplicates by."""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from doubles.discord.api import ApiRequest, not_found
from doubles.discord.limits import Problem, _is_empty_message, check_embeds, check_message_payload
from doubles.discord.model import now_iso
from doubles.discord.protocol import ATTACHMENT_SIZE_LIMIT, CT_DM, FLAG_EPHEMERAL, MT_DEFAULT, THREAD_TYPES
from doubles.discord.state import StateMixin

if TYPE_CHECKING:
    from doubles.discord.interactions import InteractionHandle


class MessagesMixin(StateMixin):
    """The message store of every channel and thread, and the nonces."""

    def _init_messages(self, nonce_window: float | None) -> None:
        self.nonce_window: float | None = None
        self.set_nonce_window(nonce_window)
        self.deleted_messages: list[dict[str, Any]] = []
        self._messages: dict[int, dict[str, Any]] = {}
        # (channel id, nonce) -> (id of the message it created, wall-clock epoch seconds of that).
        # Wall clock, not monotonic: the state file carries these across restarts of the double.
        self._nonces: dict[tuple[int, str], tuple[int, float]] = {}
        self._thread_of_message: dict[int, int] = {}

    # -- reading ----------------------------------------------------------------------------------
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

    def dm_messages(self, user_id: int) -> list[dict[str, Any]]:
        """Messages the bot sent to a user by DM, oldest first."""
        for channel in self._channels.values():
            if channel["type"] == CT_DM and channel["recipients"][0]["id"] == str(user_id):
                return self.channel_messages(int(channel["id"]))
        return []

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

    # -- storing ----------------------------------------------------------------------------------
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
            "timestamp": now_iso(),
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
        message["edited_timestamp"] = now_iso()

    def _check_new_message(self, req: ApiRequest, payload: Any, *, creating: bool = True) -> None:
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

    def _message_in(self, channel_id: str, message_id: str) -> dict[str, Any]:
        self._channel_or_404(channel_id)
        message = self._messages.get(int(message_id))
        if message is None or message["channel_id"] != str(channel_id):
            raise not_found("Message", 10008)
        return message

    def _check_edit(self, req: ApiRequest, message: Mapping[str, Any]) -> None:
        self._check_new_message(req, req.body, creating=False)
        merged = copy.deepcopy(dict(message))
        self._apply_edit(merged, req.body, req.attachments)
        problems = check_embeds(merged.get("embeds"))
        if _is_empty_message(merged):
            problems.append(Problem("", "Cannot send an empty message.", "EMPTY_MESSAGE"))
        if problems:
            raise self._reject(req, problems)

    def _forget_message(self, message_id: int) -> None:
        message = self._messages.pop(message_id, None)
        if message is None:
            return
        self.deleted_messages.append(message)
        index = self._channel_index.get(int(message["channel_id"]), [])
        if message_id in index:
            index.remove(message_id)

