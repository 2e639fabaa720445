"""Before fetching: the origin's robots.txt, fetched once per origin and cached for 24 hours.

Replaces Scrapy's RobotsTxtMiddleware, which allows everything when robots.txt cannot be fetched;
here RFC 9309 applies (5xx, 429, network error → complete disallow). Requests for an origin whose
robots.txt is being fetched wait for that one fetch. Every fetch is announced on
`evidence_fetched`, so the document is archived and each decision can cite its record.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from scrapy import Request, signals
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from crawler import meta
from crawler.config import SettingError, non_negative_float
from crawler.content_encoding import undecoded_encoding
from crawler.decisions import exclude, record_redirect_sources
from crawler.items import EvidenceFetch
from crawler.middlewares.wire_capture import take_exchange
from crawler.run import crawl_run
from crawler.signals import evidence_fetched
from policies.engine import decide
from policies.signals import robots as rfc9309
from policies.signals.robots import RobotsTxt

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

EVIDENCE_PRIORITY = 1000  # ahead of every page, like Scrapy's robots.txt requests
EVIDENCE_MAXSIZE = 16 * 1024 * 1024  # download cap; only the first 500 KiB is parsed


def new_record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


class OriginPolicyMiddleware:
    def __init__(self, crawler: Crawler, *, cache_seconds: float = rfc9309.CACHE_SECONDS):
        self.crawler = crawler
        run = crawl_run(crawler)
        self.profile = run.profile
        self.token = run.token
        self.cache_seconds = cache_seconds
        self._robots: dict[str, tuple[RobotsTxt, float] | Deferred[None]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        cache_seconds = non_negative_float(crawler.settings, "POLICY_CACHE_SECONDS")
        if cache_seconds > rfc9309.CACHE_SECONDS:
            raise SettingError(
                f"Setting POLICY_CACHE_SECONDS must be at most {rfc9309.CACHE_SECONDS:.0f}: "
                "RFC 9309 §2.4 says a cached robots.txt SHOULD NOT be used for more than 24 hours"
            )
        middleware = cls(crawler, cache_seconds=cache_seconds)
        crawler.signals.connect(middleware.request_dropped, signal=signals.request_dropped)
        return middleware

    def request_dropped(self, request: Request, spider: Spider) -> None:
        # A redirect target dropped as a duplicate still owes its sources their decisions.
        if not request.meta.get(meta.EVIDENCE):
            record_redirect_sources(self.crawler, request, self.profile)

    async def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if request.meta.get(meta.EVIDENCE):
            return
        record_redirect_sources(self.crawler, request, self.profile)
        robots = await self.robots_for(request)
        signal = robots.signal(request.url, self.token)
        request.meta[meta.SIGNALS] = (signal,)
        if signal.reason:
            exclude(
                self.crawler,
                decide(request.url, (signal,), profile=self.profile, stage="before-fetch"),
            )

    async def robots_for(self, request: Request) -> RobotsTxt:
        parsed = urlparse_cached(request)
        origin = f"{parsed.scheme}://{parsed.netloc}"
        entry = self._robots.get(origin)
        while isinstance(entry, Deferred):
            # Another request is fetching it. The Deferred only signals completion: a Deferred
            # passes one result down its callback chain, so waiters read the cache instead.
            await maybe_deferred_to_future(entry)
            entry = self._robots.get(origin)
        if entry is not None and time.monotonic() < entry[1]:
            return entry[0]
        waiting: Deferred[None] = Deferred()
        self._robots[origin] = waiting
        try:
            robots = await self._fetch(origin)
        except Exception:  # a bug here must not leave waiting requests hanging: fail closed
            logger.exception("Evaluating robots.txt of %(origin)s failed", {"origin": origin})
            robots = RobotsTxt.from_fetch(f"{origin}/robots.txt", rfc9309.NETWORK_ERROR)
        self._robots[origin] = (robots, time.monotonic() + self.cache_seconds)
        waiting.callback(None)
        return robots

    async def _fetch(self, origin: str) -> RobotsTxt:
        url = f"{origin}/robots.txt"
        record_id = new_record_id()
        request = Request(
            url,
            priority=EVIDENCE_PRIORITY,
            dont_filter=True,
            callback=NO_CALLBACK,
            meta={
                meta.EVIDENCE: "robots.txt",
                "dont_cache": True,  # never Scrapy's HTTP cache: the 24-hour rule is ours
                "redirect_ttl": rfc9309.MAX_REDIRECTS,
                "download_maxsize": EVIDENCE_MAXSIZE,
            },
        )
        self.crawler.stats.inc_value("policy/evidence/robots.txt/requests")
        try:
            response = await self._download(request)
        except Exception as exc:  # noqa: BLE001 - any failure to fetch is "unreachable"
            logger.info(
                "robots.txt of %(origin)s unreachable: %(error)r", {"origin": origin, "error": exc}
            )
            robots = RobotsTxt.from_fetch(url, rfc9309.NETWORK_ERROR)
            self._announce(
                EvidenceFetch(
                    "robots.txt",
                    url,
                    datetime.now(UTC),
                    rfc9309.NETWORK_ERROR,
                    record_id,
                    error=f"{type(exc).__name__}: {exc}",
                )
            )
            return robots
        wire = take_exchange(self.crawler, response.request or request)
        fetch = EvidenceFetch(
            "robots.txt",
            url,
            datetime.now(UTC),
            response.status,
            record_id,
            request=wire[0] if wire else None,
            response=wire[1] if wire else None,
            body=response.body,
        )
        self._announce(fetch)
        self.crawler.stats.inc_value(f"policy/evidence/robots.txt/status/{response.status}")
        return RobotsTxt.from_fetch(
            url,
            response.status,
            response.body,
            record_id=record_id if wire else None,
            unreadable=undecoded_encoding(response),
        )

    async def _download(self, request: Request) -> Response:
        engine = self.crawler.engine
        assert engine is not None
        if hasattr(engine, "download_async"):
            return await engine.download_async(request)
        return await maybe_deferred_to_future(engine.download(request))

    def _announce(self, fetch: EvidenceFetch) -> None:
        self.crawler.signals.send_catch_log(signal=evidence_fetched, evidence=fetch)
