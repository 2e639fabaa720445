"""Download handler: scrapy-playwright for pages marked to render, Scrapy's HTTP for the rest.

A page to render (`meta[RENDER]`, set by RenderMiddleware) is opened in a browser page whose every
request passes the BrowserGate. The Scrapy response returned is the page's HTTP response as the
gate received it (so the wire capture, content decoding and the response policy work as for any
page); the DOM the browser built is kept beside the request (crawler/render/capture.py) for the
response policy (signals a script inserted) and the spider (text and links a script wrote).
Everything else, policy documents included, goes to Scrapy's own HTTP handler untouched.
`render_received` renders a page fetched that way (`-a render=auto`) from the response received.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING

from scrapy.http.headers import Headers
from scrapy.responsetypes import responsetypes
from scrapy_playwright import handler as scrapy_playwright_handler
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

from crawler import meta
from crawler.contracts import SettingError
from crawler.middlewares.fetch_failure import BodyTooLarge
from crawler.render.auto import RENDERER
from crawler.render.capture import Rendering, rendering_store
from crawler.render.gate import BrowserGate, Navigation, PageVisit

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

# Keys scrapy-playwright reads; set for the download only, so nothing of the browser (the page,
# a bound method) stays in the request's meta, which retries copy and JOBDIR pickles.
_PLAYWRIGHT_KEYS = (
    "playwright",
    "playwright_include_page",
    "playwright_page_init_callback",
    "playwright_page_goto_kwargs",
    "playwright_context",
    "playwright_context_kwargs",
)
CONTEXT = "rightscrawl"


class RenderError(Exception):
    """The browser got no response for the page (recorded as a fetch error)."""


class RenderingDownloadHandler(ScrapyPlaywrightDownloadHandler):
    def __init__(self, crawler: Crawler) -> None:
        if not getattr(scrapy_playwright_handler, "_SCRAPY_ASYNC_API", False):
            raise SettingError("Rendering needs Scrapy 2.14 and scrapy-playwright 0.0.48 or later")
        super().__init__(crawler)
        self.crawler = crawler
        self.gate = BrowserGate.from_crawler(crawler)
        # `-a render=auto` renders pages fetched plainly through this handler (crawler/render/auto.py);
        # the first one built serves (one for http, one for https: one browser is enough).
        if getattr(crawler, RENDERER, None) is None:
            setattr(crawler, RENDERER, self)
        self.store = rendering_store(crawler)
        settings = crawler.settings
        self.wait_until = settings.get("RENDER_WAIT_UNTIL")
        self.maxsize = settings.getint("DOWNLOAD_MAXSIZE")
        # The browser says who it is as the crawler does; service workers are blocked because
        # Playwright cannot route what they fetch; downloads are never saved.
        self.context_kwargs = {
            "user_agent": settings.get("USER_AGENT"),
            "service_workers": "block",
            "accept_downloads": False,
        }

    async def download_request(self, request: Request, spider=None) -> Response:  # type: ignore[override]
        if not request.meta.get(meta.RENDER):
            return await super().download_request(request)
        # The page's bytes are archived as received: ask for them unencoded (the request record
        # shows this header, since the wire capture reads the request after this line).
        request.headers[b"Accept-Encoding"] = b"identity"
        visit = PageVisit(request)
        html = await self._render(request, visit)
        navigation = visit.navigation
        if navigation is None:
            raise RenderError(f"Rendering {request.url} failed: {visit.error or 'no response'}")
        if self.maxsize and len(navigation.body) > self.maxsize:
            raise BodyTooLarge(request.url, len(navigation.body))
        headers = Headers()
        for name, value in navigation.headers:
            headers.appendlist(name, value)
        self.crawler.stats.inc_value("render/pages")
        if html is not None:
            self.store[request] = self._rendering(visit, html, request.meta.get(meta.RENDER_REASON))
        respcls = responsetypes.from_args(headers=headers, url=navigation.url, body=navigation.body)
        return respcls(
            url=navigation.url,
            status=navigation.status,
            headers=headers,
            body=navigation.body,
            request=request,
            flags=["rendered"] if html is not None else [],
            protocol="HTTP/1.1",  # Playwright does not say; the gate's fetch speaks HTTP/1.1
        )

    async def render_received(self, request: Request, response: Response) -> Rendering | None:
        """The DOM the browser builds from `response`, a page fetched plainly (`-a render=auto`):
        the browser is handed the response as received instead of fetching the page again; what
        the page's scripts request passes the gate as for any rendered page. None: no DOM."""
        headers = tuple(
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, values in response.headers.items()
            for value in values
        )
        # A copy for the browser, so that nothing of it is left on the request the middlewares
        # are still answering (the rendering is stored under that one by the caller).
        page_request = request.replace(meta={meta.RENDER: True}, dont_filter=True)
        visit = PageVisit(
            page_request,
            given=Navigation(
                url=response.url,
                status=response.status,
                headers=headers,
                body=response.body,
                fetched_at=datetime.now(UTC),
            ),
        )
        html = await self._render(page_request, visit)
        if html is None:
            return None
        self.crawler.stats.inc_value("render/pages")
        return self._rendering(visit, html, None)

    async def _render(self, request: Request, visit: PageVisit) -> str | None:
        """Open `request` in a browser page routed through the gate; the DOM once it settled
        (None when the page's response was not HTML to render)."""
        request.meta.update(
            {
                "playwright": True,
                "playwright_include_page": True,
                "playwright_page_init_callback": partial(self.gate.attach, visit),
                "playwright_page_goto_kwargs": {"wait_until": self.wait_until},
                "playwright_context": CONTEXT,
                "playwright_context_kwargs": self.context_kwargs,
            }
        )
        try:
            await super().download_request(request)
            await self.gate.settle(visit)
            html = None
            if visit.navigation is not None and visit.navigation.renderable:
                html = await request.meta["playwright_page"].content()  # after the settle
        finally:
            page = request.meta.get("playwright_page")
            for key in (*_PLAYWRIGHT_KEYS, "playwright_page", "playwright_security_details"):
                request.meta.pop(key, None)
            if page is not None and not page.is_closed():
                await page.close()
        return html

    def _rendering(self, visit: PageVisit, html: str, reason: str | None) -> Rendering:
        assert visit.navigation is not None
        return Rendering(
            url=visit.navigation.url,
            html=html.encode("utf-8"),
            rendered_at=datetime.now(UTC),
            refused=visit.refused,
            allowed=visit.allowed,
            subresources=tuple(visit.subresources),
            reason=reason,
        )
