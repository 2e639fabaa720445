"""The Scrapy side of the shared frontier: scrapy-redis's scheduler and dupefilter, requests
taken and links queued in batches, and a request taken kept in hand (`INFLIGHT`) until the spider
has handed on what it made of it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING, Any, Self

from crawler.distributed.state import shared_state

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from crawler.distributed.state import SharedState

logger = logging.getLogger(__name__)

try:
    from scrapy_redis.dupefilter import RFPDupeFilter as _RedisDupeFilter
    from scrapy_redis.scheduler import Scheduler as _RedisScheduler
except ImportError:  # the distributed extra is not installed; configure() says so
    _RedisScheduler = _RedisDupeFilter = object  # type: ignore[assignment,misc]

KNOWN_FINGERPRINTS = 500_000  # about 40 MiB: enough for the links every page repeats


class SharedDupeFilter(_RedisDupeFilter):  # type: ignore[misc,valid-type]
    """scrapy-redis's dupefilter, remembering what it already knows is in Redis.

    A fingerprint in the Redis set stays there for the crawl, so a link this worker has met
    before (the site's menu, on every page) is a duplicate without asking Redis again: one round
    trip per new URL instead of one per link. The memory is bounded; past it, Redis is asked.
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.known: set[bytes] = set()

    def request_seen(self, request: Request) -> bool:
        fingerprint = self.request_fingerprint(request)
        if self.known_seen(fingerprint):
            return True
        added = self.server.sadd(self.key, fingerprint)
        self.remember(fingerprint)
        return added == 0

    def known_seen(self, fingerprint: str) -> bool:
        return bytes.fromhex(fingerprint) in self.known

    def remember(self, fingerprint: str) -> None:
        if len(self.known) >= KNOWN_FINGERPRINTS:
            self.known.clear()
        self.known.add(bytes.fromhex(fingerprint))


INFLIGHT = "rightscrawl_inflight"  # meta: the frontier token of a request this worker took


def request_done(crawler: Crawler, request: Request | None) -> None:
    """The spider has the outcome of a request taken from the shared frontier: it is done."""
    token = request.meta.pop(INFLIGHT, None) if request is not None else None
    if not token:
        return
    state = shared_state(crawler)
    if state is None:
        return
    try:
        state.done(token)
    except Exception:  # at worst the request is put back and fetched again: never lose the page
        logger.exception("Could not mark %(url)s done in the shared frontier", {"url": request.url})


class DoneWithOutput:
    """Spider middleware (distributed mode, next to the engine): a response's request is done
    once whatever the spider made of it — links, items — has been handed on, for any spider."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_spider_output(self, response: Response, result: Iterable[Any], spider=None):
        try:
            yield from result
        finally:
            request_done(self.crawler, response.request)

    async def process_spider_output_async(
        self, response: Response, result: AsyncIterator[Any], spider=None
    ):
        try:
            async for output in result:
                yield output
        finally:
            request_done(self.crawler, response.request)

    def process_spider_exception(self, response: Response, exception: Exception, spider=None):
        request_done(self.crawler, response.request)


class SharedScheduler(_RedisScheduler):  # type: ignore[misc,valid-type]
    """scrapy-redis's scheduler, on the frontier's part of the shared state: requests are taken
    in batches (marked, in the same script, as this worker's work in hand, so no other worker
    sees an empty frontier and nobody busy in between), and new links are queued with the next
    batch — about one round trip per BATCH_SIZE requests instead of several per request."""

    @classmethod
    def from_crawler(cls, crawler: Crawler):
        scheduler = super().from_crawler(crawler)
        scheduler.crawler = crawler
        state = shared_state(crawler)
        if state is not None:  # one client, so that every round trip is counted
            scheduler.server.close()
            scheduler.server = state.redis
        return scheduler

    def open(self, spider):
        opened = super().open(spider)
        state = shared_state(self.crawler)
        if state is not None and getattr(self.df, "server", None) is not state.redis:
            self.df.server.close()
            self.df.server = state.redis
        return opened

    def enqueue_request(self, request: Request) -> bool:
        """As scrapy-redis's, with the dupefilter's SADD and the queue's ZADD sent at the next
        sync (none for a duplicate this worker met before). A redirect or retry of a request
        taken from the frontier makes that one done, after it in the same sync or a later one:
        never before the new request is queued."""
        state = shared_state(self.crawler)
        token = request.meta.pop(INFLIGHT, None)  # must not travel on with the new request
        if state is None:
            return super().enqueue_request(request)
        queued = self._enqueue(request, state)
        if token:
            state.done(token)
        return queued

    def _enqueue(self, request: Request, state: SharedState) -> bool:
        df = self.df
        if request.dont_filter or not isinstance(df, SharedDupeFilter):
            if not request.dont_filter and df.request_seen(request):
                df.log(request, self.spider)
                return False
            state.add_request(None, -request.priority, self.queue._encode_request(request))
            return True
        fingerprint = df.request_fingerprint(request)
        if df.known_seen(fingerprint):  # before encoding: most links are known duplicates
            df.log(request, self.spider)
            return False
        # Whether another worker queued it first, Redis says at the sync (seen set): new for
        # this worker, it counts as scheduled here.
        state.add_request(fingerprint, -request.priority, self.queue._encode_request(request))
        df.remember(fingerprint)
        return True

    def next_request(self) -> Request | None:
        state = shared_state(self.crawler)
        if state is None:
            return super().next_request()
        popped = state.next_request()
        if popped is None:
            return None
        if self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        token, data = popped
        request = self.queue._decode_request(data)
        request.meta[INFLIGHT] = token
        return request

    def has_pending_requests(self) -> bool:
        state = shared_state(self.crawler)
        if state is None:
            return super().has_pending_requests()
        return state.has_pending()

    def __len__(self) -> int:
        state = shared_state(self.crawler)
        return super().__len__() + (len(state.buffer) if state is not None else 0)
