"""Driving a double that runs in a process of its own: :class:`DoubleProcess` starts
``python -m doubles.discord`` and yields a :class:`RemoteDouble`, the client of its control API, so a
test can run the bot in a subprocess, SIGKILL it, and still read what the double recorded.

The remote methods that stand for a :class:`DiscordDouble` method with many parameters
(:meth:`RemoteDouble.inject_fault`, :meth:`~RemoteDouble.send_slash_command`, ...) take exactly that
method's parameters (see :func:`_mirrors`), so the two cannot drift apart.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import os
import signal
import sys
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import IO, Any, Concatenate, ParamSpec, TypeVar

import aiohttp

from doubles.discord.double import DiscordDouble
from doubles.discord.protocol import FLAG_LOADING

REPO_ROOT = Path(__file__).resolve().parents[2]

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


async def _poll(
    fetch: Callable[[], Awaitable[T]],
    done: Callable[[T], bool],
    timeout: float,
    timed_out: Callable[[T], str],
) -> T:
    """``fetch()`` every 50 ms until ``done`` says yes; past ``timeout``, TimeoutError(``timed_out``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await fetch()
        if done(value):
            return value
        if loop.time() >= deadline:
            raise TimeoutError(timed_out(value))
        await asyncio.sleep(0.05)


_Send = Callable[["RemoteDouble", dict[str, Any]], Awaitable[R]]
"""A remote method written against the control API: it gets the JSON body."""


def _mirrors(
    local: Callable[Concatenate[Any, P], object],
) -> Callable[[_Send[R]], Callable[Concatenate[RemoteDouble, P], Awaitable[R]]]:
    """Give a :class:`RemoteDouble` method the parameters (and defaults) of the ``local`` method.

    The decorated function receives the call's arguments, defaults filled in, as a dict keyed by
    parameter name: the JSON body the control API takes for that method.
    """
    signature = inspect.signature(local)
    unbound = signature.replace(parameters=list(signature.parameters.values())[1:])  # without ``self``

    def decorate(send: _Send[R]) -> Callable[Concatenate[RemoteDouble, P], Awaitable[R]]:
        @functools.wraps(send)
        async def method(self: RemoteDouble, /, *args: P.args, **kwargs: P.kwargs) -> R:
            bound = unbound.bind(*args, **kwargs)
            bound.apply_defaults()
            return await send(self, dict(bound.arguments))

        # help() and IDEs show the mirrored parameters, not ``body``
        method.__signature__ = signature.replace(  # type: ignore[attr-defined]
            return_annotation=inspect.signature(send).return_annotation
        )
        return method

    return decorate


class RemoteInteraction:
    """An interaction sent through a :class:`RemoteDouble`; polls the control API for its progress."""

    def __init__(self, remote: RemoteDouble, data: dict[str, Any]) -> None:
        self._remote = remote
        self.data = data
        self.id = int(data["id"])

    async def refresh(self) -> dict[str, Any]:
        self.data = await self._remote._call("GET", f"/interactions/{self.id}")
        return self.data

    async def _poll(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float, what: str
    ) -> dict[str, Any]:
        return await _poll(self.refresh, predicate, timeout,
                           lambda _: f"timed out after {timeout:.1f}s waiting for {what}")

    async def response(self, timeout: float = 5.0) -> dict[str, Any]:
        data = await self._poll(lambda d: d["callback"] is not None or d["expired"], timeout, "the callback")
        if data["callback"] is None:
            raise AssertionError(f"{data['label']}: the application did not respond in time")
        return data["callback"]

    async def wait_original(self, timeout: float = 5.0) -> dict[str, Any]:
        data = await self._poll(
            lambda d: d["original"] is not None and not d["original"].get("flags", 0) & FLAG_LOADING,
            timeout,
            "the original response",
        )
        return data["original"]

    async def wait_followups(self, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        data = await self._poll(lambda d: len(d["followups"]) >= count, timeout, f"{count} followup(s)")
        return data["followups"]


class RemoteDouble:
    """Async client for the control API of a double in another process (see ``--help``)."""

    def __init__(self, control_url: str, info: dict[str, Any] | None = None) -> None:
        self.control_url = control_url.rstrip("/")
        self.info = info or {}
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> RemoteDouble:
        if not self.info:
            self.info = await self._call("GET", "/info")
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def api_base(self) -> str:
        return self.info["api_base"]

    @property
    def gateway_url(self) -> str:
        return self.info["gateway_url"]

    @property
    def guild_id(self) -> int:
        return int(self.info["guild_id"])

    @property
    def channel_id(self) -> int:
        return int(self.info["channel_id"])

    async def _call(self, method: str, sub: str, body: Any = None, **query: Any) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        params = {
            k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in query.items() if v is not None
        }
        async with self._session.request(
            method, self.control_url + sub, json=body, params=params
        ) as response:
            data = await response.json()
            if response.status >= 400:
                raise RuntimeError(f"double control {method} {sub}: {response.status} {data.get('error')}")
            return data

    async def state(self) -> dict[str, Any]:
        return await self._call("GET", "/state")

    async def wait_for_gateway(self, timeout: float = 10.0) -> None:
        await self._call("GET", "/wait_for_gateway", timeout=timeout)

    async def requests(self, since: int = 0) -> list[dict[str, Any]]:
        return await self._call("GET", "/requests", since=since)

    async def channel_messages(
        self, channel_id: int, *, include_ephemeral: bool = False, include_threads: bool = False
    ) -> list[dict[str, Any]]:
        return await self._call(
            "GET",
            "/messages",
            channel_id=channel_id,
            include_ephemeral=include_ephemeral,
            include_threads=include_threads,
        )

    async def all_messages(self, *, include_ephemeral: bool = False) -> list[dict[str, Any]]:
        return await self._call("GET", "/messages", include_ephemeral=include_ephemeral)

    async def wait_for_messages(
        self, channel_id: int, count: int = 1, timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        return await _poll(
            lambda: self.channel_messages(channel_id),
            lambda messages: len(messages) >= count,
            timeout,
            lambda messages: f"timed out waiting for {count} message(s) in channel {channel_id}; "
            f"have {len(messages)}",
        )

    async def threads(self, parent_id: int | None = None) -> list[dict[str, Any]]:
        return await self._call("GET", "/threads", parent_id=parent_id)

    async def violations(self) -> list[dict[str, Any]]:
        return await self._call("GET", "/violations")

    async def take_violations(self) -> list[dict[str, Any]]:
        return await self._call("POST", "/violations/take")

    async def identifies(self) -> list[dict[str, Any]]:
        return await self._call("GET", "/identifies")

    async def commands(self, guild_id: int | None = None) -> list[dict[str, Any]]:
        return await self._call("GET", "/commands", guild_id=guild_id)

    @_mirrors(DiscordDouble.inject_fault)
    async def inject_fault(self, body: dict[str, Any]) -> dict[str, Any]:
        """See :meth:`DiscordDouble.inject_fault`; returns the fault as a dict."""
        return await self._call("POST", "/faults", body)

    @_mirrors(DiscordDouble.hold_next_message)
    async def hold_next_message(self, body: dict[str, Any]) -> dict[str, Any]:
        """See :meth:`DiscordDouble.hold_next_message`; returns the fault as a dict."""
        return await self._call("POST", "/hold", body)

    async def held(self) -> list[dict[str, Any]]:
        return await self._call("GET", "/held")

    async def release_held(self, count: int | None = None) -> int:
        return int((await self._call("POST", "/held/release", {"count": count}))["released"])

    async def wait_held(self, count: int = 1, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Wait until the double has held at least ``count`` answers; their request records."""
        return await self._call("GET", "/wait_held", count=count, timeout=timeout)

    async def set_nonce_window(self, seconds: float | None) -> None:
        await self._call("POST", "/nonce_window", {"seconds": seconds})

    async def nonce_window(self) -> float | None:
        return (await self._call("GET", "/nonce_window"))["seconds"]

    async def nonces(self) -> list[dict[str, Any]]:
        return await self._call("GET", "/nonces")

    async def age_nonces(self, seconds: float) -> None:
        await self._call("POST", "/nonces/age", {"seconds": seconds})

    async def clear_faults(self) -> None:
        await self._call("DELETE", "/faults")

    async def set_global_rate_limit(self, per_second: int | None) -> None:
        await self._call("POST", "/rate_limit", {"per_second": per_second})

    async def set_bot_permissions(self, channel_id: int, permissions: int) -> None:
        await self._call("POST", "/permissions", {"channel_id": channel_id, "permissions": permissions})

    async def delete_channel(self, channel_id: int) -> None:
        await self._call("POST", "/channels/delete", {"channel_id": channel_id})

    async def reset(self) -> None:
        await self._call("POST", "/reset")

    async def save(self) -> None:
        await self._call("POST", "/save")

    async def gateway_reconnect(self) -> None:
        await self._call("POST", "/gateway/reconnect")

    async def gateway_drop(self, code: int = 4000) -> None:
        await self._call("POST", "/gateway/drop", {"code": code})

    @_mirrors(DiscordDouble.send_slash_command)
    async def send_slash_command(self, body: dict[str, Any]) -> RemoteInteraction:
        """See :meth:`DiscordDouble.send_slash_command`."""
        return RemoteInteraction(self, await self._call("POST", "/interactions/slash", body))

    @_mirrors(DiscordDouble.send_autocomplete)
    async def send_autocomplete(self, body: dict[str, Any]) -> RemoteInteraction:
        """See :meth:`DiscordDouble.send_autocomplete`."""
        return RemoteInteraction(self, await self._call("POST", "/interactions/autocomplete", body))

    @_mirrors(DiscordDouble.send_component)
    async def send_component(self, body: dict[str, Any]) -> RemoteInteraction:
        """See :meth:`DiscordDouble.send_component`."""
        return RemoteInteraction(self, await self._call("POST", "/interactions/component", body))


class DoubleProcess:
    """Run the double as ``python -m doubles.discord`` and yield a :class:`RemoteDouble`.

    ``async with DoubleProcess(state_file=tmp_path / "discord.json") as remote: ...`` -- the process
    outlives any bot process the test kills, and stops (writing its state file) on exit.
    """

    def __init__(
        self,
        *,
        state_file: str | os.PathLike[str] | None = None,
        port: int = 0,
        extra_args: Sequence[str] = (),
        startup_timeout: float = 15.0,
        nonce_window: float | None = None,
    ) -> None:
        self.state_file = state_file
        self.nonce_window = nonce_window
        self.port = port
        self.extra_args = list(extra_args)
        self.startup_timeout = startup_timeout
        self.process: asyncio.subprocess.Process | None = None
        self.remote: RemoteDouble | None = None
        self._stderr: IO[bytes] | None = None

    async def __aenter__(self) -> RemoteDouble:
        args = [
            sys.executable,
            "-m",
            "doubles.discord",
            "--port",
            str(self.port),
            *self.extra_args,
        ]
        if self.state_file is not None:
            args += ["--state-file", str(self.state_file)]
        if self.nonce_window is not None:
            args += ["--nonce-window", repr(float(self.nonce_window))]
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        }
        # stderr goes to a file, not a pipe: a pipe nobody reads would block the double once full.
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 -- closed in __aexit__
        self.process = await asyncio.create_subprocess_exec(
            *args, cwd=str(REPO_ROOT), env=env, stdout=asyncio.subprocess.PIPE, stderr=self._stderr
        )
        assert self.process.stdout is not None
        try:
            line = await asyncio.wait_for(self.process.stdout.readline(), self.startup_timeout)
        except TimeoutError:
            await self._terminate()
            raise TimeoutError(f"the Discord double did not start: {self.stderr_text()[-2000:]}") from None
        if not line:
            await self._terminate()
            raise RuntimeError(f"the Discord double did not start: {self.stderr_text()[-2000:]}")
        info = json.loads(line)
        self.remote = RemoteDouble(info["control_url"], info)
        return self.remote

    async def __aexit__(self, *exc: object) -> None:
        if self.remote is not None:
            await self.remote.close()
        await self._terminate()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def stderr_text(self) -> str:
        """What the double process wrote to stderr so far (tracebacks, for debugging a test)."""
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")

    async def _terminate(self) -> None:
        process = self.process
        if process is None or process.returncode is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 5.0)
        except TimeoutError:
            process.kill()
            await process.wait()

