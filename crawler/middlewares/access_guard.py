"""Before fetching: only http(s), no private or loopback targets unless allowed, and nothing a
declared reservation (policies/registries, POLICY_REGISTRIES) covers.

A host name is resolved (once per host) and refused when any answer is private; the response
policy (pages) and the policy-document fetcher (crawler/policy_documents.py) check the address
actually connected to as well. Every hop of a redirect comes through here again; a policy-document
request refused here raises `Refused`, which says why.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import threads

from crawler import meta
from crawler.contracts import crawl_run
from crawler.decisions import exclude
from policies import reasons
from policies.engine import decide
from policies.registry import Registry, load_blocklist, load_registry

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from policies.evidence import Signal

ALLOWED_SCHEMES = frozenset({"http", "https"})
MAX_RESOLVED_HOSTS = 100_000

logger = logging.getLogger(__name__)


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


# IPv6 forms that carry an IPv4 address a packet ends up at (translated or tunnelled). Python's
# `is_global` judges the IPv6 address alone, so `64:ff9b::127.0.0.1` looks public to it.
NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052 §2.1
NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215: local use, never global
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # RFC 4291 §2.5.5.1 (deprecated)
IPV4_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")  # RFC 2765 §2.1 (SIIT)


def embedded_ipv4(address: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, ...]:
    """The IPv4 addresses an IPv6 address stands for: mapped, NAT64, compatible, 6to4, Teredo."""
    if address.ipv4_mapped is not None:  # RFC 4291 §2.5.5.2
        return (address.ipv4_mapped,)
    if address.sixtofour is not None:  # RFC 3056 §2: 2002:V4ADDR::/48
        return (address.sixtofour,)
    if address.teredo is not None:  # RFC 4380 §4: (server, client)
        return address.teredo
    if any(address in net for net in (NAT64_WELL_KNOWN, IPV4_COMPATIBLE, IPV4_TRANSLATED)):
        return (ipaddress.IPv4Address(int(address) & 0xFFFFFFFF),)
    return ()


def is_private_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Loopback, private, link-local, multicast, reserved or unspecified: not the public web.

    An IPv6 address is private too when an IPv4 address it embeds is (NAT64, IPv4-compatible,
    IPv4-translated, 6to4, Teredo): a NAT64 gateway would connect `64:ff9b::7f00:1` to 127.0.0.1.
    """
    if isinstance(address, ipaddress.IPv6Address):
        if address in NAT64_LOCAL_USE:
            return True
        if any(is_private_address(ipv4) for ipv4 in embedded_ipv4(address)):
            return True
    return not address.is_global or address.is_multicast


def is_private_host(host: str) -> bool:
    """For a host as written in a URL (names are resolved separately)."""
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    address = _ip_literal(host)
    return address is not None and is_private_address(address)


def resolves_to_private(host: str) -> bool:
    """Whether any address the system resolver gives for `host` is private (False if none)."""
    try:
        answers = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return False  # the download will fail on its own, and be recorded as a fetch error
    for *_, sockaddr in answers:
        try:
            if is_private_address(ipaddress.ip_address(sockaddr[0].split("%", 1)[0])):
                return True
        except ValueError:
            continue
    return False


def private_peer(response: Response, allow_private: bool) -> str | None:
    """The private address a response came from (a name that resolved public when checked and
    then connected elsewhere: DNS rebinding), when private addresses are refused."""
    if allow_private or response.ip_address is None:
        return None
    address = ipaddress.ip_address(str(response.ip_address))
    return str(address) if is_private_address(address) else None


class Refused(IgnoreRequest):
    """A policy-document request (or a hop of its redirects) the guard did not let through."""

    def __init__(self, reason: str, url: str, why: str | None = None):
        super().__init__(f"{reason}: {url}")
        self.reason = reason
        self.url = url
        self.why = why or f"{url} not requested"


class AccessGuardMiddleware:
    def __init__(self, crawler: Crawler, *, allow_private: bool, registry: Registry):
        self.crawler = crawler
        self.allow_private = allow_private
        self.registry = registry
        self.profile = crawl_run(crawler).profile
        self.blocklist = load_blocklist([str(path) for path in self.profile.blocklists])
        self._resolved: dict[str, bool] = {}
        if self.profile.lacks_a_blocklist:
            logger.warning(
                "Profile %(name)s expects a list of infringing sites to exclude, but names only "
                "the example list, which matches nothing real: set `blocklists` in a profile "
                "file (README: Policy profiles).",
                {"name": self.profile.name},
            )

    async def _private(self, host: str) -> bool:
        if is_private_host(host):
            return True
        if _ip_literal(host.strip("[]")) is not None:
            return False
        cached = self._resolved.get(host)
        if cached is None:
            # Resolve in a thread, as Scrapy's own resolver does; once per host and run. The
            # response policy also checks the address actually connected to, so a DNS answer that
            # changes between this look-up and the connection cannot smuggle a private address in.
            cached = await maybe_deferred_to_future(
                threads.deferToThread(resolves_to_private, host)
            )
            if len(self._resolved) >= MAX_RESOLVED_HOSTS:
                self._resolved.clear()
            self._resolved[host] = cached
        return cached

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(
            crawler,
            allow_private=crawler.settings.getbool("ALLOW_PRIVATE_ADDRESSES"),
            registry=load_registry(crawler.settings.getlist("POLICY_REGISTRIES")),
        )

    async def refusal(self, url: str) -> tuple[str | None, Signal | None]:
        """Why `url` must not be requested: a reason code, a declared reservation, or neither.

        Shared with the browser gate (crawler/render/gate.py), which asks it for every request a
        rendering page makes.
        """
        parsed = urlsplit(url)
        if parsed.scheme not in ALLOWED_SCHEMES:
            return reasons.UNSUPPORTED_SCHEME, None
        if not self.allow_private and await self._private(parsed.hostname or ""):
            return reasons.PRIVATE_ADDRESS, None
        return None, self.blocklist.signal(url) or self.registry.signal(url)

    async def process_request(self, request: Request, spider: Spider | None = None) -> None:
        refusal, declared = await self.refusal(request.url)
        if refusal is None and declared is None:
            return
        if request.meta.get(meta.EVIDENCE):  # a policy document: not fetched, no page decision
            raise Refused(refusal or declared.reason, request.url)
        decision = decide(
            request.url,
            [declared] if declared else [],
            profile=self.profile,
            stage="before-fetch",
            extra_reasons=[refusal] if refusal else [],
        )
        exclude(self.crawler, decision)
