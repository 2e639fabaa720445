"""A request that fails is decided in the compliance layer, whatever the spider does with it.

`FetchFailureMiddleware` (priority 10, so its `process_exception` runs after RetryMiddleware's
(550) has given up, and after any middleware that turns a failure into a response) decides
each failed download: `too-large` when the body passed DOWNLOAD_MAXSIZE (the request's
`download_maxsize`), whether the server declared its length or not (chunked, or ended by closing
the connection), else `fetch-error`. The size is measured, not read from an error message: the
`headers_received` and `bytes_received` signals give the declared and received sizes.

`DecompressionLimitMiddleware` replaces Scrapy's HttpCompressionMiddleware (590): a body that
inflates past DOWNLOAD_MAXSIZE is `too-large` too (Scrapy raises IgnoreRequest for it, from
`process_response`, which no `process_exception` sees).

Not decided here: what the gate already decided (ExcludedByPolicy), requests dropped before
they were sent (IgnoreRequest: off-site, a foreign middleware's filter), policy-document fetches.
The exception then goes on to the request's errback unchanged.

    Exception
     ├── IgnoreRequest
     │    ├── ExcludedByPolicy   decided already (crawler/decisions.py)
     │    └── BodyTooLarge       a download handler's own size limit (the rendering handler)
     └── anything else           a failed download: network, timeout, size (DownloadCancelledError)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self
from weakref import WeakKeyDictionary

from scrapy import signals
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.exceptions import IgnoreRequest

from crawler import meta
from crawler.contracts import crawl_run
from crawler.decisions import ExcludedByPolicy, announce_exclusion
from crawler.distributed import request_done
from policies import reasons
from policies.engine import decide

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from policies.evidence import Decision
    from policies.profile import Profile


class BodyTooLarge(IgnoreRequest):
    """A download handler stopped a body past DOWNLOAD_MAXSIZE (with the size it saw)."""

    def __init__(self, url: str, size: int):
        super().__init__(f"Body of {url} larger than DOWNLOAD_MAXSIZE ({size} bytes or more)")
        self.size = size


def failure_decision(
    request: Request, reason: str, profile: Profile, detail: dict[str, Any]
) -> Decision:
    return decide(
        request.url,
        request.meta.get(meta.SIGNALS, ()),
        profile=profile,
        stage="after-fetch",
        extra_reasons=(reason,),
        detail=detail,
    )


class FetchFailureMiddleware:
    def __init__(self, crawler: Crawler, *, maxsize: int):
        self.crawler = crawler
        self.profile = crawl_run(crawler).profile
        self.maxsize = maxsize
        # The body size each request's server declared, and the bytes received so far: entries
        # go with their requests.
        self.declared: WeakKeyDictionary[Request, int] = WeakKeyDictionary()
        self.received: WeakKeyDictionary[Request, int] = WeakKeyDictionary()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        middleware = cls(crawler, maxsize=crawler.settings.getint("DOWNLOAD_MAXSIZE"))
        crawler.signals.connect(middleware.headers_received, signal=signals.headers_received)
        crawler.signals.connect(middleware.bytes_received, signal=signals.bytes_received)
        return middleware

    def headers_received(self, body_length: Any, request: Request, **_: Any) -> None:
        if isinstance(body_length, int):  # not twisted's UNKNOWN_LENGTH (a string)
            self.declared[request] = body_length

    def bytes_received(self, data: bytes, request: Request, **_: Any) -> None:
        self.received[request] = self.received.get(request, 0) + len(data)

    def process_exception(
        self, request: Request, exception: Exception, spider: Spider | None = None
    ) -> None:
        size = max(self.declared.pop(request, 0), self.received.pop(request, 0))
        # Last to see it (no retry, no redirect follows): nothing more of it to hand on.
        request_done(self.crawler, request)
        if request.meta.get(meta.EVIDENCE) or isinstance(exception, ExcludedByPolicy):
            return
        if isinstance(exception, BodyTooLarge):
            size = max(size, exception.size)
        limit = request.meta.get("download_maxsize", self.maxsize)
        error = f"{type(exception).__name__}: {exception}".rstrip(": ")
        if limit and size > limit:
            reason, detail = reasons.TOO_LARGE, {"error": error, "size": size, "limit": limit}
        elif isinstance(exception, IgnoreRequest):
            return  # dropped before it was sent: not fetched, nothing to decide
        else:
            reason, detail = reasons.FETCH_ERROR, {"error": error}
        announce_exclusion(self.crawler, failure_decision(request, reason, self.profile, detail))


class DecompressionLimitMiddleware(HttpCompressionMiddleware):
    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        middleware = super().from_crawler(crawler)
        middleware.crawler = crawler
        middleware.profile = crawl_run(crawler).profile
        return middleware

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        try:
            return super().process_response(request, response)
        except IgnoreRequest as exc:  # the only one it raises: the decoded body passed the limit
            if request.meta.get(meta.EVIDENCE):
                raise
            limit = request.meta.get("download_maxsize", self._max_size)
            detail = {"error": "decoded body larger than DOWNLOAD_MAXSIZE", "limit": limit}
            decision = failure_decision(request, reasons.TOO_LARGE, self.profile, detail)
            announce_exclusion(self.crawler, decision)
            raise ExcludedByPolicy(decision) from exc
