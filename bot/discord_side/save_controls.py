"""The one-click save on digest messages and paper cards: components whose state is in them.

A digest message offers a select of its papers (``pb:save:N``, the option values are arXiv ids);
a paper card has a Save button (``pb:save1:ARXIV_ID``). The channel and the member come from the
click itself, so the components keep working after a restart; a second click by the same member
takes the save back.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from bot.core.digest import DigestEntry
from bot.core.ids import try_parse_arxiv_id
from bot.core.text import truncate
from bot.discord_side.limits import ACTION_ROWS_MAX, SELECT_OPTIONS_MAX, SELECT_TEXT_MAX

SAVE_SELECT_PREFIX = "pb:save:"
SAVE_BUTTON_PREFIX = "pb:save1:"
SAVE_TEMPLATE = r"pb:save(?:1)?:(?P<rest>.+)"
SAVES_PER_MESSAGE = SELECT_OPTIONS_MAX * ACTION_ROWS_MAX  # 5 menus of 25: every paper of a message
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,60}$")


def save_rows(entries: Sequence[DigestEntry], ranks: Sequence[int]) -> list[dict[str, Any]]:
    """Action rows of "Save a paper" selects for a message's papers (25 a select, 5 at most)."""
    options = []
    for entry, rank in zip(entries, ranks, strict=True):
        paper = entry.paper
        if paper is None or not _ID.match(paper.arxiv_id):
            continue
        label = truncate(f"{rank}. {' '.join(paper.title.split())}", SELECT_TEXT_MAX)
        options.append({"label": label, "value": paper.arxiv_id,
                        "description": truncate(f"arXiv:{paper.arxiv_id} · save it for this channel",
                                                SELECT_TEXT_MAX)})
    rows = []
    for number, start in enumerate(range(0, len(options), SELECT_OPTIONS_MAX)):
        if number >= ACTION_ROWS_MAX:
            break
        chunk = options[start:start + SELECT_OPTIONS_MAX]
        rows.append({"type": 1, "components": [{
            "type": 3, "custom_id": f"{SAVE_SELECT_PREFIX}{number}",
            "placeholder": "⭐ Save a paper for this channel (again: unsave)",
            "min_values": 1, "max_values": 1, "options": chunk}]})
    return rows


def save_button_id(arxiv_id: str) -> str:
    return f"{SAVE_BUTTON_PREFIX}{arxiv_id}"


def saved_paper_id(custom_id: str, values: Sequence[str]) -> str | None:
    """The arXiv id a save click names: the button's own, or the select's chosen value."""
    if custom_id.startswith(SAVE_BUTTON_PREFIX):
        candidate = custom_id[len(SAVE_BUTTON_PREFIX):]
    elif custom_id.startswith(SAVE_SELECT_PREFIX) and values:
        candidate = values[0]
    else:
        return None
    parsed = try_parse_arxiv_id(candidate)
    return parsed.base if parsed is not None else None
