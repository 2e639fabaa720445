"""A spider that knows nothing of rightscrawl: no errback, no scope, follows every link.

`scrapy runspider tests/foreign_spider.py -a urls=URL[,URL…]` from the repository root: the
project's add-on applies, as it would to any Scrapy project that enables it.
"""

from __future__ import annotations

from typing import Any

import scrapy


class ForeignSpider(scrapy.Spider):
    name = "foreign"

    def __init__(self, urls: str = "", **kwargs: Any):
        super().__init__(**kwargs)
        self.start_urls = [url for url in urls.split(",") if url]

    def parse(self, response):
        for href in response.css("a::attr(href)").getall():
            yield response.follow(href, callback=self.parse)
