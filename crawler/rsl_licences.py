"""RSL licences that a page names — `Link: <…>; rel="license"; type="application/rsl+xml"` or
`<link rel="license" type="application/rsl+xml" href="…">` — fetched, read, and applied to the page
before its bytes are kept (profiles whose `[evidence] fetch` lists "rsl").

RSL 1.0 (SIGNALS.md §4) names three ways to find a licence: robots.txt `License:` (read per origin
before any page: crawler/middlewares/origin_policy.py), the HTTP `Link` header and the HTML `<link>`.
The last two are only known once a page has been fetched, so the page waits for its licence in the
response policy (crawler/middlewares/response_policy.py) and is decided with it: a licence that
reserves it (`rsl-reserved`, `rsl-license-required`) drops it and its bytes are never kept.

Fetched like every policy document (crawler/policy_documents.py, as crawler/terms_pages.py does for
terms pages): through the engine and the access guard, only if the robots.txt of the licence's own
host lets our token fetch it (a licence may live on another host), archived as evidence of kind
`rsl`, once per licence URL per run, and kept for POLICY_CACHE_SECONDS like the origin documents.
What a licence that could not be fetched means is the rule of the robots.txt `License:` documents
(policies.origin.rsl_document_signal): unreachable → the profile's `[fail_closed] policy_files`;
forbidden to us by robots.txt → terms unknown, not in use for us; its host's robots.txt unreachable
(RFC 9309 §2.3.1.4: complete disallow) → the licence is unreachable.

Once read, a licence also applies before fetching to the later pages of the page's origin that its
`content/@url` covers: their decision cites it even if they do not name it. A licence that could not
be read applies only to the pages that name it (what else it covers is unknown).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from crawler.contracts import crawl_run
from crawler.fetched_once import FetchedOnce
from policies.origin import PolicyDocument, origin_of, rsl_document_signal
from policies.signals.robots import NETWORK_ERROR
from policies.signals.rsl import NO_MATCH

if TYPE_CHECKING:
    from collections.abc import Iterable

    from scrapy.crawler import Crawler

    from crawler.middlewares.origin_policy import OriginPolicyMiddleware
    from policies.evidence import Signal

logger = logging.getLogger(__name__)

KIND = "rsl"  # the evidence kind, as for robots.txt `License:` documents
MAX_LICENCES = 5  # licences named by one page that are read; more are not fetched


class LinkedLicences:
    def __init__(
        self, crawler: Crawler, origin_policy: OriginPolicyMiddleware, cache_seconds: float
    ):
        self.crawler = crawler
        self.origin_policy = origin_policy
        self.user_type = crawl_run(crawler).rsl_user_type
        self._documents: FetchedOnce[str, PolicyDocument] = FetchedOnce(cache_seconds)
        self._by_origin: dict[str, dict[str, None]] = {}  # origin → licence URLs its pages named

    async def page_signals(self, page_url: str, named: Iterable[str]) -> list[Signal]:
        """What the licences a page names say about it; fetches those not read yet (waits)."""
        evidence = await self.origin_policy.url_evidence(page_url)
        declared = set(evidence.licence_urls)  # robots.txt `License:`: already among its signals
        urls = [
            url
            for url in dict.fromkeys(urljoin(page_url, u.strip()) for u in named)
            if urlsplit(url).scheme in ("http", "https") and url not in declared
        ][:MAX_LICENCES]
        found = []
        for url in urls:
            document = await self.document(url)
            self._by_origin.setdefault(origin_of(page_url), {})[url] = None
            found.append(rsl_document_signal(page_url, document, **self._reading()))
        return found

    def origin_signals(self, url: str) -> list[Signal]:
        """Before fetching `url`: the licences read from earlier pages of its origin that cover it."""
        found = []
        for licence in self._by_origin.get(origin_of(url), ()):
            document = self._documents.cached(licence)
            if document is None or not document.ok:
                continue
            signal = rsl_document_signal(url, document, **self._reading())
            if NO_MATCH not in signal.problems:
                found.append(signal)
        return found

    def _reading(self) -> dict[str, str]:
        return {"user_type": self.user_type}

    async def document(self, url: str) -> PolicyDocument:
        """The licence at `url` as fetched, once per URL (cached for POLICY_CACHE_SECONDS)."""
        return await self._documents.get(url, lambda: self._fetched(url), lambda: self._failed(url))

    async def _fetched(self, url: str) -> tuple[PolicyDocument, None]:
        return await self._fetch(url), None

    @staticmethod
    def _failed(url: str) -> PolicyDocument:
        """A bug here must not leave pages waiting: fail closed."""
        logger.exception("Reading the RSL licence %(url)s failed", {"url": url})
        return PolicyDocument(url, NETWORK_ERROR)

    async def _fetch(self, url: str) -> PolicyDocument:
        stats = self.crawler.stats
        robots = (await self.origin_policy.url_evidence(url)).robots
        if robots is not None and robots.access == "unreachable":
            # RFC 9309 §2.3.1.4: its host may not be crawled at all; the licence is unreachable.
            stats.inc_value("rsl/linked/robots_unreachable")
            return PolicyDocument(url, NETWORK_ERROR)
        document = await self.origin_policy.fetch_document(
            KIND, url, robots, self.origin_policy.fetcher.fetch
        )
        stats.inc_value("rsl/linked/fetched")
        logger.info(
            "RSL licence %(url)s named by a page: status %(status)s",
            {"url": url, "status": document.status},
        )
        return document
