"""A plain Scrapy spider: the baseline rightscrawl's `corpus` spider is measured against.

    scrapy runspider benchmarks/plain_spider.py -a url=http://127.0.0.1:PORT/

Run it outside the project (no scrapy.cfg in the working directory or above), so none of
rightscrawl's settings, add-on, middlewares or pipelines are loaded. It does what `corpus` does
minus the compliance layer: obey robots.txt (Scrapy's own RobotsTxtMiddleware), stay on the seed's
host, extract every link with LinkExtractor and follow it, and yield one small item per page.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import scrapy
from scrapy.http import TextResponse
from scrapy.linkextractors import LinkExtractor


class PlainSpider(scrapy.Spider):
    name = "plain"
    custom_settings = {
        "ROBOTSTXT_OBEY": True,
        "TELNETCONSOLE_ENABLED": False,
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": False,
        # As in rightscrawl's settings (Scrapy's default is 180). Not only cosmetic: with zero
        # delay, Twisted's asyncio reactor only drops cancelled timers (one per download) when
        # the earliest one falls due, so this also bounds how many pile up in the heap.
        "DOWNLOAD_TIMEOUT": 60,
    }

    def __init__(self, url: str | None = None, **kwargs):
        super().__init__(**kwargs)
        if not url:
            raise ValueError("Use -a url=URL")
        self.seed_url = url
        self.allowed_domains = [urlsplit(url).hostname]
        self.hosts = frozenset(self.allowed_domains)
        self.link_extractor = LinkExtractor()

    async def start(self):
        yield scrapy.Request(self.seed_url, callback=self.parse)

    def parse(self, response):
        yield {"url": response.url, "status": response.status, "length": len(response.body)}
        if isinstance(response, TextResponse):
            for link in self.link_extractor.extract_links(response):
                if urlsplit(link.url).hostname in self.hosts:
                    yield scrapy.Request(link.url, callback=self.parse)
