"""Sources turn the bytes of a response into records; they never fetch and know no Discord.

Each parser is a plain function ``(body, content_type, source) -> ParsedFeed`` run in a thread.
"""

from bot.ingest.sources.arxiv_rss import parse_arxiv_rss
from bot.ingest.sources.feed import FeedParseError, ParsedFeed
from bot.ingest.sources.huggingface import parse_huggingface
from bot.ingest.sources.shortscience import parse_shortscience
from bot.ingest.sources.summary_feed import parse_summary_feed

PARSERS = {
    "arxiv": parse_arxiv_rss,
    "shortscience": parse_shortscience,
    "rss": parse_summary_feed,
    "huggingface": parse_huggingface,
}

__all__ = ["PARSERS", "FeedParseError", "ParsedFeed"]
