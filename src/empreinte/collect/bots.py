"""Crawler detection by user agent, with the maintained CrawlerDetect patterns."""

from __future__ import annotations

from functools import lru_cache

from crawlerdetect import CrawlerDetect

_detector = CrawlerDetect()


@lru_cache(maxsize=65_536)
def is_bot(user_agent: str) -> bool:
    """True when `user_agent` is a known crawler, spider or headless tool.

    Cached: real traffic repeats a small set of user agents, and the pattern match is the
    costliest step of validating a message.
    """
    return bool(_detector.isCrawler(user_agent))
