"""A DNS resolver for Scrapy (`DNS_RESOLVER`) that answers 127.0.0.1 for names under `.invalid`,
which the system resolver cannot resolve: the access guard (system resolver) sees no private
address, the connection goes to loopback — DNS rebinding, for the connected-address check."""

from __future__ import annotations

from collections.abc import Sequence

from scrapy.resolver import CachingThreadedResolver
from twisted.internet import defer


class RebindingResolver(CachingThreadedResolver):
    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> defer.Deferred[str]:
        if name.endswith(".invalid"):
            return defer.succeed("127.0.0.1")
        return super().getHostByName(name, timeout)
