"""A feed/arXiv server on 127.0.0.1 for tests: serves files or bytes per path, with faults on demand.

Each route answers with a body (ETag and Last-Modified set, conditional GET honoured) or a fault:
a status with optional Retry-After, a delay (for timeouts), a slow trickle of a body, or an
endless body (for the body cap). Every request is recorded.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web


@dataclass
class Route:
    """What one path answers."""

    body: bytes = b""
    content_type: str = "application/xml; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering
    conditional: bool = True  # honour If-None-Match / If-Modified-Since with 304
    endless: bool = False  # stream zero bytes forever (until the client stops)
    fail_times: int | None = None  # answer ``status`` this many times then the body; None: always
    trickle: float = 0.0  # seconds between 64 KiB chunks of the body
    error_body: bytes | None = None  # what a non-200 ``status`` answers (default: "status N")


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]


class FeedServer:
    """``async with FeedServer() as server: server.serve('/rss/cs.LG', path)``; URLs from ``url()``."""

    LAST_MODIFIED = "Thu, 28 Nov 2024 15:00:00 GMT"

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[RecordedRequest] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def __aenter__(self) -> FeedServer:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def serve(self, path: str, source: bytes | str | Path, **options: object) -> str:
        """Serve a file (Path or str path) or bytes at ``path``; returns its URL."""
        body = source if isinstance(source, bytes) else Path(source).read_bytes()
        self.routes[path] = Route(body=body, **options)  # type: ignore[arg-type]
        return self.url(path)

    def fault(self, path: str, **options: object) -> str:
        """A route that answers a fault (``status=500``, ``delay=5``, ``endless=True`` ...)."""
        self.routes[path] = Route(**options)  # type: ignore[arg-type]
        return self.url(path)

    def hits(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(
            RecordedRequest(request.method, request.path, dict(request.query), dict(request.headers))
        )
        route = self.routes.get(request.path)
        if route is None:
            return web.Response(status=404, text="not found")
        if route.delay:
            await asyncio.sleep(route.delay)
        if route.status != 200 and (route.fail_times is None or route.fail_times > 0):
            if route.fail_times is not None:
                route.fail_times -= 1
            if route.error_body is not None:
                return web.Response(status=route.status, body=route.error_body, headers=route.headers,
                                    content_type=route.content_type.split(";")[0])
            return web.Response(status=route.status, text=f"status {route.status}", headers=route.headers)
        if route.endless:
            return await self._endless(request)
        etag = '"' + hashlib.sha256(route.body).hexdigest()[:16] + '"'
        headers = {"ETag": etag, "Last-Modified": self.LAST_MODIFIED, **route.headers}
        if route.conditional and request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers=headers)
        if route.trickle:
            return await self._trickle(request, route, headers)
        return web.Response(body=route.body, headers={**headers, "Content-Type": route.content_type})

    async def _endless(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/xml"})
        await response.prepare(request)
        chunk = b"<!-- padding -->" * 4096
        try:
            for _ in range(100_000):
                await response.write(chunk)
        except (ConnectionResetError, RuntimeError):
            pass
        return response

    async def _trickle(
        self, request: web.Request, route: Route, headers: dict[str, str]
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={**headers, "Content-Type": route.content_type})
        await response.prepare(request)
        for start in range(0, len(route.body), 65536):
            await response.write(route.body[start : start + 65536])
            await asyncio.sleep(route.trickle)
        await response.write_eof()
        return response
