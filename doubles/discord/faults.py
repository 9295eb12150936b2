"""Fault injection: scripted error answers, held answers (the request performed, the answer kept back),
and Discord's global rate limit."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import fnmatch
import math
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from doubles.discord.api import json_response, response_json
from doubles.discord.base import DoubleBase


@dataclass
class Fault:
    """A scripted failure: answer ``status`` to the next ``remaining`` matching requests.

    ``skip`` lets that many matching requests through first (so a test can aim at the 4th post of
    a digest); ``seen`` counts the matching requests so far, ``hits`` those the fault answered.
    ``hold`` withholds the answer: ``True`` until :meth:`DiscordDouble.release_held` or until the
    client goes away, a number for that many seconds at most. A 2xx ``status`` with a hold does
    not fail the request: the double performs it (the message is created, its nonce registered)
    and only the answer is late -- a client killed meanwhile never learns that its message exists.
    """

    status: int
    path: str = "*"
    method: str | None = None
    channel_id: int | None = None
    remaining: int | None = 1
    retry_after: float = 1.0
    is_global: bool = False
    code: int | None = None
    message: str | None = None
    hits: int = 0
    skip: int = 0
    seen: int = 0
    hold: bool | float = False

    @property
    def passes_through(self) -> bool:
        """Whether the request is performed (a held 2xx) rather than answered with an error."""
        return bool(self.hold) and 200 <= self.status < 300

    def spend(self) -> None:
        """Count one request this fault acts on."""
        self.hits += 1
        if self.remaining is not None:
            self.remaining -= 1

    def matches(self, method: str, path: str) -> bool:
        if self.remaining is not None and self.remaining <= 0:
            return False
        if self.method is not None and self.method.upper() != method:
            return False
        if self.channel_id is not None:
            prefix = f"/channels/{self.channel_id}"
            if path != prefix and not path.startswith(prefix + "/"):
                return False
        return fnmatch.fnmatchcase(path, self.path)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class _Held:
    """An answer the double withholds (see :attr:`Fault.hold`): released by setting ``release``."""

    record: dict[str, Any]
    release: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)


def hold_value(value: Any) -> bool | float:
    """``hold`` as the control API carries it: true/false, or seconds (null: no hold)."""
    if value is None or isinstance(value, bool):
        return bool(value)
    return float(value)


class FaultsMixin(DoubleBase):
    """Faults, holds and the global rate limit, applied to every REST request before its route."""

    def _init_faults(self) -> None:
        self.faults: list[Fault] = []
        self._held: list[_Held] = []
        self._rate_limit: int | None = None
        self._rate_window: deque[float] = deque()
        self.rate_limited_count = 0

    def inject_fault(
        self,
        path: str = "*",
        *,
        status: int,
        count: int | None = 1,
        method: str | None = None,
        channel_id: int | None = None,
        retry_after: float = 1.0,
        is_global: bool = False,
        code: int | None = None,
        message: str | None = None,
        skip: int = 0,
        hold: bool | float = False,
    ) -> Fault:
        """Answer ``status`` to the next ``count`` requests matching (``count=None``: until cleared).

        ``path`` is a glob on the API path without ``/api/v10`` (``/channels/*/messages``);
        ``channel_id`` narrows it to ``/channels/{id}`` and below. 429 carries ``Retry-After``, a JSON
        ``retry_after`` and ``global`` (``is_global``); 403 defaults to 50013 Missing Permissions (pass
        ``code=50001`` for Missing Access); 404 to 10003 Unknown Channel; 5xx to a bare server error.

        ``skip`` lets the first ``skip`` matching requests through untouched (other faults still
        apply to them). ``hold`` withholds the answer (``True``: until :meth:`release_held` or the
        client disconnects; seconds: at most that long); with a 2xx ``status`` the request itself is
        performed -- see :meth:`hold_next_message`, and :meth:`held`/:meth:`wait_held` to observe it.
        """
        if skip < 0:
            raise ValueError("skip must be 0 or more")
        if not isinstance(hold, bool) and hold < 0:
            raise ValueError("hold must be True, False or a number of seconds")
        fault = Fault(
            status=status,
            path=path,
            method=method.upper() if method else None,
            channel_id=None if channel_id is None else int(channel_id),
            remaining=count,
            retry_after=retry_after,
            is_global=is_global,
            code=code,
            message=message,
            skip=skip,
            hold=hold,
        )
        self.faults.append(fault)
        return fault

    def hold_next_message(
        self,
        channel_id: int | None = None,
        *,
        skip: int = 0,
        count: int | None = 1,
        seconds: float | None = None,
    ) -> Fault:
        """Create the next channel message(s) but hold the answer to the ``POST``.

        The message is stored (listings and :meth:`channel_messages` show it, a ``MESSAGE_CREATE``
        goes out, its nonce is registered), yet the HTTP request is left unanswered until
        :meth:`release_held`, for ``seconds`` if given, or until the client disconnects -- so a test
        can kill the bot while Discord "has" the message and the bot has no id for it. ``skip`` lets
        that many matching posts through first (``skip=3`` holds the 4th); ``channel_id`` (a thread
        id works too) narrows it to one channel. The request record gets ``outcome: "held"``.
        """
        return self.inject_fault(
            "/channels/*/messages",
            status=200,
            method="POST",
            channel_id=channel_id,
            count=count,
            skip=skip,
            hold=True if seconds is None else float(seconds),
        )

    def held(self) -> list[dict[str, Any]]:
        """Records of every request whose answer was held, oldest first.

        Each has ``outcome: "held"`` and ``hold``: ``"holding"`` (still unanswered), ``"answered"``
        (released or timed out) or ``"disconnected"`` (the client went away first, e.g. was killed);
        ``held_status``, ``held_outcome`` and ``held_response`` say what the answer is or was.
        """
        return [h.record for h in self._held]

    def release_held(self, count: int | None = None) -> int:
        """Send the answers still held (the oldest ``count`` of them; all by default); how many."""
        waiting = [h for h in self._held if h.record.get("hold") == "holding" and not h.release.is_set()]
        for held in waiting if count is None else waiting[:count]:
            held.release.set()
        return len(waiting) if count is None else min(count, len(waiting))

    async def wait_held(self, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Wait until at least ``count`` answers have been held (now or before); return the records."""
        await self.wait_until(lambda: len(self._held) >= count, timeout, f"{count} held answer(s)")
        return self.held()

    async def _hold(
        self, request: web.Request, record: dict[str, Any], fault: Fault, response: web.StreamResponse
    ) -> None:
        """Keep ``response`` back as ``fault.hold`` says, noting in ``record`` how the hold ends."""
        held = _Held(record)
        record["held_outcome"] = record["outcome"]
        record["held_status"] = response.status
        record["held_response"] = response_json(response)
        record["outcome"] = "held"
        record["hold"] = "holding"
        self._held.append(held)
        self._bump()
        loop = asyncio.get_running_loop()
        deadline = None if isinstance(fault.hold, bool) else loop.time() + float(fault.hold)
        try:
            # Polled, not awaited once: aiohttp does not cancel a handler whose client went away.
            while not held.release.is_set():
                transport = request.transport
                if transport is None or transport.is_closing():
                    record["hold"] = "disconnected"
                    return
                step = 0.05 if deadline is None else min(0.05, deadline - loop.time())
                if step <= 0:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(held.release.wait(), step)
            record["hold"] = "answered"
        except asyncio.CancelledError:
            record["hold"] = "disconnected"
            raise
        finally:
            self._bump()

    def clear_faults(self) -> None:
        """Forget every fault; answers already held stay held (see :meth:`release_held`)."""
        self.faults.clear()

    def set_global_rate_limit(self, per_second: int | None) -> None:
        """Allow at most ``per_second`` API requests in any 1 s window (``None`` lifts the limit).

        Interaction callbacks and webhook (followup) calls are exempt, as on Discord.
        """
        self._rate_limit = per_second
        self._rate_window.clear()

    def _apply_faults(
        self, method: str, path: str, record: dict[str, Any]
    ) -> tuple[web.Response | None, Fault | None]:
        """What the faults say to a request: an answer instead of the route's (``None``: perform it),
        and the fault that says to hold the answer back (if any)."""
        for fault in self.faults:
            if not fault.matches(method, path):
                continue
            fault.seen += 1
            if fault.seen <= fault.skip:
                continue
            if fault.passes_through:  # performed as usual; only the answer is held
                fault.spend()
                return None, fault
            record["outcome"] = "fault"
            return self._fault_response(fault), (fault if fault.hold else None)
        return None, None

    def _fault_response(self, fault: Fault) -> web.Response:
        fault.spend()
        if fault.status == 429:
            return self._rate_limited_response(
                fault.retry_after, fault.is_global, scope="user" if not fault.is_global else "global"
            )
        defaults = {
            403: (50013, "Missing Permissions"),
            404: (10003, "Unknown Channel"),
            400: (50035, "Invalid Form Body"),
            401: (0, "401: Unauthorized"),
        }
        code, message = defaults.get(fault.status, (0, f"{fault.status}: Server Error"))
        if fault.status == 403 and fault.code == 50001:
            message = "Missing Access"
        return json_response(
            {"message": fault.message or message, "code": fault.code if fault.code is not None else code},
            status=fault.status,
        )

    @staticmethod
    def _rate_limited_response(retry_after: float, is_global: bool, scope: str) -> web.Response:
        retry_after = max(round(retry_after, 3), 0.001)
        headers = {
            "Retry-After": str(max(1, math.ceil(retry_after))),
            "X-RateLimit-Scope": scope,
            # discord.py treats a 429 without Via as a Cloudflare ban and does not retry.
            "Via": "1.1 google",
        }
        if is_global:
            headers["X-RateLimit-Global"] = "true"
        body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": is_global}
        if is_global:
            body["code"] = 0
        return json_response(body, status=429, headers=headers)

    def _check_global_rate_limit(self, path: str) -> web.Response | None:
        if self._rate_limit is None or path.startswith(("/interactions/", "/webhooks/")):
            return None
        now = time.monotonic()
        window = self._rate_window
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) >= self._rate_limit:
            self.rate_limited_count += 1
            return self._rate_limited_response(window[0] + 1.0 - now, True, "global")
        window.append(now)
        return None

