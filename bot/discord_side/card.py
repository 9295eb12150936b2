"""The ``/paper`` surface as pure data: the paper card, search results, summary lists, venue pages.

A paper card shows a paper the way ShortScience.org does (title linking to the abs page, authors,
source and year, categories, first-published and latest-version dates, abstract with More/Less, and
the summaries under it, one at a time with paging). Nothing here touches discord.py or the network:
each function turns store records into a :class:`CardPayload` whose :meth:`CardPayload.to_payload`
is Discord's message JSON, so the cog, ``paperboy lookup --json`` and the tests share one code path.

Every text goes through :mod:`bot.discord_side.render`, the one renderer for Discord's limits
(escaping, LaTeX to Unicode, cutting markdown safely, :func:`bot.discord_side.render.fit_embed`);
this module only decides layout and budgets. Components carry their whole view state in the
custom id (``pb:card:...``, ``pb:search:...``, ``pb:sums:...``, ``pb:venue:...``, ``pb:open``), so
buttons keep working after a
restart: no view state lives in memory.
"""

from __future__ import annotations

import re
import textwrap
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal
from urllib.parse import quote, urlsplit

from bot.core.ids import try_parse_arxiv_id
from bot.core.text import (
    collapse_whitespace,
    latex_to_unicode,
    markdown_headings_to_bold,
    markdown_opening,
    tex_to_unicode,
    truncate,
)
from bot.discord_side.render import (
    AUTHOR_NAME_MAX,
    COLORS,
    EMBED_DESCRIPTION_MAX,
    EMBED_FIELD_VALUE_MAX,
    EMBED_FIELDS_MAX,
    EMBED_FOOTER_MAX,
    EMBED_TITLE_MAX,
    EMBED_TOTAL_MAX,
    abs_url,
    embed_length,
    escape_feed_text,
    fit_embed,
    markdown_cut,
    neutralize_mentions,
    plain_text,
    render_feed_text,
    safe_url,
    summary_markdown,
)
from storage.models import StoredPaper, StoredSummary

# Discord's component limits (the embed limits live in bot.discord_side.render).
CUSTOM_ID_MAX = 100
BUTTON_LABEL_MAX = 80
BUTTON_URL_MAX = 512
BUTTONS_PER_ROW = 5
ACTION_ROWS_MAX = 5
SELECT_OPTIONS_MAX = 25
SELECT_TEXT_MAX = 100
SELECT_PLACEHOLDER_MAX = 150

# How much the card shows.
ABSTRACT_COLLAPSED = 600  # the abstract's cut when collapsed; More shows it all (within limits)
AUTHORS_COLLAPSED = 10  # names shown when collapsed; More shows up to AUTHORS_EXPANDED_CHARS of them
AUTHORS_EXPANDED_CHARS = 1000
CATEGORIES_SHOWN = 10
META_TEXT_MAX = 300  # comment and journal ref
SUMMARY_MIN = 800  # an expanded abstract always leaves this much room for the current summary
SUMMARY_COLLAPSED = 800  # the current summary's opening when collapsed, link included; More shows it all
SEARCH_PAGE_SIZE = 5
SEARCH_QUERY_KEY_MAX = 60  # long queries page on their first ~60 characters (see clip_search_query)
SEARCH_CATEGORY_MAX = 24
SUMMARIES_PAGE_SIZE = 3
VENUE_SUMMARIES_SHOWN = 5
VENUE_SNIPPET = 300
VENUE_YEARS_SHOWN = 30
BAR_WIDTH = 20
PAGE_MAX = 9999  # page numbers and summary indexes in custom ids have at most 4 digits
TEXT_WIDTH = 100  # terminal card width
HTML_SINCE = (23, 12)  # arXiv renders HTML for papers submitted from December 2023 on

PAPER_COLOR = 0x2E86C1
SUMMARY_COLOR = COLORS["summary"]
VENUE_COLOR = 0x16A085
OPEN_CUSTOM_ID = "pb:open"  # select menu whose value is the arXiv id of the card to open

CardAction = Literal["more", "less", "prev", "next"]
CARD_ACTIONS: tuple[str, ...] = ("more", "less", "prev", "next")
ButtonStyle = Literal["primary", "secondary", "success", "danger", "link"]
_STYLES = {"primary": 1, "secondary": 2, "success": 3, "danger": 4, "link": 5}

_ID_CHARS = r"[A-Za-z0-9][A-Za-z0-9._/-]*"
_CARD_ID = re.compile(rf"^pb:card:(more|less|prev|next):([01]):(\d{{1,4}}):({_ID_CHARS})$")
_SEARCH_ID = re.compile(r"^pb:search:(\d{1,4}):([^:]{1,24}):(.*)$", re.DOTALL)
_SUMS_ID = re.compile(rf"^pb:sums:(\d{{1,4}}):(-|{_ID_CHARS})$")
_VENUE_ID = re.compile(r"^pb:venue:(\d{4}):(\S+)$")
_CODE_SPAN = re.compile(r"`` .*? ``|`[^`]*`")
_UNESCAPED_BRACKET = re.compile(r"(?<!\\)([\[\]])")
_IMAGE_HTTPS = re.compile(r"!\[([^\]\n]*)\]\(\s*<?(https://[^\s()<>]+)>?(?:\s+\"[^\"\n]*\")?\s*\)")
_IMAGE_ANY = re.compile(r"!\[([^\]\n]*)\]\(\s*<?([^\s()<>]*)>?(?:\s+\"[^\"\n]*\")?\s*\)")
_LINK_UNSAFE = re.compile(r"[\s()<>`\\\[\]\"']")
_PING_LIKE = re.compile(r"@(?:everyone|here)", re.IGNORECASE)
_DATE = re.compile(r"^(\d{4})-\d{2}-\d{2}")
_DBLP_YEAR = re.compile(r"^\w*?[A-Za-z](\d{2})[a-z]?$")
_CORR_ABS = re.compile(r"^abs-(\d{2})(\d{2})-\d{4,5}$")
_DOI_YEAR = re.compile(r"[./]((?:19|20)\d{2})[./]")
_BOLD_LINE = re.compile(r"^\*\*((?:(?!\*\*).)+)\*\*$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_PARTIAL_BLOCKS = " ▏▎▍▌▋▊▉"  # index = eighths of a cell

# dblp venue keys (conf/KEY/..., journals/KEY/...) and how people write them; others are upper-cased.
DBLP_VENUES: dict[str, str] = {
    "nips": "NeurIPS", "icml": "ICML", "iclr": "ICLR", "cvpr": "CVPR", "iccv": "ICCV", "eccv": "ECCV",
    "acl": "ACL", "emnlp": "EMNLP", "naacl": "NAACL", "eacl": "EACL", "coling": "COLING",
    "conll": "CoNLL", "aaai": "AAAI", "ijcai": "IJCAI", "aistats": "AISTATS", "uai": "UAI",
    "colt": "COLT", "corl": "CoRL", "icra": "ICRA", "iros": "IROS", "rss": "RSS", "kdd": "KDD",
    "www": "WWW", "sigir": "SIGIR", "wsdm": "WSDM", "recsys": "RecSys", "miccai": "MICCAI",
    "interspeech": "Interspeech", "icassp": "ICASSP", "bmvc": "BMVC", "wacv": "WACV",
    "siggraph": "SIGGRAPH", "chi": "CHI", "icde": "ICDE", "sigmod": "SIGMOD", "vldb": "VLDB",
    "stoc": "STOC", "focs": "FOCS", "soda": "SODA", "alt": "ALT", "ecml": "ECML PKDD",
    "pkdd": "ECML PKDD", "icdm": "ICDM", "sdm": "SDM", "mlsys": "MLSys", "ijcnn": "IJCNN",
    "jmlr": "JMLR", "pami": "IEEE TPAMI", "tmlr": "TMLR", "ml": "Machine Learning",
    "neco": "Neural Computation", "nn": "Neural Networks", "ai": "Artificial Intelligence",
    "jair": "JAIR", "tacl": "TACL", "ijcv": "IJCV", "tnn": "IEEE TNN", "tnnls": "IEEE TNNLS",
    "nature": "Nature", "science": "Science", "pnas": "PNAS", "cacm": "CACM", "corr": "arXiv",
}
_NEURIPS_RENAMED = 2018  # NIPS before, NeurIPS from 2018 on (dblp still says conf/nips)


# --- data ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CardState:
    """What a paper card shows: which paper, whether expanded, which summary.

    A button's custom id holds the state the message *showed* plus the action clicked
    (``pb:card:{action}:{expanded 0|1}:{summary_index}:{arxiv_id}``, the id last because old-style
    ids contain a slash); :meth:`apply` gives the state to show next. Nothing is kept in memory,
    so buttons on old messages keep working after a restart.

    ``expanded`` is one flag for the whole card: every author, the whole abstract and the whole
    current summary (collapsed: 10 authors, ~600 characters of abstract, ~800 of summary). Paging
    keeps it. The id format is unchanged from before summaries were collapsed, so ids on messages
    posted earlier parse as they did (their More now also expands the summary).
    """

    arxiv_id: str
    expanded: bool = False
    summary_index: int = 0

    def to_custom_id(self, action: str) -> str:
        """The custom id of the button doing ``action`` on this state (at most 100 characters).

        Raises ValueError for an unknown action or an arXiv id that cannot be carried (too long or
        with characters outside ``[A-Za-z0-9._/-]``).
        """
        if action not in CARD_ACTIONS:
            raise ValueError(f"unknown card action {action!r}; expected one of {', '.join(CARD_ACTIONS)}")
        index = min(max(self.summary_index, 0), PAGE_MAX)
        custom_id = f"pb:card:{action}:{int(self.expanded)}:{index}:{self.arxiv_id}"
        if len(custom_id) > CUSTOM_ID_MAX or not _CARD_ID.match(custom_id):
            raise ValueError(f"arXiv id {self.arxiv_id[:40]!r} cannot be carried in a custom id")
        return custom_id

    @classmethod
    def parse(cls, custom_id: str) -> tuple[str, CardState] | None:
        """``(action, state shown when clicked)`` from a card button's custom id, or None if it isn't one."""
        if len(custom_id) > CUSTOM_ID_MAX:
            return None
        match = _CARD_ID.match(custom_id)
        if match is None:
            return None
        action, expanded, index, arxiv_id = match.groups()
        return action, cls(arxiv_id, expanded == "1", int(index))

    def apply(self, action: str, summary_count: int | None = None) -> CardState:
        """The state after ``action``: more/less set ``expanded``; prev/next move the summary index
        (kept within ``summary_count`` when known; :func:`render_paper_card` clamps anyway)."""
        index = self.summary_index
        if action == "more":
            return CardState(self.arxiv_id, True, index)
        if action == "less":
            return CardState(self.arxiv_id, False, index)
        if action == "prev":
            index -= 1
        elif action == "next":
            index += 1
        else:
            raise ValueError(f"unknown card action {action!r}")
        if summary_count is not None:
            index = min(index, summary_count - 1)
        return CardState(self.arxiv_id, self.expanded, max(index, 0))


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


# --- ids, links, venues, dates ------------------------------------------------------------------------


def _id_year_month(arxiv_id: str) -> tuple[int, int] | None:
    """(year, month) an arXiv id was issued: ``1805.08296`` -> (2018, 5), ``hep-th/9901001`` -> (1999, 1)."""
    parsed = try_parse_arxiv_id(arxiv_id)
    if parsed is None:
        return None
    digits = parsed.base.rsplit("/", 1)[-1]
    yy, mm = int(digits[:2]), int(digits[2:4])
    return (1900 + yy if yy > 50 else 2000 + yy), mm


def _is_new_style(arxiv_id: str) -> bool:
    parsed = try_parse_arxiv_id(arxiv_id)
    return parsed is not None and "/" not in parsed.base


def _arxiv_url(kind: str, arxiv_id: str) -> str:
    return f"https://arxiv.org/{kind}/{quote(arxiv_id, safe='/.')}"


def pdf_url(arxiv_id: str) -> str:
    """The PDF on arxiv.org (a link for the reader; the bot never fetches or serves PDFs)."""
    return _arxiv_url("pdf", arxiv_id)


def html_url(arxiv_id: str) -> str | None:
    """arXiv's HTML rendering, which exists only for papers submitted from December 2023 on."""
    issued = _id_year_month(arxiv_id)
    if issued is None or not _is_new_style(arxiv_id) or issued < (2000 + HTML_SINCE[0], HTML_SINCE[1]):
        return None
    return _arxiv_url("html", arxiv_id)


def _is_shortscience(url: str | None) -> bool:
    if not url:
        return False
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    return parts.scheme in {"http", "https"} and (host == "shortscience.org"
                                                  or host.endswith(".shortscience.org"))


def shortscience_url(arxiv_id: str | None, summaries: Sequence[StoredSummary] = (),
                     current: int = 0) -> str | None:
    """Where to read (or write) summaries on ShortScience.org.

    The current summary's own link when it is a shortscience.org URL (it opens that summary), else
    any summary's shortscience.org link, else the paper page ShortScience keys by arXiv id
    (``journals/corr/{id}``) for new-style ids only: for old-style ids (``hep-th/9901001``) the key
    ShortScience would use is not known, so there is no link rather than a dead one.
    """
    ordered = list(summaries[current:current + 1]) + list(summaries)
    for summary in ordered:
        link = safe_url(summary.link)
        if link and _is_shortscience(link) and len(link) <= BUTTON_URL_MAX:
            return link
    if arxiv_id and _is_new_style(arxiv_id):
        return f"https://www.shortscience.org/paper?bibtexKey=journals/corr/{arxiv_id}"
    return None


def venue_year(bibtex_key: str | None) -> int | None:
    """The year a bibtex key names: dblp keys end with two digits (``conf/nips/ZhangS18`` -> 2018,
    ``conf/icml/HeK99a`` -> 1999: two-digit years above 50 are 19xx); arXiv keys
    (``journals/corr/1805.08296``, ``journals/corr/abs-1805-08296``) give the id's year; DOI-style
    keys (``10.1109/cvpr.2016.90``) a ``.YYYY.`` part. None when the key names no year.
    """
    if not bibtex_key:
        return None
    key = bibtex_key.strip()
    parts = [p for p in key.split("/") if p]
    if not parts:
        return None
    if key.startswith("10."):
        found = _DOI_YEAR.search(key + ".")
        return int(found.group(1)) if found else None
    if len(parts) >= 3 and parts[0] == "journals" and parts[1] == "corr":
        issued = _id_year_month("/".join(parts[2:]))
        if issued is not None:
            return issued[0]
        corr = _CORR_ABS.match(parts[-1])
        if corr:
            yy = int(corr.group(1))
            return 1900 + yy if yy > 50 else 2000 + yy
    match = _DBLP_YEAR.match(parts[-1]) if len(parts) >= 2 else None
    if match is None:
        return None
    yy = int(match.group(1))
    return 1900 + yy if yy > 50 else 2000 + yy


def venue_name(venue: str, year: int | None = None) -> str:
    """How people write a dblp venue key: ``nips``/``conf/nips`` -> NeurIPS (NIPS before 2018),
    ``icml`` -> ICML; unknown keys are upper-cased (``conf/foo`` -> FOO)."""
    key = venue.strip().strip("/").lower()
    if key.startswith(("conf/", "journals/")):
        key = key.split("/")[1]
    elif "/" in key:
        key = key.rsplit("/", 1)[-1]
    if key == "nips" and year is not None and year < _NEURIPS_RENAMED:
        return "NIPS"
    return DBLP_VENUES.get(key, key.upper())


def venue_label(bibtex_key: str | None) -> str | None:
    """``conf/nips/ZhangS18`` -> ``NeurIPS 2018``; None for arXiv-only (``journals/corr/...``) and keys
    that name no venue (a DOI, a bare key)."""
    if not bibtex_key:
        return None
    parts = [p for p in bibtex_key.strip().split("/") if p]
    if len(parts) < 3 or parts[0].lower() not in {"conf", "journals"} or parts[1].lower() == "corr":
        return None
    year = venue_year(bibtex_key)
    name = venue_name(parts[1], year)
    return f"{name} {year}" if year else name


def source_label(paper: StoredPaper, summaries: Sequence[StoredSummary] = ()) -> str:
    """The card's "source and year": the venue a summary's bibtex key names (``NeurIPS 2018``), else
    the journal ref, else ``arXiv YEAR`` (v1's year)."""
    for summary in summaries:
        label = venue_label(summary.bibtex_key)
        if label:
            return label
    if paper.journal_ref and paper.journal_ref.strip():
        return collapse_whitespace(paper.journal_ref)
    year = _iso_year(paper.published)
    if year is None:
        issued = _id_year_month(paper.arxiv_id)
        year = issued[0] if issued else None
    return f"arXiv {year}" if year else "arXiv"


def _iso_date(value: str | None) -> str | None:
    return value[:10] if value and _DATE.match(value) else None


def _iso_year(value: str | None) -> int | None:
    match = _DATE.match(value) if value else None
    return int(match.group(1)) if match else None


def _dates_text(paper: StoredPaper) -> str:
    """``First published 2018-05-21 · latest v4, 2018-10-05`` (or what of it is known)."""
    first = _iso_date(paper.published)
    latest = _iso_date(paper.updated)
    version = paper.latest_version or 1
    if version <= 1:
        return f"Published {first} (v1)" if first else "v1"
    latest_text = f"latest v{version}, {latest}" if latest else f"latest v{version}"
    return f"First published {first} · {latest_text}" if first else latest_text.capitalize()


def _plural(count: int, one: str, many: str) -> str:
    return f"{count:,} {one if count == 1 else many}"


def _summaries_count(count: int) -> str:
    return _plural(count, "summary", "summaries")


# --- text pieces --------------------------------------------------------------------------------------


def _name(author: str) -> str:
    return escape_feed_text(truncate(collapse_whitespace(tex_to_unicode(author)), AUTHOR_NAME_MAX))


def _authors_text(authors: Sequence[str], expanded: bool) -> tuple[str, bool]:
    """Escaped author list and whether expanding would show more of it.

    Collapsed: the first 10 names then ``et al. (N authors)``. Expanded: names up to ~1,000
    characters then ``… and N more``: a 1,000-author paper never crowds out the abstract.
    """
    authors = [a for a in authors if a and a.strip()]
    if not expanded:
        names = [_name(a) for a in authors[:AUTHORS_COLLAPSED]]
        if len(authors) <= AUTHORS_COLLAPSED:
            return ", ".join(names), False
        return f"{', '.join(names)} et al. ({len(authors):,} authors)", True
    shown: list[str] = []
    size = 0
    for author in authors:
        name = _name(author)
        if shown and size + len(name) + 2 > AUTHORS_EXPANDED_CHARS:
            break
        shown.append(name)
        size += len(name) + 2
    rest = len(authors) - len(shown)
    text = ", ".join(shown)
    return (f"{text} … and {rest:,} more" if rest else text), False


def _categories_text(categories: Sequence[str]) -> str:
    """``**cs.LG** · cs.AI · stat.ML``: primary first and bold, long lists cut to a count."""
    shown = [escape_feed_text(truncate(c, 40)) for c in categories[:CATEGORIES_SHOWN] if c]
    if shown:
        shown[0] = f"**{shown[0]}**"
    if len(categories) > CATEGORIES_SHOWN:
        shown.append(f"+{len(categories) - CATEGORIES_SHOWN}")
    return " · ".join(shown)


def _doi_markdown(doi: str) -> str:
    """``[10.x/y](https://doi.org/10.x/y)``; the URL is percent-encoded so parentheses can't end it."""
    doi = collapse_whitespace(doi)[:200]
    label = _link_label(escape_feed_text(doi)) or "DOI"
    if not doi.startswith("10."):
        return label
    return f"[{label}](https://doi.org/{quote(doi, safe='/:;.')})"


def _link_label(text: str) -> str | None:
    """Escaped text made safe as a masked-link label (brackets escaped), or None when it holds inline
    code with a bracket, which no escaping can keep inside a label."""
    spans = list(_CODE_SPAN.finditer(text))
    if any("[" in m.group(0) or "]" in m.group(0) for m in spans):
        return None
    out: list[str] = []
    last = 0
    for span in spans:
        out.append(_UNESCAPED_BRACKET.sub(r"\\\1", text[last:span.start()]))
        out.append(span.group(0))
        last = span.end()
    out.append(_UNESCAPED_BRACKET.sub(r"\\\1", text[last:]))
    return "".join(out)


def _linked_title(title: str, url: str, limit: int) -> str:
    """``[Title](url)``, or ``Title ([link](url))`` when the title can't be a link label."""
    text = render_feed_text(title, limit) or "(untitled)"
    label = _link_label(text)
    return f"[{label}]({url})" if label else f"{text} ([link]({url}))"


def _markdown_link_url(url: str | None) -> str | None:
    """An https URL fit for a masked link in markdown text, or None: nothing that could end the link,
    open markdown or read as a mention (``…#@everyone``); such links are left out, not mangled."""
    link = safe_url(url)
    if not link or not link.startswith("https://") or len(link) > 400 or _LINK_UNSAFE.search(link):
        return None
    return link if neutralize_mentions(link) == link and not _PING_LIKE.search(link) else None


def _images_as_links(text: str) -> str:
    """``![alt](https://…)`` -> ``[alt](https://…)`` so :func:`summary_markdown` keeps it as a link
    (it shows other images as their alt text). TODO(render): an ``images="links"`` option there."""
    return _IMAGE_HTTPS.sub(lambda m: f"[{m.group(1).strip() or 'image'}]({m.group(2)})", text)


def _summary_body(summary: StoredSummary, room: int, opening: int | None = None) -> str:
    """The summary's markdown (safe, math as Unicode, images as links) within ``room`` characters;
    a cut one ends with a link to the full summary when there is an https one.

    With ``opening`` (a collapsed card) at most that many characters, link included, are shown: a
    readable opening, cut at the last line or sentence end in its last quarter
    (:func:`bot.core.text.markdown_opening`), else at a word, always ending with an ellipsis.
    """
    raw = summary.text or ""
    if opening is not None:
        room = min(room, opening)
    window = max(4 * room, 2000)  # summary_markdown reads no further; longer texts are cut ones
    complete = len(raw) <= window
    text = summary_markdown(_images_as_links(raw[:window + 200]), room) or "*(empty summary)*"
    if complete and len(text) <= room:
        return text
    link = _markdown_link_url(summary.link)
    more = f"\n[Read the full summary]({link})" if link else ""
    limit = max(room - len(more), 24)
    if not complete:
        limit = min(limit, len(text) - 1)  # the text was cut before rendering: force the ellipsis
    cut = markdown_opening(text, limit) if opening is not None else None
    cut = cut or markdown_cut(text, max(limit, 24))
    return cut + more if len(cut) + len(more) <= room else markdown_cut(text, room)


def _summary_byline(summary: StoredSummary) -> str:
    """``Hugo Larochelle · ▲ 12`` (escaped)."""
    author = _name(summary.author or "Anonymous") or "Anonymous"
    votes = f" · ▲ {summary.votes}" if summary.votes is not None else ""
    return f"{author}{votes}"


def _footer(text: str) -> dict[str, str]:
    return {"text": truncate(neutralize_mentions(collapse_whitespace(text)), EMBED_FOOTER_MAX)}


def _split_text(text: str, first_room: int, room: int) -> list[str]:
    """Rendered single-paragraph text split into chunks (the first at most ``first_room``, the others
    ``room``) at spaces, never inside an inline code span."""
    chunks: list[str] = []
    limit = max(first_room, 1)
    while len(text) > limit:
        cut = _cut_point(text, limit)
        chunks.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
        limit = room
    chunks.append(text)
    return [c for c in chunks if c]


def _cut_point(text: str, limit: int) -> int:
    """Where to end a chunk of at most ``limit`` (``len(text) > limit``): before the last space outside
    inline code, else before the code span crossing the limit, else at the limit."""
    spans = [m.span() for m in _CODE_SPAN.finditer(text)]
    for position in range(limit, 0, -1):
        if text[position] == " " and not any(start < position < end for start, end in spans):
            return position
    crossing = [start for start, end in spans if 0 < start < limit < end]
    return crossing[0] if crossing else limit


# --- the paper card -----------------------------------------------------------------------------------


def render_paper_card(paper: StoredPaper, summaries: Sequence[StoredSummary],
                      state: CardState) -> CardPayload:
    """The /paper card: a paper embed (title, authors, source, categories, dates, comment, journal
    ref, DOI, abstract) and, when the paper has summaries, one embed with the current summary.

    ``summaries`` are the paper's summaries in display order (the store gives most voted first);
    ``state.summary_index`` is clamped to them. Collapsed, the abstract is cut to ~600 characters
    and the summary to a readable opening of ~800 (:data:`SUMMARY_COLLAPSED`, cut at a line or
    sentence end, with the "Read the full summary" link); expanded, the abstract is shown whole
    (continuing in fields past the 4,096-character description) while leaving at least
    :data:`SUMMARY_MIN` for the summary, which gets all the room left (up to 4,096); the message
    never exceeds 6,000. One flag (``state.expanded``, the custom ids' ``0|1``) expands authors,
    abstract and summary together, and paging keeps it: the next summary shows collapsed or
    expanded like the one before. Buttons: More/Less (only when expanding shows more), ◀ Prev /
    Next ▶ (2+ summaries), and links to the abs page, PDF, HTML (papers from Dec 2023 on) and
    ShortScience (see :func:`shortscience_url`).
    """
    count = len(summaries)
    index = min(max(state.summary_index, 0), max(count - 1, 0))
    state = CardState(paper.arxiv_id, state.expanded, index)
    current = summaries[index] if summaries else None
    ss_url = shortscience_url(paper.arxiv_id, summaries, index)

    authors, _ = _authors_text(paper.authors, state.expanded)
    authors_cut = _authors_text(paper.authors, expanded=False)[1]  # More/Less also shows all authors
    source = source_label(paper, summaries)
    meta = [escape_feed_text(truncate(source, 120)), _categories_text(paper.categories)]
    lines = [authors, " · ".join(m for m in meta if m), _dates_text(paper)]
    if paper.comment and paper.comment.strip():
        lines.append(f"**Comment:** {render_feed_text(paper.comment, META_TEXT_MAX)}")
    if paper.journal_ref and paper.journal_ref.strip() and collapse_whitespace(paper.journal_ref) != source:
        lines.append(f"**Journal ref:** {render_feed_text(paper.journal_ref, META_TEXT_MAX)}")
    if paper.doi and paper.doi.strip():
        lines.append(f"**DOI:** {_doi_markdown(paper.doi)}")
    header = "\n".join(line for line in lines if line)

    paper_embed: dict[str, Any] = {
        "title": render_feed_text(paper.title, EMBED_TITLE_MAX) or "(untitled)",
        "url": abs_url(paper.arxiv_id),
        "description": header,
        "color": PAPER_COLOR,
        "footer": _footer(f"arXiv:{paper.arxiv_id} · {_summaries_count(count)}"),
    }
    tail_fields: list[dict[str, Any]] = []
    if current is None:
        write_url = _markdown_link_url(ss_url)
        write = f" [Write one on ShortScience]({write_url})" if write_url else ""
        tail_fields.append({"name": "Summaries", "value": f"No summaries yet.{write}", "inline": False})

    summary_embed: dict[str, Any] | None = None
    if current is not None:
        summary_embed = {
            "title": truncate(f"💬 Summary by {_summary_byline(current)}", EMBED_TITLE_MAX),
            "description": "",
            "color": SUMMARY_COLOR,
            "footer": _footer(_summary_footer(current, index, count)),
        }
        link = safe_url(current.link)
        if link:
            summary_embed["url"] = link

    fixed = embed_length(paper_embed) + sum(len(f["name"]) + len(f["value"]) for f in tail_fields)
    fixed += embed_length(summary_embed) if summary_embed else 0
    available = EMBED_TOTAL_MAX - fixed - 2  # 2: the blank line before the abstract

    full_abstract = render_feed_text(paper.abstract, EMBED_TOTAL_MAX) if paper.abstract else ""
    abstract_long = len(full_abstract) > ABSTRACT_COLLAPSED
    summary_need = 0
    summary_long = False  # collapsing cuts the current summary: More shows more of it
    if current is not None:
        full_body = _summary_body(current, EMBED_DESCRIPTION_MAX)
        summary_need = min(len(full_body), SUMMARY_MIN)
        summary_long = _summary_body(current, EMBED_DESCRIPTION_MAX, SUMMARY_COLLAPSED) != full_body
    first_room = EMBED_DESCRIPTION_MAX - len(header) - 2
    if state.expanded:
        first, more_fields = _abstract_parts(paper.abstract, first_room, available - summary_need)
    else:
        first = render_feed_text(paper.abstract, min(ABSTRACT_COLLAPSED, first_room))
        more_fields = []
    if first:
        paper_embed["description"] = f"{header}\n\n{first}" if header else first
    if not paper_embed["description"]:
        del paper_embed["description"]
    fields = more_fields + tail_fields
    if fields:
        paper_embed["fields"] = fields[:EMBED_FIELDS_MAX]
    paper_embed = fit_embed(paper_embed)

    embeds = [paper_embed]
    if summary_embed is not None and current is not None:
        room = EMBED_TOTAL_MAX - embed_length(paper_embed) - embed_length(summary_embed)
        room = min(EMBED_DESCRIPTION_MAX, room)
        opening = None if state.expanded else SUMMARY_COLLAPSED
        summary_embed["description"] = _summary_body(current, max(room, 24), opening)
        embeds.append(fit_embed(summary_embed, EMBED_TOTAL_MAX - embed_length(paper_embed)))

    expandable = abstract_long or authors_cut or summary_long
    return CardPayload(embeds=embeds, buttons=_card_buttons(paper, state, count, expandable, ss_url))


def _summary_footer(summary: StoredSummary, index: int, count: int) -> str:
    parts = [f"Summary {index + 1} of {count}", summary.source]
    label = venue_label(summary.bibtex_key)
    if label:
        parts.append(label)
    edited = _iso_date(summary.edited_at)
    if edited:
        parts.append(f"edited {edited}")
    return " · ".join(p for p in parts if p)


def _abstract_parts(abstract: str, first_room: int, total_room: int) -> tuple[str, list[dict[str, Any]]]:
    """The whole abstract (or as much as ``total_room`` holds): the part for the description and
    continuation fields (invisible names, so it reads as one text) of at most 1,024 each."""
    if not abstract or total_room <= 0:
        return "", []
    budget = total_room
    while True:
        text = render_feed_text(abstract, max(budget, 24))
        chunks = _split_text(text, first_room, EMBED_FIELD_VALUE_MAX)
        fields = [{"name": "\u200b", "value": chunk, "inline": False} for chunk in chunks[1:]]
        used = (len(chunks[0]) if chunks else 0) + sum(len(f["name"]) + len(f["value"]) for f in fields)
        if used <= total_room or budget <= 24:
            return (chunks[0] if chunks else ""), fields[:EMBED_FIELDS_MAX - 1]
        budget -= max(used - total_room, 1)


def _card_buttons(paper: StoredPaper, state: CardState, count: int, expandable: bool,
                  ss_url: str | None) -> list[list[ButtonSpec]]:
    rows: list[list[ButtonSpec]] = []
    interactive: list[ButtonSpec] = []
    try:
        if expandable:
            action = "less" if state.expanded else "more"
            interactive.append(ButtonSpec("Less" if state.expanded else "More",
                                          custom_id=state.to_custom_id(action), style="primary"))
        if count >= 2:
            interactive.append(ButtonSpec("◀ Prev", custom_id=state.to_custom_id("prev"),
                                          disabled=state.summary_index <= 0))
            interactive.append(ButtonSpec("Next ▶", custom_id=state.to_custom_id("next"),
                                          disabled=state.summary_index >= count - 1))
    except ValueError:  # an id no custom id can carry: the card still shows, without paging
        interactive = []
    if interactive:
        rows.append(interactive)
    links = [ButtonSpec("Abstract", url=abs_url(paper.arxiv_id), style="link"),
             ButtonSpec("PDF", url=pdf_url(paper.arxiv_id), style="link")]
    html = html_url(paper.arxiv_id)
    if html:
        links.append(ButtonSpec("HTML", url=html, style="link"))
    if ss_url:
        links.append(ButtonSpec("ShortScience", url=ss_url, style="link"))
    rows.append([b for b in links if b.url and len(b.url) <= BUTTON_URL_MAX])
    return rows


def render_summary_only_card(summary: StoredSummary) -> CardPayload:
    """A summary whose paper is not in the store: the paper's title (linked to the summary), who wrote
    it, its venue, its text, and links to ShortScience (or the summary's page) and arXiv."""
    link = safe_url(summary.link)
    lines = [f"Summary by **{_summary_byline(summary)}**"]
    extra = []
    label = venue_label(summary.bibtex_key)
    if label:
        extra.append(escape_feed_text(label))
    if summary.arxiv_id:
        extra.append(f"[arXiv:{escape_feed_text(summary.arxiv_id)}]({abs_url(summary.arxiv_id)})")
    if extra:
        lines.append(" · ".join(extra))
    header = "\n".join(lines)
    embed: dict[str, Any] = {
        "title": render_feed_text(summary.title, EMBED_TITLE_MAX) or "(untitled)",
        "color": SUMMARY_COLOR,
        "footer": _footer(" · ".join(x for x in (summary.source, summary.bibtex_key,
                                                 _iso_date(summary.edited_at)) if x)),
    }
    if link:
        embed["url"] = link
    room = min(EMBED_DESCRIPTION_MAX, EMBED_TOTAL_MAX - embed_length(embed)) - len(header) - 2
    embed["description"] = f"{header}\n\n{_summary_body(summary, room)}"
    buttons: list[ButtonSpec] = []
    ss_url = shortscience_url(summary.arxiv_id, [summary])
    if ss_url:
        buttons.append(ButtonSpec("ShortScience", url=ss_url, style="link"))
    if link and link != ss_url and len(link) <= BUTTON_URL_MAX:
        buttons.append(ButtonSpec("Open summary", url=link, style="link"))
    if summary.arxiv_id:
        buttons.append(ButtonSpec("Abstract", url=abs_url(summary.arxiv_id), style="link"))
    return CardPayload(embeds=[fit_embed(embed)], buttons=[buttons] if buttons else [])


# --- search -------------------------------------------------------------------------------------------


def clip_search_query(query: str) -> str:
    """The query as search buttons carry it: whitespace collapsed, cut at a word boundary to ~60
    characters so ``pb:search:{page}:{category}:{query}`` fits 100. Long queries therefore page
    on their first ~60 characters; a cog should search with this same text on the first page too,
    so every page shows one result list."""
    return truncate(collapse_whitespace(query), SEARCH_QUERY_KEY_MAX, ellipsis="")


def search_custom_id(page: int, category: str | None, query: str) -> str:
    """``pb:search:{page}:{category or '-'}:{query}`` within 100 characters (query last: it may hold ':')."""
    cat = category if category and len(category) <= SEARCH_CATEGORY_MAX and ":" not in category else "-"
    prefix = f"pb:search:{min(max(page, 0), PAGE_MAX)}:{cat}:"
    return prefix + clip_search_query(query)[:CUSTOM_ID_MAX - len(prefix)]


def parse_search_id(custom_id: str) -> tuple[int, str | None, str] | None:
    """``(page, category or None, query)`` from a search button's custom id, or None."""
    match = _SEARCH_ID.match(custom_id) if len(custom_id) <= CUSTOM_ID_MAX else None
    if match is None:
        return None
    page, category, query = match.groups()
    return int(page), (None if category == "-" else category), query


def _short_authors(authors: Sequence[str]) -> str:
    names = [_name(a) for a in authors[:2]]
    return ", ".join(names) + (" et al." if len(authors) > 2 else "")


def _paper_year(paper: StoredPaper) -> int | None:
    year = _iso_year(paper.published)
    if year is None:
        issued = _id_year_month(paper.arxiv_id)
        year = issued[0] if issued else None
    return year


def _open_select(items: Iterable[tuple[str, str, str]], placeholder: str) -> list[SelectSpec]:
    """A ``pb:open`` select from (arxiv_id, label, description) triples (plain text, cut to 100)."""
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


def render_search_page(query: str, papers: Sequence[StoredPaper], page: int, category: str | None,
                       total_hint: int) -> CardPayload:
    """One page (5 results) of ``/paper search``: numbered results with linked titles, short author
    lists, primary category and year; Previous/Next buttons; a select that opens a result's card.

    ``papers`` are the results from the first one on (the store's search has no offset: a cog asks
    for up to ``(page + 1) * 5`` or 25 and passes them all); ``total_hint`` is how many there are
    in all, if known (Next is enabled while a further page exists). ``page`` is clamped.
    """
    shown_query = escape_feed_text(truncate(collapse_whitespace(query), 100)) or "…"
    where = f" in {escape_feed_text(truncate(category, 40))}" if category else ""
    total = max(total_hint, len(papers))
    pages = max(1, -(-total // SEARCH_PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    results = list(papers[page * SEARCH_PAGE_SIZE:(page + 1) * SEARCH_PAGE_SIZE])
    title = truncate(f"🔎 {shown_query}{where}", EMBED_TITLE_MAX)
    if not results:
        tips = ["Try fewer or other words (every word must appear in the title, authors or abstract)."]
        if category:
            tips.append("Search without the category filter.")
        tips.append("Look a paper up directly by arXiv id, URL or DOI: `/paper show 1805.08296`.")
        tips.append("Only papers from followed arXiv categories and earlier lookups are in the store.")
        description = f"No papers found for **{shown_query}**{where}.\n\n" + "\n".join(f"• {t}" for t in tips)
        return CardPayload(embeds=[fit_embed({"title": title, "description": description,
                                              "color": PAPER_COLOR})])
    lines: list[str] = []
    options: list[tuple[str, str, str]] = []
    for number, paper in enumerate(results, start=page * SEARCH_PAGE_SIZE + 1):
        year = _paper_year(paper)
        meta = [_short_authors(paper.authors)]
        if paper.categories:
            meta.append(f"**{escape_feed_text(truncate(paper.categories[0], 40))}**")
        if year:
            meta.append(str(year))
        meta.append(f"`{paper.arxiv_id.replace('`', '')}`")
        lines.append(f"**{number}.** {_linked_title(paper.title, abs_url(paper.arxiv_id), 200)}\n"
                     + " · ".join(m for m in meta if m))
        plain_authors = plain_text(", ".join(paper.authors[:2]), 60)
        plain_authors += " et al." if len(paper.authors) > 2 else ""
        plain_meta = " · ".join(x for x in (f"arXiv:{paper.arxiv_id}", plain_authors, str(year or "")) if x)
        options.append((paper.arxiv_id, f"{number}. {plain_text(paper.title, SELECT_TEXT_MAX)}", plain_meta))
    first = page * SEARCH_PAGE_SIZE + 1
    embed = {"title": title, "description": "\n\n".join(lines), "color": PAPER_COLOR,
             "footer": _footer(f"Results {first}–{first + len(results) - 1} of {total:,}"
                               f" · page {page + 1} of {pages}")}
    buttons: list[list[ButtonSpec]] = []
    if pages > 1:
        buttons.append([
            ButtonSpec("◀ Previous", custom_id=search_custom_id(page - 1, category, query),
                       disabled=page == 0),
            ButtonSpec("Next ▶", custom_id=search_custom_id(page + 1, category, query),
                       disabled=page >= pages - 1),
        ])
    return CardPayload(embeds=[fit_embed(embed)], buttons=buttons,
                       selects=_open_select(options, "Open a paper…"))


# --- latest summaries ---------------------------------------------------------------------------------


def sums_custom_id(page: int, arxiv_id: str | None) -> str:
    """``pb:sums:{page}:{arxiv_id or '-'}``."""
    return f"pb:sums:{min(max(page, 0), PAGE_MAX)}:{arxiv_id or '-'}"


def parse_sums_id(custom_id: str) -> tuple[int, str | None] | None:
    """``(page, arxiv_id or None)`` from a summaries button's custom id, or None."""
    match = _SUMS_ID.match(custom_id) if len(custom_id) <= CUSTOM_ID_MAX else None
    if match is None:
        return None
    return int(match.group(1)), (None if match.group(2) == "-" else match.group(2))


def _summary_embed(summary: StoredSummary, room: int) -> dict[str, Any]:
    """A summary as one embed of about ``room`` characters: paper title (linked), byline, venue, text."""
    link = safe_url(summary.link)
    bits = [f"by **{_summary_byline(summary)}**"]
    label = venue_label(summary.bibtex_key)
    if label:
        bits.append(escape_feed_text(label))
    if summary.arxiv_id:
        bits.append(f"[arXiv:{escape_feed_text(summary.arxiv_id)}]({abs_url(summary.arxiv_id)})")
    header = " · ".join(bits)
    edited = _iso_date(summary.edited_at)
    embed: dict[str, Any] = {
        "title": render_feed_text(summary.title, 200) or "(untitled)",
        "color": SUMMARY_COLOR,
        "footer": _footer(summary.source + (f" · edited {edited}" if edited else "")),
    }
    if link:
        embed["url"] = link
    body_room = min(room - embed_length(embed) - len(header) - 2, EMBED_DESCRIPTION_MAX - len(header) - 2)
    embed["description"] = f"{header}\n\n{_summary_body(summary, max(body_room, 24))}"
    return fit_embed(embed, max(room, 400))


def render_summaries_page(summaries: Sequence[StoredSummary], page: int, total: int,
                          arxiv_id: str | None) -> CardPayload:
    """A page of ``/paper summaries``: the latest summaries (all, or of one paper), 3 per page as embeds.

    ``summaries`` are this page's summaries (the store pages them:
    ``latest_summaries(arxiv_id=..., limit=3, offset=page * 3)``; more are cut to 3) and ``total``
    how many there are in all. Previous/Next carry ``pb:sums:{page}:{arxiv_id or '-'}``; a select
    opens the card of a summary's paper.
    """
    items = list(summaries[:SUMMARIES_PAGE_SIZE])
    total = max(total, page * SUMMARIES_PAGE_SIZE + len(items))
    pages = max(1, -(-total // SUMMARIES_PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    of = f" of arXiv:{escape_feed_text(arxiv_id)}" if arxiv_id else ""
    if not items:
        tips = "Summaries come from the configured summary feeds (ShortScience.org and others)."
        url = _markdown_link_url(shortscience_url(arxiv_id)) if arxiv_id else None
        if url:
            tips += f" [Write one on ShortScience]({url})."
        embed = {"title": f"💬 No summaries{of} yet", "description": tips, "color": SUMMARY_COLOR}
        return CardPayload(embeds=[fit_embed(embed)])
    first = page * SUMMARIES_PAGE_SIZE + 1
    content = f"💬 **Latest summaries{of}** · {first}–{first + len(items) - 1} of {total:,}"
    room = (EMBED_TOTAL_MAX - 10) // len(items)
    embeds = [_summary_embed(s, room) for s in items]
    buttons: list[list[ButtonSpec]] = []
    if pages > 1:
        buttons.append([
            ButtonSpec("◀ Previous", custom_id=sums_custom_id(page - 1, arxiv_id), disabled=page == 0),
            ButtonSpec("Next ▶", custom_id=sums_custom_id(page + 1, arxiv_id), disabled=page >= pages - 1),
        ])
        if any(len(b.custom_id or "") > CUSTOM_ID_MAX for b in buttons[0]):
            buttons = []
    options = [(s.arxiv_id, plain_text(s.title or s.arxiv_id, SELECT_TEXT_MAX),
                f"arXiv:{s.arxiv_id} · summary by {plain_text(s.author or 'Anonymous', 60)}")
               for s in items if s.arxiv_id]
    return CardPayload(embeds=embeds, buttons=buttons, content=content,
                       selects=_open_select(options, "Open a paper's card…"))


# --- venues -------------------------------------------------------------------------------------------


def venue_counts(summaries: Iterable[StoredSummary]) -> dict[int, int]:
    """Summaries per year (by :func:`venue_year` of their bibtex keys), for :func:`render_venue_page`."""
    years = (venue_year(s.bibtex_key) for s in summaries)
    return dict(sorted(Counter(y for y in years if y is not None).items()))


def venue_custom_id(year: int, venue: str) -> str:
    """``pb:venue:{year}:{venue}`` (the venue last: it may hold ``/``)."""
    return f"pb:venue:{year}:{venue}"


def parse_venue_id(custom_id: str) -> tuple[int, str] | None:
    """``(year, venue)`` from a venue page button's custom id, or None."""
    match = _VENUE_ID.match(custom_id) if len(custom_id) <= CUSTOM_ID_MAX else None
    return (int(match.group(1)), match.group(2)) if match else None


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


def render_venue_page(venue: str, counts_by_year: dict[int, int], year: int | None,
                      summaries: Sequence[StoredSummary]) -> CardPayload:
    """A venue's page: a chart of its summaries per year, then the latest summaries of ``year``
    (default: the latest year with summaries). ``summaries`` may be all of the venue's (newest
    first): those of other years are left out. ◀/▶ buttons move between years that have summaries
    (``pb:venue:{year}:{venue}``)."""
    years = sorted(y for y, c in counts_by_year.items() if c > 0)
    if year is None:
        year = years[-1] if years else None
    name = escape_feed_text(truncate(venue_name(venue, year), 80))
    total = sum(counts_by_year.values())
    if not years:
        description = (f"No summaries of **{name}** in the store yet. Summaries are matched to a venue by "
                       "their bibtex key (e.g. `conf/nips/ZhangS18`).")
        return CardPayload(embeds=[fit_embed({"title": f"📊 {name}", "description": description,
                                              "color": VENUE_COLOR})])
    chart_embed = {
        "title": truncate(f"📊 {name}: summaries per year", EMBED_TITLE_MAX),
        "description": venue_chart(counts_by_year, year),
        "color": VENUE_COLOR,
        "footer": _footer(f"{_summaries_count(total)} · venue:{venue}"),
    }
    of_year = [s for s in summaries if venue_year(s.bibtex_key) == year][:VENUE_SUMMARIES_SHOWN]
    fields = []
    for summary in of_year:
        byline = _summary_byline(summary)
        body = _summary_body(summary, VENUE_SNIPPET)
        link = _markdown_link_url(summary.link)
        if link and "[Read the full summary]" not in body:
            body += f"\n[Read the summary]({link})"
        fields.append({"name": truncate(f"{render_feed_text(summary.title, 150) or '(untitled)'} — {byline}",
                                        256), "value": body[:EMBED_FIELD_VALUE_MAX], "inline": False})
    year_name = escape_feed_text(venue_name(venue, year))
    list_embed: dict[str, Any] = {
        "title": truncate(f"💬 {year_name} {year}: latest summaries", EMBED_TITLE_MAX),
        "color": SUMMARY_COLOR,
    }
    if fields:
        list_embed["fields"] = fields
    else:
        list_embed["description"] = f"No summaries of {year_name} in {year}."
    chart_embed = fit_embed(chart_embed)
    embeds = [chart_embed, fit_embed(list_embed, EMBED_TOTAL_MAX - embed_length(chart_embed))]
    buttons: list[list[ButtonSpec]] = []
    earlier = [y for y in years if y < year]
    later = [y for y in years if y > year]
    if (earlier or later) and len(venue_custom_id(9999, venue)) <= CUSTOM_ID_MAX:
        before = earlier[-1] if earlier else year
        after = later[0] if later else year
        buttons.append([
            ButtonSpec(f"◀ {before}" if earlier else "◀", custom_id=venue_custom_id(before, venue),
                       disabled=not earlier),
            ButtonSpec(f"{after} ▶" if later else "▶", custom_id=venue_custom_id(after, venue),
                       disabled=not later),
        ])
    return CardPayload(embeds=embeds, buttons=buttons)


# --- terminal and JSON --------------------------------------------------------------------------------


def _wrap(text: str, indent: str = "  ") -> list[str]:
    return textwrap.wrap(text, TEXT_WIDTH, initial_indent=indent, subsequent_indent=indent) or [""]


def _terminal_markdown(text: str) -> list[str]:
    """Summary markdown for a terminal: headings as underlined lines, math as Unicode, images as
    ``[image: alt] url``, each line wrapped (list items keep a hanging indent)."""
    text = _IMAGE_ANY.sub(lambda m: f"[image: {m.group(1).strip() or 'image'}] {m.group(2)}".rstrip(), text)
    text = latex_to_unicode(markdown_headings_to_bold(_CONTROL.sub("", text.replace("\r\n", "\n"))))
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
            bullet = re.match(r"^([-*+]|\d+[.)])\s+", stripped)
            lead = "  " + " " * (len(line) - len(stripped))
            hang = lead + " " * (len(bullet.group(0)) if bullet else 0)
            lines += textwrap.wrap(stripped, TEXT_WIDTH, initial_indent=lead, subsequent_indent=hang) or [""]
    return lines


def render_card_text(paper: StoredPaper, summaries: Sequence[StoredSummary]) -> str:
    """The card for a terminal (``paperboy lookup``): plain wrapped text, every author (up to 50),
    the whole abstract and every summary in full; TeX as Unicode, no markdown escaping."""
    out = [plain_text(paper.title, 1000) or "(untitled)", abs_url(paper.arxiv_id)]
    if paper.authors:
        names = [plain_text(a, AUTHOR_NAME_MAX) for a in paper.authors[:50]]
        more = f" … and {len(paper.authors) - 50:,} more" if len(paper.authors) > 50 else ""
        out += textwrap.wrap(", ".join(names) + more, TEXT_WIDTH)
    categories = list(paper.categories[:CATEGORIES_SHOWN])
    if categories:
        categories[0] += " (primary)"
    out.append(" · ".join([plain_text(source_label(paper, summaries), 200), *categories]))
    out.append(_dates_text(paper))
    if paper.comment:
        out += textwrap.wrap(f"Comment: {plain_text(paper.comment, 1000)}", TEXT_WIDTH)
    if paper.journal_ref:
        out += textwrap.wrap(f"Journal ref: {plain_text(paper.journal_ref, 1000)}", TEXT_WIDTH)
    if paper.doi:
        out.append(f"DOI: https://doi.org/{collapse_whitespace(paper.doi)}")
    links = [f"PDF {pdf_url(paper.arxiv_id)}"]
    html = html_url(paper.arxiv_id)
    if html:
        links.append(f"HTML {html}")
    out.append("   ".join(links))
    if paper.abstract:
        out += ["", "Abstract", *_wrap(plain_text(paper.abstract, max(len(paper.abstract) * 2, 100)))]
    out += ["", _summaries_count(len(summaries)).capitalize() if summaries else "No summaries yet."]
    for number, summary in enumerate(summaries, start=1):
        byline = plain_text(summary.author or "Anonymous", AUTHOR_NAME_MAX)
        votes = f" · ▲ {summary.votes}" if summary.votes is not None else ""
        venue = venue_label(summary.bibtex_key)
        extra = " · ".join(x for x in (summary.source, venue, _iso_date(summary.edited_at)) if x)
        out += ["", f"── {number}. {byline}{votes} ({extra})"]
        if summary.link:
            out.append(f"   {_CONTROL.sub('', summary.link)}")
        out += _terminal_markdown(summary.text or "")
    ss_url = shortscience_url(paper.arxiv_id, summaries)
    if ss_url and not summaries:
        out.append(f"Write one: {ss_url}")
    return "\n".join(_CONTROL.sub("", line).rstrip() for line in out).strip("\n")


def card_json(paper: StoredPaper, summaries: Sequence[StoredSummary]) -> dict[str, Any]:
    """The paper with all its fields and its summaries (all fields, plus each one's venue) as plain
    JSON, with the card's derived source label and links (``paperboy lookup --json``)."""
    data = asdict(paper)
    data["source"] = source_label(paper, summaries)
    data["links"] = {"abstract": abs_url(paper.arxiv_id), "pdf": pdf_url(paper.arxiv_id),
                     "html": html_url(paper.arxiv_id),
                     "shortscience": shortscience_url(paper.arxiv_id, summaries)}
    data["summaries"] = [{**asdict(s), "venue": venue_label(s.bibtex_key), "year": venue_year(s.bibtex_key)}
                         for s in summaries]
    return data


__all__ = [
    "CARD_ACTIONS",
    "OPEN_CUSTOM_ID",
    "ButtonSpec",
    "CardPayload",
    "CardState",
    "SelectOption",
    "SelectSpec",
    "bar",
    "card_json",
    "clip_search_query",
    "html_url",
    "parse_search_id",
    "parse_sums_id",
    "parse_venue_id",
    "pdf_url",
    "render_card_text",
    "render_paper_card",
    "render_search_page",
    "render_summaries_page",
    "render_summary_only_card",
    "render_venue_page",
    "search_custom_id",
    "shortscience_url",
    "source_label",
    "sums_custom_id",
    "venue_chart",
    "venue_counts",
    "venue_custom_id",
    "venue_label",
    "venue_name",
    "venue_year",
]
