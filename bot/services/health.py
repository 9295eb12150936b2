"""Is Paperboy alive? The bot's heartbeat file and the checks behind ``paperboy health``.

Healthy means: the store opens and answers, the running bot wrote its heartbeat recently (it does
every 30 s while connected to Discord), and some feed was polled successfully recently.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.core.clock import utc_now
from bot.core.config import Config
from bot.services.fleet import fleet_view
from storage import open_store, shown_location
from storage.errors import StoreError


@dataclass
class HealthReport:
    """The checks' results: ``problems`` is empty when healthy."""

    checks: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.problems


def write_heartbeat(path: str | Path, details: dict[str, Any]) -> None:
    """Replace the heartbeat file atomically (a reader never sees half a file)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".heartbeat-")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"at": utc_now().isoformat(timespec="seconds"), **details}, handle)
    os.replace(temporary, target)


def _age(moment: datetime, now: datetime) -> timedelta:
    return now - moment


async def check_health(config: Config, now: datetime | None = None) -> HealthReport:
    """Run every check; never raises for what it checks."""
    now = now or utc_now()
    report = HealthReport()
    await _check_store(config, now, report)
    _check_heartbeat(config, now, report)
    return report


async def _check_store(config: Config, now: datetime, report: HealthReport) -> None:
    url = config.storage.postgres_url
    shown = shown_location(url) if url else config.storage.path
    if not url and shown != ":memory:" and not Path(shown).exists():
        report.problems.append(f"store {config.storage.path} does not exist")
        return
    try:
        store = await open_store(config.storage.location)
    except StoreError as exc:  # (its message names the store and says what to do)
        report.problems.append(str(exc))
        return
    except Exception as exc:
        report.problems.append(f"store {shown} cannot be opened: {exc}")
        return
    try:
        feeds = await store.list_feed_states()
        fleet = await fleet_view(store)
    except Exception as exc:
        report.problems.append(f"store {shown} does not answer: {exc}")
        return
    finally:
        await store.close()
    report.checks.append(f"store {shown} opens")
    report.checks += [f"fleet: {line}" for line in fleet.lines()] or ["fleet: no live bot process"]
    successes = [datetime.fromisoformat(f.last_success) for f in feeds if f.last_success]
    if not successes:
        report.problems.append("no feed has ever been polled successfully")
        return
    latest = max(successes)
    if _age(latest, now).total_seconds() > config.health.poll_max_age:
        report.problems.append(f"the last successful poll was at {latest.isoformat()}, longer than "
                               f"{config.health.poll_max_age} ago")
    else:
        report.checks.append(f"last successful poll at {latest.isoformat()}")


def _check_heartbeat(config: Config, now: datetime, report: HealthReport) -> None:
    path = Path(config.heartbeat_path)
    try:
        written = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except OSError:
        report.problems.append(f"no heartbeat file at {path}: is the bot running?")
        return
    if _age(written, now).total_seconds() > config.health.heartbeat_max_age:
        report.problems.append(f"the bot's heartbeat ({path}) is stale: written {written.isoformat()}")
    else:
        report.checks.append(f"heartbeat written {written.isoformat()}")
