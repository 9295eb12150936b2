"""Wiring: the store, the one HTTP client, the arXiv API client, the ingestor and the services.

The command line and the bot both open them here, so there is one way to assemble the pipeline;
the clock given here is the one every service (and the store) reads.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.core.clock import Clock, utc_now
from bot.core.config import Config
from bot.ingest.arxiv_client import ArxivApiClient
from bot.ingest.http import HttpClient
from bot.ingest.poller import Ingestor, process_label
from bot.services.digests import DigestService
from bot.services.lookup import LookupService
from bot.services.ranking import RankingService
from bot.services.saves import SavesService
from bot.services.status import StatusService
from bot.services.subscriptions import SubscriptionService
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
    subscriptions: SubscriptionService
    digests: DigestService
    status: StatusService
    ranking: RankingService
    saves: SavesService


def process_holder(config: Config, command: str) -> str:
    """This process in leases and the fleet's list: ``paperboy run (pid 42 on host-1) shards 0,1 of 4``."""
    label = process_label(command)
    shards = config.discord.shard_ids
    if command == "run" and shards:
        label += f" shards {','.join(map(str, shards))} of {config.discord.shard_count}"
    return label


def arxiv_host_groups(config: Config) -> dict[str, tuple[str, float]]:
    """arXiv's RSS and API hosts share one limiter: one request at a time, 3 s apart."""
    interval = float(config.arxiv.request_interval)
    hosts = {urlsplit(config.arxiv.rss_url.replace("{categories}", "x")).netloc.lower(),
             urlsplit(config.arxiv.api_url).netloc.lower()}
    return {host: ("arxiv", interval) for host in hosts}


@asynccontextmanager
async def open_services(config: Config, command: str = "run",
                        clock: Clock = utc_now) -> AsyncIterator[Services]:
    """Open the store and the HTTP client; close both on the way out, whatever happens.

    ``command`` names this process in the store's leases (``paperboy poll (pid 42 on host)``).
    """
    store = await open_store(config.storage.location, clock=clock)
    http = HttpClient(config.http, arxiv_host_groups(config))
    try:
        api = ArxivApiClient(http, config.arxiv, store)
        subscriptions = SubscriptionService(config, store, clock)
        ranking = RankingService(store, [f.name for f in config.feeds if f.kind == "huggingface"])
        yield Services(config, store, http, api,
                       Ingestor(config, store, http, api, holder=process_holder(config, command)),
                       LookupService(store, api), subscriptions,
                       DigestService(store, subscriptions, ranking, clock), StatusService(store), ranking,
                       SavesService(store))
    finally:
        await http.close()
        await store.close()
