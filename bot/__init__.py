"""Paperboy: a Discord bot and notification service for new research papers and summaries."""

__version__ = "0.1.0"
