"""Typed, validated configuration read from TOML.

Where the file comes from: ``--config``, else ``$PAPERBOY_CONFIG``, else ``./config.toml``, else the
built-in defaults. Every problem is reported as one :class:`ConfigError` that names the key, so the
command line can print it and exit with status 2 before anything starts.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot import __version__
from bot.core.channel_rules import (
    DEFAULT_TOPICS_PER_CHANNEL,
    DEFAULT_TOPICS_PER_GUILD,
    ChannelRuleError,
    check_clock,
    check_timezone,
)
from bot.core.feed_urls import feed_url_problem
from bot.core.fleet_config import MetricsConfig, fleet_problem
from bot.core.storage_config import StorageConfig, mask_url, storage_problem

TOKEN_ENV = "PAPERBOY_DISCORD_TOKEN"
CONFIG_ENV = "PAPERBOY_CONFIG"
FEED_KINDS = ("shortscience", "rss", "huggingface")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_FEED_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")


class ConfigError(ValueError):
    """A configuration problem, already phrased for the operator (it names the key)."""


class Duration(float):
    """Seconds, written in TOML as ``"20s"``, ``"30m"``, ``"1h"``; kept as text for display."""

    text: str

    def __new__(cls, text: str) -> Duration:
        match = _DURATION.match(text)
        if not match:
            raise ValueError(f"{text!r} is not a duration such as '20s', '30m', '1h' or '1d'")
        value = super().__new__(cls, float(match.group(1)) * _UNIT_SECONDS[match.group(2)])
        value.text = text.strip()
        return value

    def __str__(self) -> str:
        return self.text

    def __reduce__(self) -> tuple[type, tuple[str]]:
        return (Duration, (self.text,))


class Url(str):
    """An http(s) or ws(s) URL with a host."""

    def __new__(cls, text: str) -> Url:
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https", "ws", "wss") or not parts.netloc:
            raise ValueError(f"{text!r} is not an http(s):// or ws(s):// URL with a host")
        return super().__new__(cls, text)


@dataclass(frozen=True)
class DiscordConfig:
    """How to reach Discord; the token usually comes from ``$PAPERBOY_DISCORD_TOKEN``."""

    token: str = ""
    api_base: Url = Url("https://discord.com/api/v10")
    gateway_url: Url = Url("wss://gateway.discord.gg/")
    ops_channel_id: int = 0
    requests_per_second: int = 48  # paced under Discord's global 50/s instead of running into 429s
    # Discord drops a repeated nonce only for "a few minutes": a digest message first sent longer
    # ago than this is looked for in the channel's history before it is sent again.
    nonce_window: Duration = Duration("60s")
    shard_count: int = 0  # gateway shards; 0: as many as Discord recommends (bot.core.fleet_config)
    shard_ids: tuple[int, ...] = ()  # this process's shards of shard_count; empty: all of them


@dataclass(frozen=True)
class HttpConfig:
    """Politeness and robustness of every outgoing request."""

    user_agent: str = (
        f"paperboy-bot/{__version__} (+https://github.com/paperboy-bot/paperboy; "
        "mailto:operator@example.org)"
    )
    timeout: Duration = Duration("20s")
    max_body_bytes: int = 20_000_000
    retries: int = 3
    retry_backoff: Duration = Duration("2s")
    max_retry_wait: Duration = Duration("60s")


@dataclass(frozen=True)
class ArxivConfig:
    """arXiv endpoints, the categories always polled, and arXiv's request interval."""

    rss_url: str = "https://rss.arxiv.org/rss/{categories}"
    api_url: Url = Url("https://export.arxiv.org/api/query")
    request_interval: Duration = Duration("3s")
    categories: tuple[str, ...] = ("cs.LG", "cs.AI", "cs.CL", "cs.CV", "stat.ML")
    poll_interval: Duration = Duration("1h")
    api_batch_size: int = 50


@dataclass(frozen=True)
class FeedConfig:
    """One summary feed: ShortScience.org or any RSS/Atom feed of paper summaries."""

    name: str
    url: Url
    kind: str = "rss"
    interval: Duration = Duration("30m")


@dataclass(frozen=True)
class PollConfig:
    """How a failing feed backs off: the next poll moves out exponentially, up to a cap."""

    failure_backoff: Duration = Duration("5m")
    failure_backoff_max: Duration = Duration("6h")


@dataclass(frozen=True)
class DigestConfig:
    """Defaults for a channel that has not chosen its own digest schedule."""

    time: str = "08:00"
    timezone: str = "UTC"
    max_topics_per_channel: int = DEFAULT_TOPICS_PER_CHANNEL
    max_topics_per_guild: int = DEFAULT_TOPICS_PER_GUILD


@dataclass(frozen=True)
class HealthConfig:
    """What ``paperboy health`` (the container's health check) calls healthy."""

    heartbeat_path: str = ""  # default: the store's path + ".heartbeat"
    heartbeat_max_age: Duration = Duration("3m")
    poll_max_age: Duration = Duration("6h")


@dataclass(frozen=True)
class AlertsConfig:
    """When the bot's owner (or the ops channel) is told that something is wrong."""

    feed_failures: int = 3  # consecutive failed polls of one feed


@dataclass(frozen=True)
class HousekeepingConfig:
    """How long delivery records and sent digest messages are kept."""

    keep_deliveries: Duration = Duration("120d")
    keep_sent_messages: Duration = Duration("30d")


@dataclass(frozen=True)
class LoggingConfig:
    """Log level for the process (DEBUG, INFO, WARNING, ERROR)."""

    level: str = "INFO"


DEFAULT_FEEDS = (FeedConfig(name="shortscience", kind="shortscience",
                            url=Url("https://www.shortscience.org/rss.xml")),)


@dataclass(frozen=True)
class Config:
    """The whole configuration; every section has defaults, so an empty file is valid."""

    discord: DiscordConfig = field(default_factory=DiscordConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    http: HttpConfig = field(default_factory=HttpConfig)
    arxiv: ArxivConfig = field(default_factory=ArxivConfig)
    poll: PollConfig = field(default_factory=PollConfig)
    digest: DigestConfig = field(default_factory=DigestConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    health: HealthConfig = field(default_factory=HealthConfig)
    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    housekeeping: HousekeepingConfig = field(default_factory=HousekeepingConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    feeds: tuple[FeedConfig, ...] = DEFAULT_FEEDS
    source: str = "built-in defaults"

    @property
    def heartbeat_path(self) -> str:
        """Where the running bot proves it is alive (next to the store unless configured)."""
        return self.health.heartbeat_path or f"{self.storage.path}.heartbeat"

    @property
    def token(self) -> str:
        """The bot token: the environment wins over the file."""
        return os.environ.get(TOKEN_ENV) or self.discord.token


def _convert(value: Any, annotation: Any, key: str) -> Any:
    """Check and convert one TOML value to the annotated type, naming the key on failure."""
    origin = typing.get_origin(annotation)
    if origin is tuple:
        (item_type, _ellipsis) = typing.get_args(annotation)
        if not isinstance(value, list):
            raise ConfigError(f"{key}: expected a list, got {type(value).__name__}")
        return tuple(_convert(item, item_type, f"{key}[{i}]") for i, item in enumerate(value))
    if origin in (typing.Union, types.UnionType):
        raise TypeError(f"unsupported annotation for {key}")
    if annotation is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {value!r}")
        return value
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected a whole number, got {value!r}")
        if value < 0:
            raise ConfigError(f"{key}: must not be negative, got {value}")
        return value
    if annotation is Duration and isinstance(value, int | float) and not isinstance(value, bool):
        raise ConfigError(f'{key}: expected a duration such as "{value}s", "30m" or "1h" (a quoted '
                          f"number with a unit: ms, s, m, h, d), got {value!r}")
    if annotation in (str, Duration, Url):
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected a string, got {value!r}")
        try:
            return annotation(value)
        except ValueError as exc:
            raise ConfigError(f"{key}: {exc}") from None
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        return _build(annotation, value, key)
    raise TypeError(f"unsupported annotation {annotation!r} for {key}")


def _build(cls: type, table: Any, prefix: str) -> Any:
    """Build a section dataclass from a TOML table: unknown keys and wrong types are errors."""
    if not isinstance(table, dict):
        raise ConfigError(f"{prefix}: expected a table, got {type(table).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name != "source"}
    kwargs: dict[str, Any] = {}
    for name, value in table.items():
        key = f"{prefix}.{name}" if prefix else name
        if name not in fields:
            known = ", ".join(sorted(fields))
            raise ConfigError(f"{key}: unknown key (known keys here: {known})")
        kwargs[name] = _convert(value, hints[name], key)
    try:
        return cls(**kwargs)
    except TypeError as exc:
        missing = [f.name for f in fields.values()
                   if f.name not in kwargs and f.default is dataclasses.MISSING
                   and f.default_factory is dataclasses.MISSING]
        raise ConfigError(f"{prefix}: missing required key(s): {', '.join(missing)}") from exc


def _validate(config: Config) -> None:
    """Checks that span more than one value's type."""
    if "{categories}" not in config.arxiv.rss_url:
        raise ConfigError("arxiv.rss_url: must contain '{categories}'")
    try:
        Url(config.arxiv.rss_url.replace("{categories}", "cs.LG"))
    except ValueError as exc:
        raise ConfigError(f"arxiv.rss_url: {exc}") from None
    from bot.core.topics import TopicError, parse_topic  # late: topics needs the taxonomy, not config

    for i, category in enumerate(config.arxiv.categories):
        try:
            topic = parse_topic(category)
        except TopicError as exc:
            raise ConfigError(f"arxiv.categories[{i}]: {exc}") from None
        if topic.kind.value not in ("category", "archive"):
            raise ConfigError(f"arxiv.categories[{i}]: {category!r} is not an arXiv category")
        if str(topic) != category:
            raise ConfigError(f"arxiv.categories[{i}]: write {category!r} as {str(topic)!r}")
    if not 1 <= config.arxiv.api_batch_size <= 2000:
        raise ConfigError("arxiv.api_batch_size: must be between 1 and 2000")
    names: set[str] = set()
    for i, feed in enumerate(config.feeds):
        if not _FEED_NAME.match(feed.name):
            raise ConfigError(f"feeds[{i}].name: {feed.name!r} must be 1-40 characters of "
                              "a-z, 0-9, '_', '.', '-'")
        if feed.name in names or feed.name.startswith("arxiv"):
            raise ConfigError(f"feeds[{i}].name: {feed.name!r} is already used or reserved")
        names.add(feed.name)
        if feed.kind not in FEED_KINDS:
            raise ConfigError(f"feeds[{i}].kind: {feed.kind!r} is not one of {', '.join(FEED_KINDS)}")
        if (problem := feed_url_problem(feed.url)) is not None:
            raise ConfigError(f"feeds[{i}].url: {problem}")
    for key, check, value in (("digest.time", check_clock, config.digest.time),
                              ("digest.timezone", check_timezone, config.digest.timezone)):
        try:
            canonical = check(value)
        except ChannelRuleError as exc:
            raise ConfigError(f"{key}: {exc}") from None
        if canonical != value:
            raise ConfigError(f"{key}: write {value!r} as {canonical!r}")
    if config.logging.level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"logging.level: {config.logging.level!r} is not DEBUG, INFO, WARNING "
                          "or ERROR")
    if not 1 <= config.discord.requests_per_second <= 50:
        raise ConfigError("discord.requests_per_second: must be between 1 and 50 (Discord allows 50/s)")
    if config.http.timeout <= 0:
        raise ConfigError("http.timeout: must be more than 0s")
    if config.http.max_body_bytes < 1024:
        raise ConfigError("http.max_body_bytes: must be at least 1024")
    if (problem := storage_problem(config.storage)) is not None:
        raise ConfigError(problem)
    if (problem := fleet_problem(config.discord.shard_count, config.discord.shard_ids,
                                 config.metrics)) is not None:
        raise ConfigError(problem)


def parse_config(data: dict[str, Any], source: str = "built-in defaults") -> Config:
    """Build and validate a :class:`Config` from a parsed TOML document."""
    table = dict(data)
    feeds = table.pop("feeds", None)
    config: Config = _build(Config, table, "")
    if feeds is not None:
        if not isinstance(feeds, list):
            raise ConfigError("feeds: expected an array of tables ([[feeds]])")
        built = tuple(_build(FeedConfig, item, f"feeds[{i}]") for i, item in enumerate(feeds))
        config = dataclasses.replace(config, feeds=built)
    config = dataclasses.replace(config, source=source)
    _validate(config)
    return config


def resolve_config_path(explicit: str | None) -> Path | None:
    """``--config``, else ``$PAPERBOY_CONFIG``, else ``./config.toml`` when it exists."""
    if explicit:
        return Path(explicit)
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    local = Path("config.toml")
    return local if local.exists() else None


def load_config(explicit: str | None = None) -> Config:
    """Read, parse and validate the configuration; raises :class:`ConfigError`."""
    path = resolve_config_path(explicit)
    if path is None:
        return parse_config({})
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read configuration file: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_config(data, source=str(path))


def mask_token(token: str) -> str:
    """Enough of the token to recognise it, never enough to use it."""
    if not token:
        return "(not set)"
    return f"{token[:4]}…({len(token)} characters)" if len(token) > 8 else "****"


def describe(config: Config) -> dict[str, Any]:
    """The effective configuration as plain data, token masked, for ``check-config``."""
    data = dataclasses.asdict(config)
    data["discord"]["token"] = mask_token(config.token)
    data["storage"]["url"] = mask_url(config.storage.url)
    plain: dict[str, Any] = _plain(data)
    return plain


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Duration):
        return str(value)
    if isinstance(value, Url):
        return str(value)
    return value
