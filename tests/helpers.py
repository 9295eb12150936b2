"""Shared test helpers: where the shared fixtures are, and configs pointed at local servers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.core.config import Config
from doubles.fixtures import arxiv_feed, arxiv_item, make_config  # noqa: F401 -- re-exported from doubles/

REPO = Path(__file__).resolve().parents[1]
OWN_FIXTURES = REPO / "tests" / "fixtures"
SHARED_FEEDS = Path(os.environ.get("PAPERBOY_SHARED_FEEDS", REPO.parent / "shared" / "fixtures" / "feeds"))
BIG_FEED = "arxiv_rss2024_all_archives_2024-11-28.xml"


def shared_feed(name: str) -> Path:
    """A file of ../shared/fixtures/feeds; the test is skipped when that folder is absent."""
    path = SHARED_FEEDS / name
    if not path.exists():
        pytest.skip(f"shared fixture {name} not available ({SHARED_FEEDS})")
    return path


def write_config(path: Path, config: Config) -> Path:
    """Write a config as TOML, for tests that run the ``paperboy`` command in a subprocess."""
    lines = [
        *([] if config.feeds else ["feeds = []"]),
        "[storage]", f'path = "{config.storage.path}"',
        "[http]", 'timeout = "5s"', "retries = 2", 'retry_backoff = "10ms"', 'max_retry_wait = "2s"',
        f"max_body_bytes = {config.http.max_body_bytes}",
        "[arxiv]", f'rss_url = "{config.arxiv.rss_url}"', f'api_url = "{config.arxiv.api_url}"',
        'request_interval = "0s"',
        "categories = [" + ", ".join(f'"{c}"' for c in config.arxiv.categories) + "]",
    ]
    for feed in config.feeds:
        lines += ["[[feeds]]", f'name = "{feed.name}"', f'kind = "{feed.kind}"', f'url = "{feed.url}"']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# Paper texts for ranking tests: graph papers (the hidden interest) among papers on other subjects.
GRAPH = ("Message passing graph neural networks for {x}",
         "We train a graph neural network with message passing over the nodes and edges of {x} graphs; "
         "graph convolutions aggregate neighbour features and node embeddings.")
OTHERS = [
    ("Quantum error correction with surface codes on {x}",
     "Surface code qubits, logical error rates and decoders for fault tolerant quantum computing on {x}."),
    ("Speech recognition with streaming transducers for {x}",
     "An end to end speech recognizer for {x} audio with a streaming transducer and acoustic features."),
    ("Galaxy rotation curves and dark matter halos in {x}",
     "We measure rotation curves of spiral galaxies in {x} and fit dark matter halo profiles."),
    ("Portfolio optimisation under transaction costs for {x}",
     "A convex portfolio optimisation with transaction costs and risk constraints in {x} markets."),
]
SUBJECTS = ["molecules", "citations", "traffic", "proteins", "social networks", "meshes", "rivers"]
