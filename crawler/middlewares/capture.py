"""Every response the gate keeps is archived and recorded here, whatever the spider does with it.

Downloader middleware (50): its `process_response` runs after the response policy (110) kept the
response and the render middleware (105) gave it the rendered DOM, and before the response goes
on to the spider. It hands the exchange as received (crawler/middlewares/wire_capture.py), the
decision, the rendering and the earlier capture a re-crawl asked about to the recorders on the
`capture_kept` signal: the WARC pipeline, then the provenance pipeline. A spider — `corpus` or
any other in a project that enables the add-on — only reads the response and follows links.

A response without a decision did not pass the gate (a policy document the origin policy
fetched, or a request a foreign downloader middleware answered itself): it is never kept.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from twisted.internet.defer import Deferred, DeferredList

from crawler import meta
from crawler.contracts import CaptureItem, capture_kept
from crawler.middlewares.wire_capture import take_exchange
from crawler.render.capture import take_rendering

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)


class CaptureMiddleware:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_response(self, request: Request, response: Response, spider: Spider | None = None):
        if request.meta.get(meta.EVIDENCE):
            return response  # a policy document: archived as evidence by the origin policy
        decision = request.meta.get(meta.DECISION)
        wire = take_exchange(self.crawler, request)
        rendering = take_rendering(self.crawler, request)
        if decision is None or wire is None:
            logger.error(
                "Response %(url)s bypassed the policy gate; not kept", {"url": response.url}
            )
            return response
        previous = request.meta.get(meta.PREVIOUS)
        if previous is not None and previous.url != response.url:
            previous = None  # asked about another URL (a redirect): nothing to refer to
        held = self.keep(
            CaptureItem(
                url=response.url,
                request=wire[0],
                response=wire[1],
                decision=decision,
                previous=previous,
                rendering=rendering,
            )
        )
        for sub in rendering.subresources if rendering else ():  # RENDER_KEEP_SUBRESOURCES
            held += self.keep(
                CaptureItem(
                    url=sub.response.url,
                    request=sub.request,
                    response=sub.response,
                    decision=sub.decision,
                )
            )
        if not held:
            return response
        # The WARC writer's queue is full: the response keeps its downloader slot until there
        # is room, so at most CONCURRENT_REQUESTS responses wait and fetching slows to the
        # writer's pace (back-pressure, not buffering).
        return DeferredList(held).addCallback(lambda _: response)

    def keep(self, capture: CaptureItem) -> list[Deferred]:
        self.crawler.signals.send_catch_log(signal=capture_kept, capture=capture)
        return [capture.admitted] if capture.admitted is not None else []
