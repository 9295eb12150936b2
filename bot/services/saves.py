"""Saving papers for a channel: the one click the ranking learns from, and ``/paper saved``.

A save is (channel, paper, member, time); a second click by the same member takes it back, and each
member counts once per paper. Saves belong to the channel a digest is delivered to: a click in the
digest's thread saves for the thread's parent (the caller passes that channel).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.core.errors import UserError
from bot.core.ids import try_parse_arxiv_id
from storage.base import LookupStore, SaveStore
from storage.models import StoredPaper

SAVED_SHOWN_MAX = 100  # /paper saved pages through the newest this many


class SavesServiceStore(SaveStore, LookupStore, Protocol):
    """Saves, and the saved papers themselves."""


@dataclass(frozen=True)
class SaveOutcome:
    """What a click did: saved or unsaved, which paper, and how many members now save it here."""

    saved: bool
    paper: StoredPaper
    savers: int


@dataclass(frozen=True)
class SavedPaper:
    """A paper a channel saved: by how many members, and when last."""

    paper: StoredPaper
    savers: int
    last_saved: str


class SavesService:
    """Toggles and lists a channel's saves."""

    def __init__(self, store: SavesServiceStore) -> None:
        self.store = store

    async def toggle(self, channel_id: int, arxiv_id: str, user_id: int) -> SaveOutcome:
        """Save the paper for the channel as this member, or take their save back."""
        parsed = try_parse_arxiv_id(arxiv_id)
        paper = await self.store.get_paper(parsed.base) if parsed is not None else None
        if paper is None:
            raise UserError("That paper is not in Paperboy's store; look it up with /paper show first.")
        saved = await self.store.toggle_save(channel_id, paper.arxiv_id, user_id)
        savers = sum(1 for s in await self.store.list_saves([channel_id]) if s.arxiv_id == paper.arxiv_id)
        return SaveOutcome(saved, paper, savers)

    async def saved(self, channel_id: int) -> list[SavedPaper]:
        """The channel's saved papers, most recently saved first (papers no longer stored are left out)."""
        members: dict[str, set[int]] = {}
        last: dict[str, str] = {}
        for save in await self.store.list_saves([channel_id]):
            members.setdefault(save.arxiv_id, set()).add(save.user_id)
            last[save.arxiv_id] = max(last.get(save.arxiv_id, ""), save.saved_at)
        newest = sorted(last, key=lambda pid: (last[pid], pid), reverse=True)[:SAVED_SHOWN_MAX]
        papers = await self.store.papers_by_ids(newest)
        return [SavedPaper(papers[pid], len(members[pid]), last[pid]) for pid in newest if pid in papers]
