"""Wiring: the store, the one HTTP client, the arXiv API client and the ingestor, built from config.

The command line and the bot both open them here, so there is one way to assemble the pipeline.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.core.config import Config
from bot.ingest.http import HttpClient
from bot.ingest.poller import Ingestor, process_label
from bot.ingest.sources.arxiv_api import ArxivApiClient
from bot.services.lookup import LookupService
from storage import Store, open_store


@dataclass
class Services:
    """What a running Paperboy process uses; closed together."""

    config: Config
    store: Store
    http: HttpClient
    api: ArxivApiClient
    ingestor: Ingestor
    lookup: LookupService


def arxiv_host_groups(config: Config) -> dict[str, tuple[str, float]]:
    """arXiv's RSS and API hosts share one limiter: one request at a time, 3 s apart."""
    interval = float(config.arxiv.request_interval)
    hosts = {urlsplit(config.arxiv.rss_url.replace("{categories}", "x")).netloc.lower(),
             urlsplit(config.arxiv.api_url).netloc.lower()}
    return {host: ("arxiv", interval) for host in hosts}


@asynccontextmanager
async def open_services(config: Config, command: str = "run") -> AsyncIterator[Services]:
    """Open the store and the HTTP client; close both on the way out, whatever happens.

    ``command`` names this process in the store's leases (``paperboy poll (pid 42 on host)``).
    """
    store = await open_store(config.storage.path)
    http = HttpClient(config.http, arxiv_host_groups(config))
    try:
        api = ArxivApiClient(http, config.arxiv, store)
        yield Services(config, store, http, api,
                       Ingestor(config, store, http, api, holder=process_label(command)),
                       LookupService(store, api))
    finally:
        await http.close()
        await store.close()
