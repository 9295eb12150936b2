"""``paperboy preview``: what a channel following some topics would get from a recent window.

The same builder and renderer as the real digest, on a channel that exists only here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.core.digest import DigestBuilder, PlannedEntry
from bot.core.matching import Subscription
from bot.core.topics import Topic
from bot.discord_side.render import RenderedMessage, render_digest
from storage.base import Store
from storage.models import ChannelSettings

PREVIEW_CHANNEL = 0


async def preview(store: Store, topics: Sequence[tuple[Topic, bool]], since_seconds: float,
                  now: datetime | None = None) -> tuple[list[PlannedEntry], list[RenderedMessage]]:
    """The entries and the exact Discord messages for items ingested in the last ``since_seconds``."""
    now = now or datetime.now(UTC)
    start = (now - timedelta(seconds=since_seconds)).isoformat(timespec="seconds")
    channel = ChannelSettings(channel_id=PREVIEW_CHANNEL, guild_id=0, digest_time="08:00",
                              timezone="UTC", cursor_seq=await store.seq_before(start))
    subscriptions = [Subscription(PREVIEW_CHANNEL, topic, exclude) for topic, exclude in topics]
    digest = (await DigestBuilder(store).build([channel], subscriptions))[PREVIEW_CHANNEL]
    entries = digest.entries
    messages = render_digest([p.entry for p in entries], date_text=now.strftime("%a %d %b %Y")) \
        if entries else []
    return entries, messages


def preview_json(entries: Sequence[PlannedEntry], messages: Sequence[RenderedMessage]) -> dict[str, Any]:
    """``{"messages": [payloads], "items": [{"kind", "arxiv_id", "title", "matched"}]}``."""
    items: list[dict[str, Any]] = []
    for planned in entries:
        entry = planned.entry
        if entry.event != "summary" and entry.paper is not None:
            items.append({"kind": "paper", "arxiv_id": entry.paper.arxiv_id, "title": entry.paper.title,
                          "matched": list(entry.matched)})
        for summary in entry.summaries:
            items.append({"kind": "summary", "arxiv_id": summary.arxiv_id, "title": summary.title,
                          "matched": list(entry.matched)})
    return {"messages": [m.payload for m in messages], "items": items}
