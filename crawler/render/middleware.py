"""Which pages are rendered, and the rendered DOM handed to the spider.

Runs at priority 105: its `process_request` comes after the access guard (90) and the origin
policy (100), so a page is marked for the browser (or, with `-a render=auto`, for the check
after its plain fetch: crawler/render/auto.py) only once the gate let it through; its
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
from crawler.render.auto import RENDER_JS, REQUESTED, URL_PATTERN
from crawler.render.capture import peek_rendering
from crawler.render.config import rendering_enabled, url_patterns

if TYPE_CHECKING:
    import re
    from typing import Self

    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response


class RenderMiddleware:
    def __init__(
        self,
        crawler: Crawler,
        *,
        render_all: bool,
        patterns: list[re.Pattern[str]],
        auto: bool = False,
    ):
        self.crawler = crawler
        self.render_all = render_all
        self.patterns = patterns
        self.auto = auto

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not rendering_enabled(settings):
            raise NotConfigured("rendering is off (RENDER_JS, RENDER_AUTO, RENDER_URL_PATTERNS)")
        return cls(
            crawler,
            render_all=settings.getbool("RENDER_JS"),
            patterns=url_patterns(settings),
            auto=settings.getbool("RENDER_AUTO"),
        )

    def why_render(self, url: str) -> str | None:
        """Why `url` is rendered in the browser from the start, or None (fetched plainly)."""
        if self.render_all:
            return RENDER_JS
        if any(pattern.search(url) for pattern in self.patterns):
            return URL_PATTERN
        return None

    def wants_rendering(self, url: str) -> bool:
        return self.why_render(url) is not None

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if request.meta.get(meta.EVIDENCE):
            return
        wanted = request.meta.get(meta.RENDER)
        if wanted is None:  # a spider may say True or False itself
            reason = self.why_render(request.url)
            request.meta[meta.RENDER] = reason is not None
            if reason is not None:
                request.meta[meta.RENDER_REASON] = reason
            elif self.auto:  # fetched plainly, rendered if it needs (crawler/render/auto.py)
                request.meta[meta.RENDER_AUTO] = True
        elif wanted and meta.RENDER_REASON not in request.meta:
            request.meta[meta.RENDER_REASON] = REQUESTED

    def process_response(self, request: Request, response: Response, spider: Spider | None = None):
        rendering = peek_rendering(self.crawler, request)
        if rendering is None or not isinstance(response, HtmlResponse):
            return response
        return response.replace(body=rendering.html, encoding="utf-8")
