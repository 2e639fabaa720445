"""The frontier's part of the shared state: a request is queued once, and taken together with
the mark that this worker has work in hand. The scheduler that uses it is in `scheduler.py`."""

from __future__ import annotations

from crawler.distributed.part import Script, StatePart

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


class Frontier(StatePart):
    """Requests queued and taken; a request taken stays this worker's until it is done."""

    _add_if_new = Script(_ADD_IF_NEW)
    _pop_and_mark = Script(_POP_AND_MARK)

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

    def frontier_size(self) -> int:
        return int(self.redis.zcard(self.key("requests")))
