"""Logging set-up for the launcher, kept apart from the bot class."""

from __future__ import annotations

import logging
import sys


class _RedactToken(logging.Filter):
    """Never let the token reach a log line, whoever logs it."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        if self.token and self.token in record.getMessage():
            record.msg = record.getMessage().replace(self.token, "[token]")
            record.args = None
        return True


def setup_logging(level: str = "INFO", token: str = "") -> None:
    """Log to stderr with time, level and logger name; the token is always masked.

    discord.py never logs below INFO, and APScheduler, unless the level is DEBUG, not below WARNING:
    their routine lines would bury Paperboy's own.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    handler.addFilter(_RedactToken(token))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("discord").setLevel(max(root.level, logging.INFO))
    # APScheduler logs every job added, run and finished at INFO (several lines a minute); its
    # warnings (missed runs, skipped overlaps) and errors still show, and at DEBUG all of it does.
    logging.getLogger("apscheduler").setLevel(
        root.level if root.level <= logging.DEBUG else max(root.level, logging.WARNING))
