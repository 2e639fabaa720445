"""A test extension that stops the crawl with a reason of its own, as a failing component would."""

from __future__ import annotations

from scrapy import signals
from scrapy.utils.defer import deferred_from_coro


class CloseWithFailure:
    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        extension = cls(crawler)
        crawler.signals.connect(extension.response_received, signal=signals.response_received)
        return extension

    def response_received(self, response, request, spider):
        engine = self.crawler.engine
        if hasattr(engine, "close_spider_async"):
            deferred_from_coro(engine.close_spider_async(reason="component_failure"))
        else:
            engine.close_spider(spider, "component_failure")
