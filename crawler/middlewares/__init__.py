"""Downloader middlewares: the compliance gate (access guard, origin policy, response policy) and
the wire capture that keeps responses as received for the WARC."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

M = TypeVar("M")


def downloader_middleware(crawler: Crawler, cls: type[M]) -> M | None:
    """The crawl's own instance of the downloader middleware `cls` (its caches, its fetcher),
    or None when the crawl has no engine yet or does not use it."""
    engine = crawler.engine
    if engine is None:
        return None
    return next((m for m in engine.downloader.middleware.middlewares if isinstance(m, cls)), None)
