"""Lookup benchmark: 1,000,000 synthetic papers in the store; p50/p95 of the store's lookups.

Times, through the real store methods (aiosqlite, one awaited call per query): ``get_paper`` by
id, ``search_papers`` (full-text matches ranked by title hits, then recency) with and without a
category filter, and ``autocomplete_papers`` for typed words, id prefixes and an empty box;
and, in the same run, a ``LIKE '%...%'`` scan baseline on the same queries over a second
(read-only) connection. The baseline is slow when a word is rare (a full scan), so it runs on
the first queries of each kind until a time budget is spent; the output says how many it ran,
and the speed-up compares both on exactly those queries.

The papers are synthetic but realistic: new-style ids (YYMM.NNNN before 2015, YYMM.NNNNN since)
sampled from arXiv-like monthly volumes from 2007-04 to 2026-04 and stored oldest first; titles of
6-15 and abstracts of 100-250 words drawn with Zipf weights from the few thousand most common
words of the fixture feed's titles and abstracts (a built-in list when it is missing); authors
recombined from its names; categories with its frequencies. They are loaded through
``store.store_papers`` in large batches (the real insert and FTS5 indexing path), generated in a
worker process while the previous batch is stored. Building 1,000,000 takes minutes, so the file
is cached under the temp dir, keyed by paper count, seed and generator version (``--db PATH`` to
choose the file, ``--rebuild`` to build it again).

Queries are seeded: 1-3 words (70% drawn Zipf-weighted from title words without stop words, so
common words dominate, 30% uniform from the rare tail); autocomplete takes such a query as typed
(the last word cut to 3+ characters, sometimes complete with a trailing space), id prefixes such
as ``2411.17`` or ``24`` cut from stored ids (some with ``arXiv:``), or an empty box. Warm-up
queries run first; then each kind's queries run interleaved round-robin, so the noise of this
shared machine falls on all of them alike. The noise is reported: load average, a fixed CPU probe
timed before and after, and each kind's p95 over the first and second half of its runs.

Known-item search: 300 (``--queries``) stored papers drawn uniformly over all rowids (so over all
ages; 30 more for warm-up) are looked for with ``search_papers`` by their first four title
words, their exact title, and their title with one character changed or dropped in one word
(of 4+ letters); each kind is timed interleaved with the others and reports MRR (the wanted
paper's reciprocal rank in the 25 results, 0 when absent), how often it was first, and p50/p95.

    python bench/lookup.py [--papers 1000000] [--db PATH] [--queries 300] [--like-budget 30]
Targets: p95 <= 50 ms for search (every known-item kind too), <= 20 ms for autocomplete;
known-item MRR >= 0.9 for each kind.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import os
import random
import re
import statistics
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import aiosqlite  # noqa: E402
import asyncpg  # noqa: E402
import roundtrip  # noqa: E402  (bench/roundtrip.py, beside this file)

from doubles.postgres import PostgresCluster, start_bench_cluster  # noqa: E402
from storage import Store  # noqa: E402
from storage import open_store as open_any_store  # noqa: E402
from storage.models import PaperRecord  # noqa: E402
from storage.search import fts_match  # noqa: E402
from storage.sqlite import open_store  # noqa: E402
from storage.transfer_engines import migrate_store  # noqa: E402

DEFAULT_FEED = REPO.parent / "shared" / "fixtures" / "feeds" / "arxiv_rss2024_all_archives_2024-11-28.xml"
GENERATOR_VERSION = 1  # bump when the synthetic papers change, so cached stores are rebuilt
VOCAB_SIZE = 4000
ZIPF_S = 1.0
SEARCH_TARGET_MS = 50.0
KNOWN_ITEM_MRR_TARGET = 0.9
AUTOCOMPLETE_TARGET_MS = 20.0
FIRST_MONTH, LAST_MONTH = (2007, 4), (2026, 4)

def _word_list(text: str) -> list[str]:
    return text.split()


STOP_WORDS = frozenset(_word_list("""
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had
has have having he her here hers him his how i if in into is it its itself just may me might more
most much must my no nor not now of off on once one only or other our ours out over own same she
should so some such than that the their theirs them then there these they this those through to
too two under until up upon very via was we well were what when where which while who whom why
will with within without would you your yet thus however therefore hence both either neither
"""))

BUILTIN_WORDS = _word_list("""
the of and a in to we for is on that with by this as are an from be our which model models
learning data neural network networks deep quantum method methods results based using show
approach paper new two time field performance problem training state large study energy
propose graph language information system systems framework analysis language states optimal
distribution dynamics images image algorithm algorithms theory function functions spin
magnetic phase transition temperature dark matter galaxies stellar mass black hole holes
gravitational waves field theory gauge symmetry lattice quark neutrino detector collider
reinforcement agent policy reward transformer attention diffusion generative adversarial
representation representations embedding embeddings contrastive self supervised unsupervised
semi classification segmentation detection tracking recognition retrieval benchmark dataset
datasets evaluation robust robustness adversarial privacy federated distributed optimization
convex stochastic gradient descent convergence bound bounds regret bandit bandits sampling
inference bayesian variational posterior prior uncertainty estimation estimator regression
kernel gaussian process processes sparse matrix tensor low rank decomposition spectral
manifold geometry topology algebra algebraic group groups category operator operators hilbert
space spaces equation equations differential partial nonlinear linear stability solutions
numerical simulation simulations finite element mesh flow fluid turbulence plasma laser optical
photonic superconducting superconductivity topological insulator semiconductor graphene
electron electrons phonon phonons excitations entanglement qubit qubits circuit circuits error
correction noise channel channels communication wireless signal signals speech audio video
visual vision multimodal text generation translation reasoning knowledge prompt prompts large
scale efficient fast accurate novel general simple effective robotic robot robots control
planning navigation autonomous driving vehicle vehicles traffic power grid market markets
financial economic policy causal effect effects treatment clinical medical patients health
protein proteins molecular molecules chemical materials crystal structure structures cosmic
cosmological universe inflation supernova supernovae exoplanet exoplanets planetary solar
""")


# -- the synthetic corpus ---------------------------------------------------------------------

@dataclass
class Model:
    """Word, category and name distributions the papers and queries are drawn from."""

    source: str
    title_words: list[str]
    title_cum: list[float]
    abstract_words: list[str]
    abstract_cum: list[float]
    query_words: list[str]  # no stop words, by title rank, Zipf weights
    query_cum: list[float]
    rare_words: list[str]  # the tail of the vocabulary, drawn uniformly
    categories: list[str]
    category_cum: list[float]
    first_names: list[str]
    last_names: list[str]


def _zipf_cum(n: int) -> list[float]:
    return list(itertools.accumulate(1.0 / (rank + 1) ** ZIPF_S for rank in range(n)))


_LETTERS = re.compile(r"[^\W\d_]{2,}")


def build_model(feed: Path) -> Model:
    """Vocabulary, categories and names from the fixture feed (built-in lists without it)."""
    titles: Counter[str] = Counter()
    abstracts: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    firsts: set[str] = set()
    lasts: set[str] = set()
    if feed.is_file():
        root = ET.parse(feed).getroot()
        dc = "{http://purl.org/dc/elements/1.1/}creator"
        for item in root.iter("item"):
            titles.update(w.lower() for w in _LETTERS.findall(item.findtext("title") or ""))
            text = (item.findtext("description") or "").split("Abstract:", 1)[-1]
            abstracts.update(w.lower() for w in _LETTERS.findall(text))
            cats = [c.text for c in item.findall("category") if c.text]
            if cats:
                categories[cats[0]] += 1
            for name in (item.findtext(dc) or "").split(","):
                parts = name.split()
                if len(parts) >= 2 and all(p.replace("-", "").replace(".", "").isalpha() for p in parts):
                    firsts.add(parts[0])
                    lasts.add(parts[-1])
        source = f"{feed.name} ({sum(titles.values()) + sum(abstracts.values()):,} words)"
    else:
        for rank, word in enumerate(BUILTIN_WORDS):
            abstracts[word] += len(BUILTIN_WORDS) - rank
            if word not in STOP_WORDS:
                titles[word] += len(BUILTIN_WORDS) - rank
        categories.update({"cs.LG": 30, "cs.CV": 20, "cs.CL": 15, "quant-ph": 12, "hep-th": 8,
                           "astro-ph.GA": 6, "cond-mat.mes-hall": 6, "math.OC": 5, "stat.ML": 5,
                           "physics.optics": 4, "eess.SP": 4, "math.PR": 3})
        firsts.update(_word_list("Alice Bo Carlos Dana Emre Fatima Gao Hiro Ines Jun Kai Lena Marco Nadia"
                                 " Omar Priya Qing Rosa Sven Tariq Uma Vera Wei Xin Yuki Zoe"))
        lasts.update(_word_list("Anderson Bauer Chen Dubois Eriksen Fischer Garcia Huang Ivanov Jensen Kim"
                                " Li Martin Nguyen Okafor Patel Rossi Silva Tanaka Wang Xu Yang Zhang"))
        source = "built-in word list (fixture feed not found)"
    combined = abstracts + titles
    vocab = [w for w, _ in combined.most_common(VOCAB_SIZE)]
    in_vocab = set(vocab)
    title_order = sorted(vocab, key=lambda w: (-titles[w], -combined[w], w))
    abstract_order = sorted(vocab, key=lambda w: (-abstracts[w], -combined[w], w))
    query = [w for w in title_order if w not in STOP_WORDS and len(w) >= 3]
    tail_start = min(1000, len(abstract_order) // 2)
    rare = [w for w in abstract_order[tail_start:] if w not in STOP_WORDS and len(w) >= 3]
    cats = [c for c, _ in categories.most_common()]
    assert in_vocab and cats
    return Model(
        source=source,
        title_words=title_order, title_cum=_zipf_cum(len(title_order)),
        abstract_words=abstract_order, abstract_cum=_zipf_cum(len(abstract_order)),
        query_words=query, query_cum=_zipf_cum(len(query)),
        rare_words=rare,
        categories=cats, category_cum=list(itertools.accumulate(categories[c] for c in cats)),
        first_names=sorted(firsts), last_names=sorted(lasts))


def _months() -> list[tuple[int, int]]:
    months, (year, month) = [], FIRST_MONTH
    while (year, month) <= LAST_MONTH:
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _month_volume(index: int, count: int, year: int) -> int:
    """arXiv-like submissions in a month: about 4,000 in 2007 growing to 28,000 in 2026."""
    volume = int(4000 * 7 ** (index / max(1, count - 1)))
    return min(volume, 9999) if year < 2015 else volume  # 4-digit numbers until 1412


def id_plan(papers: int, seed: int) -> list[str]:
    """``papers`` distinct ids, oldest first: each month holds a share of them in proportion
    to its volume, sampled from that month's number range (a store holds a subset of arXiv)."""
    months = _months()
    volumes = [_month_volume(i, len(months), y) for i, (y, _) in enumerate(months)]
    total = sum(volumes)
    if papers > total:
        raise SystemExit(f"--papers {papers:,} is more than the {total:,} ids the plan has")
    quotas = [papers * v / total for v in volumes]
    counts = [int(q) for q in quotas]
    by_fraction = sorted(range(len(months)), key=lambda i: quotas[i] - counts[i], reverse=True)
    for i in by_fraction[:papers - sum(counts)]:
        counts[i] += 1
    rng = random.Random(f"{seed}-ids")
    ids = []
    for (year, month), volume, count in zip(months, volumes, counts, strict=True):
        width = 4 if year < 2015 else 5
        for number in sorted(rng.sample(range(1, volume + 1), count)):
            ids.append(f"{year % 100:02d}{month:02d}.{number:0{width}d}")
    return ids


_worker: dict[str, Any] = {}


def _init_worker(model: Model, papers: int, seed: int) -> None:
    _worker.update(model=model, ids=id_plan(papers, seed), seed=seed)


def _sentence_case(words: list[str]) -> str:
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def make_batch(number: int, start: int, count: int) -> list[PaperRecord]:
    """Papers ``start`` to ``start + count`` of the plan (in the worker process)."""
    model: Model = _worker["model"]
    ids: list[str] = _worker["ids"]
    rng = random.Random(f"{_worker['seed']}-batch-{number}")
    papers = []
    for arxiv_id in ids[start:start + count]:
        title = _sentence_case(rng.choices(model.title_words, cum_weights=model.title_cum,
                                           k=rng.randint(6, 15)))
        words = rng.choices(model.abstract_words, cum_weights=model.abstract_cum, k=rng.randint(100, 250))
        sentences, at = [], 0
        while at < len(words):
            length = rng.randint(12, 30)
            sentences.append(_sentence_case(words[at:at + length]) + ".")
            at += length
        authors = [f"{rng.choice(model.first_names)} {rng.choice(model.last_names)}"
                   for _ in range(rng.choices((1, 2, 3, 4, 5, 6, 8, 12), (8, 15, 18, 16, 12, 9, 6, 3))[0])]
        categories = [rng.choices(model.categories, cum_weights=model.category_cum)[0]]
        for _ in range(rng.choices((0, 1, 2), (55, 30, 15))[0]):
            cross = rng.choices(model.categories, cum_weights=model.category_cum)[0]
            if cross not in categories:
                categories.append(cross)
        yy, mm = int(arxiv_id[:2]), int(arxiv_id[2:4])
        published = f"20{yy:02d}-{mm:02d}-{rng.randint(1, 28):02d}T00:00:00+00:00"
        version = rng.choices((1, 2, 3), (75, 18, 7))[0]
        papers.append(PaperRecord(
            arxiv_id=arxiv_id, version=version, title=title, authors=authors,
            abstract=" ".join(sentences), categories=categories, announce_type="new",
            doi=f"10.{rng.randint(1000, 9999)}/{arxiv_id}" if rng.random() < 0.3 else None,
            journal_ref=f"J. Synth. {rng.randint(1, 99)} ({2000 + yy})" if rng.random() < 0.2 else None,
            published=published, updated=published))
    return papers


# -- the store file -----------------------------------------------------------------------------

def default_db(papers: int, seed: int) -> Path:
    name = f"paperboy-bench-lookup-{papers}-s{seed}-g{GENERATOR_VERSION}.sqlite3"
    return Path(tempfile.gettempdir()) / name


def _remove_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", ".json"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def build_db(path: Path, papers: int, seed: int, batch: int, model: Model) -> dict[str, Any]:
    """Build the store at ``path`` through ``store_papers``; returns what the build measured."""
    building = path.with_name(path.name + ".building")
    _remove_db(building)
    _remove_db(path)
    print(f"building {papers:,} papers into {path} in batches of {batch:,} ...", flush=True)
    batches = [(n, start, min(batch, papers - start)) for n, start in enumerate(range(0, papers, batch))]
    started = time.perf_counter()
    store_time = 0.0
    # The worker forks before the store's thread starts; it keeps one batch ahead of the store.
    with ProcessPoolExecutor(1, initializer=_init_worker, initargs=(model, papers, seed)) as pool:
        pending = [pool.submit(make_batch, *b) for b in batches[:2]]
        store = await open_store(building)
        try:
            for n, _, _ in batches:
                records = await asyncio.wrap_future(pending.pop(0))
                if n + 2 < len(batches):
                    pending.append(pool.submit(make_batch, *batches[n + 2]))
                before = time.perf_counter()
                result = await store.store_papers(records)
                store_time += time.perf_counter() - before
                assert result.new_papers == len(records), result
                done = batches[n][1] + len(records)
                if (n + 1) % 10 == 0 or n + 1 == len(batches):
                    elapsed = time.perf_counter() - started
                    print(f"  {done:>10,} papers  {elapsed:7.1f} s  ({done / elapsed:,.0f}/s)", flush=True)
        finally:
            await store.close()
    build_seconds = time.perf_counter() - started
    sizes = {}
    with _sqlite(building) as db:
        for name, size in db.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"):
            group = "papers_fts*" if name.startswith("papers_fts") else name
            group = "papers (table + indexes)" if name in ("papers", "papers_doi", "papers_seq",
                                                           "sqlite_autoindex_papers_1") else group
            sizes[group] = sizes.get(group, 0) + size
    os.replace(building, path)
    info = {"papers": papers, "seed": seed, "generator": GENERATOR_VERSION, "batch": batch,
            "build_seconds": build_seconds, "store_seconds": store_time, "sizes": sizes,
            "vocabulary": model.source, "built_at": time.strftime("%Y-%m-%d %H:%M:%S")}
    Path(f"{path}.json").write_text(json.dumps(info, indent=1))
    return info


def pg_folder(papers: int, seed: int) -> Path:
    """Where the PostgreSQL copy of the cached store is kept between runs (a cluster of its own)."""
    return Path(tempfile.gettempdir()) / f"paperboy-bench-lookup-pg-{papers}-s{seed}-g{GENERATOR_VERSION}"


async def _sql(url: str, statement: str) -> Any:
    """Run one statement on its own connection (set-up, not timing); its first value."""
    connection = await asyncpg.connect(url)
    try:
        return await connection.fetchval(statement)
    finally:
        await connection.close()


async def load_postgres(cluster: PostgresCluster, path: Path, rebuild: bool) -> tuple[str, str]:
    """The URL of a PostgreSQL database holding the SQLite store at ``path``, copied by
    ``paperboy migrate-store``'s own code (which ends with ANALYZE; then VACUUM, as after any bulk
    load), or kept from an earlier run of the same file; and a line saying which."""
    url, loaded = await _copy_to_postgres(cluster, path, rebuild)
    size = await _sql(url, "SELECT pg_database_size(current_database())")
    version = await _sql(url, "SHOW server_version")
    return url, f"{size / 2**30:.2f} GiB, server {version}; {loaded}"


async def _copy_to_postgres(cluster: PostgresCluster, path: Path, rebuild: bool) -> tuple[str, str]:
    marker = cluster.root / "lookup.json"
    # The build's own record, not the file's time: opening the SQLite store touches the file.
    built = Path(f"{path}.json")
    source = {"path": str(path), "build": built.read_text() if built.exists() else path.stat().st_mtime}
    url = cluster.url("lookup")
    if not rebuild and marker.exists():
        earlier = json.loads(marker.read_text())
        if earlier.get("source") == source:
            return url, (f"reused (copied by migrate-store in {earlier['copy_seconds']:.0f} s, "
                         f"VACUUM {earlier['vacuum_seconds']:.0f} s, at {earlier['at']})")
    marker.unlink(missing_ok=True)
    await _sql(cluster.url(), "DROP DATABASE IF EXISTS lookup")
    await _sql(cluster.url(), "CREATE DATABASE lookup TEMPLATE template0")
    print(f"copying {path} into PostgreSQL with migrate-store ...", flush=True)
    started = time.perf_counter()
    report = await migrate_store(path, url)
    copied = time.perf_counter() - started
    started = time.perf_counter()
    await _sql(url, "VACUUM")
    vacuumed = time.perf_counter() - started
    rows = sum(t.copied for t in report.tables)
    marker.write_text(json.dumps({"source": source, "copy_seconds": copied, "vacuum_seconds": vacuumed,
                                  "rows": rows, "at": time.strftime("%Y-%m-%d %H:%M:%S")}))
    return url, f"copied now by migrate-store in {copied:.0f} s ({rows:,} rows), VACUUM {vacuumed:.0f} s"


def read_through(paths: list[Path]) -> tuple[int, float]:
    """Read these files (folders: every file in them) once, so both engines are timed with their
    data in the OS's cache, as on a server that has run for a while; (bytes, seconds)."""
    started, total = time.perf_counter(), 0
    files = [f for p in paths for f in ([p] if p.is_file() else sorted(p.rglob("*")))]
    for file in files:
        if file.is_file():
            with contextlib.suppress(OSError), file.open("rb") as handle:
                while chunk := handle.read(1 << 20):
                    total += len(chunk)
    return total, time.perf_counter() - started


async def prewarm(url: str) -> str:
    """Load the papers' table and indexes into PostgreSQL's own buffers (pg_prewarm, shipped with
    the server), as they are on a server that has answered searches for a while; what it did."""
    try:
        await _sql(url, "CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        blocks = await _sql(
            url, "SELECT sum(pg_prewarm(c.oid)) FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace"
            " AND c.relkind IN ('r', 'i') AND (c.relname = 'papers' OR c.relname LIKE 'papers_%')")
    except asyncpg.PostgresError as exc:
        return f"no prewarm ({exc})"
    return f"pg_prewarm read {int(blocks or 0) * 8192 / 2**30:.2f} GiB of the papers' table and indexes"


def store_kinds(store: Store, engine: str, queries: dict[str, list[Any]], known: list[KnownItem], seed: int,
                like_db: aiosqlite.Connection | None) -> list[Kind]:
    """Every timed lookup of one store; with ``like_db``, the LIKE baselines beside them."""
    def like(call: Callable[[Any], Awaitable[Any]]) -> Callable[[Any], Awaitable[Any]] | None:
        return call if like_db is not None else None

    return [
        Kind("get_paper (by id)", list(queries["id"]), store.get_paper, None, engine=engine),
        Kind("search_papers", list(queries["search"]), store.search_papers, SEARCH_TARGET_MS,
             like(lambda q: like_search(like_db, q)), engine=engine),
        Kind("search_papers + category", list(queries["category"]),
             lambda q: store.search_papers(q[0], category=q[1]), SEARCH_TARGET_MS,
             like(lambda q: like_search(like_db, q[0], q[1])), engine=engine),
        Kind("autocomplete (words)", list(queries["typed"]), store.autocomplete_papers,
             AUTOCOMPLETE_TARGET_MS, like(lambda q: like_typed(like_db, q)), engine=engine),
        Kind("autocomplete (id prefix)", list(queries["prefix"]), store.autocomplete_papers,
             AUTOCOMPLETE_TARGET_MS, like(lambda q: like_prefix(like_db, q)), engine=engine),
        Kind("autocomplete (empty)", list(queries["empty"]), store.autocomplete_papers,
             AUTOCOMPLETE_TARGET_MS, engine=engine),
        *[Kind(f"known item: {name}", items, lambda q: store.search_papers(q[0]), SEARCH_TARGET_MS,
               judge=rank_of, engine=engine) for name, items in known_item_queries(known, seed).items()],
    ]


class _sqlite:
    """A plain sqlite3 connection as a context manager that closes (for setup, not timing)."""

    def __init__(self, path: Path, readonly: bool = False) -> None:
        import sqlite3
        uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
        self.db = sqlite3.connect(uri, uri=True)

    def __enter__(self) -> Any:
        return self.db

    def __exit__(self, *exc: object) -> None:
        self.db.close()


# -- queries --------------------------------------------------------------------------------

def _word(rng: random.Random, model: Model) -> str:
    if rng.random() < 0.7:
        return rng.choices(model.query_words, cum_weights=model.query_cum)[0]
    return rng.choice(model.rare_words)


def _words_query(rng: random.Random, model: Model) -> list[str]:
    return [_word(rng, model) for _ in range(rng.choices((1, 2, 3), (45, 40, 15))[0])]


def _typed(rng: random.Random, words: list[str]) -> str:
    """What is in the box while the last word is being typed."""
    last = words[-1]
    if rng.random() < 0.15:
        return " ".join(words) + " "
    cut = rng.randint(min(3, len(last)), len(last))
    return " ".join([*words[:-1], last[:cut]])


def _id_prefix(rng: random.Random, arxiv_id: str) -> str:
    cut = rng.choice((2, 4, 5, 6, 7, 7, 8, 9, len(arxiv_id)))
    prefix = arxiv_id[:cut]
    return f"arXiv:{prefix}" if rng.random() < 0.1 else prefix


def make_queries(model: Model, ids: list[str], count: int, seed: int) -> dict[str, list[Any]]:
    rng = random.Random(f"{seed}-queries")
    by_id = [rng.choice(ids) if rng.random() < 0.9 else f"{rng.choice(ids)[:5]}99999"
             for _ in range(count)]
    search = [" ".join(_words_query(rng, model)) for _ in range(count)]
    category = [(" ".join(_words_query(rng, model)),
                 rng.choices(model.categories, cum_weights=model.category_cum)[0]) for _ in range(count)]
    typed = [_typed(rng, _words_query(rng, model)) for _ in range(count)]
    prefixes = [_id_prefix(rng, rng.choice(ids)) for _ in range(count)]
    return {"id": by_id, "search": search, "category": category, "typed": typed,
            "prefix": prefixes, "empty": [""] * count}


# -- known items ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class KnownItem:
    """A stored paper to look for, and how old it is (its rank among the store's rowids)."""

    rowid: int
    arxiv_id: str
    title: str


def known_papers(db: Any, max_rowid: int, count: int, seed: int) -> list[KnownItem]:
    """``count`` distinct papers drawn uniformly over the store's rowids: all ages alike."""
    rng = random.Random(f"{seed}-known")
    picks = rng.sample(range(1, max_rowid + 1), min(count, max_rowid))
    rows = {r[0]: KnownItem(r[0], r[1], r[2]) for r in db.execute(
        f"SELECT rowid, arxiv_id, title FROM papers WHERE rowid IN ({','.join(map(str, picks))})")}
    return [rows[p] for p in picks if p in rows]


def typo(rng: random.Random, title: str) -> str:
    """The title with one character of one word (of 4+ letters, else 3+) changed or dropped."""
    words = title.split()
    for length in (4, 3, 1):
        places = [i for i, w in enumerate(words) if len(w) >= length and w.isalpha()]
        if places:
            break
    if not places:
        return title
    i = rng.choice(places)
    word = words[i]
    at = rng.randrange(len(word))
    if rng.random() < 0.5:
        other = rng.choice([c for c in "abcdefghijklmnopqrstuvwxyz" if c != word[at].lower()])
        words[i] = word[:at] + other + word[at + 1:]
    else:
        words[i] = word[:at] + word[at + 1:]
    return " ".join(words)


def known_item_queries(items: list[KnownItem], seed: int) -> dict[str, list[tuple[str, KnownItem]]]:
    """Each paper's title as people type it: its first four words, all of it, with a typo."""
    rng = random.Random(f"{seed}-typos")
    return {"first 4 words": [(" ".join(k.title.split()[:4]), k) for k in items],
            "exact title": [(k.title, k) for k in items],
            "typo title": [(typo(rng, k.title), k) for k in items]}


def rank_of(query: tuple[str, KnownItem], result: Any) -> int | None:
    """1 when the wanted paper is first, None when it is not in the results at all."""
    for rank, paper in enumerate(result or [], start=1):
        if paper.arxiv_id == query[1].arxiv_id:
            return rank
    return None


def print_known_items(kinds: list[Kind], verdicts: list[tuple[Kind, str, float]]) -> None:
    """MRR, first places and times of each known-item query kind, with their verdicts."""
    header = (f"{'engine':<11}{'known-item search':<28}{'n':>5}{'MRR':>7}{'first':>7}{'in 25':>7}"
              f"{'p50':>9}{'p95':>9}  {'target':<22}")
    print(header)
    print("-" * len(header))
    for kind in kinds:
        rr = [1 / r if r else 0.0 for r in kind.ranks]
        mrr = statistics.mean(rr) if rr else 0.0
        p95 = pct(kind.times, 95)
        verdict = "PASS" if mrr >= KNOWN_ITEM_MRR_TARGET else "FAIL"
        print(f"{kind.engine:<11}{kind.name:<28}{len(kind.ranks):>5}{mrr:>7.3f}"
              f"{sum(r == 1 for r in kind.ranks):>7}{sum(r is not None for r in kind.ranks):>7}"
              f"{_ms(pct(kind.times, 50)):>9}{_ms(p95):>9}"
              f"  MRR >= {KNOWN_ITEM_MRR_TARGET} {verdict}")
        verdicts.append((Kind(kind.name, [], kind.call, None, engine=kind.engine), verdict, mrr))
    misses = [(kind.name, q[0], q[1], r) for kind in kinds for q, r in zip(kind.queries, kind.ranks,
                                                                          strict=False) if r != 1]
    for name, text, item, rank in misses[:6]:
        print(f"  not first ({name}): {text!r} -> {item.arxiv_id} (rowid {item.rowid:,})"
              f" at {rank if rank else 'none of 25'}")
    print("  papers drawn uniformly over all rowids (ages); a query is the title, its first four"
          " words, or the title with one character changed or dropped in one word")


# -- the LIKE baseline ----------------------------------------------------------------------------

def _like(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())[:12]


async def like_search(db: aiosqlite.Connection, text: str, category: str | None = None) -> list[Any]:
    words = _words(text)
    sql = "SELECT * FROM papers WHERE " + " AND ".join(
        "(title LIKE ? ESCAPE '\\' OR abstract LIKE ? ESCAPE '\\')" for _ in words)
    params: list[Any] = [p for w in words for p in (_like(w), _like(w))]
    if category:
        sql += " AND (primary_category = ? OR categories LIKE ?)"
        params += [category, f'%"{category}"%']
    async with db.execute(sql + " LIMIT 25", params) as cursor:
        return list(await cursor.fetchall())


async def like_typed(db: aiosqlite.Connection, text: str) -> list[Any]:
    words = _words(text)
    if not words:
        return []
    sql = ("SELECT arxiv_id, title FROM papers WHERE "
           + " AND ".join("title LIKE ? ESCAPE '\\'" for _ in words) + " ORDER BY rowid DESC LIMIT 25")
    async with db.execute(sql, [_like(w) for w in words]) as cursor:
        return list(await cursor.fetchall())


async def like_prefix(db: aiosqlite.Connection, text: str) -> list[Any]:
    base = text.strip().lower().removeprefix("arxiv:").strip()
    sql = "SELECT arxiv_id, title FROM papers WHERE arxiv_id LIKE ? ORDER BY arxiv_id LIMIT 25"
    async with db.execute(sql, [base + "%"]) as cursor:
        return list(await cursor.fetchall())


# -- measuring --------------------------------------------------------------------------------------

@dataclass
class Kind:
    name: str
    queries: list[Any]
    call: Callable[[Any], Awaitable[Any]]
    target_ms: float | None
    baseline: Callable[[Any], Awaitable[Any]] | None = None
    engine: str = "sqlite"
    times: list[float] = field(default_factory=list)  # seconds, per query, in query order
    hits: list[int] = field(default_factory=list)
    like_times: list[float] = field(default_factory=list)  # for queries[:len(like_times)]
    like_hits: list[int] = field(default_factory=list)
    judge: Callable[[Any, Any], int | None] | None = None  # known items: the wanted paper's rank
    ranks: list[int | None] = field(default_factory=list)


def pct(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def _count(result: Any) -> int:
    if result is None:
        return 0
    return len(result) if isinstance(result, list) else 1


async def timed(call: Callable[[Any], Awaitable[Any]], query: Any) -> tuple[float, int]:
    seconds, result = await timed_result(call, query)
    return seconds, _count(result)


async def timed_result(call: Callable[[Any], Awaitable[Any]], query: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = await call(query)
    return time.perf_counter() - started, result


def cpu_probe(runs: int = 300) -> list[float]:
    """A fixed piece of pure-Python work (about 0.5 ms), timed again and again: the machine's noise."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        total = 0
        for i in range(12_000):
            total += i * i
        times.append(time.perf_counter() - started)
    return times


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f}"


def _ratio(value: float) -> str:
    return f"{value:.0f}x" if value >= 10 else f"{value:.1f}x"


def _describe_query(query: Any) -> str:
    if isinstance(query, tuple):
        return f"{query[0]!r} in {query[1]}"
    return repr(query)


async def match_count(db: aiosqlite.Connection, expression: str) -> int:
    async with db.execute("SELECT count(*) FROM papers_fts WHERE papers_fts MATCH ?", (expression,)) as cur:
        (count,) = await cur.fetchone()
    return int(count)


async def run(args: argparse.Namespace) -> int:
    model = build_model(args.feed)
    path = args.db or default_db(args.papers, args.seed)
    info_path = Path(f"{path}.json")
    if args.rebuild or not path.exists():
        info = await build_db(path, args.papers, args.seed, args.batch, model)
        built = "built now"
    else:
        info = json.loads(info_path.read_text()) if info_path.exists() else {}
        built = "reused"
    with _sqlite(path, readonly=True) as db:
        (papers,) = db.execute("SELECT count(*) FROM papers").fetchone()
        (max_rowid,) = db.execute("SELECT max(rowid) FROM papers").fetchone()
        rng = random.Random(f"{args.seed}-pick")
        picks = sorted({rng.randint(1, max_rowid) for _ in range(args.queries * 3)})
        ids = [r[0] for r in db.execute(
            f"SELECT arxiv_id FROM papers WHERE rowid IN ({','.join(map(str, picks))})")]
        known = known_papers(db, max_rowid, args.queries + args.warmup, args.seed)
    size = os.path.getsize(path)
    print(f"store: {path} ({built}): {papers:,} papers, {size / 2**30:.2f} GiB")
    if info:
        print(f"  built in {info['build_seconds']:.0f} s ({info['papers'] / info['build_seconds']:,.0f}"
              f" papers/s; store_papers itself {info['store_seconds']:.0f} s) in batches of"
              f" {info['batch']:,}, at {info['built_at']}; vocabulary: {info['vocabulary']}")
        sizes = sorted(info["sizes"].items(), key=lambda kv: -kv[1])
        print("  size: " + ", ".join(f"{name} {value / 2**20:,.0f} MiB" for name, value in sizes
                                     if value >= 2**20))
    print(f"  vocabulary of this run: {model.source}; {len(model.title_words):,} words,"
          f" {len(model.categories)} categories")
    if papers != args.papers and args.db is None:
        print(f"  warning: the cached file has {papers:,} papers, not {args.papers:,}")

    queries = make_queries(model, ids, args.queries + args.warmup, args.seed)
    engines, cluster, note = start_bench_cluster(args.engine, keep=pg_folder(args.papers, args.seed),
                                                 settings={"shared_buffers": args.pg_shared_buffers})
    if note:
        print(note)
    store = await open_store(path)
    like_db = await aiosqlite.connect(f"file:{path}?mode=ro", uri=True)
    pg_store: Store | None = None
    try:
        kinds = ([] if engines == "postgresql"
                 else store_kinds(store, "sqlite", queries, known, args.seed, like_db))
        sqlite_kinds = list(kinds)
        if cluster is not None:
            url, loaded = await load_postgres(cluster, path, args.rebuild)
            pg_store = await open_any_store(url)
            print(f"PostgreSQL: the same {papers:,} papers, {loaded}")
            kinds += store_kinds(pg_store, "postgresql", queries, known, args.seed, None)
        warmed, warming = read_through([path] + ([cluster.data / "base"] if cluster is not None else []))
        print(f"caches: {warmed / 2**30:.2f} GiB of store files read once beforehand ({warming:.0f} s)")
        if cluster is not None:
            warm = await prewarm(cluster.url("lookup"))
            print(f"  PostgreSQL: shared_buffers {args.pg_shared_buffers}; {warm}")
        load_before = loadavg()
        probe_before = cpu_probe()
        started = time.perf_counter()
        for kind in kinds:  # warm-up: the first queries of each kind, not timed
            for query in kind.queries[:args.warmup]:
                await kind.call(query)
            kind.queries = kind.queries[args.warmup:]
        warm = time.perf_counter() - started
        started = time.perf_counter()
        for i in range(args.queries):  # interleaved, the order rotating each round
            turn = kinds[i % len(kinds):] + kinds[:i % len(kinds)]
            for kind in turn:
                seconds, result = await timed_result(kind.call, kind.queries[i])
                kind.times.append(seconds)
                kind.hits.append(_count(result))
                if kind.judge is not None:
                    kind.ranks.append(kind.judge(kind.queries[i], result))
        measured = time.perf_counter() - started
        started = time.perf_counter()
        for kind in kinds:  # the baseline, each kind until its budget is spent
            if kind.baseline is None:
                continue
            await kind.baseline(kind.queries[0])  # warm-up, as for the store
            budget_start = time.perf_counter()
            for query in kind.queries:
                seconds, hits = await timed(kind.baseline, query)
                kind.like_times.append(seconds)
                kind.like_hits.append(hits)
                if (len(kind.like_times) >= args.like_min
                        and time.perf_counter() - budget_start > args.like_budget):
                    break
        like_seconds = time.perf_counter() - started
        probe_after = cpu_probe()
        load_after = loadavg()

        print(f"machine: {os.cpu_count()} CPUs, load average {load_before} before, {load_after} after;"
              f" sqlite {aiosqlite.sqlite_version}")
        for label, probe in (("before", probe_before), ("after", probe_after)):
            print(f"  noise: fixed CPU probe {label}, {len(probe)} runs: p50 {_ms(pct(probe, 50)).strip()}"
                  f"  p95 {_ms(pct(probe, 95)).strip()}  max {_ms(max(probe)).strip()} ms"
                  f"  (p95/p50 {pct(probe, 95) / pct(probe, 50):.2f})")
        print(f"timing: {args.queries} queries per kind after {args.warmup} warm-up queries each"
              f" ({warm:.1f} s),"
              f" interleaved round-robin ({measured:.1f} s); LIKE baseline {like_seconds:.1f} s"
              f" (budget {args.like_budget:.0f} s per kind, at least {args.like_min} queries)")
        print("times are ms of wall clock per awaited call (time.perf_counter), store methods via aiosqlite")
        print()
        header = (f"{'engine':<11}{'lookup':<26}{'n':>5}{'p50':>9}{'p95':>9}{'max':>9}{'target':>8}  {'':<5}"
                  f"{'LIKE n':>7}{'p50':>10}{'p95':>10}  {'speed-up p50':>12}{'p95':>8}")
        print(header)
        print("-" * len(header))
        verdicts = []
        for kind in kinds:
            p95 = pct(kind.times, 95)
            target = f"{kind.target_ms:.0f}" if kind.target_ms else "-"
            verdict = ("PASS" if p95 * 1000 <= kind.target_ms else "FAIL") if kind.target_ms else "-"
            line = (f"{kind.engine:<11}{kind.name:<26}{len(kind.times):>5}{_ms(pct(kind.times, 50)):>9}"
                    f"{_ms(p95):>9}{_ms(max(kind.times)):>9}{target:>8}  {verdict:<5}")
            if kind.like_times:
                n = len(kind.like_times)
                same = kind.times[:n]
                line += (f"{n:>7}{_ms(pct(kind.like_times, 50)):>10}{_ms(pct(kind.like_times, 95)):>10}  "
                         f"{_ratio(pct(kind.like_times, 50) / pct(same, 50)):>12}"
                         f"{_ratio(pct(kind.like_times, 95) / pct(same, 95)):>8}")
            else:
                line += f"{'-':>7}"
            print(line)
            if kind.target_ms:
                verdicts.append((kind, verdict, p95))
        print()
        print("speed-up: LIKE time / store time on the same queries (the first n of each kind);"
              " LIKE returns the first 25 rows it meets, unranked")
        print("noise: p95 ms over the first / second half of each kind's runs: " + "; ".join(
            f"{k.engine} {k.name} {pct(k.times[:len(k.times) // 2], 95) * 1000:.1f} / "
            f"{pct(k.times[len(k.times) // 2:], 95) * 1000:.1f}" for k in kinds))
        print("results per query (mean rows): " + ", ".join(
            f"{k.engine} {k.name} {statistics.mean(k.hits):.1f}" for k in kinds))

        # Where the time goes: match counts of the slowest queries, and search by match count.
        print()
        print_known_items([k for k in kinds if k.judge is not None], verdicts)
        print()
        for kind in sqlite_kinds[1:4]:
            slowest = sorted(range(len(kind.times)), key=lambda i: -kind.times[i])[:5]
            shown = []
            for i in slowest:
                query = kind.queries[i]
                text = query[0] if isinstance(query, tuple) else query
                expression = (fts_match(text) if kind.name.startswith("search")
                              else f"title : ({fts_match(text, prefix_last=True)})")
                matches = await match_count(like_db, expression) if expression else 0
                shown.append(f"{_describe_query(query)} {kind.times[i] * 1000:.0f} ms ({matches:,} matches)")
            print(f"slowest {kind.name}: " + "; ".join(shown))
        search = sqlite_kinds[1] if sqlite_kinds else None
        counts = [] if search is None else [await match_count(like_db, fts_match(q) or '""')
                                            for q in search.queries]
        print("search_papers on SQLite by how many papers match (all words, any column):" if search else "")
        buckets = ((0, 1_000), (1_000, 10_000), (10_000, 100_000), (100_000, 10**12))
        for low, high in buckets if search else ():
            times = [t for t, c in zip(search.times, counts, strict=True) if low <= c < high]
            if times:
                label = f"{low:,}-{high:,}" if high < 10**12 else f">= {low:,}"
                print(f"  {label:>16} matches: {len(times):>4} queries  p50 {pct(times, 50) * 1000:8.1f}"
                      f"  p95 {pct(times, 95) * 1000:8.1f}  max {max(times) * 1000:8.1f} ms")
        print()
        failed = 0
        for kind, verdict, p95 in verdicts:
            if kind.target_ms is None:  # a known item's MRR (its figure is in p95's place)
                print(f"{verdict}: {kind.engine} {kind.name} MRR {p95:.3f}"
                      f" (target >= {KNOWN_ITEM_MRR_TARGET})")
            else:
                print(f"{verdict}: {kind.engine} {kind.name} p95 {p95 * 1000:.1f} ms"
                      f" (target <= {kind.target_ms:.0f} ms)")
            failed += verdict == "FAIL"
    finally:
        await like_db.close()
        await store.close()
        if pg_store is not None:
            await pg_store.close()
        if cluster is not None:
            cluster.stop()
    if args.roundtrip:
        print(roundtrip.report(await roundtrip.paper_show_round_trips(Path(path), args.roundtrip)))
    return 1 if failed else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, default=None,
                        help="store file to use (built there when missing); default: cached in the temp dir")
    parser.add_argument("--rebuild", action="store_true", help="build the store file again")
    parser.add_argument("--batch", type=int, default=20_000, help="papers per store_papers call")
    parser.add_argument("--queries", type=int, default=300, help="timed queries per kind")
    parser.add_argument("--warmup", type=int, default=30, help="untimed queries per kind first")
    parser.add_argument("--like-budget", type=float, default=30.0, help="seconds of LIKE baseline per kind")
    parser.add_argument("--like-min", type=int, default=10, help="LIKE queries per kind at least")
    parser.add_argument("--seed", type=int, default=20241128)
    parser.add_argument("--pg-shared-buffers", default="2GB",
                        help="PostgreSQL's shared_buffers (default 128MB, holds 3%% of a 1M-paper store)")
    parser.add_argument("--engine", choices=("sqlite", "postgresql", "both"), default=None,
                        help="store engine(s) to time (default: both when PostgreSQL's binaries are found, "
                             "else sqlite); PostgreSQL gets a copy of the SQLite store, kept between runs")
    parser.add_argument("--roundtrip", type=int, default=200,
                        help="/paper show round trips through the Discord double (0: skip)")
    parser.add_argument("--feed", type=Path, default=DEFAULT_FEED,
                        help="feed whose words make the vocabulary")
    args = parser.parse_args()
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
