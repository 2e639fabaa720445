"""The frontier's part of the shared state: a request is queued once, and taken together with
the mark that this worker has work in hand. The scheduler that uses it is in `scheduler.py`.

Round trips are batched (one `sync` script): requests are taken several at a time into a local
buffer, and what this worker has to tell the frontier — requests done, links found, places per
origin it gives back — waits for the next sync. Nothing is lost by batching: a request in the
buffer is filed under `inflight:{worker}` like one in flight (a dead worker's go back), and the
links a response yielded are sent in the same script as, or before, that response's "done"."""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from crawler.distributed.part import Script, StatePart, clocked

BATCH_SIZE = 16  # requests taken per round trip, and responses' outcomes sent per round trip
EMPTY_PAUSE_SECONDS = 0.05  # after finding the frontier empty, don't ask again sooner

# KEYS: requests, dupefilter, busy:{worker}, inflight:{worker}, workers
# ARGV: worker ms, requests to take, #done, #adds, #releases, leases key prefix, #origins,
#       next key prefix, then the done tokens, adds (fingerprint or '', score, request),
#       releases (origin, place) and origins whose clock to read.
# Returns {added, live workers, {origin clock waits (ms)}, token, request, token, request …}.
_SYNC = clocked("""
local n_done, n_adds, n_rel, n_orig = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[7])
local i = 9
for _ = 1, n_done do redis.call('HDEL', KEYS[4], ARGV[i]); i = i + 1 end
local added = 0
for _ = 1, n_adds do
  if ARGV[i] == '' or redis.call('SADD', KEYS[2], ARGV[i]) == 1 then
    redis.call('ZADD', KEYS[1], ARGV[i + 1], ARGV[i + 2])
    added = added + 1
  end
  i = i + 3
end
for _ = 1, n_rel do redis.call('ZREM', ARGV[6] .. ARGV[i], ARGV[i + 1]); i = i + 2 end
local clocks = {}
for _ = 1, n_orig do
  local at = tonumber(redis.call('GET', ARGV[8] .. ARGV[i]) or '0')
  table.insert(clocks, math.max(0, at - now)); i = i + 1
end
local live = redis.call('ZCOUNT', KEYS[5], now, '+inf')
local result = {added, live, clocks}
local want = tonumber(ARGV[2])
if want > 0 then
  local first = redis.call('ZRANGE', KEYS[1], 0, want - 1, 'WITHSCORES')
  if #first > 0 then
    redis.call('ZREMRANGEBYRANK', KEYS[1], 0, #first / 2 - 1)
    redis.call('SET', KEYS[3], 1, 'PX', ARGV[1])
    for j = 1, #first, 2 do
      local token = redis.sha1hex(first[j])
      redis.call('HSET', KEYS[4], token, first[j + 1] .. string.char(10) .. first[j])
      table.insert(result, token)
      table.insert(result, first[j])
    end
  end
end
return result
""")


class Frontier(StatePart):
    """Requests queued and taken; a request taken stays this worker's until it is done."""

    batch_size: int
    round_trips: Any  # RoundTrips: its stats, once a crawler is there
    buffer: deque[tuple[str, bytes]]  # taken from the frontier, not yet handed to the engine
    pending_done: list[str]
    pending_adds: list[tuple[str, int, bytes]]
    empty_until: float  # monotonic: the frontier was empty, don't ask before this

    _sync = Script(_SYNC)

    def init_frontier(self, batch_size: int) -> None:
        self.batch_size = batch_size
        self.buffer = deque()
        self.pending_done = []
        self.pending_adds = []
        self.empty_until = 0.0

    def add_request(self, fingerprint: str | None, score: int, data: bytes) -> None:
        """Queue a request at the next sync, unless its fingerprint is in the frontier's seen
        set by then (None: queued whatever, as a `dont_filter` request)."""
        self.pending_adds.append((fingerprint or "", score, data))

    def next_request(self) -> tuple[str, bytes] | None:
        """The next request taken from the frontier: from the buffer, or a batch taken now
        (with what this worker has to tell the frontier) and marked as this worker's work in
        hand, in one step: no other worker sees the frontier empty and nobody busy in between.
        A request taken stays listed as this worker's until `done`: if it dies, it goes back."""
        if not self.buffer and (self.pending_adds or time.monotonic() >= self.empty_until):
            self.sync(self.batch_size)
            if not self.buffer:
                self.empty_until = time.monotonic() + EMPTY_PAUSE_SECONDS
        return self.buffer.popleft() if self.buffer else None

    def has_pending(self) -> bool:
        """Requests in hand that the engine has not taken yet (no round trip: the engine asks
        often; an idle worker looks at the frontier itself, `SharedFinish`)."""
        return bool(self.buffer or self.pending_adds)

    def done(self, token: str) -> None:
        """A request taken is finished: told to the frontier at the next sync, with the links it
        yielded (queued before it), or now when a batch of them has gathered."""
        self.pending_done.append(token)
        if len(self.pending_done) >= self.batch_size:
            self.sync(self.batch_size - len(self.buffer))  # topping up the buffer meanwhile

    def sync(self, take: int = 0) -> None:
        """One round trip: send what waits (requests done, links found, places given back) and
        take up to `take` requests into the buffer."""
        done, adds = self.pending_done, self.pending_adds
        releases = self.releases_due()
        origins = self.clocked_origins()
        args: list[Any] = [self.worker_ms, take, len(done), len(adds), len(releases)]
        args += [self.key("leases", ""), len(origins), self.key("next", "")]
        args += done
        for fingerprint, score, data in adds:
            args += (fingerprint, score, data)
        for origin, place in releases:
            args += (origin, place)
        args += origins
        result = self._sync(
            keys=[
                self.key("requests"),
                self.key("dupefilter"),
                self.key("busy", self.worker),
                self.key("inflight", self.worker),
                self.key("workers"),
            ],
            args=args,
        )
        self.pending_done, self.pending_adds = [], []
        self.released(releases)
        if result[0] and self.round_trips.stats is not None:  # queued as new by Redis
            self.round_trips.stats.inc_value("scheduler/enqueued/redis", int(result[0]))
        self.saw_clocks(origins, [int(ms) for ms in result[2]], int(result[1]))
        popped = result[3:]
        for n in range(0, len(popped), 2):
            self.buffer.append((popped[n].decode("ascii"), popped[n + 1]))

    def flush(self, *, done: bool = True) -> None:
        """Send what waits, if anything does (taking nothing). With `done` False, only what
        other workers may be waiting for: links to crawl, places per origin."""
        if (done and self.pending_done) or self.pending_adds or self.releases_waiting():
            self.sync(0)

    def done_all(self) -> None:
        """Everything this worker took is finished (it is idle): however its spider handled
        each request, nothing of it is in hand any more. What waits is sent first."""
        self.flush()
        self.redis.delete(self.key("inflight", self.worker))

    def frontier_size(self) -> int:
        return int(self.redis.zcard(self.key("requests")))

    # Politeness's side of a sync (overridden by `Politeness`).
    def releases_due(self) -> list[tuple[str, str]]:
        return []

    def releases_waiting(self) -> bool:
        return False

    def released(self, releases: list[tuple[str, str]]) -> None:
        pass

    def clocked_origins(self) -> list[str]:
        return []

    def saw_clocks(self, origins: list[str], waits: list[int], live_workers: int) -> None:
        pass
