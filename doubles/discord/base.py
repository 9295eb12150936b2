"""The state every part of the double shares: who the bot is, where the double listens, what it has
recorded (requests, violations), snowflakes, and waiting for a change.

:class:`DoubleBase` is the bottom of the mixins :class:`~doubles.discord.double.DiscordDouble` is
assembled from; each mixin adds one concern and keeps its own state (set up by its ``_init_*``).
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from doubles.discord.api import ApiError, ApiRequest
from doubles.discord.limits import Problem, Violation, _errors_tree
from doubles.discord.model import user_payload
from doubles.discord.protocol import API_PREFIX, CONTROL_PREFIX, DISCORD_EPOCH_MS, HOST


class DoubleBase:
    """Identity, addresses, records and change notification."""

    def __init__(
        self,
        *,
        port: int,
        token: str | None,
        application_id: int,
        bot_name: str,
        owner_id: int,
        state_file: str | os.PathLike[str] | None,
    ) -> None:
        self.host = HOST
        self._requested_port = port
        self.port = 0
        self.token = token
        self.application_id = application_id
        self.bot_user = user_payload(application_id, bot_name, bot=True)
        self.bot_user.update({"verified": True, "mfa_enabled": False, "locale": "en-US"})
        self.owner_id = owner_id
        self.state_file = Path(state_file) if state_file else None
        self.requests: list[dict[str, Any]] = []
        self.violations: list[Violation] = []
        self.unknown_routes: list[dict[str, Any]] = []
        self._last_snowflake = 0
        self._changed = asyncio.Event()
        self._started_at = time.monotonic()
        self._dirty = False

    # -- addresses --------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def api_base(self) -> str:
        return f"{self.base_url}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://{HOST}:{self.port}/"

    @property
    def control_url(self) -> str:
        return f"{self.base_url}{CONTROL_PREFIX}"

    # -- snowflakes, change notification ---------------------------------------------------------
    def snowflake(self) -> int:
        """A new id that sorts after every id this double handed out before."""
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        self._last_snowflake = max(ms << 22, self._last_snowflake + 1)
        return self._last_snowflake

    def _bump(self) -> None:
        self._dirty = True
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    async def wait_until(
        self, predicate: Callable[[], bool], timeout: float = 5.0, what: str = "a condition"
    ) -> None:
        """Wait until ``predicate()`` holds, re-checking whenever the double records something."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            event = self._changed
            if predicate():
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"timed out after {timeout:.1f}s waiting for {what}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), min(remaining, 0.25))

    # -- records ----------------------------------------------------------------------------------
    def requests_to(self, pattern: str, method: str | None = None) -> list[dict[str, Any]]:
        """Recorded API requests whose path (without ``/api/v10``) matches a glob.

        For example ``requests_to("/channels/*/messages", "POST")``.
        """
        return [
            r
            for r in self.requests
            if fnmatch.fnmatchcase(r["path"], pattern) and (method is None or r["method"] == method.upper())
        ]

    # -- violations -------------------------------------------------------------------------------
    def violate(
        self, kind: str, message: str, *, method: str = "", path: str = "", field: str = ""
    ) -> Violation:
        """Record a violation (the fixture fails the test at teardown if any is left)."""
        violation = Violation(kind, message, method, path, field)
        self.violations.append(violation)
        self._bump()
        return violation

    def take_violations(self) -> list[Violation]:
        """Return the recorded violations and forget them (for tests that provoke them on purpose)."""
        taken, self.violations = self.violations, []
        return taken

    def violations_report(self) -> str:
        """The recorded violations, one a line, under a heading (how a failing test shows them)."""
        lines = "\n".join(f"  - {v}" for v in self.violations)
        return f"the Discord double recorded {len(self.violations)} violation(s):\n{lines}"

    def assert_no_violations(self) -> None:
        if self.violations:
            raise AssertionError(self.violations_report())

    def _reject(self, req: ApiRequest, problems: list[Problem], kind: str = "limit") -> ApiError:
        """Record each problem as a violation and build the 400 Discord would answer."""
        req.record["outcome"] = "violation"
        for problem in problems:
            this_kind = kind
            if problem.code.startswith("ALLOWED_MENTIONS"):
                this_kind = "allowed_mentions"
            elif problem.code == "EMPTY_MESSAGE":
                this_kind = "empty_message"
            self.violate(this_kind, problem.message, method=req.method, path=req.path, field=problem.field)
        if len(problems) == 1 and problems[0].code == "EMPTY_MESSAGE":
            return ApiError(400, 50006, "Cannot send an empty message")
        return ApiError(400, 50035, "Invalid Form Body", _errors_tree(problems))
