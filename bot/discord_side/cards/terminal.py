"""The paper card for a terminal and as JSON (``paperboy lookup`` and ``--json``).

Plain wrapped text: every author (up to 50), the whole abstract and every summary in full, TeX as
Unicode, no markdown escaping and no control characters (:func:`bot.core.text.strip_control`).
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from bot.core.latex_math import latex_to_unicode
from bot.core.links import abs_url, doi_url, html_url, pdf_url
from bot.core.text import iso_date, strip_control
from bot.core.venues import source_label, venue_label, venue_year
from bot.discord_side.cards.paper import CATEGORIES_SHOWN, dates_text
from bot.discord_side.cards.summaries import shortscience_url
from bot.discord_side.lines import authors_line, summaries_count, votes_byline
from bot.discord_side.markdown import markdown_headings_to_bold
from bot.discord_side.safety import plain_text
from storage.models import StoredPaper, StoredSummary

TEXT_WIDTH = 100
AUTHORS_SHOWN = 50

_IMAGE_ANY = re.compile(r"!\[([^\]\n]*)\]\(\s*<?([^\s()<>]*)>?(?:\s+\"[^\"\n]*\")?\s*\)")
_BOLD_LINE = re.compile(r"^\*\*((?:(?!\*\*).)+)\*\*$")
_BULLET = re.compile(r"^([-*+]|\d+[.)])\s+")


def _wrap(text: str, indent: str = "  ") -> list[str]:
    return textwrap.wrap(text, TEXT_WIDTH, initial_indent=indent, subsequent_indent=indent) or [""]


def _terminal_markdown(text: str) -> list[str]:
    """Summary markdown for a terminal: headings as underlined lines, math as Unicode, images as
    ``[image: alt] url``, each line wrapped (list items keep a hanging indent)."""
    text = _IMAGE_ANY.sub(lambda m: f"[image: {m.group(1).strip() or 'image'}] {m.group(2)}".rstrip(), text)
    text = latex_to_unicode(markdown_headings_to_bold(strip_control(text)))
    lines: list[str] = []
    for raw in text.split("\n"):
        line = raw.rstrip()
        heading = _BOLD_LINE.match(line.strip())
        if heading:
            lines += [""] if lines and lines[-1] else []
            lines += [f"  {heading.group(1)}", f"  {'─' * min(len(heading.group(1)), TEXT_WIDTH - 2)}"]
        elif not line.strip():
            if lines and lines[-1]:
                lines.append("")
        else:
            stripped = line.lstrip()
            bullet = _BULLET.match(stripped)
            lead = "  " + " " * (len(line) - len(stripped))
            hang = lead + " " * (len(bullet.group(0)) if bullet else 0)
            lines += textwrap.wrap(stripped, TEXT_WIDTH, initial_indent=lead, subsequent_indent=hang) or [""]
    return lines


def _summary_lines(number: int, summary: StoredSummary) -> list[str]:
    venue = venue_label(summary.bibtex_key)
    extra = " · ".join(x for x in (summary.source, venue, iso_date(summary.edited_at)) if x)
    lines = ["", f"── {number}. {votes_byline(summary, plain=True)} ({extra})"]
    if summary.link:
        lines.append(f"   {summary.link}")
    return lines + _terminal_markdown(summary.text or "")


def render_card_text(paper: StoredPaper, summaries: Sequence[StoredSummary]) -> str:
    """The card for a terminal: title, links, authors, source and categories, dates, comment,
    journal ref, DOI, the abstract, then every summary."""
    out = [plain_text(paper.title, 1000) or "(untitled)", abs_url(paper.arxiv_id)]
    if paper.authors:
        authors = authors_line(paper.authors, AUTHORS_SHOWN, more="and more", plain=True)
        out += textwrap.wrap(authors, TEXT_WIDTH)
    categories = list(paper.categories[:CATEGORIES_SHOWN])
    if categories:
        categories[0] += " (primary)"
    out.append(" · ".join([plain_text(source_label(paper, summaries), 200), *categories]))
    out.append(dates_text(paper))
    if paper.comment:
        out += textwrap.wrap(f"Comment: {plain_text(paper.comment, 1000)}", TEXT_WIDTH)
    if paper.journal_ref:
        out += textwrap.wrap(f"Journal ref: {plain_text(paper.journal_ref, 1000)}", TEXT_WIDTH)
    if paper.doi:
        out.append(f"DOI: {doi_url(paper.doi)}")
    links = [f"PDF {pdf_url(paper.arxiv_id)}"]
    html = html_url(paper.arxiv_id)
    if html:
        links.append(f"HTML {html}")
    out.append("   ".join(links))
    if paper.abstract:
        out += ["", "Abstract", *_wrap(plain_text(paper.abstract, max(len(paper.abstract) * 2, 100)))]
    out += ["", summaries_count(len(summaries)).capitalize() if summaries else "No summaries yet."]
    for number, summary in enumerate(summaries, start=1):
        out += _summary_lines(number, summary)
    ss_url = shortscience_url(paper.arxiv_id, summaries)
    if ss_url and not summaries:
        out.append(f"Write one: {ss_url}")
    return "\n".join(strip_control(line).rstrip() for line in out).strip("\n")


def card_json(paper: StoredPaper, summaries: Sequence[StoredSummary]) -> dict[str, Any]:
    """The paper with all its fields and its summaries (all fields, plus each one's venue) as plain
    JSON, with the card's derived source label and links."""
    data = asdict(paper)
    data["source"] = source_label(paper, summaries)
    data["links"] = {"abstract": abs_url(paper.arxiv_id), "pdf": pdf_url(paper.arxiv_id),
                     "html": html_url(paper.arxiv_id),
                     "shortscience": shortscience_url(paper.arxiv_id, summaries)}
    data["summaries"] = [{**asdict(s), "venue": venue_label(s.bibtex_key), "year": venue_year(s.bibtex_key)}
                         for s in summaries]
    return data


__all__ = ["card_json", "render_card_text"]
