"""Keep each response as received, for the WARC, before Scrapy decodes it.

Runs at priority 950, closest to the downloader, so its `process_response` sees the body before
HttpCompressionMiddleware (590) decompresses it and deletes `Content-Encoding`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from scrapy.utils.httpobj import urlparse_cached

from crawler import meta
from crawler.items import Headers, WireRequest, WireResponse

if TYPE_CHECKING:
    from scrapy import Request, Spider
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


class WireCaptureMiddleware:
    def process_response(self, request: Request, response: Response, spider: Spider | None = None):
        request.meta[meta.WIRE] = (wire_request(request), wire_response(response))
        return response
