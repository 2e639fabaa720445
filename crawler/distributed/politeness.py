"""Politeness's part of the shared state: per-origin leases (requests in flight, counted across
workers: CONCURRENT_REQUESTS_PER_DOMAIN) and one clock per origin for the delay between requests
(DOWNLOAD_DELAY, Crawl-delay, back-off)."""

from __future__ import annotations

import asyncio

from crawler.distributed.part import POLL_SECONDS, Script, StatePart, clocked

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


class Politeness(StatePart):
    """A place among an origin's requests in flight (a lease), and a turn on its clock."""

    lease_ms: int
    held: dict[str, str]  # lease → origin, renewed by the heartbeat

    _lease_and_turn = Script(_LEASE_AND_TURN)
    _renew_lease = Script(_RENEW_LEASE)
    _reserve_start = Script(_RESERVE_START)
    _push_back = Script(_PUSH_BACK)

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
