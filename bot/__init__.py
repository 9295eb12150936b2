"""Paperboy: a Discord bot and notification service for new research papers and summaries."""

__version__ = "0.2.0"
