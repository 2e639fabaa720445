"""Politeness's part of the shared state: per-origin leases (requests in flight, counted across
workers: CONCURRENT_REQUESTS_PER_DOMAIN) and one clock per origin for the delay between requests
(DOWNLOAD_DELAY, Crawl-delay, back-off).

A place (lease) is the worker's, not the request's: when a request ends, its place goes to this
worker's next request to the origin without a round trip, as long as the worker holds no more
than its fair share (the origin's limit over the live workers); a place unused for SPARE_SECONDS,
or beyond the fair share, goes back at the next sync. With no interval to keep, a request on a
place already held needs no round trip: the origin's clock (another worker's back-off) is read
at each sync. With an interval, each request books its turn on the shared clock."""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter, deque

from crawler.distributed.part import Script, StatePart, clocked

_LEASE_AND_TURN = clocked("""
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return -1 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
local start = math.max(now, tonumber(redis.call('GET', KEYS[2]) or '0'))
local after = start + tonumber(ARGV[4])
redis.call('SET', KEYS[2], after, 'PX', after - now + 60000)
return start - now
""")
_RENEW_LEASE = clocked("""
if redis.call('ZADD', KEYS[1], 'XX', 'CH', now + tonumber(ARGV[1]), ARGV[2]) == 0 then
  return 0  -- released, or expired and taken by another: never bring a lease back
end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]))
return 1
""")
_RESERVE_START = clocked("""
local start = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
if ARGV[2] ~= '' and start - now > tonumber(ARGV[2]) then return -1 end
local after = start + tonumber(ARGV[1])
redis.call('SET', KEYS[1], after, 'PX', after - now + 60000)
return start - now
""")
_PUSH_BACK = clocked("""
local after = math.max(now + tonumber(ARGV[1]), tonumber(redis.call('GET', KEYS[1]) or '0'))
redis.call('SET', KEYS[1], after, 'PX', after - now + 60000)
return after - now
""")


SPARE_SECONDS = 0.5  # a place no request of this worker needed for this long goes back
PLACE_POLL_SECONDS = 0.1  # asking Redis again for a place, below the fair share
# Beyond it (places other workers leave unused): from 0.25 s, doubled at each refusal up to 2 s,
# so that waiting on a busy origin costs few round trips.
SLOW_POLL_SECONDS = (0.25, 2.0)
CLOCKED_ORIGINS = 32  # origins whose clock a sync reads, at most


class Politeness(StatePart):
    """A place among an origin's requests in flight (a lease), and a turn on its clock."""

    lease_ms: int
    held: dict[str, str]  # place → origin, renewed by the heartbeat (spare ones too)

    _lease_and_turn = Script(_LEASE_AND_TURN)
    _renew_lease = Script(_RENEW_LEASE)
    _reserve_start = Script(_RESERVE_START)
    _push_back = Script(_PUSH_BACK)

    def init_politeness(self) -> None:
        self.placed: dict[str, str] = {}  # request's lease → the place it uses
        self.holding: Counter[str] = Counter()  # origin → places held (in use or spare)
        self.spare: dict[str, deque[tuple[str, float]]] = {}  # origin → (place, since)
        self.waiters: dict[str, deque[asyncio.Future]] = {}  # origin → requests waiting
        self.polling: set[str] = set()  # origins one of this worker's requests asks Redis for
        self.slow_poll: dict[str, float] = {}  # origin → seconds before asking again
        self.to_release: list[tuple[str, str]] = []  # (origin, place), sent at the next sync
        self.limits: dict[str, int] = {}
        self.clock: dict[str, float] = {}  # origin → no start before (monotonic), as last seen
        self.live_workers = 1

    def fair_share(self, origin: str) -> int:
        return max(1, math.ceil(self.limits.get(origin, 1) / max(1, self.live_workers)))

    def release(self, origin: str, lease: str) -> None:
        """The request holding `lease` ended: its place goes to the next request of this
        worker to the origin, waits spare, or goes back at the next sync."""
        place = self.placed.pop(lease, None)
        if place is None or place not in self.held:
            return
        if self.holding[origin] > self.fair_share(origin):  # another worker may need it
            self._drop(origin, place)
            return
        waiters = self.waiters.get(origin)
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(place)
                return
        self.spare.setdefault(origin, deque()).append((place, time.monotonic()))

    def give_back_places(self) -> None:
        """Every spare place goes back now (idle, closing)."""
        for origin, places in list(self.spare.items()):
            for place, _ in places:
                self._drop(origin, place)
        self.spare.clear()
        self.flush()

    def _drop(self, origin: str, place: str) -> None:
        self.held.pop(place, None)
        self.holding[origin] -= 1
        if self.holding[origin] <= 0:
            del self.holding[origin]
        self.to_release.append((origin, place))

    def _add_place(self, origin: str, place: str) -> None:
        self.held[place] = origin
        self.holding[origin] += 1

    # What a sync sends and reads for politeness (`Frontier.sync`).
    def releases_due(self) -> list[tuple[str, str]]:
        stale = time.monotonic() - SPARE_SECONDS
        for origin, places in list(self.spare.items()):
            while places and (
                places[0][1] < stale or self.holding[origin] > self.fair_share(origin)
            ):
                self._drop(origin, places.popleft()[0])
            if not places:
                del self.spare[origin]
        return list(self.to_release)

    def releases_waiting(self) -> bool:
        stale = time.monotonic() - SPARE_SECONDS
        return bool(self.to_release) or any(p and p[0][1] < stale for p in self.spare.values())

    def released(self, releases: list[tuple[str, str]]) -> None:
        del self.to_release[: len(releases)]

    def clocked_origins(self) -> list[str]:
        return [origin for origin, _ in self.holding.most_common(CLOCKED_ORIGINS)]

    def saw_clocks(self, origins: list[str], waits: list[int], live_workers: int) -> None:
        now = time.monotonic()
        for origin, wait in zip(origins, waits, strict=True):
            self.clock[origin] = now + wait / 1000
        self.live_workers = max(1, live_workers)

    def renew_leases(self) -> None:
        """Keep the places this worker holds (heartbeat)."""
        if not self.held:
            return
        with self.redis.pipeline(transaction=False) as pipe:
            for place, origin in list(self.held.items()):
                self._renew_lease(
                    keys=[self.key("leases", origin)], args=[self.lease_ms, place], client=pipe
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
        """Take one of the origin's `limit` places and wait for its turn on the origin's clock,
        booking the next `interval` on. A place this worker holds already costs no round trip
        (and no turn either, with no interval); a new one is one round trip, place and turn."""
        self.limits[origin] = limit
        polling = False
        try:
            while True:
                place = self._spare_place(origin)
                if place is None and (polling or origin not in self.polling):
                    polling = True  # one request per origin asks Redis, the others wait here
                    self.polling.add(origin)
                    wait = self._lease_and_turn(
                        keys=[self.key("leases", origin), self.key("next", origin)],
                        args=[limit, self.lease_ms, lease, int(interval * 1000)],
                    )
                    if wait >= 0:
                        self._add_place(origin, lease)
                        self.placed[lease] = lease
                        self.slow_poll.pop(origin, None)
                        break
                if place is None:
                    timeout = SLOW_POLL_SECONDS[0]
                    if polling and self.holding[origin] < self.fair_share(origin):
                        timeout = PLACE_POLL_SECONDS
                    elif polling:
                        timeout = self.slow_poll.get(origin, SLOW_POLL_SECONDS[0])
                        self.slow_poll[origin] = min(timeout * 2, SLOW_POLL_SECONDS[1])
                    place = await self._handed_over(origin, timeout)
                if place is not None:
                    self.placed[lease] = place
                    wait = self._turn(origin, interval)
                    break
        finally:
            if polling:
                self.polling.discard(origin)
                self._wake_next(origin)  # it asks Redis from now on
        await self._sleep_holding(origin, wait / 1000, self.placed[lease])

    def _spare_place(self, origin: str) -> str | None:
        places = self.spare.get(origin)
        if not places:
            return None
        place = places.pop()[0]  # the most recently used: the older ones may go back
        if not places:
            del self.spare[origin]
        return place

    async def _handed_over(self, origin: str, timeout: float) -> str | None:
        """A place handed over by a request of this worker that ended, or None (time to look
        again, or to ask Redis in turn)."""
        waiter = asyncio.get_running_loop().create_future()
        self.waiters.setdefault(origin, deque()).append(waiter)
        try:
            await asyncio.wait({waiter}, timeout=timeout)
        except asyncio.CancelledError:
            if waiter.done() and waiter.result() is not None:  # handed over just now: keep it
                self.spare.setdefault(origin, deque()).append((waiter.result(), time.monotonic()))
            waiter.cancel()
            raise
        if waiter.done():
            return waiter.result()  # a place, or None: this one asks Redis now
        waiter.cancel()
        self.waiters[origin].remove(waiter)
        return None

    def _wake_next(self, origin: str) -> None:
        for waiter in self.waiters.get(origin, ()):
            if not waiter.done():
                waiter.set_result(None)
                return

    def _turn(self, origin: str, interval: float) -> int:
        """Milliseconds to wait for the origin's next start, for a place already held: the
        shared clock with an interval to book, else its last seen reading (a back-off)."""
        if interval > 0:
            return self._reserve_start(
                keys=[self.key("next", origin)], args=[int(interval * 1000), ""]
            )
        return max(0, int((self.clock.get(origin, 0.0) - time.monotonic()) * 1000))

    async def _sleep_holding(self, origin: str, seconds: float, place: str | None) -> None:
        while seconds > 0:  # renewing the lease meanwhile: a back-off may outlast it
            step = min(seconds, self.lease_ms / 3000)
            await asyncio.sleep(step)
            seconds -= step
            if place is not None:
                self._renew_lease(keys=[self.key("leases", origin)], args=[self.lease_ms, place])

    def push_back(self, origin: str, seconds: float) -> None:
        """No worker starts a request to the origin for `seconds` (Retry-After, back-off)."""
        self._push_back(keys=[self.key("next", origin)], args=[int(seconds * 1000)])
        self.clock[origin] = max(self.clock.get(origin, 0.0), time.monotonic() + seconds)
