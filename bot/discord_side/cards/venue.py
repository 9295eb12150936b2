"""A venue's page (``/paper venue``): its summaries per year as a Unicode bar chart, then the
latest summaries of one year, with ◀/▶ between years (``pb:venue:…``). The venue rules themselves
(years, names, NeurIPS) are Discord-free: :mod:`bot.core.venues`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.core.text import truncate
from bot.core.venues import venue_name, venue_year
from bot.discord_side.cards.controls import CardPayload, prev_next
from bot.discord_side.cards.custom_ids import venue_custom_id
from bot.discord_side.cards.summaries import summary_body
from bot.discord_side.fitting import fit_embed
from bot.discord_side.limits import EMBED_FIELD_VALUE_MAX, EMBED_TITLE_MAX, EMBED_TOTAL_MAX, embed_length
from bot.discord_side.lines import SUMMARY_COLOR, VENUE_COLOR, embed_footer, summaries_count, votes_byline
from bot.discord_side.markdown import markdown_link_url
from bot.discord_side.safety import escape_feed_text, render_feed_text
from storage.models import StoredSummary

VENUE_SUMMARIES_SHOWN = 5
VENUE_SNIPPET = 300
VENUE_YEARS_SHOWN = 30
BAR_WIDTH = 20
_PARTIAL_BLOCKS = " ▏▎▍▌▋▊▉"  # index = eighths of a cell


def bar(count: int, peak: int, width: int = BAR_WIDTH) -> str:
    """A bar of ``count`` scaled so ``peak`` fills ``width`` cells, in eighths (``███████▌``);
    a non-zero count always shows at least ``▏``."""
    if peak <= 0 or count <= 0:
        return ""
    eighths = max(1, round(min(count, peak) * width * 8 / peak))
    full, part = divmod(eighths, 8)
    return "█" * full + (_PARTIAL_BLOCKS[part] if part else "")


def venue_chart(counts_by_year: dict[int, int], selected: int | None = None, width: int = BAR_WIDTH) -> str:
    """Summaries per year as Unicode bars in a code block, years without summaries included, the
    selected year marked ``▸``; at most the latest 30 years."""
    if not counts_by_year:
        return ""
    years = list(range(min(counts_by_year), max(counts_by_year) + 1))[-VENUE_YEARS_SHOWN:]
    peak = max(counts_by_year.values())
    digits = len(str(peak))
    rows = []
    for year in years:
        count = counts_by_year.get(year, 0)
        mark = "▸" if year == selected else " "
        rows.append(f"{mark}{year} {bar(count, peak, width).ljust(width)} {count:>{digits}}")
    return "```\n" + "\n".join(rows) + "\n```"


def _summary_field(summary: StoredSummary) -> dict[str, Any]:
    body = summary_body(summary, VENUE_SNIPPET)
    link = markdown_link_url(summary.link)
    if link and "[Read the full summary]" not in body:
        body += f"\n[Read the summary]({link})"
    name = f"{render_feed_text(summary.title, 150) or '(untitled)'} — {votes_byline(summary)}"
    return {"name": truncate(name, 256), "value": body[:EMBED_FIELD_VALUE_MAX], "inline": False}


def render_venue_page(venue: str, counts_by_year: dict[int, int], year: int | None,
                      summaries: Sequence[StoredSummary]) -> CardPayload:
    """A venue's page: a chart of its summaries per year, then the latest summaries of ``year``
    (default: the latest year with summaries). ``summaries`` may be all of the venue's (newest
    first): those of other years are left out. ◀/▶ buttons move between years that have summaries."""
    years = sorted(y for y, c in counts_by_year.items() if c > 0)
    if year is None and years:
        year = years[-1]
    name = escape_feed_text(truncate(venue_name(venue, year), 80))
    if year is None or not years:
        description = (f"No summaries of **{name}** in the store yet. Summaries are matched to a venue by "
                       "their bibtex key (e.g. `conf/nips/ZhangS18`).")
        return CardPayload(embeds=[fit_embed({"title": f"📊 {name}", "description": description,
                                              "color": VENUE_COLOR})])
    chart_embed = fit_embed({
        "title": truncate(f"📊 {name}: summaries per year", EMBED_TITLE_MAX),
        "description": venue_chart(counts_by_year, year),
        "color": VENUE_COLOR,
        "footer": embed_footer(f"{summaries_count(sum(counts_by_year.values()))} · venue:{venue}"),
    })
    of_year = [s for s in summaries if venue_year(s.bibtex_key) == year][:VENUE_SUMMARIES_SHOWN]
    year_name = escape_feed_text(venue_name(venue, year))
    list_embed: dict[str, Any] = {
        "title": truncate(f"💬 {year_name} {year}: latest summaries", EMBED_TITLE_MAX),
        "color": SUMMARY_COLOR,
    }
    if of_year:
        list_embed["fields"] = [_summary_field(s) for s in of_year]
    else:
        list_embed["description"] = f"No summaries of {year_name} in {year}."
    embeds = [chart_embed, fit_embed(list_embed, EMBED_TOTAL_MAX - embed_length(chart_embed))]
    earlier = [y for y in years if y < year]
    later = [y for y in years if y > year]
    if not (earlier or later):
        return CardPayload(embeds=embeds)
    before = earlier[-1] if earlier else year
    after = later[0] if later else year
    row = prev_next(venue_custom_id(before, venue), venue_custom_id(after, venue),
                    at_start=not earlier, at_end=not later,
                    labels=(f"◀ {before}" if earlier else "◀", f"{after} ▶" if later else "▶"))
    return CardPayload(embeds=embeds, buttons=[row] if row else [])


__all__ = ["BAR_WIDTH", "bar", "render_venue_page", "venue_chart"]
