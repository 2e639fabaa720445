"""Keep each response as received, for the WARC, before Scrapy decodes it.

Runs at priority 950, closest to the downloader, so its `process_response` sees the body before
HttpCompressionMiddleware (590) decompresses it and deletes `Content-Encoding`.

The capture is kept beside the Request object (a weak map on the crawler), never in
`Request.meta`: redirect and retry middlewares copy `meta` into new requests, which the scheduler
may write to disk (JOBDIR) — and the bytes might be reserved.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Self
from weakref import WeakKeyDictionary

from scrapy.utils.httpobj import urlparse_cached

from crawler.contracts import Headers, WireRequest, WireResponse

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response

# Twisted has already removed the chunked framing from the body, so this header would lie.
_DROPPED_RESPONSE_HEADERS = frozenset({b"transfer-encoding"})


def _flatten(headers, drop: frozenset[bytes] = frozenset()) -> Headers:
    return tuple(
        (name, value)
        for name, values in headers.items()
        if name.lower() not in drop
        for value in values
    )


def wire_request(request: Request) -> WireRequest:
    headers = _flatten(request.headers)
    if not any(name.lower() == b"host" for name, _ in headers):
        headers = ((b"Host", urlparse_cached(request).netloc.encode("ascii", "ignore")), *headers)
    return WireRequest(method=request.method, url=request.url, headers=headers)


def wire_response(response: Response) -> WireResponse:
    return WireResponse(
        url=response.url,
        status=response.status,
        protocol=response.protocol or "HTTP/1.1",
        headers=_flatten(response.headers, _DROPPED_RESPONSE_HEADERS),
        body=response.body,
        ip_address=str(response.ip_address) if response.ip_address else None,
        fetched_at=datetime.now(UTC),
    )


Exchange = tuple[WireRequest, WireResponse]
_STORE = "_rightscrawl_wire_store"


def request_store(crawler: Crawler, attribute: str) -> WeakKeyDictionary[Request, Any]:
    """A map kept on the crawler from Request objects to what was captured for them; an entry
    goes with its request (never in `meta`, which is copied and may be written to disk)."""
    store = getattr(crawler, attribute, None)
    if store is None:
        store = WeakKeyDictionary()
        setattr(crawler, attribute, store)
    return store


def wire_store(crawler: Crawler) -> WeakKeyDictionary[Request, Exchange]:
    return request_store(crawler, _STORE)


def take_exchange(crawler: Crawler, request: Request | None) -> Exchange | None:
    """The exchange captured for `request`, removed from the store."""
    if request is None:
        return None
    return wire_store(crawler).pop(request, None)


class WireCaptureMiddleware:
    def __init__(self, store: WeakKeyDictionary[Request, Exchange]):
        self.store = store

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(wire_store(crawler))

    def process_response(self, request: Request, response: Response, spider: Spider | None = None):
        self.store[request] = (wire_request(request), wire_response(response))
        return response
