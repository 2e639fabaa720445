"""What every part of the shared state stands on: the Redis client, the crawl's keys, this
worker's name, and the Lua scripts that Redis runs atomically, on its own clock."""

from __future__ import annotations

from typing import Any

ROUND_TRIPS_STAT = "distributed/redis_round_trips"
POLL_SECONDS = 0.05  # a worker waiting on the others (a lease, the evidence lock) asks this often

# Redis scripts run atomically, on the Redis clock, so workers on several machines agree.
_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""


def clocked(body: str) -> str:
    """A script that starts by reading Redis's clock into `now` (milliseconds)."""
    return _NOW + body


class RoundTrips:
    """Round trips to Redis: one per command, pipeline or script sent (counted where the
    connection sends, so scrapy-redis's calls, health-check PINGs and the SCRIPT EXISTS of a
    pipeline count too), added to the crawl's stats once a crawler is there."""

    def __init__(self) -> None:
        self.count = 0
        self.stats: Any = None

    def add(self) -> None:
        self.count += 1
        if self.stats is not None:
            self.stats.inc_value(ROUND_TRIPS_STAT)


def counting_client(url: str, round_trips: RoundTrips) -> Any:
    """A Redis client whose every round trip is counted in `round_trips`."""
    import redis

    client = redis.Redis.from_url(url)
    pool = client.connection_pool
    base = pool.connection_class  # Connection, SSLConnection or UnixDomainSocketConnection

    class CountingConnection(base):  # type: ignore[misc,valid-type]
        def send_packed_command(self, command: Any, check_health: bool = True) -> None:
            round_trips.add()
            super().send_packed_command(command, check_health)

    pool.connection_class = CountingConnection  # before any connection is made
    return client


class Script:
    """A Lua script, as a class attribute next to the methods that run it: registered with the
    part's Redis client on first use (registering hashes it; Redis loads it on the first call)."""

    def __init__(self, source: str):
        self.source = source
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, part: StatePart | None, owner: type | None = None) -> Any:
        if part is None:
            return self
        script = part.redis.register_script(self.source)
        part.__dict__[self.name] = script  # found before this descriptor from now on
        return script


class StatePart:
    """One part of this worker's view of what all workers share in Redis (`SharedState`)."""

    redis: Any
    prefix: str
    worker: str
    worker_ms: int  # the worker timeout: a worker silent this long is dead

    def key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))
