"""The workers' part of the shared state: the register of workers, each kept in it by its
heartbeat; which of them have requests in hand; and the requests a dead worker had taken, put
back in the frontier."""

from __future__ import annotations

import logging

from crawler.distributed.part import Script, StatePart, clocked

logger = logging.getLogger(__name__)

_BEAT = clocked("""
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[2])
return redis.call('ZCOUNT', KEYS[1], now, '+inf')
""")
_REQUEUE_DEAD = clocked("""
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


class Workers(StatePart):
    """This worker among the others: alive, busy or idle, and what the dead ones left."""

    live_workers: int

    _beat = Script(_BEAT)
    _requeue_dead = Script(_REQUEUE_DEAD)

    def mark_alive(self) -> None:
        """Heartbeat: this worker is in the crawl's register of workers until its timeout.
        How many are alive sets this worker's fair share of each origin's places."""
        live = self._beat(keys=[self.key("workers")], args=[self.worker_ms, self.worker])
        self.live_workers = max(1, int(live))

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
