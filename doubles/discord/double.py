""":class:`DiscordDouble`, assembled from one mixin per concern, and its life: construct, serve on
127.0.0.1, route each HTTP request (REST, control API or gateway), stop.

The mixins, bottom up (each module holds one): ``base`` (identity, records, snowflakes), ``state``
(guilds, channels, users, permissions), ``messages`` (message store, nonces), ``gateway``
(sessions, events), ``options`` and ``interactions`` (what a test sends the bot), ``faults``
(faults, holds, rate limit), ``rest`` with ``rest_commands``, ``rest_messages`` and
``rest_interactions`` (the routes), and ``control`` (control API, reset, state file). No method is
defined in two of them, so their order in the class bases changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import Sequence

from aiohttp import web

from doubles.discord.api import json_response
from doubles.discord.control import ControlMixin
from doubles.discord.model import GuildSpec
from doubles.discord.protocol import CONTROL_PREFIX, DEFAULT_BOT_ID, DEFAULT_OWNER_ID, HOST
from doubles.discord.rest import RestMixin


class DiscordDouble(ControlMixin, RestMixin):
    """A fake Discord on 127.0.0.1: REST under ``/api/v10``, the gateway at ``/``, control at ``/_double``.

    Read state with :meth:`channel_messages`, :attr:`requests`, :attr:`violations`,
    :attr:`identifies`, :meth:`commands`, :meth:`nonces`, :meth:`held`; script failures with
    :meth:`inject_fault`, :meth:`hold_next_message`, :meth:`set_nonce_window` and
    :meth:`set_global_rate_limit`; drive the bot with :meth:`send_slash_command`,
    :meth:`send_autocomplete`, :meth:`send_component` and :meth:`send_modal_submit`.
    """

    def __init__(
        self,
        *,
        port: int = 0,
        guilds: Sequence[GuildSpec] | None = None,
        token: str | None = None,
        application_id: int = DEFAULT_BOT_ID,
        bot_name: str = "Paperboy",
        owner_id: int = DEFAULT_OWNER_ID,
        interaction_timeout: float = 3.0,
        heartbeat_interval_ms: int = 41_250,
        shards: int = 1,
        allow_privileged_intents: bool = False,
        state_file: str | os.PathLike[str] | None = None,
        nonce_window: float | None = None,
    ) -> None:
        super().__init__(port=port, token=token, application_id=application_id, bot_name=bot_name,
                         owner_id=owner_id, state_file=state_file)
        self._init_state()
        self._init_messages(nonce_window)
        self._init_gateway(heartbeat_interval_ms, shards, allow_privileged_intents)
        self._init_interactions(interaction_timeout)
        self._init_faults()
        self._init_rest()
        self._runner: web.AppRunner | None = None
        self._saver: asyncio.Task[None] | None = None
        for spec in guilds if guilds is not None else [GuildSpec.default()]:
            self._install_guild(spec)
        self._load_state()

    # -- lifecycle --------------------------------------------------------------------------------
    async def start(self) -> None:
        """Bind to 127.0.0.1 (the given port, or an ephemeral one) and serve."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._entry)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, HOST, self._requested_port)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.Server) and server.sockets
        self.port = server.sockets[0].getsockname()[1]
        self._changed = asyncio.Event()
        if self.state_file is not None:
            self._saver = asyncio.create_task(self._save_loop())

    async def stop(self) -> None:
        """Close every gateway socket, stop serving and write the state file (if any)."""
        self.release_held()  # a held request would otherwise keep the server from shutting down
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                await self._close_ws(ws, code=1001, message=b"double stopping")
        self._cancel_deadlines()
        if self._saver is not None:
            self._saver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._saver
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.save_state()

    async def __aenter__(self) -> DiscordDouble:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- HTTP entry -------------------------------------------------------------------------------
    async def _entry(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        match = re.match(r"^/api/v(\d+)(/.*)?$", path)
        if match:
            return await self._api(request, match.group(2) or "/", int(match.group(1)))
        if path.startswith(CONTROL_PREFIX):
            return await self._control(request, path[len(CONTROL_PREFIX) :] or "/")
        if path in ("/", "/gateway", "/gateway/") and request.method == "GET":
            ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
            if ws.can_prepare(request).ok:
                return await self._gateway(request, ws)
            return json_response({"double": "discord", **self.info()})
        return json_response({"message": "404: Not Found", "code": 0}, status=404)
