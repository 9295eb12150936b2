"""Polite, robust fetching: one shared aiohttp session for the process.

Per-host limiters (arXiv's RSS and API hosts share one: one request at a time, at least
``request_interval`` apart), conditional GET, a timeout, a body cap that stops reading at the cap,
and retries with exponential backoff and jitter that honour ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from urllib.parse import urlsplit

import aiohttp

from bot.core.clock import utc_now
from bot.core.config import HttpConfig

log = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
_CHUNK_SIZE = 64 * 1024
_ERROR_BODY_BYTES = 64 * 1024


class FetchError(Exception):
    """A request that failed for good; ``retry_after`` says when the server wants us back."""

    def __init__(self, message: str, *, status: int | None = None,
                 retry_after: float | None = None, retryable: bool | None = None,
                 body: bytes = b"") -> None:
        super().__init__(message)
        self.status = status
        self.body = body  # the start of an error response: some APIs explain themselves there
        self.retry_after = retry_after
        self.retryable = (status is None or status in RETRYABLE_STATUS) if retryable is None else retryable


@dataclass(frozen=True)
class FetchResult:
    """A response: ``body`` is None when the server answered 304 Not Modified."""

    url: str
    status: int
    body: bytes | None
    etag: str | None
    last_modified: str | None
    content_type: str

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class HostLimiter:
    """One request at a time to a host, and at least ``interval`` seconds between their starts."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._lock = asyncio.Lock()
        self._last_start = float("-inf")

    async def __aenter__(self) -> None:
        await self._lock.acquire()
        wait = self._last_start + self.interval - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self._last_start = time.monotonic()

    async def __aexit__(self, *exc_info: object) -> None:
        self._lock.release()


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds: either a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - utc_now()).total_seconds())


class HttpClient:
    """The process's one HTTP client. ``groups`` maps host names to a shared politeness interval."""

    def __init__(self, config: HttpConfig,
                 host_groups: Mapping[str, tuple[str, float]] | None = None) -> None:
        self.config = config
        self._host_groups = dict(host_groups or {})
        self._limiters: dict[str, HostLimiter] = {}
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                headers={"User-Agent": self.config.user_agent},
                timeout=aiohttp.ClientTimeout(total=self.config.timeout),
                auto_decompress=True,
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def limiter_for(self, url: str) -> HostLimiter:
        """The limiter of a URL's host (hosts in one group, such as arXiv's, share one)."""
        host = urlsplit(url).netloc.lower()
        group, interval = self._host_groups.get(host, (host, 0.0))
        if group not in self._limiters:
            self._limiters[group] = HostLimiter(interval)
        return self._limiters[group]

    async def get(self, url: str, *, params: Mapping[str, str] | None = None,
                  etag: str | None = None, last_modified: str | None = None) -> FetchResult:
        """GET with retries; raises :class:`FetchError` with a readable message when it gives up."""
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        attempt = 0
        while True:
            try:
                async with self.limiter_for(url):
                    return await self._get_once(url, params, headers)
            except FetchError as error:
                attempt += 1
                delay = self._retry_delay(error, attempt)
                if delay is None:
                    raise
                log.info("retrying %s in %.1fs after: %s", url, delay, error)
                await asyncio.sleep(delay)

    def _retry_delay(self, error: FetchError, attempt: int) -> float | None:
        """How long to wait before the next attempt, or None to give up now."""
        if not error.retryable or attempt > self.config.retries:
            return None
        if error.retry_after is not None:
            delay = error.retry_after
        else:
            delay = self.config.retry_backoff * (2 ** (attempt - 1))
            delay += random.uniform(0, delay / 2)
        return None if delay > self.config.max_retry_wait else delay

    async def _get_once(self, url: str, params: Mapping[str, str] | None,
                        headers: Mapping[str, str]) -> FetchResult:
        try:
            async with self.session.get(url, params=params, headers=headers,
                                        allow_redirects=True) as response:
                if response.status == 304:
                    return self._result(url, response, None)
                if response.status >= 400:
                    raise FetchError(
                        f"HTTP {response.status} {response.reason or ''}".strip(),
                        status=response.status,
                        retry_after=parse_retry_after(response.headers.get("Retry-After")),
                        body=await response.content.read(_ERROR_BODY_BYTES))
                body = await self._read_capped(response)
                return self._result(url, response, body)
        except TimeoutError:
            raise FetchError(f"timed out after {self.config.timeout}") from None
        except aiohttp.ClientConnectorError as exc:
            raise FetchError(f"cannot connect: {exc.os_error or exc}") from None
        except aiohttp.ClientPayloadError as exc:
            raise FetchError(f"broken response body: {exc}") from None
        except aiohttp.ClientError as exc:
            raise FetchError(f"request failed: {exc}") from None

    async def _read_capped(self, response: aiohttp.ClientResponse) -> bytes:
        """Read the body, stopping (and failing for good) at ``max_body_bytes``."""
        cap = self.config.max_body_bytes
        declared = response.content_length
        if declared is not None and declared > cap:
            raise FetchError(f"response of {declared} bytes is over the {cap}-byte cap", retryable=False)
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_chunked(_CHUNK_SIZE):
            size += len(chunk)
            if size > cap:
                raise FetchError(f"response body is over the {cap}-byte cap; stopped reading",
                                 retryable=False)
            chunks.append(chunk)
        return b"".join(chunks)

    @staticmethod
    def _result(url: str, response: aiohttp.ClientResponse, body: bytes | None) -> FetchResult:
        return FetchResult(url=url, status=response.status, body=body,
                           etag=response.headers.get("ETag"),
                           last_modified=response.headers.get("Last-Modified"),
                           content_type=response.headers.get("Content-Type", ""))
