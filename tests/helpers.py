"""Shared test helpers: where the shared fixtures are, and configs pointed at local servers."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from bot.core.config import Config, parse_config

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


def make_config(tmp_path: Path, port: int, categories: list[str] | None = None,
                feeds: list[dict[str, Any]] | None = None, **sections: dict[str, Any]) -> Config:
    """A config whose store is in ``tmp_path`` and whose arXiv URLs point at a local server."""
    data: dict[str, Any] = {
        "storage": {"path": str(tmp_path / "paperboy.sqlite3")},
        "http": {"timeout": "5s", "retries": 2, "retry_backoff": "10ms", "max_retry_wait": "2s"},
        "arxiv": {
            "rss_url": f"http://127.0.0.1:{port}/rss/{{categories}}",
            "api_url": f"http://127.0.0.1:{port}/api/query",
            "request_interval": "0s",
            "categories": categories if categories is not None else ["cs.LG"],
        },
        "feeds": feeds or [],
    }
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    return parse_config(data, source="test")


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


def arxiv_item(arxiv_id: str, version: int = 1, announce: str = "new",
               categories: tuple[str, ...] = ("cs.LG",), title: str = "A Paper",
               authors: str = "Ada Lovelace, Alan Turing", abstract: str = "We study things.",
               doi: str | None = None) -> str:
    """One item in the shape rss.arxiv.org serves since 2024."""
    cats = "".join(f"<category>{c}</category>" for c in categories)
    extra = f"<arxiv:DOI>{doi}</arxiv:DOI>" if doi else ""
    return (f"<item><title>{title}</title><link>https://arxiv.org/abs/{arxiv_id}</link>"
            f"<description>arXiv:{arxiv_id}v{version} Announce Type: {announce} \nAbstract: {abstract}"
            f"</description><guid isPermaLink=\"false\">oai:arXiv.org:{arxiv_id}v{version}</guid>{cats}"
            "<pubDate>Thu, 28 Nov 2024 00:00:00 -0500</pubDate>"
            f"<arxiv:announce_type>{announce}</arxiv:announce_type>{extra}"
            f"<dc:creator>{authors}</dc:creator></item>")


def arxiv_feed(*items: str, title: str = "cs.LG updates on arXiv.org") -> bytes:
    """A whole arXiv RSS document around ``items``."""
    return ("<?xml version='1.0' encoding='UTF-8'?>\n"
            '<rss xmlns:arxiv="http://arxiv.org/schemas/atom" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" version="2.0"><channel>'
            f"<title>{title}</title><link>http://rss.arxiv.org/rss/cs.LG</link>"
            "<description>updates</description>" + "".join(items) + "</channel></rss>").encode()
