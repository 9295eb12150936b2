"""Venues as bibtex keys name them: ``conf/nips/ZhangS18`` is NeurIPS 2018.

Discord-free rules shared by the paper card, the venue page, ``/paper venue`` and the JSON of
``paperboy lookup``: the year a key names, how people write a dblp venue (NIPS became NeurIPS in
2018), a paper's "source and year", and what a typed venue may be.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

from bot.core.errors import UserError
from bot.core.links import id_issued
from bot.core.text import collapse_whitespace, iso_year
from storage.models import StoredPaper, StoredSummary

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
NEURIPS_RENAMED = 2018  # NIPS before, NeurIPS from 2018 on (dblp still says conf/nips)
VENUE_MAX = 41  # a typed venue: one bibtex-key word (``nips``) or path (``conf/icml``)

_VENUE_TEXT = re.compile(rf"[a-z0-9][a-z0-9/_.-]{{0,{VENUE_MAX - 1}}}")
_DBLP_YEAR = re.compile(r"^\w*?[A-Za-z](\d{2})[a-z]?$")
_CORR_ABS = re.compile(r"^abs-(\d{2})(\d{2})-\d{4,5}$")
_DOI_YEAR = re.compile(r"[./]((?:19|20)\d{2})[./]")


class VenueError(UserError, ValueError):
    """A typed venue that no bibtex key could name; the message says what a venue looks like."""


def parse_venue(text: str) -> str:
    """The venue key ``/paper venue`` looks summaries up by: ``" NIPS "`` -> ``nips``.

    One word or path as in bibtex keys (``nips``, ``iclr``, ``conf/icml``): lower case letters,
    digits and ``/ _ . -``, starting with a letter or digit, at most 41 characters; else a
    :class:`VenueError` saying so.
    """
    venue = text.strip().lower()
    if not _VENUE_TEXT.fullmatch(venue):
        raise VenueError("A venue is one word as in bibtex keys, e.g. nips, iclr or conf/icml.")
    return venue


def _two_digit_year(yy: int) -> int:
    return 1900 + yy if yy > 50 else 2000 + yy


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
        issued = id_issued("/".join(parts[2:]))
        if issued is not None:
            return issued[0]
        corr = _CORR_ABS.match(parts[-1])
        if corr:
            return _two_digit_year(int(corr.group(1)))
    match = _DBLP_YEAR.match(parts[-1]) if len(parts) >= 2 else None
    return _two_digit_year(int(match.group(1))) if match else None


def venue_name(venue: str, year: int | None = None) -> str:
    """How people write a dblp venue key: ``nips``/``conf/nips`` -> NeurIPS (NIPS before 2018),
    ``icml`` -> ICML; unknown keys are upper-cased (``conf/foo`` -> FOO)."""
    key = venue.strip().strip("/").lower()
    if key.startswith(("conf/", "journals/")):
        key = key.split("/")[1]
    elif "/" in key:
        key = key.rsplit("/", 1)[-1]
    if key == "nips" and year is not None and year < NEURIPS_RENAMED:
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


def venue_counts(summaries: Iterable[StoredSummary]) -> dict[int, int]:
    """Summaries per year (by :func:`venue_year` of their bibtex keys), oldest year first."""
    years = (venue_year(s.bibtex_key) for s in summaries)
    return dict(sorted(Counter(y for y in years if y is not None).items()))


def paper_year(paper: StoredPaper) -> int | None:
    """The year of v1: its publication date, else the year its id was issued."""
    year = iso_year(paper.published)
    if year is None:
        issued = id_issued(paper.arxiv_id)
        year = issued[0] if issued else None
    return year


def source_label(paper: StoredPaper, summaries: Sequence[StoredSummary] = ()) -> str:
    """A paper's "source and year": the venue a summary's bibtex key names (``NeurIPS 2018``), else
    the journal ref, else ``arXiv YEAR`` (v1's year)."""
    for summary in summaries:
        label = venue_label(summary.bibtex_key)
        if label:
            return label
    if paper.journal_ref and paper.journal_ref.strip():
        return collapse_whitespace(paper.journal_ref)
    year = paper_year(paper)
    return f"arXiv {year}" if year else "arXiv"


__all__ = [
    "DBLP_VENUES",
    "NEURIPS_RENAMED",
    "VenueError",
    "paper_year",
    "parse_venue",
    "source_label",
    "venue_counts",
    "venue_label",
    "venue_name",
    "venue_year",
]
