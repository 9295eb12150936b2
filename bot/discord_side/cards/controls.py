"""Buttons, select menus and the rendered message of the /paper surface, as plain data.

A renderer returns a :class:`CardPayload`; :meth:`CardPayload.to_payload` is Discord's message JSON,
so the cog, ``paperboy lookup --json`` and the tests share one code path. The Prev/Next row and the
``pb:open`` select are built here once for every page that pages or opens a card.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.core.text import truncate
from bot.discord_side.cards.custom_ids import OPEN_CUSTOM_ID
from bot.discord_side.limits import (
    BUTTON_LABEL_MAX,
    CUSTOM_ID_MAX,
    SELECT_OPTIONS_MAX,
    SELECT_PLACEHOLDER_MAX,
    SELECT_TEXT_MAX,
)

ButtonStyle = Literal["primary", "secondary", "success", "danger", "link"]
_STYLES = {"primary": 1, "secondary": 2, "success": 3, "danger": 4, "link": 5}
PAGER_LABELS = ("◀ Previous", "Next ▶")


@dataclass
class ButtonSpec:
    """One button: an interactive one (``custom_id``) or a link (``url``, style ``link``)."""

    label: str
    custom_id: str | None = None
    url: str | None = None
    style: ButtonStyle = "secondary"
    disabled: bool = False
    emoji: str | None = None

    def to_component(self) -> dict[str, Any]:
        """Discord's button component (type 2)."""
        style = "link" if self.url else self.style
        component: dict[str, Any] = {"type": 2, "style": _STYLES[style],
                                     "label": truncate(self.label, BUTTON_LABEL_MAX)}
        if self.url:
            component["url"] = self.url
        else:
            component["custom_id"] = self.custom_id
        if self.disabled:
            component["disabled"] = True
        if self.emoji:
            component["emoji"] = {"name": self.emoji}
        return component


@dataclass
class SelectOption:
    """One option of a select menu; label, value and description are at most 100 characters."""

    label: str
    value: str
    description: str | None = None


@dataclass
class SelectSpec:
    """A string select menu (alone in its action row), e.g. ``pb:open`` whose values are arXiv ids."""

    custom_id: str
    options: list[SelectOption]
    placeholder: str | None = None

    def to_component(self) -> dict[str, Any]:
        """Discord's string select component (type 3), one choice."""
        component: dict[str, Any] = {
            "type": 3, "custom_id": self.custom_id, "min_values": 1, "max_values": 1,
            "options": [{"label": o.label, "value": o.value,
                         **({"description": o.description} if o.description else {})}
                        for o in self.options[:SELECT_OPTIONS_MAX]],
        }
        if self.placeholder:
            component["placeholder"] = truncate(self.placeholder, SELECT_PLACEHOLDER_MAX)
        return component


@dataclass
class CardPayload:
    """A rendered message: embeds, button rows, select menus and optional content.

    Renderers keep every part within Discord's limits (at most 5 rows in all, 5 buttons a row).
    """

    embeds: list[dict[str, Any]]
    buttons: list[list[ButtonSpec]] = field(default_factory=list)
    content: str | None = None
    selects: list[SelectSpec] = field(default_factory=list)

    def components(self) -> list[dict[str, Any]]:
        """Action rows: the button rows first, then one row per select menu."""
        rows = [{"type": 1, "components": [b.to_component() for b in row]} for row in self.buttons if row]
        rows += [{"type": 1, "components": [s.to_component()]} for s in self.selects if s.options]
        return rows

    def to_payload(self) -> dict[str, Any]:
        """Discord's message JSON (create or edit); ``components`` is always present, so an edit to a
        card without buttons removes the old ones, and mentions are always disabled."""
        payload: dict[str, Any] = {"embeds": self.embeds, "components": self.components(),
                                   "allowed_mentions": {"parse": []}}
        if self.content is not None:
            payload["content"] = self.content
        return payload


def prev_next(prev_id: str, next_id: str, *, at_start: bool, at_end: bool,
              labels: tuple[str, str] = PAGER_LABELS) -> list[ButtonSpec]:
    """The ◀/▶ pair that pages search results, summaries, a card's summaries and venue years; the
    end it cannot go past is disabled. Empty when an id is too long to carry (no broken buttons)."""
    if len(prev_id) > CUSTOM_ID_MAX or len(next_id) > CUSTOM_ID_MAX:
        return []
    return [ButtonSpec(labels[0], custom_id=prev_id, disabled=at_start),
            ButtonSpec(labels[1], custom_id=next_id, disabled=at_end)]


def open_select(items: Iterable[tuple[str, str, str]], placeholder: str) -> list[SelectSpec]:
    """A ``pb:open`` select from (arxiv_id, label, description) triples (plain text, cut to 100),
    each paper once, at most 25."""
    options: list[SelectOption] = []
    seen: set[str] = set()
    for arxiv_id, label, description in items:
        if arxiv_id in seen or not arxiv_id or len(arxiv_id) > SELECT_TEXT_MAX:
            continue
        seen.add(arxiv_id)
        options.append(SelectOption(truncate(label, SELECT_TEXT_MAX) or arxiv_id, arxiv_id,
                                    truncate(description, SELECT_TEXT_MAX) or None))
        if len(options) == SELECT_OPTIONS_MAX:
            break
    return [SelectSpec(OPEN_CUSTOM_ID, options, placeholder)] if options else []


__all__ = [
    "PAGER_LABELS",
    "ButtonSpec",
    "ButtonStyle",
    "CardPayload",
    "SelectOption",
    "SelectSpec",
    "open_select",
    "prev_next",
]
