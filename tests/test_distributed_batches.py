"""Distributed mode's round trips: requests taken in batches, outcomes sent in batches, places per
origin kept by their worker — at most one Redis round trip per request, and nothing lost."""

from __future__ import annotations

import os
import pickle
import re
import signal
import time
import uuid
from collections import Counter
from urllib.parse import urlsplit

import pytest

from tests.conftest import site_process, wait_for
from tests.sites import tree
from tests.test_distributed import run, shared_crawl, start_worker


def finished(process, log) -> str:
    assert process.wait(timeout=120) == 0
    log.seek(0)
    output = log.read()
    log.close()
    return output


def stat(output: str, name: str) -> int:
    found = re.search(rf"'{re.escape(name)}': (\d+)", output)
    assert found, f"no {name} in the worker's stats"
    return int(found.group(1))


def test_a_shared_crawl_costs_at_most_one_redis_round_trip_per_request(
    redis_url, postgres_schema, tmp_path
):
    with site_process("tests.sites.tree", tmp_path) as site:
        _, settings = shared_crawl(
            redis_url,
            postgres_schema,
            CONCURRENT_REQUESTS="8",
            CONCURRENT_REQUESTS_PER_DOMAIN="8",
            DISTRIBUTED_BATCH_SIZE="8",
        )
        seeds = [f"{site.origins['tree']}/p/0"]
        workers = [start_worker(tmp_path, name, seeds, settings) for name in ("one", "two")]
        outputs = [finished(process, log) for process, log in workers]
        requested = Counter(r["path"] for r in site.requests() if r["origin"] == "tree")
    # Every page once, across both workers, and both workers took part.
    assert all(requested[f"/p/{n}"] == 1 for n in range(tree.PAGES["tree"])), requested
    requests = [stat(output, "downloader/request_count") for output in outputs]
    assert all(requests), requests
    # Every command, pipeline and script sent, counted where the connection sends it.
    trips = sum(stat(output, "distributed/redis_round_trips") for output in outputs)
    assert trips <= sum(requests), (trips, requests)


def inflight_urls(client, key: str) -> set[str]:
    """The requests filed under a worker's `inflight` hash (value: score, newline, request)."""
    urls = set()
    for value in client.hvals(key):
        data = value.split(b"\n", 1)[1]
        urls.add(pickle.loads(data)["url"])  # scrapy-redis's serializer: a pickled dict
    return urls


def test_a_killed_workers_buffered_requests_are_crawled_by_another(
    redis_url, postgres_schema, tmp_path
):
    import redis

    client = redis.Redis.from_url(redis_url)
    with site_process("tests.sites.tree", tmp_path) as site:
        crawl_id, settings = shared_crawl(
            redis_url, postgres_schema, DISTRIBUTED_WORKER_TIMEOUT="3", DISTRIBUTED_BATCH_SIZE="8"
        )
        seeds = [f"{site.origins['slowtree']}/p/0"]
        survivor, survivor_log = start_worker(tmp_path, "one", seeds, settings)
        victim, victim_log = start_worker(tmp_path, "two", seeds, settings)
        key = f"rightscrawl:{crawl_id}:inflight:"
        try:
            # More requests in hand than it may have in flight (CONCURRENT_REQUESTS 2): the
            # rest are in its local buffer, or done and not yet said so.
            wait_for(
                lambda: [
                    k
                    for k in client.scan_iter(match=key + "*")
                    if f":{victim.pid}:" in k.decode() and client.hlen(k) > 2
                ],
                timeout=60,
                what="the second worker to hold more requests than it has in flight",
            )
            os.kill(victim.pid, signal.SIGSTOP)  # frozen: what it holds is read, then it dies
            held = set()
            for k in client.scan_iter(match=key + "*"):
                if f":{victim.pid}:" in k.decode():
                    held |= inflight_urls(client, k)
            killed_at = time.monotonic()
            victim.kill()
            victim.wait(timeout=30)
            finished(survivor, survivor_log)
            leftovers = list(client.scan_iter(match=f"rightscrawl:{crawl_id}:inflight:*"))
        finally:
            for k in client.scan_iter(match=f"rightscrawl:{crawl_id}:*"):
                client.delete(k)
            client.close()
            victim_log.close()
        requests = [r for r in site.requests() if r["path"].startswith("/p/")]
    assert leftovers == []
    before = Counter(r["path"] for r in requests if r["t"] < killed_at)
    after = Counter(r["path"] for r in requests if r["t"] >= killed_at)
    held_pages = {urlsplit(url).path for url in held} - {"/sitemap.xml"}
    buffered = {page for page in held_pages if not before[page]}
    assert buffered, "the victim held no request it had not started"
    for page in held_pages:  # each crawled again, or for the first time, by the survivor
        assert after[page] == 1, page
    pages = [f"/p/{n}" for n in range(tree.PAGES["slowtree"])]
    never = [page for page in pages if not before[page] + after[page]]
    assert never == [], f"never fetched: {never}"
    twice = sum(before[page] + after[page] - 1 for page in pages)
    assert twice <= len(held_pages - buffered)  # only what it had started is fetched twice


@pytest.fixture
def counted(redis_url):
    """A worker's view of a crawl's shared state whose round trips are counted."""
    from crawler.distributed import SharedState
    from crawler.distributed.part import RoundTrips, counting_client

    prefix = f"rightscrawl:test-{uuid.uuid4().hex[:12]}"
    trips = RoundTrips()
    state = SharedState(
        counting_client(redis_url, trips), prefix, "worker-0", lease_ms=60_000, round_trips=trips
    )
    yield state
    for key in state.redis.scan_iter(match=prefix + ":*"):
        state.redis.delete(key)
    state.redis.close()


def places(state, origin: str) -> set[str]:
    return {lease.decode() for lease in state.redis.zrange(state.key("leases", origin), 0, -1)}


def test_a_place_goes_to_the_workers_next_request_without_a_round_trip(counted):
    origin = "http://a.example"

    async def scenario():
        await counted.take_turn(origin, "r1", 2, 0.0)
        trips = counted.round_trips.count
        counted.release(origin, "r1")
        await counted.take_turn(origin, "r2", 2, 0.0)  # r1's place, without asking Redis
        assert counted.round_trips.count == trips
        assert places(counted, origin) == {"r1"}  # one place in Redis, used by r2 now
        trips = counted.round_trips.count
        await counted.take_turn(origin, "r3", 2, 0.0)  # a second place: one round trip
        assert counted.round_trips.count == trips + 1
        assert places(counted, origin) == {"r1", "r3"}

    run(scenario())


def test_a_worker_keeps_no_more_than_its_share_of_an_origins_places(counted):
    origin = "http://a.example"

    async def scenario():
        await counted.take_turn(origin, "r1", 2, 0.0)
        await counted.take_turn(origin, "r2", 2, 0.0)
        counted.live_workers = 2  # another worker joined: a share of 1 place each
        counted.release(origin, "r1")
        counted.sync()
        assert places(counted, origin) == {"r2"}  # back at the next sync, not kept spare
        counted.release(origin, "r2")
        counted.sync()
        assert places(counted, origin) == {"r2"}  # its share, kept for its next request

    run(scenario())
