"""Point discord.py at a Discord API base and gateway other than discord.com.

The brief wants every URL the bot calls to be configurable so the bot can run against local servers
(the test double, a proxy). discord.py has no constructor option for that; it reads a few class
attributes instead, which this module sets in one place:

* ``discord.http.Route.BASE`` -- every REST call, *including* interaction callbacks, followups and
  ``@original`` edits (the webhook adapter builds the same ``Route`` objects), is ``BASE + path``,
  computed when the route object is created. Setting it once before ``login`` is enough.
* ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` -- a plain ``Client``/``Bot`` connects here
  first (it never asks ``GET /gateway/bot``), and discord.py falls back to it after an
  ``INVALID_SESSION``. Resumes go to ``resume_gateway_url`` from ``READY``, and an
  ``AutoShardedClient`` asks ``GET /gateway/bot`` for its URL, so the server behind ``api_base`` must
  answer with URLs that lead back to it -- a concern of that server, not of this module.

The gateway query (``?v=10&encoding=json&compress=zlib-stream``) is appended by discord.py; the
library only inflates *binary* frames, so a server that answers with plain text JSON frames works
whatever compression was asked for.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import discord.gateway
import discord.http
import yarl

__all__ = ["discord_endpoints", "point_discord_at"]


def _check_url(value: str, schemes: tuple[str, ...], what: str) -> None:
    """Reject a URL discord.py could not use, naming it, before the bot tries to connect."""
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.netloc:
        allowed = " or ".join(f"{scheme}://" for scheme in schemes)
        raise ValueError(f"{what} must be an absolute {allowed} URL, got {value!r}")


def point_discord_at(api_base: str, gateway_url: str) -> None:
    """Make discord.py send REST calls to ``api_base`` and open its gateway at ``gateway_url``.

    ``api_base`` is the versioned REST root, e.g. ``https://discord.com/api/v10`` or
    ``http://127.0.0.1:8765/api/v10``; ``gateway_url`` is the websocket root, e.g.
    ``wss://gateway.discord.gg/``. Call it before ``Client.login``/``start``: REST routes read the
    base when they are built, and the websocket reads the gateway when it connects. It changes
    process-wide class attributes, so every client in the process follows it.
    """
    _check_url(api_base, ("http", "https"), "the Discord API base")
    _check_url(gateway_url, ("ws", "wss"), "the Discord gateway URL")
    discord.http.Route.BASE = api_base.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


def discord_endpoints() -> tuple[str, str]:
    """Return the ``(api_base, gateway_url)`` discord.py uses now, e.g. to restore them later."""
    return discord.http.Route.BASE, str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
