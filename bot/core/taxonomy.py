"""The arXiv category taxonomy, shipped with the code so topics validate offline.

Source: arXiv's Category Taxonomy (https://arxiv.org/category_taxonomy) and the definitions in
arXiv's own ``arxiv-base`` package (``arxiv/taxonomy/definitions.py``): the 20 current archives and
the 155 current categories, with their names. Retired archives (``alg-geom``, ``cmp-lg``, ...) and
the test archive are left out: nobody can follow them today.

Three facts shape the API:

* An archive with subcategories (``cs``, ``math``, ``astro-ph``) is not itself a category of new
  papers; a single-category archive (``hep-th``, ``gr-qc``, ``quant-ph``, ...) is both.
* Six categories are aliases of another one; arXiv lists a paper under both spellings. ``ALIASES``
  maps each alias to the canonical id arXiv uses (``cs.NA`` -> ``math.NA``, ``stat.TH`` ->
  ``math.ST``, ``cs.SY`` -> ``eess.SY``, ...), and :func:`canonical` resolves it.
* Ids are case-sensitive on arXiv, but no two ids differ only in case, so user input in any case
  maps to exactly one id.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType

from bot.core.text import strip_accents

ARCHIVES: Mapping[str, str] = MappingProxyType({
    "astro-ph": "Astrophysics",
    "cond-mat": "Condensed Matter",
    "cs": "Computer Science",
    "econ": "Economics",
    "eess": "Electrical Engineering and Systems Science",
    "gr-qc": "General Relativity and Quantum Cosmology",
    "hep-ex": "High Energy Physics - Experiment",
    "hep-lat": "High Energy Physics - Lattice",
    "hep-ph": "High Energy Physics - Phenomenology",
    "hep-th": "High Energy Physics - Theory",
    "math": "Mathematics",
    "math-ph": "Mathematical Physics",
    "nlin": "Nonlinear Sciences",
    "nucl-ex": "Nuclear Experiment",
    "nucl-th": "Nuclear Theory",
    "physics": "Physics",
    "q-bio": "Quantitative Biology",
    "q-fin": "Quantitative Finance",
    "quant-ph": "Quantum Physics",
    "stat": "Statistics",
})

CATEGORIES: Mapping[str, str] = MappingProxyType({
    # Astrophysics
    "astro-ph.CO": "Cosmology and Nongalactic Astrophysics",
    "astro-ph.EP": "Earth and Planetary Astrophysics",
    "astro-ph.GA": "Astrophysics of Galaxies",
    "astro-ph.HE": "High Energy Astrophysical Phenomena",
    "astro-ph.IM": "Instrumentation and Methods for Astrophysics",
    "astro-ph.SR": "Solar and Stellar Astrophysics",
    # Condensed Matter
    "cond-mat.dis-nn": "Disordered Systems and Neural Networks",
    "cond-mat.mes-hall": "Mesoscale and Nanoscale Physics",
    "cond-mat.mtrl-sci": "Materials Science",
    "cond-mat.other": "Other Condensed Matter",
    "cond-mat.quant-gas": "Quantum Gases",
    "cond-mat.soft": "Soft Condensed Matter",
    "cond-mat.stat-mech": "Statistical Mechanics",
    "cond-mat.str-el": "Strongly Correlated Electrons",
    "cond-mat.supr-con": "Superconductivity",
    # Computer Science
    "cs.AI": "Artificial Intelligence",
    "cs.AR": "Hardware Architecture",
    "cs.CC": "Computational Complexity",
    "cs.CE": "Computational Engineering, Finance, and Science",
    "cs.CG": "Computational Geometry",
    "cs.CL": "Computation and Language",
    "cs.CR": "Cryptography and Security",
    "cs.CV": "Computer Vision and Pattern Recognition",
    "cs.CY": "Computers and Society",
    "cs.DB": "Databases",
    "cs.DC": "Distributed, Parallel, and Cluster Computing",
    "cs.DL": "Digital Libraries",
    "cs.DM": "Discrete Mathematics",
    "cs.DS": "Data Structures and Algorithms",
    "cs.ET": "Emerging Technologies",
    "cs.FL": "Formal Languages and Automata Theory",
    "cs.GL": "General Literature",
    "cs.GR": "Graphics",
    "cs.GT": "Computer Science and Game Theory",
    "cs.HC": "Human-Computer Interaction",
    "cs.IR": "Information Retrieval",
    "cs.IT": "Information Theory",
    "cs.LG": "Machine Learning",
    "cs.LO": "Logic in Computer Science",
    "cs.MA": "Multiagent Systems",
    "cs.MM": "Multimedia",
    "cs.MS": "Mathematical Software",
    "cs.NA": "Numerical Analysis",
    "cs.NE": "Neural and Evolutionary Computing",
    "cs.NI": "Networking and Internet Architecture",
    "cs.OH": "Other Computer Science",
    "cs.OS": "Operating Systems",
    "cs.PF": "Performance",
    "cs.PL": "Programming Languages",
    "cs.RO": "Robotics",
    "cs.SC": "Symbolic Computation",
    "cs.SD": "Sound",
    "cs.SE": "Software Engineering",
    "cs.SI": "Social and Information Networks",
    "cs.SY": "Systems and Control",
    # Economics
    "econ.EM": "Econometrics",
    "econ.GN": "General Economics",
    "econ.TH": "Theoretical Economics",
    # Electrical Engineering and Systems Science
    "eess.AS": "Audio and Speech Processing",
    "eess.IV": "Image and Video Processing",
    "eess.SP": "Signal Processing",
    "eess.SY": "Systems and Control",
    # Single-category physics archives
    "gr-qc": "General Relativity and Quantum Cosmology",
    "hep-ex": "High Energy Physics - Experiment",
    "hep-lat": "High Energy Physics - Lattice",
    "hep-ph": "High Energy Physics - Phenomenology",
    "hep-th": "High Energy Physics - Theory",
    "math-ph": "Mathematical Physics",
    "nucl-ex": "Nuclear Experiment",
    "nucl-th": "Nuclear Theory",
    "quant-ph": "Quantum Physics",
    # Mathematics
    "math.AC": "Commutative Algebra",
    "math.AG": "Algebraic Geometry",
    "math.AP": "Analysis of PDEs",
    "math.AT": "Algebraic Topology",
    "math.CA": "Classical Analysis and ODEs",
    "math.CO": "Combinatorics",
    "math.CT": "Category Theory",
    "math.CV": "Complex Variables",
    "math.DG": "Differential Geometry",
    "math.DS": "Dynamical Systems",
    "math.FA": "Functional Analysis",
    "math.GM": "General Mathematics",
    "math.GN": "General Topology",
    "math.GR": "Group Theory",
    "math.GT": "Geometric Topology",
    "math.HO": "History and Overview",
    "math.IT": "Information Theory",
    "math.KT": "K-Theory and Homology",
    "math.LO": "Logic",
    "math.MG": "Metric Geometry",
    "math.MP": "Mathematical Physics",
    "math.NA": "Numerical Analysis",
    "math.NT": "Number Theory",
    "math.OA": "Operator Algebras",
    "math.OC": "Optimization and Control",
    "math.PR": "Probability",
    "math.QA": "Quantum Algebra",
    "math.RA": "Rings and Algebras",
    "math.RT": "Representation Theory",
    "math.SG": "Symplectic Geometry",
    "math.SP": "Spectral Theory",
    "math.ST": "Statistics Theory",
    # Nonlinear Sciences
    "nlin.AO": "Adaptation and Self-Organizing Systems",
    "nlin.CD": "Chaotic Dynamics",
    "nlin.CG": "Cellular Automata and Lattice Gases",
    "nlin.PS": "Pattern Formation and Solitons",
    "nlin.SI": "Exactly Solvable and Integrable Systems",
    # Physics
    "physics.acc-ph": "Accelerator Physics",
    "physics.ao-ph": "Atmospheric and Oceanic Physics",
    "physics.app-ph": "Applied Physics",
    "physics.atm-clus": "Atomic and Molecular Clusters",
    "physics.atom-ph": "Atomic Physics",
    "physics.bio-ph": "Biological Physics",
    "physics.chem-ph": "Chemical Physics",
    "physics.class-ph": "Classical Physics",
    "physics.comp-ph": "Computational Physics",
    "physics.data-an": "Data Analysis, Statistics and Probability",
    "physics.ed-ph": "Physics Education",
    "physics.flu-dyn": "Fluid Dynamics",
    "physics.gen-ph": "General Physics",
    "physics.geo-ph": "Geophysics",
    "physics.hist-ph": "History and Philosophy of Physics",
    "physics.ins-det": "Instrumentation and Detectors",
    "physics.med-ph": "Medical Physics",
    "physics.optics": "Optics",
    "physics.plasm-ph": "Plasma Physics",
    "physics.pop-ph": "Popular Physics",
    "physics.soc-ph": "Physics and Society",
    "physics.space-ph": "Space Physics",
    # Quantitative Biology
    "q-bio.BM": "Biomolecules",
    "q-bio.CB": "Cell Behavior",
    "q-bio.GN": "Genomics",
    "q-bio.MN": "Molecular Networks",
    "q-bio.NC": "Neurons and Cognition",
    "q-bio.OT": "Other Quantitative Biology",
    "q-bio.PE": "Populations and Evolution",
    "q-bio.QM": "Quantitative Methods",
    "q-bio.SC": "Subcellular Processes",
    "q-bio.TO": "Tissues and Organs",
    # Quantitative Finance
    "q-fin.CP": "Computational Finance",
    "q-fin.EC": "Economics",
    "q-fin.GN": "General Finance",
    "q-fin.MF": "Mathematical Finance",
    "q-fin.PM": "Portfolio Management",
    "q-fin.PR": "Pricing of Securities",
    "q-fin.RM": "Risk Management",
    "q-fin.ST": "Statistical Finance",
    "q-fin.TR": "Trading and Market Microstructure",
    # Statistics
    "stat.AP": "Applications",
    "stat.CO": "Computation",
    "stat.ME": "Methodology",
    "stat.ML": "Machine Learning",
    "stat.OT": "Other Statistics",
    "stat.TH": "Statistics Theory",
})

# alias -> canonical, as arXiv itself resolves them (arxiv-base CATEGORY_ALIASES).
ALIASES: Mapping[str, str] = MappingProxyType({
    "cs.NA": "math.NA",
    "cs.SY": "eess.SY",
    "math.IT": "cs.IT",
    "math.MP": "math-ph",
    "q-fin.EC": "econ.GN",
    "stat.TH": "math.ST",
})

_WORD = re.compile(r"[^\W_]+")


def archive_of(category: str) -> str:
    """The archive part of a category id: ``cs.LG`` -> ``cs``, ``hep-th`` -> ``hep-th``.

    A plain split, not a lookup, so it also works on retired ids found in old papers.
    """
    return category.split(".", 1)[0]


def is_category(s: str) -> bool:
    """Whether ``s`` is exactly (case-sensitively) a current category id, aliases included."""
    return s in CATEGORIES


def is_archive(s: str) -> bool:
    """Whether ``s`` is exactly (case-sensitively) a current archive id."""
    return s in ARCHIVES


def canonical(s: str) -> str | None:
    """The canonical id for a category or archive typed in any case, aliases resolved; else None.

    ``cs.lg`` -> ``cs.LG``, ``CS`` -> ``cs``, ``stat.TH`` -> ``math.ST``, ``cs.XX`` -> None.
    """
    return _folded_ids().get(s.strip().casefold())


def equivalents(category: str) -> frozenset[str]:
    """Every spelling of a category (itself plus its aliases), for matching raw feed categories."""
    target = ALIASES.get(category, category)
    return frozenset({target} | {alias for alias, canon in ALIASES.items() if canon == target})


def closest(text: str, limit: int = 3) -> list[str]:
    """The ids nearest to a mistyped one (ties kept, at most ``limit``), for "did you mean".

    Distance is a typo distance: case is ignored, a swap of neighbours costs 1, a slip to the next
    key in the row costs 0.4 and to a key in the next row 0.6 (``cs.LF`` -> ``cs.LG``, not
    ``cs.LO`` or ``cs.PF``), ``.`` for ``-`` costs 0.4 (``hep.th`` -> ``hep-th``), and the right
    subject class under the wrong archive is close (``cs.ML`` -> ``stat.ML``, ``bio-ph`` ->
    ``physics.bio-ph``), and so is a cut-off one (``cond-mat.stat`` -> ``cond-mat.stat-mech``).
    Nothing is returned when even the nearest id is more than about one typo per six characters
    away.
    """
    folded = text.strip().casefold()
    if not folded or limit <= 0:
        return []
    return list(_nearest(folded)[:limit])


@lru_cache(maxsize=4096)
def _nearest(folded: str) -> tuple[str, ...]:
    """All ids tied for nearest to ``folded``, same archive first; cached (a scan is ~5 ms)."""
    scored = [(_typo_distance(folded, ident.casefold()), ident) for ident in _all_ids()]
    best = min(score for score, _ in scored)
    if best > max(1.0, len(folded) / 6):
        return ()
    same_archive = archive_of(folded)
    ties = [ident for score, ident in scored if score == best]
    ties.sort(key=lambda ident: (archive_of(ident).casefold() != same_archive, ident))
    return tuple(ties)


def typo_distance(a: str, b: str) -> float:
    """The keyboard-aware edit distance :func:`closest` ranks by, ignoring case."""
    return _edit_distance(a.casefold(), b.casefold())


def categories_in(archive: str) -> list[str]:
    """The categories of one archive, sorted (a single-category archive lists itself)."""
    return sorted(c for c in CATEGORIES if archive_of(c) == archive)


def search_categories(query: str, limit: int = 25) -> list[tuple[str, str]]:
    """Archives and categories for autocomplete, best first, as ``(id, name)`` pairs.

    Ranking: exact id, then id prefix (``cs.l`` -> cs.LG, cs.LO), then, for a query without a dot,
    entries where every word of the query starts a word of the id or name (``machine learn`` ->
    cs.LG, stat.ML; ``cs vision`` -> cs.CV). Aliases show up only by id, so a name search does not
    list "Numerical Analysis" twice. Case and accents are ignored. An empty query lists archives
    first, then categories. A linear scan of ~175 entries: well under a millisecond.
    """
    if limit <= 0:
        return []
    folded = strip_accents(query).casefold().strip()
    words = _WORD.findall(folded)
    ranked: list[tuple[int, int, str]] = []
    for order, (ident, tokens) in enumerate(_search_entries()):
        rank = _search_rank(ident, tokens, folded, words)
        if rank is not None:
            ranked.append((rank, order, ident))
    ranked.sort()
    return [(ident, _name_of(ident)) for _, _, ident in ranked[:limit]]


def _search_rank(ident: str, tokens: tuple[str, ...], folded: str,
                 words: list[str]) -> int | None:
    """0 exact id, 1 id prefix, 2 every word matches; None when the entry does not match."""
    if not folded:
        return 1
    low = ident.casefold()
    if low == folded:
        return 0
    if low.startswith(folded):
        return 1
    if (words and "." not in folded and ident not in ALIASES
            and all(_starts_any(word, tokens) for word in words)):
        return 2
    return None


def _starts_any(word: str, tokens: tuple[str, ...]) -> bool:
    """Whether some token starts with ``word`` (prefix matching, as a user types)."""
    return any(token.startswith(word) for token in tokens)


def _typo_distance(typed: str, ident: str) -> float:
    """Keyboard-aware edit distance between folded strings, with the subject-class shortcut."""
    distance = _edit_distance(typed, ident)
    if "." not in ident:
        return distance
    archive, sub = ident.split(".", 1)
    typed_archive, _, typed_sub = typed.rpartition(".")
    if typed_sub == sub:
        distance = min(distance, 0.75)
    elif typed_archive == archive and typed_sub and sub.startswith(typed_sub):
        distance = min(distance, 0.9)
    return distance


def _edit_distance(a: str, b: str) -> float:
    """Optimal-string-alignment distance with cheap substitutions for likely slips."""
    previous2: list[float] = []
    previous = [float(j) for j in range(len(b) + 1)]
    for i, ca in enumerate(a, 1):
        row = [float(i)] + [0.0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0.0 if ca == cb else _SLIP_COST.get((ca, cb), 1.0)
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], previous2[j - 2] + 1)
        previous2, previous = previous, row
    return previous[-1]


def _slip_costs() -> dict[tuple[str, str], float]:
    """Substitution costs for QWERTY slips: 0.4 along a row, 0.6 to the row above or below.

    Rows are staggered: key ``i`` of a row sits under keys ``i`` and ``i + 1`` of the row above.
    """
    rows = ("1234567890-", "qwertyuiop", "asdfghjkl;", "zxcvbnm,./")
    costs: dict[tuple[str, str], float] = {(".", "-"): 0.4, ("-", "."): 0.4}
    for r, row in enumerate(rows):
        for i, key in enumerate(row[:-1]):
            costs[key, row[i + 1]] = costs[row[i + 1], key] = 0.4
        if r == 0:
            continue
        for i, key in enumerate(row):
            for above in rows[r - 1][i:i + 2]:
                costs[key, above] = costs[above, key] = 0.6
    return costs


_SLIP_COST = _slip_costs()


def _name_of(ident: str) -> str:
    """The name of an archive or category id."""
    return CATEGORIES.get(ident) or ARCHIVES[ident]


@lru_cache(maxsize=1)
def _search_entries() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Each id with the folded words of its id and name, archives first, computed once."""
    entries = []
    for ident in _all_ids():
        text = f"{ident} {_name_of(ident)}"
        entries.append((ident, tuple(_WORD.findall(strip_accents(text).casefold()))))
    return tuple(entries)


@lru_cache(maxsize=1)
def _all_ids() -> tuple[str, ...]:
    """Archives then categories, each sorted; single-category archives appear once."""
    rest = sorted(c for c in CATEGORIES if c not in ARCHIVES)
    return (*sorted(ARCHIVES), *rest)


@lru_cache(maxsize=1)
def _folded_ids() -> Mapping[str, str]:
    """Case-folded id -> canonical id; an id whose folding collides with another is left out.

    No two arXiv ids collide today; the guard keeps case-insensitive input honest if one ever does.
    """
    table: dict[str, str | None] = {}
    for ident in (*ARCHIVES, *CATEGORIES):
        key = ident.casefold()
        target = ALIASES.get(ident, ident)
        if key in table and table[key] != target:
            table[key] = None
        else:
            table[key] = target
    return MappingProxyType({k: v for k, v in table.items() if v is not None})
