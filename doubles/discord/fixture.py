"""Using the double from pytest: the ``discord_double`` fixture, and :func:`running_bot` to start and
stop a discord.py client without risking a hang."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from doubles.discord.double import DiscordDouble


@contextlib.asynccontextmanager
async def running_bot(client: Any, token: str = "test-token", *, timeout: float = 10.0) -> AsyncIterator[Any]:
    """Start a discord.py ``Client``/``Bot`` (already pointed at a double), wait for READY, close it after.

    Every wait is bounded, and a client that dies while starting re-raises its error instead of
    leaving the test waiting. Tip: build the client with ``guild_ready_timeout=0.1`` -- discord.py
    otherwise waits 2 s after the last GUILD_CREATE before it dispatches READY.
    """
    task = asyncio.create_task(client.start(token))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        while not client.is_ready():
            if task.done():
                task.result()  # re-raise why the client stopped
                raise RuntimeError("the client stopped before it became ready")
            if loop.time() > deadline:
                raise TimeoutError(f"the client did not become ready within {timeout:g}s")
            await asyncio.sleep(0.02)
        yield client
    finally:
        await asyncio.wait_for(client.close(), timeout)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout)


@pytest_asyncio.fixture(name="discord_double")
async def discord_double_fixture() -> AsyncIterator[DiscordDouble]:
    """A started :class:`DiscordDouble` with discord.py pointed at it.

    At teardown it waits for open interactions to be answered or to time out, restores discord.py's
    endpoints, and fails the test if any violation is left (use ``take_violations()`` for the ones a
    test provokes on purpose). Register it in a test module with
    ``from doubles.discord import discord_double_fixture  # noqa: F401``.
    """
    from bot.discord_side.endpoints import discord_endpoints, point_discord_at

    previous = discord_endpoints()
    double = DiscordDouble()
    await double.start()
    point_discord_at(double.api_base, double.gateway_url)
    try:
        yield double
        await double.settle()
    finally:
        point_discord_at(*previous)
        await double.stop()
    if double.violations:
        pytest.fail(double.violations_report(), pytrace=False)

