"""This worker's view of what all workers share in Redis, put together from its parts, and the
crawler's one such view (`shared_state`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from crawler.distributed.config import (
    WORKER_TIMEOUT,
    batch_size,
    key_prefix,
    worker_name,
    worker_timeout,
)
from crawler.distributed.evidence import Evidence
from crawler.distributed.frontier import BATCH_SIZE, Frontier
from crawler.distributed.part import RoundTrips, counting_client
from crawler.distributed.politeness import Politeness
from crawler.distributed.workers import Workers

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings


class SharedState(Evidence, Politeness, Frontier, Workers):
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
        batch_size: int = BATCH_SIZE,
        round_trips: RoundTrips | None = None,
    ):
        self.redis = client
        self.worker_ms = int(worker_timeout * 1000)
        self.evidence_seconds = evidence_seconds
        self.prefix = prefix
        self.worker = worker
        self.lease_ms = lease_ms
        self.held: dict[str, str] = {}  # place → origin, renewed by the heartbeat
        self.round_trips = round_trips or RoundTrips()
        self.init_frontier(batch_size)
        self.init_politeness()

    @classmethod
    def from_settings(cls, settings: BaseSettings, spider_name: str) -> Self:
        round_trips = RoundTrips()
        client = counting_client(settings.get("DISTRIBUTED_REDIS_URL"), round_trips)
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
            batch_size=batch_size(settings),
            round_trips=round_trips,
        )


_ATTRIBUTE = "_rightscrawl_shared_state"


def shared_state(crawler: Crawler, spider_name: str | None = None) -> SharedState | None:
    """The crawler's shared state, or None when the crawl is not distributed."""
    if not crawler.settings.get("DISTRIBUTED_REDIS_URL"):
        return None
    state = getattr(crawler, _ATTRIBUTE, None)
    if state is None:
        name = spider_name or (crawler.spider.name if crawler.spider else crawler.spidercls.name)
        state = SharedState.from_settings(crawler.settings, name)
        state.round_trips.stats = crawler.stats
        setattr(crawler, _ATTRIBUTE, state)
    return state
