"""The Discord side of delivery: :class:`bot.discord_side.delivery.Sender` through discord.py's HTTP
client (its rate-limit handling included), paced under the token's global limit, and the history
check's comparison of a listed message with a payload."""

from __future__ import annotations

from typing import Any

import aiohttp
import discord
from discord.http import Route

from bot.discord_side.delivery import ChannelUnavailable, SendFailed
from bot.discord_side.pacing import Pacer

THREAD_ALREADY_EXISTS = 160004
HISTORY_PAGES = 10  # a late restart reads at most 1,000 messages of a channel to find its own


class DiscordSender:
    """:class:`Sender` through discord.py's HTTP client (its rate-limit handling included)."""

    def __init__(self, client: discord.Client, requests_per_second: float = 48.0) -> None:
        self.client = client
        self.pacer = Pacer(requests_per_second)

    @property
    def requests_per_second(self) -> float:
        return self.pacer.rate

    async def send(self, channel_id: int, payload: dict[str, Any], nonce: str) -> int:
        body = {**payload, "nonce": nonce, "enforce_nonce": True,
                "allowed_mentions": {"parse": []}}
        route = Route("POST", "/channels/{channel_id}/messages", channel_id=channel_id)
        data = await self._request(route, body)
        return int(data["id"])

    async def find_sent(self, channel_id: int, payload: dict[str, Any], after_id: int,
                        probe_id: int | None = None) -> int | None:
        """Page through the channel's messages after ``after_id`` (oldest pages first) for ours.

        Without Read Message History Discord lists no messages rather than answering an error:
        the permission is read from the gateway's cache first, and when nothing is found a known
        message of this channel (``probe_id``) is fetched, which does answer 403 without it.
        """
        if self._can_read_history(channel_id) is False:
            raise ChannelUnavailable("missing the Read Message History permission")
        bot_id = str(self.client.user.id) if self.client.user else None
        for _page in range(HISTORY_PAGES):
            route = Route("GET", "/channels/{channel_id}/messages", channel_id=channel_id)
            messages = await self._request(route, None, params={"limit": 100, "after": after_id})
            for message in messages:
                if str(message.get("author", {}).get("id")) == bot_id and same_message(message, payload):
                    return int(message["id"])
            if len(messages) < 100:
                break
            after_id = max(int(m["id"]) for m in messages)
        if probe_id is not None:
            await self._request(Route("GET", "/channels/{channel_id}/messages/{message_id}",
                                      channel_id=channel_id, message_id=probe_id), None)
        return None

    def _can_read_history(self, channel_id: int) -> bool | None:
        """Whether the bot may read the channel's (or thread's) history; None when not cached."""
        channel = self.client.get_channel(channel_id)
        guild = getattr(channel, "guild", None)
        me = guild.me if guild is not None else None
        if channel is None or me is None or not hasattr(channel, "permissions_for"):
            return None
        return bool(channel.permissions_for(me).read_message_history)

    async def start_thread(self, channel_id: int, message_id: int, name: str) -> int | None:
        route = Route("POST", "/channels/{channel_id}/messages/{message_id}/threads",
                      channel_id=channel_id, message_id=message_id)
        try:
            data = await self._request(route, {"name": name[:100], "auto_archive_duration": 1440})
        except ChannelUnavailable:
            return None  # no Create Public Threads here: follow-ups go to the channel
        except SendFailed as exc:
            if getattr(exc.__cause__, "code", None) == THREAD_ALREADY_EXISTS:
                return message_id  # a thread started from a message has that message's id
            raise
        return int(data["id"])

    async def _request(self, route: Route, body: dict[str, Any] | None,
                       params: dict[str, Any] | None = None) -> Any:
        await self.pacer.wait()
        options: dict[str, Any] = {"params": params} if params else {}
        if body is not None:
            options["json"] = body
        try:
            return await self.client.http.request(route, **options)
        except discord.Forbidden as exc:
            raise ChannelUnavailable(f"missing access or permissions ({exc.status}: {exc.text})") from exc
        except discord.NotFound as exc:
            raise ChannelUnavailable(f"the channel no longer exists ({exc.status}: {exc.text})") from exc
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
            raise SendFailed(str(exc)) from exc


def _embed_keys(embeds: Any) -> list[tuple[str, str, str]]:
    return [(str(e.get("title") or ""), str(e.get("url") or ""),
             "" if e.get("title") else str(e.get("description") or "").strip()) for e in embeds or []]


def same_message(sent: dict[str, Any], payload: dict[str, Any]) -> bool:
    """Whether a message Discord lists is the one ``payload`` would post (Discord lists no nonce):
    the same content and the same embeds by title and link (description for untitled ones)."""
    return ((sent.get("content") or "").strip() == (payload.get("content") or "").strip()
            and _embed_keys(sent.get("embeds")) == _embed_keys(payload.get("embeds")))
