"""The gateway: websocket sessions (HELLO, IDENTIFY, RESUME, heartbeats), dispatching events to the
bot, scripted reconnects and drops, and the guild changes a connected bot is told about."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import json
import secrets
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from doubles.discord.api import public_message
from doubles.discord.messages import MessagesMixin
from doubles.discord.model import GuildSpec
from doubles.discord.protocol import (
    API_VERSION,
    FLAG_EPHEMERAL,
    INTENT_GUILD_MESSAGES,
    INTENT_GUILDS,
    PRIVILEGED_INTENTS,
    THREAD_TYPES,
)


@dataclass
class _Session:
    session_id: str
    token: str
    intents: int
    shard: tuple[int, int]
    identified_at: float
    ws: web.WebSocketResponse | None = None
    seq: int = 0
    events: deque[dict[str, Any]] = dataclasses.field(default_factory=lambda: deque(maxlen=2000))
    invalid: bool = False
    resumes: int = 0
    lock: asyncio.Lock = dataclasses.field(default_factory=asyncio.Lock)

    @property
    def connected(self) -> bool:
        return self.ws is not None and not self.ws.closed

    def covers(self, guild_id: int | None) -> bool:
        if guild_id is None:
            return self.shard[0] == 0
        return (guild_id >> 22) % self.shard[1] == self.shard[0]

    def to_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "intents": self.intents,
            "shard": list(self.shard),
            "connected": self.connected,
            "invalid": self.invalid,
            "seq": self.seq,
            "resumes": self.resumes,
        }


def _frame(op: int, data: Any = None) -> str:
    """A gateway frame other than a dispatch: no sequence number, no event name."""
    return json.dumps({"op": op, "d": data, "s": None, "t": None})


class GatewayMixin(MessagesMixin):
    """Gateway sessions of the bot, and the events sent to them."""

    def _init_gateway(self, heartbeat_interval_ms: int, shards: int, allow_privileged_intents: bool) -> None:
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.shards = shards
        self.allow_privileged_intents = allow_privileged_intents
        self.identifies: list[dict[str, Any]] = []
        self.gateway_log: list[dict[str, Any]] = []
        self._sessions: list[_Session] = []
        self._sockets: set[web.WebSocketResponse] = set()
        self._closed_by_us: set[web.WebSocketResponse] = set()

    # -- state ------------------------------------------------------------------------------------
    @property
    def last_intents(self) -> int | None:
        """The intents bitfield of the latest IDENTIFY (``None`` before the first)."""
        return self.identifies[-1].get("intents") if self.identifies else None

    @property
    def sessions(self) -> list[dict[str, Any]]:
        return [s.to_dict() for s in self._sessions]

    @property
    def connected(self) -> bool:
        """Whether a bot session is connected to the gateway right now."""
        return any(s.connected and not s.invalid for s in self._sessions)

    async def wait_for_gateway(self, timeout: float = 5.0) -> None:
        """Wait until a bot has identified (READY and the GUILD_CREATEs have been sent)."""
        await self.wait_until(lambda: self.connected, timeout, "a bot to connect to the gateway")

    # -- guild changes the bot hears about ---------------------------------------------------------
    async def add_guild(self, spec: GuildSpec) -> None:
        """Add a guild; a connected bot gets ``GUILD_CREATE`` as if it had just been invited."""
        self._install_guild(spec)
        await self._dispatch_guild_event("GUILD_CREATE", self._guild_payload(spec.id), spec.id)
        self._bump()

    async def remove_guild(self, guild_id: int) -> None:
        """Remove a guild (the bot was kicked); a connected bot gets ``GUILD_DELETE``."""
        self._guilds.pop(guild_id, None)
        for cid in [cid for cid, c in self._channels.items() if c.get("guild_id") == str(guild_id)]:
            del self._channels[cid]
        await self._dispatch_guild_event("GUILD_DELETE", {"id": str(guild_id)}, guild_id)
        self._bump()

    async def delete_channel(self, channel_id: int) -> None:
        """Delete a channel: later sends get 404 Unknown Channel, a connected bot gets ``CHANNEL_DELETE``."""
        chan = self._channels.pop(int(channel_id), None)
        if chan is not None:
            gid = int(chan["guild_id"])
            event = "THREAD_DELETE" if chan["type"] in THREAD_TYPES else "CHANNEL_DELETE"
            await self._dispatch_guild_event(event, chan, gid)
        self._bump()

    # -- the websocket ----------------------------------------------------------------------------
    async def _gateway(self, request: web.Request, ws: web.WebSocketResponse) -> web.WebSocketResponse:
        await ws.prepare(request)
        self._sockets.add(ws)
        query = dict(request.query)
        self.gateway_log.append({"event": "connect", "query": query, "time": time.time()})
        session: _Session | None = None
        try:
            if query.get("encoding", "json") != "json":
                await self._close_ws(ws, code=4002, message=b"Only JSON encoding is supported by the double")
                return ws
            await ws.send_str(_frame(10, {"heartbeat_interval": self.heartbeat_interval_ms}))
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    continue
                try:
                    frame = json.loads(msg.data)
                except ValueError:
                    await self._close_ws(ws, code=4002, message=b"Decode error")
                    break
                op, data = frame.get("op"), frame.get("d")
                if op == 1:
                    await ws.send_str(_frame(11))
                elif op == 2:
                    session = await self._identify(ws, data or {})
                elif op == 6:
                    session = await self._resume(ws, data or {})
                else:
                    self.gateway_log.append({"event": "op", "op": op, "d": data, "time": time.time()})
        finally:
            self._sockets.discard(ws)
            closed_by_client = ws not in self._closed_by_us
            self._closed_by_us.discard(ws)
            if session is not None:
                if session.ws is ws:
                    session.ws = None
                # A client that closes with 1000/1001 ends its session (it cannot RESUME it).
                if closed_by_client and ws.close_code in (1000, 1001):
                    session.invalid = True
            self.gateway_log.append({"event": "disconnect", "code": ws.close_code, "time": time.time()})
            self._bump()
        return ws

    async def _close_ws(self, ws: web.WebSocketResponse, *, code: int, message: bytes = b"") -> None:
        """Close a gateway socket from our side (which does not end the session, unlike a client 1000)."""
        self._closed_by_us.add(ws)
        await ws.close(code=code, message=message)

    async def _identify(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> _Session | None:
        record = {k: v for k, v in data.items() if k != "token"}
        record["token"] = data.get("token")
        record["time"] = time.time()
        self.identifies.append(record)
        self._bump()
        token = data.get("token")
        if not token or (self.token is not None and token != self.token):
            await self._close_ws(ws, code=4004, message=b"Authentication failed.")
            return None
        intents = int(data.get("intents") or 0)
        if intents & PRIVILEGED_INTENTS and not self.allow_privileged_intents:
            self.violate(
                "intents",
                f"IDENTIFY asked for privileged intents ({intents & PRIVILEGED_INTENTS:#x}); "
                "the bot needs guilds only",
            )
            await self._close_ws(ws, code=4014, message=b"Disallowed intent(s).")
            return None
        shard_data = data.get("shard") or [0, 1]
        shard = (int(shard_data[0]), int(shard_data[1]))
        if not 0 <= shard[0] < shard[1]:
            await self._close_ws(ws, code=4010, message=b"Invalid shard.")
            return None
        session = _Session(secrets.token_hex(16), token, intents, shard, time.time(), ws=ws)
        self._sessions.append(session)
        guild_ids = [gid for gid in self._guilds if session.covers(gid)]
        ready = {
            "v": API_VERSION,
            "user": self.bot_user,
            "guilds": [{"id": str(gid), "unavailable": True} for gid in guild_ids],
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "shard": list(shard),
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
            "_trace": ["discord-double"],
        }
        await self._send_event(session, "READY", ready)
        for gid in guild_ids:
            await self._send_event(session, "GUILD_CREATE", self._guild_payload(gid))
        self._bump()
        return session

    async def _resume(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> _Session | None:
        session = next((s for s in self._sessions if s.session_id == data.get("session_id")), None)
        self.gateway_log.append(
            {
                "event": "resume",
                "session_id": data.get("session_id"),
                "seq": data.get("seq"),
                "time": time.time(),
            }
        )
        if session is None or session.invalid or session.token != data.get("token"):
            await ws.send_str(_frame(9, False))
            return None
        old = session.ws
        session.ws = ws
        if old is not None and old is not ws and not old.closed:
            await self._close_ws(old, code=4000)
        session.resumes += 1
        last = int(data.get("seq") or 0)
        async with session.lock:
            for event in list(session.events):
                if event["s"] > last:
                    await ws.send_str(json.dumps(event))
        await self._send_event(session, "RESUMED", {"_trace": ["discord-double"]})
        self._bump()
        return session

    async def _send_event(self, session: _Session, name: str, data: Any) -> None:
        async with session.lock:
            session.seq += 1
            frame = {"op": 0, "t": name, "s": session.seq, "d": data}
            session.events.append(frame)
            if session.connected:
                assert session.ws is not None
                with contextlib.suppress(ConnectionResetError, RuntimeError):
                    await session.ws.send_str(json.dumps(frame))

    def _session_for_guild(self, guild_id: int | None) -> _Session | None:
        candidates = [s for s in self._sessions if not s.invalid and s.covers(guild_id)]
        connected = [s for s in candidates if s.connected]
        pool = connected or candidates
        return max(pool, key=lambda s: s.identified_at) if pool else None

    async def _dispatch_guild_event(
        self, name: str, data: Any, guild_id: int | None, *, intent: int = INTENT_GUILDS
    ) -> bool:
        session = self._session_for_guild(guild_id)
        if session is None or not session.intents & intent:
            return False
        await self._send_event(session, name, data)
        return True

    async def _dispatch_message_event(self, name: str, message: Mapping[str, Any]) -> None:
        """MESSAGE_* events go only to sessions with the GUILD_MESSAGES intent (not ours: guilds only)."""
        if message.get("flags", 0) & FLAG_EPHEMERAL:
            return
        gid = int(message["guild_id"]) if message.get("guild_id") else None
        session = self._session_for_guild(gid)
        if session is not None and session.intents & INTENT_GUILD_MESSAGES:
            # Only MESSAGE_CREATE echoes the nonce, as on Discord.
            data = dict(message) if name == "MESSAGE_CREATE" else public_message(message)
            await self._send_event(session, name, copy.deepcopy(data))

    async def gateway_reconnect(self) -> None:
        """Send RECONNECT (op 7) to every connected session; discord.py should RESUME."""
        for session in self._sessions:
            if session.connected:
                assert session.ws is not None
                await session.ws.send_str(_frame(7))

    async def gateway_invalidate(self, resumable: bool = False) -> None:
        """Send INVALID_SESSION (op 9) to every connected session."""
        for session in self._sessions:
            if session.connected:
                assert session.ws is not None
                if not resumable:
                    session.invalid = True
                await session.ws.send_str(_frame(9, resumable))

    async def gateway_drop(self, code: int = 4000) -> None:
        """Close every gateway socket with ``code`` (4000: resumable; discord.py reconnects)."""
        for ws in list(self._sockets):
            await self._close_ws(ws, code=code, message=b"dropped by the double")

