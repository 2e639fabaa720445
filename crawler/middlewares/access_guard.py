"""Before fetching: only http(s), no private or loopback targets unless allowed, and nothing a
declared reservation (policies/registries, POLICY_REGISTRIES) covers.

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
from policies.registry import Registry, load_registry

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
    def __init__(self, crawler: Crawler, *, allow_private: bool, registry: Registry):
        self.crawler = crawler
        self.allow_private = allow_private
        self.registry = registry
        self.profile = crawl_run(crawler).profile

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(
            crawler,
            allow_private=crawler.settings.getbool("ALLOW_PRIVATE_ADDRESSES"),
            registry=load_registry(crawler.settings.getlist("POLICY_REGISTRIES")),
        )

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        parsed = urlparse_cached(request)
        refusal = None
        if parsed.scheme not in ALLOWED_SCHEMES:
            refusal = reasons.UNSUPPORTED_SCHEME
        elif not self.allow_private and is_private_host(parsed.hostname or ""):
            refusal = reasons.PRIVATE_ADDRESS
        declared = self.registry.signal(request.url) if refusal is None else None
        if refusal is None and declared is None:
            return
        if request.meta.get(meta.EVIDENCE):  # a policy document: not fetched, no page decision
            raise IgnoreRequest(f"{refusal or reasons.DECLARED_RESERVATION}: {request.url}")
        decision = decide(
            request.url,
            [declared] if declared else [],
            profile=self.profile,
            stage="before-fetch",
            extra_reasons=[refusal] if refusal else [],
        )
        exclude(self.crawler, decision)
