"""Extension: move the objects alive when the engine starts out of the garbage collector's way.

A crawl imports large libraries (SQLAlchemy, lxml, Twisted, warcio) whose objects live as long
as the process; every full collection would walk them again. `gc.freeze()` puts them in the
permanent generation once, so full collections only walk what the crawl itself allocates.
"""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING, Self

from scrapy import signals

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class FreezeStartupObjects:
    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        extension = cls()
        crawler.signals.connect(extension.engine_started, signal=signals.engine_started)
        return extension

    def engine_started(self) -> None:
        gc.collect()
        gc.freeze()
