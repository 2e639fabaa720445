"""The kind of each request and response, in its decision's `detail.kind` (crawler/collect.py).

`RequestKindMiddleware` (downloader, priority 2: before the access guard and the origin policy
decide anything) notes what the request carries for its decision — the kind the spider requested
it as (else the kind its URL says) and, for a URL a sitemap listed, `detail.sitemap`.
`ResponseKindMiddleware` (115: on the way back, before the response policy (110) decides) confirms
the kind from the response's Content-Type (`detail.kind`; `detail.requested_as` when the URL said
otherwise) and counts it (`collect/kind/<kind>`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crawler import meta
from crawler.collect import confirmed_kind, kind_of_url
from crawler.decisions import note_detail

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response


def requested_kind(request: Request) -> str:
    return (request.meta.get(meta.PROVENANCE) or {}).get("kind") or kind_of_url(request.url)


class RequestKindMiddleware:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if request.meta.get(meta.EVIDENCE):
            return
        provenance = request.meta.get(meta.PROVENANCE) or {}
        note_detail(self.crawler, request.url, **{**provenance, "kind": requested_kind(request)})


class ResponseKindMiddleware:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_response(self, request: Request, response: Response, spider: Spider | None = None):
        if request.meta.get(meta.EVIDENCE) or not 200 <= response.status < 300:
            return response  # an error page says nothing of what the URL is
        requested = requested_kind(request)
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1")
        kind = confirmed_kind(requested, content_type)
        note: dict[str, str] = {"kind": kind}
        if kind != requested:
            note["requested_as"] = requested
        note_detail(self.crawler, response.url, **note)
        self.crawler.stats.inc_value(f"collect/kind/{kind}")
        return response
