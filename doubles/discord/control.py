"""What a test in another process can do: the control API under ``/_double/`` (read the records, script
faults, send interactions, reset), and the state file that keeps the records across a restart of
the double."""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from doubles.discord.api import json_response
from doubles.discord.faults import FaultsMixin, hold_value
from doubles.discord.interactions import InteractionsMixin
from doubles.discord.limits import Violation
from doubles.discord.model import NoGatewayError
from doubles.discord.protocol import DEFAULT_MEMBER_PERMISSIONS, DISCORD_EPOCH_MS, THREAD_TYPES


class ControlMixin(InteractionsMixin, FaultsMixin):
    """The control API, :meth:`reset`, and the state file."""

    def reset(self) -> None:
        """Forget requests, messages, violations, faults and interactions; keep guilds and commands."""
        self.requests.clear()
        self.violations.clear()
        self.unknown_routes.clear()
        self.faults.clear()
        self.deleted_messages.clear()
        self._cancel_deadlines()
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
            return json_response({"error": f"{type(error).__name__}: {error}"}, status=400)
        except NoGatewayError as error:
            return json_response({"error": str(error)}, status=409)
        except TimeoutError as error:
            return json_response({"error": str(error)}, status=408)
        return json_response(result, dumps=lambda obj: json.dumps(obj, default=str))

    async def _control_dispatch(
        self, method: str, sub: str, body: dict[str, Any], query: Mapping[str, str]
    ) -> Any:
        def opt_int(value: Any) -> int | None:
            return None if value in (None, "") else int(value)

        def user() -> dict[str, Any]:
            """Who sends an interaction: ``user_id`` and ``user_permissions`` of the body."""
            return {"user_permissions": int(body.get("user_permissions", DEFAULT_MEMBER_PERMISSIONS)),
                    "user_id": opt_int(body.get("user_id"))}

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
                is_global=bool(body.get("is_global", body.get("global", False))),
                code=body.get("code"),
                message=body.get("message"),
                skip=int(body.get("skip") or 0),
                hold=hold_value(body.get("hold")),
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
                **user(),
                locale=body.get("locale", "en-US"),
                app_permissions=opt_int(body.get("app_permissions")),
                command_guild_id=body.get("command_guild_id", False),
            )
            return handle.to_dict()
        if (method, sub) == ("POST", "/interactions/autocomplete"):
            handle = await self.send_autocomplete(
                opt_int(body.get("guild_id")),
                opt_int(body.get("channel_id")),
                body["name"],
                body.get("options"),
                body.get("focused", ""),
                **user(),
                locale=body.get("locale", "en-US"),
                command_guild_id=body.get("command_guild_id", False),
            )
            return handle.to_dict()
        if (method, sub) == ("POST", "/interactions/component"):
            handle = await self.send_component(
                int(body["message_id"]),
                body["custom_id"],
                body.get("values"),
                **user(),
                locale=body.get("locale", "en-US"),
            )
            return handle.to_dict()
        match = re.fullmatch(r"/interactions/(\d+)", sub)
        if match and method == "GET":
            found = self.interactions.get(int(match.group(1)))
            if found is None:
                raise KeyError(f"unknown interaction {match.group(1)}")
            return found.to_dict()
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
