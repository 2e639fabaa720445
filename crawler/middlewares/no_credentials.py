"""Lawful access: the crawler never sends credentials, and never keeps any it was given.

- `NoCredentialsMiddleware` (downloader, 995, after every other middleware has added its
  headers: DefaultHeaders at 400 would add an `Authorization` from DEFAULT_REQUEST_HEADERS)
  removes credential headers. Scrapy's HttpAuthMiddleware is switched off by the add-on.
- A URL's user information (`http://user:password@host/`, RFC 3986 §3.2.1, which §7.5 says
  should not be used for passwords) is stripped where the URL enters the crawl, before anything
  logs, schedules (JOBDIR, Redis), archives or records it: seeds and links in the spider,
  any spider's requests in `CredentialsSpiderMiddleware` (next to the spider), a redirect's
  `Location` in crawler/middlewares/redirect.py, and whatever still reaches the downloader in
  `CredentialsUrlMiddleware` (first in line). The request carries `meta[CREDENTIALS_STRIPPED]`,
  and the decision of its URL says `detail.credentials_stripped: true`; stat
  `policy/credentials_stripped`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy.spidermiddlewares.base import BaseSpiderMiddleware

from crawler import meta
from crawler.decisions import credentials_stripped

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

CREDENTIAL_HEADERS = (b"Authorization", b"Proxy-Authorization")
STAT = "policy/credentials_stripped"


def without_credentials(url: str) -> str | None:
    """`url` without its user information, or None when it has none.

    By hand rather than with a URL parser: a URL that does not parse (a bad port, a broken IPv6
    literal) must lose its password too, before it is logged as invalid.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return None
    # RFC 3986 §3.2: the authority ends at the first "/", "?" or "#"; userinfo ends at its last "@".
    end = min((i for i in map(rest.find, "/?#") if i >= 0), default=len(rest))
    userinfo, _, host = rest[:end].rpartition("@")
    if not userinfo:
        return None
    return f"{scheme}://{host}{rest[end:]}"


def stripped_request(crawler: Crawler, request: Request) -> Request | None:
    """A copy of `request` without the credentials its URL carried, or None if it had none."""
    clean = without_credentials(request.url)
    if clean is None:
        return None
    crawler.stats.inc_value(STAT)
    logger.info("Removed credentials from the URL %(url)s", {"url": clean})
    return request.replace(url=clean, meta={**request.meta, meta.CREDENTIALS_STRIPPED: True})


class CredentialsSpiderMiddleware(BaseSpiderMiddleware):
    """Any spider's start requests and output, before Scrapy's own middlewares log them
    (UrlLengthMiddleware, DepthMiddleware) and the scheduler stores them."""

    def get_processed_request(self, request: Request, response: Response | None) -> Request:
        return stripped_request(self.crawler, request) or request


class CredentialsUrlMiddleware:
    """Downloader side, first in line: a request scheduled with credentials in its URL (by an
    extension, say) is sent again without them; a request whose credentials were stripped
    earlier has its decision say so."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CredentialsUrlMiddleware:
        return cls(crawler)

    def process_request(self, request: Request, spider: Spider | None = None) -> Request | None:
        clean = stripped_request(self.crawler, request)
        if clean is not None:
            return clean  # scheduled again, as a redirect would be
        if request.meta.get(meta.CREDENTIALS_STRIPPED) and not request.meta.get(meta.EVIDENCE):
            credentials_stripped(self.crawler, request.url)
        return None


class NoCredentialsMiddleware:
    def __init__(self) -> None:
        self.warned: set[bytes] = set()

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        for header in CREDENTIAL_HEADERS:
            if header in request.headers:
                del request.headers[header]
                if header not in self.warned:
                    self.warned.add(header)
                    logger.warning(
                        "Removed %(header)s from requests: rightscrawl never sends credentials",
                        {"header": header.decode()},
                    )
