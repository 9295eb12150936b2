"""What the bot is fed in tests and benchmarks: arXiv RSS items and documents, and configs whose store
and arXiv URLs point at a temp dir and a local feed server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.core.config import Config, parse_config


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
