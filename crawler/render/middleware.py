"""Which pages are rendered, and the rendered DOM handed to the spider.

Runs at priority 105: its `process_request` comes after the access guard (90) and the origin
policy (100), so a page is marked for the browser only once the gate let it through; its
`process_response` comes after the response policy (110) decided on the response *and* the
rendered DOM, and swaps the body the spider reads for the DOM (text and links a script wrote).
The WARC still gets the response as received (the wire capture, 950, saw it first).
Policy documents (robots.txt …) are never rendered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.exceptions import NotConfigured
from scrapy.http import HtmlResponse

from crawler import meta
from crawler.render.capture import peek_rendering
from crawler.render.config import rendering_enabled, url_patterns

if TYPE_CHECKING:
    import re
    from typing import Self

    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response


class RenderMiddleware:
    def __init__(self, crawler: Crawler, *, render_all: bool, patterns: list[re.Pattern[str]]):
        self.crawler = crawler
        self.render_all = render_all
        self.patterns = patterns

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not rendering_enabled(settings):
            raise NotConfigured("rendering is off (RENDER_JS, RENDER_URL_PATTERNS)")
        return cls(
            crawler, render_all=settings.getbool("RENDER_JS"), patterns=url_patterns(settings)
        )

    def wants_rendering(self, url: str) -> bool:
        return self.render_all or any(pattern.search(url) for pattern in self.patterns)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if request.meta.get(meta.EVIDENCE):
            return
        if request.meta.get(meta.RENDER) is None:  # a spider may say True or False itself
            request.meta[meta.RENDER] = self.wants_rendering(request.url)

    def process_response(self, request: Request, response: Response, spider: Spider | None = None):
        rendering = peek_rendering(self.crawler, request)
        if rendering is None or not isinstance(response, HtmlResponse):
            return response
        return response.replace(body=rendering.html, encoding="utf-8")
