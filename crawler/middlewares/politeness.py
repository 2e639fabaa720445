"""No interference with the normal exploitation of a site: pace, back off, stop.

- robots.txt `Crawl-delay` / `Request-rate` for our token (read by the origin policy) pace the
  origin, up to `POLITENESS_MAX_CRAWL_DELAY` (Scrapy itself ignores both);
- a 429 or 503 slows the origin down to its `Retry-After` (capped at `POLITENESS_RETRY_AFTER_MAX`),
  or doubles its delay when there is none;
- after `POLITENESS_ORIGIN_MAX_ERRORS` consecutive 429/5xx answers or network errors, the origin is
  stopped for this run: its remaining URLs are excluded (`origin-stopped`), not requested;
- `POLITENESS_MAX_PAGES_PER_ORIGIN` caps the pages requested per origin (`origin-page-cap`).

Requests are put in one downloader slot per origin, so `CONCURRENT_REQUESTS_PER_DOMAIN` and the
delays above hold per origin.

Runs at priority 990, next to the downloader: its process_request is the last before the
download and its process_response the first after it, so every response is seen (before
RedirectMiddleware or RetryMiddleware turn it into a new request) and every permit is released.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, deque
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Self
from urllib.parse import urlsplit
from weakref import WeakKeyDictionary

from scrapy.exceptions import IgnoreRequest
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from crawler import meta
from crawler.contracts import crawl_run, non_negative_float, positive_int
from crawler.decisions import ExcludedByPolicy, announce_exclusion, exclude
from crawler.distributed import SharedState, shared_state
from crawler.slots import slow_down
from policies import reasons
from policies.engine import decide

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

OVERLOAD_STATUSES = frozenset({429, 503})
INITIAL_BACKOFF = 1.0


def retry_after_seconds(value: bytes | None, now: datetime | None = None) -> float | None:
    """RFC 9110 §10.2.3: delay-seconds or an HTTP-date; None when absent or unreadable."""
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class OriginPermits:
    """At most `limit` requests per origin between our process_request and their response.

    Scrapy's downloader slots are meant to do this (CONCURRENT_REQUESTS_PER_DOMAIN), but in Scrapy
    2.19 a slot dispatches every queued request at once: `_process_queue` schedules `_download` as
    a task, and a request only counts as transferring once that task runs. Waiting here, in the
    middleware, holds the limit per origin whatever the downloader does.
    """

    def __init__(self, limit: int):
        self.limit = limit
        self.in_flight: Counter[str] = Counter()
        self.waiting: dict[str, deque[Deferred[None]]] = {}
        self.holders: WeakKeyDictionary[Request, str] = WeakKeyDictionary()

    async def acquire(self, origin: str, request: Request) -> None:
        if self.in_flight[origin] < self.limit:
            self.in_flight[origin] += 1
        else:
            turn: Deferred[None] = Deferred()
            self.waiting.setdefault(origin, deque()).append(turn)
            await maybe_deferred_to_future(turn)  # the releaser hands its permit over
        self.holders[request] = origin

    def release(self, request: Request) -> None:
        origin = self.holders.pop(request, None)
        if origin is None:
            return
        queue = self.waiting.get(origin)
        if queue:
            queue.popleft().callback(None)
        else:
            self.in_flight[origin] -= 1


def origin_of(request: Request) -> str:
    parsed = urlparse_cached(request)
    return f"{parsed.scheme}://{parsed.netloc}"


class PolitenessMiddleware:
    def __init__(
        self,
        crawler: Crawler,
        *,
        max_crawl_delay: float,
        retry_after_max: float,
        max_errors: int,
        max_pages: int,
        concurrency: int = 2,
        shared: SharedState | None = None,
        shared_delay: float = 0.0,
    ):
        self.crawler = crawler
        self.shared = shared
        self.shared_delay = shared_delay
        self.concurrency = concurrency
        self.leases: WeakKeyDictionary[Request, str] = WeakKeyDictionary()
        self.lease_count = 0
        self._browser_next: dict[str, float] = {}  # per origin: next start for browser requests
        self.profile = crawl_run(crawler).profile
        self.max_crawl_delay = max_crawl_delay
        self.retry_after_max = retry_after_max
        self.max_errors = max_errors
        self.max_pages = max_pages
        self.permits = OriginPermits(concurrency)
        self.errors: Counter[str] = Counter()
        self.pages: Counter[str] = Counter()
        self.backoff: dict[str, float] = {}
        self.stopped: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        max_pages = settings.getint("POLITENESS_MAX_PAGES_PER_ORIGIN")
        return cls(
            crawler,
            max_crawl_delay=non_negative_float(settings, "POLITENESS_MAX_CRAWL_DELAY"),
            retry_after_max=non_negative_float(settings, "POLITENESS_RETRY_AFTER_MAX"),
            max_errors=positive_int(settings, "POLITENESS_ORIGIN_MAX_ERRORS"),
            max_pages=positive_int(settings, "POLITENESS_MAX_PAGES_PER_ORIGIN") if max_pages else 0,
            concurrency=positive_int(settings, "CONCURRENT_REQUESTS_PER_DOMAIN"),
            shared=shared_state(crawler),
            shared_delay=non_negative_float(settings, "DISTRIBUTED_DOWNLOAD_DELAY"),
        )

    async def process_request(self, request: Request, spider: Spider | None = None) -> None:
        origin = origin_of(request)
        # One downloader slot per origin (Scrapy's default is per host name): robots.txt, its
        # Crawl-delay and our back-off are per origin. Set on every hop: redirects copy meta.
        request.meta["download_slot"] = urlparse_cached(request).netloc
        await self.permits.acquire(origin, request)
        self._refuse_if_stopped(origin, request)
        if not request.meta.get(meta.EVIDENCE) and not request.meta.get("retry_times"):
            self.pages[origin] += 1
        delay = request.meta.get(meta.CRAWL_DELAY)
        if self.shared is not None:
            # Across workers: a lease per request in flight, and one clock per origin. The lease
            # is renewed once the turn comes (a back-off may outlast it).
            interval = max(self.shared_delay, min(delay or 0.0, self.max_crawl_delay))
            await self.shared.take_turn(origin, self._lease(request), self.concurrency, interval)
            self._refuse_if_stopped(origin, request)  # stopped while this one waited
        else:
            if delay:
                slow_down(self.crawler, request, min(delay, self.max_crawl_delay))
            if origin in self.backoff:
                slow_down(self.crawler, request, self.backoff[origin])

    def _refuse_if_stopped(self, origin: str, request: Request) -> None:
        """Refused at once, before any wait: a stopped origin, or one that reached its cap."""
        refusal = None
        if origin in self.stopped:
            refusal = reasons.ORIGIN_STOPPED
        elif (
            self.max_pages
            and self.pages[origin] >= self.max_pages
            and not request.meta.get(meta.EVIDENCE)
            and request not in self.leases  # counted already: this is the re-check
        ):
            refusal = reasons.ORIGIN_PAGE_CAP
        if refusal is None:
            return
        self._release(request)
        if request.meta.get(meta.EVIDENCE):
            raise IgnoreRequest(f"{refusal}: {request.url}")
        decision = decide(
            request.url, (), profile=self.profile, stage="before-fetch", extra_reasons=[refusal]
        )
        exclude(self.crawler, decision)

    async def browser_turn(self, url: str, crawl_delay: float | None, latest: float) -> bool:
        """Pace a request a rendering browser makes as a request of its origin: on the origin's
        one clock (Scrapy's downloader slot, or Redis when distributed), Crawl-delay and back-off
        apart from the origin's other requests. False, without waiting, for a stopped origin or
        when the turn would come after `latest` (time.monotonic()).

        DOWNLOAD_DELAY paces the crawler's own requests only: a page's scripts and images are
        asked for together, as a browser does, unless the origin asked for a delay."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin in self.stopped:
            return False
        interval = max(min(crawl_delay or 0.0, self.max_crawl_delay), self.backoff.get(origin, 0.0))
        now = time.monotonic()
        if self.shared is not None:
            wait = await self.shared.wait_turn(origin, interval, max_wait=latest - now)
            return wait is not None
        downloader = getattr(self.crawler.engine, "downloader", None)
        slot = downloader.slots.get(parts.netloc) if downloader is not None else None
        start = max(now, self._browser_next.get(origin, 0.0))
        if slot is not None and interval:
            start = max(start, slot.lastseen + interval)
        if start > latest:
            return False
        self._browser_next[origin] = start + interval
        if slot is not None:  # booked on Scrapy's clock too: the next page waits after it
            slot.lastseen = max(slot.lastseen, start)
        if start > now:
            await asyncio.sleep(start - now)
        return True

    async def page_turn(self, url: str, crawl_delay: float | None) -> None:
        """A rendering page's own request leaves later than the downloader sent it on its way
        (the browser starts first): it waits for the browser requests booked on the origin's
        clock since then (another page's images). Not against the downloader slot's time: that
        was this very request's own turn. Distributed, the Redis clock paced it already."""
        if self.shared is not None:
            return
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        wait = self._browser_next.get(origin, 0.0) - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self.browser_fetched(url, crawl_delay)

    def page_answered(self, url: str, crawl_delay: float | None) -> None:
        """A rendering page's own request was answered: its images keep the interval from here,
        where the server surely saw the page, whatever the browser's own latency."""
        if self.shared is None:
            self.browser_fetched(url, crawl_delay)

    def browser_fetched(self, url: str, crawl_delay: float | None) -> None:
        """A rendering page's own request left now: the origin's clock counts from now."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        interval = max(min(crawl_delay or 0.0, self.max_crawl_delay), self.backoff.get(origin, 0.0))
        now = time.monotonic()
        if self.shared is not None:
            if interval:
                self.shared.push_back(origin, interval)
            return
        self._browser_next[origin] = max(self._browser_next.get(origin, 0.0), now + interval)
        downloader = getattr(self.crawler.engine, "downloader", None)
        slot = downloader.slots.get(parts.netloc) if downloader is not None else None
        if slot is not None:
            slot.lastseen = max(slot.lastseen, now)

    def _lease(self, request: Request) -> str:
        # Unique in this worker: a lease may live on as the worker's place after its request.
        self.lease_count += 1
        lease = f"{self.shared.worker}:{self.lease_count}"  # type: ignore[union-attr]
        self.leases[request] = lease
        return lease

    def _release(self, request: Request) -> None:
        self.permits.release(request)
        lease = self.leases.pop(request, None)
        if lease is not None and self.shared is not None:
            self.shared.release(origin_of(request), lease)

    def process_response(self, request: Request, response: Response, spider: Spider | None = None):
        self._release(request)
        if response.status in OVERLOAD_STATUSES or response.status >= 500:
            retry_after = retry_after_seconds(response.headers.get(b"Retry-After"))
            self._failed(request, f"HTTP {response.status}", retry_after)
        else:
            self.errors.pop(origin_of(request), None)
        return response

    def process_exception(
        self, request: Request, exception: Exception, spider: Spider | None = None
    ) -> None:
        self._release(request)
        if not isinstance(exception, IgnoreRequest):
            self._failed(request, type(exception).__name__, None)

    def _failed(self, request: Request, what: str, retry_after: float | None) -> None:
        origin = origin_of(request)
        self.errors[origin] += 1
        current = self.backoff.get(origin, INITIAL_BACKOFF / 2)
        wait = retry_after if retry_after is not None else current * 2
        self.backoff[origin] = min(max(wait, INITIAL_BACKOFF), self.retry_after_max)
        if self.shared is not None:
            self.shared.push_back(origin, self.backoff[origin])
        else:
            slow_down(self.crawler, request, self.backoff[origin])
        self.crawler.stats.inc_value("politeness/backoff")
        if self.errors[origin] >= self.max_errors and origin not in self.stopped:
            self.stopped.add(origin)
            self.crawler.stats.inc_value("politeness/origins_stopped")
            logger.warning(
                "Stopped %(origin)s for this run after %(count)d failures in a row (last: %(what)s)",
                {"origin": origin, "count": self.errors[origin], "what": what},
            )
            self._drop_queued(request.meta.get("download_slot"))

    def _drop_queued(self, key: str | None) -> None:
        """Requests already waiting in the origin's downloader slot are not sent either."""
        downloader = getattr(self.crawler.engine, "downloader", None)
        slot = downloader.slots.get(key) if downloader is not None and key else None
        if slot is None:
            return
        queued = list(slot.queue)
        slot.queue.clear()
        for request, waiting in queued:
            if request.meta.get(meta.EVIDENCE):
                waiting.errback(Failure(IgnoreRequest(f"{reasons.ORIGIN_STOPPED}: {request.url}")))
                continue
            decision = decide(
                request.url,
                (),
                profile=self.profile,
                stage="before-fetch",
                extra_reasons=[reasons.ORIGIN_STOPPED],
            )
            announce_exclusion(self.crawler, decision)
            waiting.errback(Failure(ExcludedByPolicy(decision)))
