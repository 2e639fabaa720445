"""A DNS resolver for crawls under test: names under `rebind.test` answer 127.0.0.1.

Installed with `-s DNS_RESOLVER=tests.rebinding.RebindingResolver` (Scrapy's own setting). Only
Scrapy's connections ask it: the access guard's look-up (the system resolver) finds no address
for these names and lets them through, as it would a public name whose DNS answer changes before
the connection is made. What is left to catch it is the check of the address connected to.
"""

from __future__ import annotations

from collections.abc import Sequence

from scrapy.resolver import CachingThreadedResolver
from twisted.internet import defer

DOMAIN = "rebind.test"  # RFC 6761 §6.2: .test never resolves on the public DNS


class RebindingResolver(CachingThreadedResolver):
    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> defer.Deferred[str]:
        if name == DOMAIN or name.endswith(f".{DOMAIN}"):
            return defer.succeed("127.0.0.1")
        return super().getHostByName(name, timeout)
