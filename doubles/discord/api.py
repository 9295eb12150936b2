"""What every REST route handler of the double shares: the request it is given, Discord-style errors
and JSON answers."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web


@dataclass
class ApiRequest:
    """One REST request as a route handler sees it; ``record`` is its entry in ``double.requests``."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: Mapping[str, str]
    record: dict[str, Any]
    attachments: list[dict[str, Any]] = dataclasses.field(default_factory=list)


class ApiError(Exception):
    """Raised by a route handler to answer with a Discord-style error."""

    def __init__(self, status: int, code: int, message: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.errors = status, code, message, errors

    def response(self) -> web.Response:
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = self.errors
        return json_response(body, status=self.status)


Handler = Callable[..., Awaitable[web.StreamResponse]]


def json_response(
    data: Any,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    dumps: Callable[[Any], str] = json.dumps,
) -> web.Response:
    """A JSON response whose Content-Type is exactly ``application/json``, as Discord sends it.

    discord.py compares the header for equality; aiohttp's ``json_response`` appends a charset, which
    would make discord.py treat every body as text.
    """
    return web.Response(
        body=dumps(data).encode("utf-8"), status=status, headers=headers, content_type="application/json"
    )


def response_json(response: web.StreamResponse) -> Any:
    """The JSON body of a response the double built (``None`` if it has none)."""
    body = response.body if isinstance(response, web.Response) else None
    if not isinstance(body, bytes) or not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def not_found(what: str, code: int) -> ApiError:
    return ApiError(404, code, f"Unknown {what}")


def public_message(message: Mapping[str, Any]) -> dict[str, Any]:
    """A stored message as Discord serves it when read back: without the ``nonce``.

    Discord echoes a nonce only in the create response and the ``MESSAGE_CREATE`` event, so a bot
    cannot find "its" message in the history by nonce; the double must not let it either.
    """
    return {k: v for k, v in message.items() if k != "nonce"}
