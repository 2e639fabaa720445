"""Distributed mode: N workers share one frontier, one copy of each origin's evidence, one pace.

Switched on by `DISTRIBUTED_REDIS_URL` (`pip install -e .[distributed]`). The add-on then puts
scrapy-redis's scheduler and dupefilter in place, so every worker pops from one queue and no URL
is requested twice; this module adds what scrapy-redis does not share:

- origin evidence: the first worker to need an origin's policy documents fetches (and archives)
  them and stores them in Redis for `POLICY_CACHE_SECONDS`; the others replay them, so robots.txt
  is fetched once per origin across all workers, and their decisions cite the same records;
- politeness: per-origin concurrency (`CONCURRENT_REQUESTS_PER_DOMAIN`) is a lease set and the
  delay between requests (`DOWNLOAD_DELAY`, Crawl-delay, back-off) a shared clock, both in Redis
  and counted across workers;
- the end: a worker whose frontier is empty waits while another worker still has work in hand
  (it may queue more), and stops when none has;
- a dead worker: what it had taken and not finished goes back to the frontier, and its places
  per origin free up, once it has been silent for DISTRIBUTED_WORKER_TIMEOUT.

Redis keys, under `rightscrawl:{DISTRIBUTED_CRAWL_ID}`:
    requests, dupefilter        scrapy-redis frontier (kept after the crawl: SCHEDULER_PERSIST)
    evidence:{origin}           the origin's policy documents, JSON
    evidence-lock:{origin}      the worker fetching them
    leases:{origin}             requests in flight to the origin (sorted set, score = expiry ms)
    next:{origin}               when (Redis clock, ms) the next request to the origin may start
    busy:{worker}               a worker with requests in hand
    workers                     register of workers (sorted set, score = heartbeat expiry ms)
    inflight:{worker}           requests it took and has not finished (hash: token → request)
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, Self

from scrapy import signals
from scrapy.exceptions import DontCloseSpider, NotConfigured
from twisted.internet import task

from crawler.config import force
from crawler.contracts import SettingError, hide_password, non_negative_float
from policies.origin import PolicyDocument

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

KEY_PREFIX = "rightscrawl"
POLL_SECONDS = 0.05
WORKER_TIMEOUT = 30.0  # a worker silent this long is dead: its requests in flight go back
WAKE_SECONDS = 0.5  # an idle worker looks at the frontier this often (Scrapy's own: 5 s)

# Redis scripts run atomically, on the Redis clock, so workers on several machines agree.
_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""


def _clocked(body: str) -> str:
    """A script that starts by reading Redis's clock into `now` (milliseconds)."""
    return _NOW + body


_ADD_IF_NEW = """
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1
"""
_POP_AND_MARK = """
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #first == 0 then return false end
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, 0)
redis.call('SET', KEYS[2], 1, 'PX', ARGV[1])
local token = redis.sha1hex(first[1])
redis.call('HSET', KEYS[3], token, first[2] .. string.char(10) .. first[1])
return {token, first[1]}
"""
_BEAT = _clocked("""
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[2])
return 1
""")
_REQUEUE_DEAD = _clocked("""
local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
if ARGV[3] == '1' then table.insert(gone, ARGV[2]) end
local count = 0
for _, worker in ipairs(gone) do
  if worker ~= ARGV[2] or ARGV[3] == '1' then
    local inflight = ARGV[1] .. worker
    local entries = redis.call('HGETALL', inflight)
    for i = 1, #entries, 2 do
      local value = entries[i + 1]
      local cut = string.find(value, string.char(10), 1, true)
      redis.call('ZADD', KEYS[2], tonumber(string.sub(value, 1, cut - 1)), string.sub(value, cut + 1))
      count = count + 1
    end
    redis.call('DEL', inflight)
    if worker ~= ARGV[2] then redis.call('ZREM', KEYS[1], worker) end
  end
end
return count
""")
_LEASE_AND_TURN = _clocked("""
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return -1 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
local start = math.max(now, tonumber(redis.call('GET', KEYS[2]) or '0'))
local after = start + tonumber(ARGV[4])
redis.call('SET', KEYS[2], after, 'PX', after - now + 60000)
return start - now
""")
_RENEW_LEASE = _clocked("""
if redis.call('ZADD', KEYS[1], 'XX', 'CH', now + tonumber(ARGV[1]), ARGV[2]) == 0 then
  return 0  -- released, or expired and taken by another: never bring a lease back
end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]))
return 1
""")
_RESERVE_START = _clocked("""
local start = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
if ARGV[2] ~= '' and start - now > tonumber(ARGV[2]) then return -1 end
local after = start + tonumber(ARGV[1])
redis.call('SET', KEYS[1], after, 'PX', after - now + 60000)
return start - now
""")
_PUSH_BACK = _clocked("""
local after = math.max(now + tonumber(ARGV[1]), tonumber(redis.call('GET', KEYS[1]) or '0'))
redis.call('SET', KEYS[1], after, 'PX', after - now + 60000)
return after - now
""")
_RENEW_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

Fetch = Callable[..., Awaitable[tuple[PolicyDocument, str | None]]]


def worker_name() -> str:
    # Host and pid say where it runs; the suffix keeps a restarted container (pid 1 again, same
    # host name) from taking over the requests its predecessor died with.
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def worker_timeout(settings: BaseSettings) -> float:
    seconds = non_negative_float(settings, "DISTRIBUTED_WORKER_TIMEOUT")
    if seconds < 1:
        raise SettingError(
            f"Setting DISTRIBUTED_WORKER_TIMEOUT must be at least 1 second, not {seconds}"
        )
    return seconds


def key_prefix(settings: BaseSettings) -> str:
    crawl_id = settings.get("DISTRIBUTED_CRAWL_ID") or "%(spider)s"
    return f"{KEY_PREFIX}:{crawl_id}"


def configure(settings: BaseSettings) -> None:
    """Switch the scheduler and dupefilter to scrapy-redis (called by the add-on)."""
    try:
        import scrapy_redis  # noqa: F401
    except ImportError:
        raise SettingError(
            "DISTRIBUTED_REDIS_URL is set but scrapy-redis is not installed: "
            "pip install -e '.[distributed]'"
        ) from None
    import redis

    worker_timeout(settings)  # a bad value stops the crawl now
    url = settings.get("DISTRIBUTED_REDIS_URL")
    try:  # a clear error now, not a traceback from inside the engine later
        client = redis.Redis.from_url(url, socket_connect_timeout=10)
        client.ping()
        client.close()
    except (redis.RedisError, ValueError) as exc:
        # The URL as written, its password hidden (redis-py's own messages never carry it).
        raise SettingError(
            f"Setting DISTRIBUTED_REDIS_URL: cannot use {hide_password(url)!r}: {exc}"
        ) from None
    prefix = key_prefix(settings)
    force(settings, "REDIS_URL", settings.get("DISTRIBUTED_REDIS_URL"))
    force(settings, "SCHEDULER", "crawler.distributed.SharedScheduler")
    force(settings, "DUPEFILTER_CLASS", "crawler.distributed.SharedDupeFilter")
    force(settings, "SCHEDULER_QUEUE_KEY", f"{prefix}:requests")
    # A sorted set by priority: SharedScheduler pops it atomically with the worker's busy mark.
    force(settings, "SCHEDULER_QUEUE_CLASS", "scrapy_redis.queue.PriorityQueue")
    force(settings, "SCHEDULER_DUPEFILTER_KEY", f"{prefix}:dupefilter")
    # Never flush on close: the first worker to finish would empty the others' frontier.
    force(settings, "SCHEDULER_PERSIST", True)
    # The pace per origin is kept in Redis, for all workers together; a per-worker slot delay
    # or AutoThrottle on top would slow each worker down again by itself.
    force(settings, "DISTRIBUTED_DOWNLOAD_DELAY", settings.getfloat("DOWNLOAD_DELAY"))
    force(settings, "DOWNLOAD_DELAY", 0.0)
    force(settings, "AUTOTHROTTLE_ENABLED", False)
    settings["EXTENSIONS"]["crawler.distributed.SharedFinish"] = 0
    settings["SPIDER_MIDDLEWARES"]["crawler.distributed.DoneWithOutput"] = 0


class SharedState:
    """This worker's view of what all workers share in Redis."""

    def __init__(
        self,
        client: Any,
        prefix: str,
        worker: str,
        *,
        lease_ms: int,
        evidence_seconds: float = 24 * 3600.0,
        worker_timeout: float = WORKER_TIMEOUT,
    ):
        self.redis = client
        self.worker_ms = int(worker_timeout * 1000)
        self.evidence_seconds = evidence_seconds
        self.prefix = prefix
        self.worker = worker
        self.lease_ms = lease_ms
        self.held: dict[str, str] = {}  # lease → origin, renewed by the heartbeat
        self._renew_lease = client.register_script(_RENEW_LEASE)
        self._lease_and_turn = client.register_script(_LEASE_AND_TURN)
        self._pop_and_mark = client.register_script(_POP_AND_MARK)
        self._beat = client.register_script(_BEAT)
        self._requeue_dead = client.register_script(_REQUEUE_DEAD)
        self._add_if_new = client.register_script(_ADD_IF_NEW)
        self._reserve_start = client.register_script(_RESERVE_START)
        self._push_back = client.register_script(_PUSH_BACK)
        self._release_lock = client.register_script(_RELEASE_LOCK)
        self._renew_lock = client.register_script(_RENEW_LOCK)

    @classmethod
    def from_settings(cls, settings: BaseSettings, spider_name: str) -> Self:
        import redis

        client = redis.Redis.from_url(settings.get("DISTRIBUTED_REDIS_URL"))
        prefix = key_prefix(settings) % {"spider": spider_name}
        # A lease is renewed by its worker's heartbeat while the request is in flight, so a
        # dead worker's places free up within the worker timeout.
        lease_ms = int(worker_timeout(settings) * 1000)
        return cls(
            client,
            prefix,
            worker_name(),
            lease_ms=lease_ms,
            evidence_seconds=settings.getfloat("POLICY_CACHE_SECONDS"),
            worker_timeout=worker_timeout(settings),
        )

    def key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    # Evidence -----------------------------------------------------------------------------
    async def evidence(
        self, origin: str, build: Callable[[Fetch], Awaitable[Any]], fetch: Fetch
    ) -> tuple[Any, float]:
        """`build(fetch)` reads an origin's documents through `fetch`: run it once for all
        workers with the real fetch, and replay the recorded documents everywhere else.

        Returns the evidence and how many seconds it may still be used: a replayed copy is as
        old as the first fetch (RFC 9309 §2.4: at most 24 hours in all)."""
        key, lock = self.key("evidence", origin), self.key("evidence-lock", origin)
        while True:
            with self.redis.pipeline(transaction=True) as pipe:
                stored, ttl_ms = pipe.get(key).pttl(key).execute()
            if stored is not None and ttl_ms != 0:
                evidence = await build(_replay(json.loads(stored), fetch))
                return evidence, (ttl_ms / 1000 if ttl_ms > 0 else self.evidence_seconds)
            # The lock lasts one worker timeout, renewed while its holder fetches: if the holder
            # dies, another worker takes over as soon as it would take over its requests.
            if self.redis.set(lock, self.worker, nx=True, px=self.worker_ms):
                keeper = asyncio.ensure_future(self._hold(lock))
                try:
                    recorded: list[dict] = []
                    evidence = await build(_recording(fetch, recorded))
                    ttl_ms = max(1, int(self.evidence_seconds * 1000))
                    self.redis.set(key, json.dumps(recorded), px=ttl_ms)
                    return evidence, self.evidence_seconds
                finally:
                    keeper.cancel()
                    self._release_lock(keys=[lock], args=[self.worker])
            await asyncio.sleep(POLL_SECONDS)

    async def _hold(self, lock: str) -> None:
        """Keep the evidence lock while its documents are fetched (several, each up to
        DOWNLOAD_TIMEOUT); a worker that dies stops renewing it and another takes over."""
        while True:
            await asyncio.sleep(self.worker_ms / 3000)
            self._renew_lock(keys=[lock], args=[self.worker, self.worker_ms])

    # Politeness ---------------------------------------------------------------------------
    def release(self, origin: str, lease: str) -> None:
        self.held.pop(lease, None)
        self.redis.zrem(self.key("leases", origin), lease)

    def renew_leases(self) -> None:
        """Keep the places of the requests this worker has in flight (heartbeat)."""
        if not self.held:
            return
        with self.redis.pipeline(transaction=False) as pipe:
            for lease, origin in list(self.held.items()):
                self._renew_lease(
                    keys=[self.key("leases", origin)], args=[self.lease_ms, lease], client=pipe
                )
            pipe.execute()

    async def wait_turn(
        self,
        origin: str,
        interval: float,
        lease: str | None = None,
        *,
        max_wait: float | None = None,
    ) -> float | None:
        """Wait until the origin's next start time, and book the one after for `interval` on.
        A `lease` held meanwhile stays held, however long the wait. With `max_wait`, a turn
        further off is not booked: None, at once. Returns the seconds waited."""
        limit = "" if max_wait is None else str(max(0, int(max_wait * 1000)))
        wait = self._reserve_start(
            keys=[self.key("next", origin)], args=[int(interval * 1000), limit]
        )
        if wait < 0:
            return None
        await self._sleep_holding(origin, wait / 1000, lease)
        return wait / 1000

    async def take_turn(self, origin: str, lease: str, limit: int, interval: float) -> None:
        """Take one of the origin's `limit` places (a lease) and wait for its turn on the
        origin's clock, booking the next `interval` on: one round trip while a place is free."""
        keys = [self.key("leases", origin), self.key("next", origin)]
        while True:
            wait = self._lease_and_turn(
                keys=keys, args=[limit, self.lease_ms, lease, int(interval * 1000)]
            )
            if wait >= 0:
                self.held[lease] = origin
                break
            await asyncio.sleep(POLL_SECONDS)
        await self._sleep_holding(origin, wait / 1000, lease)

    async def _sleep_holding(self, origin: str, seconds: float, lease: str | None) -> None:
        while seconds > 0:  # renewing the lease meanwhile: a back-off may outlast it
            step = min(seconds, self.lease_ms / 3000)
            await asyncio.sleep(step)
            seconds -= step
            if lease is not None:
                self._renew_lease(keys=[self.key("leases", origin)], args=[self.lease_ms, lease])

    def push_back(self, origin: str, seconds: float) -> None:
        """No worker starts a request to the origin for `seconds` (Retry-After, back-off)."""
        self._push_back(keys=[self.key("next", origin)], args=[int(seconds * 1000)])

    # The end ------------------------------------------------------------------------------
    def add_request(
        self, seen_key: str, queue_key: str, fingerprint: str, score: int, data: bytes
    ) -> bool:
        """Queue a request unless its fingerprint is in the frontier's seen set already."""
        return bool(self._add_if_new(keys=[seen_key, queue_key], args=[fingerprint, score, data]))

    def pop_request(self, queue_key: str) -> tuple[str, bytes] | None:
        """Take the frontier's first request and say this worker has work in hand, in one
        step: no other worker sees the frontier empty and nobody busy in between. The request
        stays listed as this worker's until `done`: if the worker dies first, it goes back."""
        popped = self._pop_and_mark(
            keys=[queue_key, self.key("busy", self.worker), self.key("inflight", self.worker)],
            args=[self.worker_ms],
        )
        if not popped:
            return None
        token, data = popped
        return token.decode("ascii"), data

    def done(self, token: str) -> None:
        self.redis.hdel(self.key("inflight", self.worker), token)

    def done_all(self) -> None:
        """Everything this worker took is finished (it is idle): however its spider handled
        each request, nothing of it is in hand any more."""
        self.redis.delete(self.key("inflight", self.worker))

    def mark_alive(self) -> None:
        """Heartbeat: this worker is in the crawl's register of workers until its timeout."""
        self._beat(keys=[self.key("workers")], args=[self.worker_ms, self.worker])

    def requeue_lost(self, queue_key: str, *, own: bool = False) -> int:
        """Put back in the frontier the requests of workers that died with them in hand (and,
        with `own`, this worker's own unfinished ones, when it closes). Returns how many."""
        count = int(
            self._requeue_dead(
                keys=[self.key("workers"), queue_key],
                args=[self.key("inflight", ""), self.worker, 1 if own else 0],
            )
        )
        if count:
            logger.warning(
                "Put %(count)d request(s) back in the frontier: taken by a worker that stopped "
                "before finishing them",
                {"count": count},
            )
        return count

    def mark_busy(self) -> None:
        self.redis.set(self.key("busy", self.worker), 1, px=self.worker_ms)

    def mark_idle(self) -> None:
        self.redis.delete(self.key("busy", self.worker))

    def others_busy(self) -> list[str]:
        """Workers of the register, other than this one, with requests in hand."""
        others = [
            name.decode()
            for name in self.redis.zrange(self.key("workers"), 0, -1)
            if name.decode() != self.worker
        ]
        if not others:
            return []
        marks = self.redis.mget([self.key("busy", name) for name in others])
        return [name for name, mark in zip(others, marks, strict=True) if mark is not None]

    def leave(self) -> None:
        self.redis.zrem(self.key("workers"), self.worker)

    def frontier_size(self) -> int:
        return int(self.redis.zcard(self.key("requests")))


def _encode(kind: str, url: str, document: PolicyDocument, unreadable: str | None) -> dict:
    body = None if document.body is None else base64.b64encode(document.body).decode("ascii")
    return {
        "kind": kind,
        "url": url,
        "status": document.status,
        "body": body,
        "record_id": document.record_id,
        "unreadable": unreadable,
    }


def _decode(entry: dict) -> tuple[PolicyDocument, str | None]:
    body = None if entry["body"] is None else base64.b64decode(entry["body"])
    document = PolicyDocument(entry["url"], entry["status"], body, entry["record_id"])
    return document, entry["unreadable"]


def _recording(fetch: Fetch, recorded: list[dict]) -> Fetch:
    async def recording_fetch(kind: str, url: str, **options: Any):
        document, unreadable = await fetch(kind, url, **options)
        recorded.append(_encode(kind, url, document, unreadable))
        return document, unreadable

    return recording_fetch


def _replay(recorded: list[dict], fetch: Fetch) -> Fetch:
    stored = {(entry["kind"], entry["url"]): entry for entry in recorded}

    async def replaying_fetch(kind: str, url: str, **options: Any):
        entry = stored.get((kind, url))
        if entry is None:  # not fetched by the first worker (another profile?): fetch it here
            return await fetch(kind, url, **options)
        return _decode(entry)

    return replaying_fetch


_ATTRIBUTE = "_rightscrawl_shared_state"


def shared_state(crawler: Crawler, spider_name: str | None = None) -> SharedState | None:
    """The crawler's shared state, or None when the crawl is not distributed."""
    if not crawler.settings.get("DISTRIBUTED_REDIS_URL"):
        return None
    state = getattr(crawler, _ATTRIBUTE, None)
    if state is None:
        name = spider_name or (crawler.spider.name if crawler.spider else crawler.spidercls.name)
        state = SharedState.from_settings(crawler.settings, name)
        setattr(crawler, _ATTRIBUTE, state)
    return state


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
    """scrapy-redis's scheduler; a worker that pops a request says it has work in hand, in the
    same Redis script, so no other worker sees an empty frontier and nobody busy in between."""

    @classmethod
    def from_crawler(cls, crawler: Crawler):
        scheduler = super().from_crawler(crawler)
        scheduler.crawler = crawler
        return scheduler

    def enqueue_request(self, request: Request) -> bool:
        """As scrapy-redis's, with the dupefilter's SADD and the queue's ZADD in one script (one
        round trip per new URL instead of two; none for a duplicate this worker met before)."""
        state = shared_state(self.crawler)
        # A redirect or retry of a request taken from the frontier: once it is queued, the
        # request it came from is done (and its token must not travel on).
        token = request.meta.pop(INFLIGHT, None)
        queued = self._enqueue(request, state)  # if this raises, the original stays in flight
        if token and state is not None:
            state.done(token)
        return queued

    def _enqueue(self, request: Request, state: SharedState | None) -> bool:
        df = self.df
        if request.dont_filter or state is None or not isinstance(df, SharedDupeFilter):
            return super().enqueue_request(request)
        fingerprint = df.request_fingerprint(request)
        if df.known_seen(fingerprint):
            df.log(request, self.spider)
            return False
        added = state.add_request(
            df.key,
            self.queue.key,
            fingerprint,
            -request.priority,
            self.queue._encode_request(request),
        )
        df.remember(fingerprint)
        if not added:
            df.log(request, self.spider)
            return False
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self) -> Request | None:
        state = shared_state(self.crawler)
        if state is None:
            return super().next_request()
        popped = state.pop_request(self.queue.key)
        if popped is None:
            return None
        token, data = popped
        if self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        request = self.queue._decode_request(data)
        request.meta[INFLIGHT] = token
        return request


class SharedFinish:
    """Keep an idle worker open while another worker may still queue requests."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.refresh: task.LoopingCall | None = None
        self.wake: task.LoopingCall | None = None
        self.state: SharedState | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.get("DISTRIBUTED_REDIS_URL"):
            raise NotConfigured
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        self.state = shared_state(self.crawler, spider.name)
        self.state.mark_alive()
        self.state.mark_busy()
        self.state.requeue_lost(self.queue_key)
        self.refresh = task.LoopingCall(self._heartbeat)
        self.refresh.start(self.state.worker_ms / 6000, now=False)  # six beats per timeout
        self.wake = task.LoopingCall(self._wake_if_work)
        self.wake.start(WAKE_SECONDS, now=False)

    @property
    def queue_key(self) -> str:
        assert self.state is not None
        return self.state.key("requests")

    def _heartbeat(self) -> None:
        """Alive (and busy, when it is) for the other workers; what dead ones held goes back.
        A Redis error is logged and the next beat tries again (a LoopingCall whose function
        raises stops for good, and the others would take this worker for dead)."""
        engine = self.crawler.engine
        if self.state is None or engine is None:
            return
        try:
            self.state.mark_alive()
            self.state.renew_leases()
            if not engine.spider_is_idle():
                self.state.mark_busy()
            self.state.requeue_lost(self.queue_key)
        except Exception:
            logger.exception("Distributed heartbeat failed; trying again at the next beat")

    def _wake_if_work(self) -> None:
        """Take requests other workers queued now, not at Scrapy's next heartbeat (5 s): a
        worker with nothing in hand is woken by nothing else."""
        engine = self.crawler.engine
        slot = getattr(engine, "_slot", None)
        if self.state is None or slot is None or engine.needs_backout():
            return
        try:
            if self.state.frontier_size():
                slot.nextcall.schedule()
        except Exception:
            logger.exception("Looking at the shared frontier failed; trying again")

    def spider_idle(self, spider: Spider) -> None:
        assert self.state is not None
        try:
            # Idle: every request taken has been answered, decided and handed on. A request
            # whose end no hook saw (excluded after the fetch, with no errback) is done too.
            self.state.done_all()
            self.state.mark_idle()
            self.state.requeue_lost(self.queue_key)
            more = self.state.frontier_size() or self.state.others_busy()
        except Exception:  # cannot tell whether others still work: stay, and ask again
            logger.exception("Looking at the shared frontier failed; staying open")
            more = True
        if more:
            raise DontCloseSpider

    def spider_closed(self, spider: Spider) -> None:
        for call in (self.refresh, self.wake):
            if call is not None and call.running:
                call.stop()
        if self.state is not None:
            self.state.mark_idle()
            # Taken but not finished (a CLOSESPIDER_* limit, Ctrl-C): for the other workers.
            self.state.requeue_lost(self.queue_key, own=True)
            self.state.leave()
