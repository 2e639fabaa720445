"""Before fetching: only http(s), and no private or loopback targets unless allowed.

(Resolved-address checks come with the lawful-access work; this guard reads the URL's host.)
"""

from __future__ import annotations

import ipaddress
import socket
from typing import TYPE_CHECKING

from scrapy.exceptions import IgnoreRequest
from scrapy.utils.httpobj import urlparse_cached

from crawler import meta
from crawler.decisions import exclude
from crawler.run import crawl_run
from policies import reasons
from policies.engine import decide

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request, Spider
    from scrapy.crawler import Crawler

ALLOWED_SCHEMES = frozenset({"http", "https"})


def _ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    # Forms the system resolver accepts as IPv4 too: 127.1, 2130706433, 0x7f.0.0.1, 0177.0.0.1.
    if host and all(c in "0123456789abcdefx." for c in host) and host[0].isdigit():
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def is_private_host(host: str) -> bool:
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    address = _ip_literal(host)
    if address is None:
        return False
    return not address.is_global or address.is_multicast


class AccessGuardMiddleware:
    def __init__(self, crawler: Crawler, *, allow_private: bool):
        self.crawler = crawler
        self.allow_private = allow_private
        self.profile = crawl_run(crawler).profile

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler, allow_private=crawler.settings.getbool("ALLOW_PRIVATE_ADDRESSES"))

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        parsed = urlparse_cached(request)
        reason = None
        if parsed.scheme not in ALLOWED_SCHEMES:
            reason = reasons.UNSUPPORTED_SCHEME
        elif not self.allow_private and is_private_host(parsed.hostname or ""):
            reason = reasons.PRIVATE_ADDRESS
        if reason is None:
            return
        if request.meta.get(meta.EVIDENCE):
            raise IgnoreRequest(f"{reason}: {request.url}")
        exclude(
            self.crawler,
            decide(
                request.url, (), profile=self.profile, stage="before-fetch", extra_reasons=(reason,)
            ),
        )
