"""Distributed mode: two worker processes, one Redis frontier, one PostgreSQL database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter

import pytest
from sqlalchemy import select

from pipelines import models
from tests.conftest import LOOPBACK_SETTINGS, REPO, assert_consistent, site_process, wait_for
from tests.sites.farm import ANSWER_SECONDS, PAGES


@pytest.fixture
def farm(tmp_path):
    with site_process("tests.sites.farm", tmp_path) as site:
        yield site


def start_worker(tmp_path, name, seeds, settings) -> tuple[subprocess.Popen, object]:
    command = [sys.executable, "-m", "scrapy", "crawl", "corpus", "-a", "urls=" + ",".join(seeds)]
    merged = {**LOOPBACK_SETTINGS, "WARC_DIR": str(tmp_path / name / "warc"), **settings}
    for key, value in merged.items():
        command += ["-s", f"{key}={value}"]
    log = open(tmp_path / f"{name}.log", "w+")  # noqa: SIM115 - read after the worker ends
    process = subprocess.Popen(
        command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
    )
    return process, log


def shared_crawl(redis_url: str, db_url: str, **extra: str) -> tuple[str, dict[str, str]]:
    """A new crawl id, and the settings of its workers: one Redis frontier, one database."""
    crawl_id = f"test-{uuid.uuid4().hex[:12]}"
    settings = {
        "DISTRIBUTED_REDIS_URL": redis_url,
        "DISTRIBUTED_CRAWL_ID": crawl_id,
        "PROVENANCE_DB_URL": db_url,
        "CONCURRENT_REQUESTS_PER_DOMAIN": "2",
        # A worker takes requests from the frontier while it has room (CONCURRENT_REQUESTS):
        # kept small, both workers get a share of two origins.
        "CONCURRENT_REQUESTS": "2",
        **extra,
    }
    return crawl_id, settings


def test_two_workers_share_one_frontier_evidence_and_politeness(
    farm, redis_url, postgres_schema, tmp_path
):
    crawl_id, settings = shared_crawl(redis_url, postgres_schema)
    seeds = [f"{farm.origins[name]}/p/0" for name in ("left", "right")]
    workers = [start_worker(tmp_path, name, seeds, settings) for name in ("one", "two")]
    outputs = []
    for process, log in workers:
        assert process.wait(timeout=180) == 0
        log.seek(0)
        outputs.append(log.read())
        log.close()

    requests = farm.requests()
    by_origin = Counter((r["origin"], r["path"]) for r in requests)
    for origin in ("left", "right"):
        assert by_origin[(origin, "/robots.txt")] == 1, outputs  # once for all workers
        assert by_origin[(origin, "/.well-known/tdmrep.json")] == 1
        for n in range(PAGES):
            assert by_origin[(origin, f"/p/{n}")] == 1, f"{origin} /p/{n}"
        assert by_origin[(origin, "/private/x")] == 0  # refused by robots.txt, by either worker
    # At most CONCURRENT_REQUESTS_PER_DOMAIN in flight per origin across both workers: each page
    # takes ANSWER_SECONDS, so any three page requests to one origin span at least about that.
    for origin in ("left", "right"):
        times = sorted(
            r["t"] for r in requests if r["origin"] == origin and r["path"].startswith("/p/")
        )
        spans = [later - earlier for earlier, later in zip(times, times[2:], strict=False)]
        assert min(spans) >= ANSWER_SECONDS * 0.9, (origin, min(spans))

    engine = models.create_engine(postgres_schema)
    try:
        with engine.connect() as connection:
            runs = connection.execute(select(models.Run.id)).scalars().all()
            captures = connection.execute(select(models.Capture.url, models.Capture.run_id)).all()
            private = (
                connection.execute(
                    select(models.Decision.reasons).where(models.Decision.url.like("%/private/x"))
                )
                .scalars()
                .all()
            )
    finally:
        engine.dispose()
    assert len(runs) == 2
    assert len(captures) == 2 * PAGES
    assert len({url for url, _ in captures}) == 2 * PAGES  # no page captured twice
    assert {run for _, run in captures} == set(runs), "both workers did part of the work"
    assert len(private) == 2 and all("robots-disallowed" in r for r in private)

    dirs = [str(tmp_path / name / "warc") for name in ("one", "two")]
    assert_consistent(dirs, postgres_schema)


def test_requests_a_killed_worker_had_taken_go_back_to_the_frontier(
    farm, redis_url, postgres_schema, tmp_path
):
    import redis

    crawl_id, settings = shared_crawl(
        redis_url, postgres_schema, DISTRIBUTED_WORKER_TIMEOUT="3", DISTRIBUTED_BATCH_SIZE="2"
    )
    seeds = [f"{farm.origins[name]}/p/0" for name in ("left", "right")]
    survivor, survivor_log = start_worker(tmp_path, "one", seeds, settings)
    victim, victim_log = start_worker(tmp_path, "two", seeds, settings)
    client = redis.Redis.from_url(redis_url)
    try:
        wait_for(  # until the victim has requests in hand (Redis state, not a delay)
            lambda: [
                key
                for key in client.scan_iter(match=f"rightscrawl:{crawl_id}:inflight:*")
                if f":{victim.pid}:" in key.decode() and client.hlen(key)
            ],
            timeout=60,
            what="the second worker to take a request",
        )
        os.kill(victim.pid, signal.SIGSTOP)  # frozen, to count what it holds
        held = sum(
            client.hlen(key)
            for key in client.scan_iter(match=f"rightscrawl:{crawl_id}:inflight:*")
            if f":{victim.pid}:" in key.decode()
        )
        victim.kill()  # SIGKILL: what it had taken is in nobody's hands
        victim.wait(timeout=30)
        assert survivor.wait(timeout=120) == 0
        leftovers = list(client.scan_iter(match=f"rightscrawl:{crawl_id}:inflight:*"))
    finally:
        for key in client.scan_iter(match=f"rightscrawl:{crawl_id}:*"):
            client.delete(key)
        client.close()
        for log in (survivor_log, victim_log):
            log.close()
    assert leftovers == []
    requested = Counter((r["origin"], r["path"]) for r in farm.requests())
    for origin in ("left", "right"):
        for n in range(PAGES):
            assert requested[(origin, f"/p/{n}")] >= 1, f"{origin} /p/{n} was never fetched"
    twice = sum(count - 1 for (_, path), count in requested.items() if path.startswith("/p/"))
    # At most what the killed worker held (taken, and not yet said done), fetched again.
    assert twice <= held


@pytest.fixture
def two_workers(redis_url):
    """Two workers' views of one crawl's shared state, on the real Redis server."""
    import redis

    from crawler.distributed import SharedState

    prefix = f"rightscrawl:test-{uuid.uuid4().hex[:12]}"
    clients = [redis.Redis.from_url(redis_url) for _ in range(2)]
    states = [
        SharedState(client, prefix, f"worker-{n}", lease_ms=60_000, evidence_seconds=60)
        for n, client in enumerate(clients)
    ]
    yield states
    for key in clients[0].scan_iter(match=prefix + ":*"):
        clients[0].delete(key)
    for client in clients:
        client.close()


def run(coroutine):
    import asyncio

    return asyncio.run(coroutine)


async def until(condition, *, timeout: float = 10, what: str = "") -> None:
    """Poll `condition` (Redis state) from inside the event loop, failing after `timeout`."""
    import asyncio

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what or condition}")
        await asyncio.sleep(0.01)


def refusals(state) -> list[float]:
    """Watch the lease script of `state`: the times (monotonic) at which Redis refused it a place.
    The script runs as before; only its answers are noted."""
    refused: list[float] = []
    script = state._lease_and_turn

    def watched(*args, **kwargs):
        wait = script(*args, **kwargs)
        if wait < 0:
            refused.append(time.monotonic())
        return wait

    state._lease_and_turn = watched
    return refused


def leases(state, origin: str) -> set[str]:
    """The requests that hold a place for `origin` in Redis right now (expired ones left out)."""
    seconds, microseconds = state.redis.time()
    now_ms = seconds * 1000 + microseconds // 1000
    held = state.redis.zrangebyscore(state.key("leases", origin), now_ms, "+inf")
    return {lease.decode() for lease in held}


def test_crawl_delay_and_back_off_hold_across_workers(two_workers):

    one, two = two_workers
    origin = "http://a.example"

    async def starts():
        booked = []
        for state in (one, two, one, two):
            await state.wait_turn(origin, 0.2)
            # The start it was given, on Redis's clock: the next one is booked 200 ms after it.
            booked.append(int(state.redis.get(state.key("next", origin))) - 200)
        return booked

    began = time.monotonic()
    booked = run(starts())
    waited = time.monotonic() - began
    gaps = [later - earlier for earlier, later in zip(booked, booked[1:], strict=False)]
    assert min(gaps) >= 200, gaps  # one clock for the origin, whoever asks (ms, Redis's clock)
    assert waited >= 0.6 - 0.01, waited  # and each worker did wait for its turn (loop clock)
    one.push_back(origin, 0.5)  # Retry-After seen by worker one
    started = time.monotonic()
    run(two.wait_turn(origin, 0.0))
    assert time.monotonic() - started >= 0.45


def test_leases_limit_requests_in_flight_across_workers(two_workers):
    import asyncio

    one, two = two_workers
    origin = "http://a.example"
    refused = refusals(two)

    async def scenario():
        await one.take_turn(origin, "r1", 2, 0.0)
        await two.take_turn(origin, "r2", 2, 0.0)
        assert leases(one, origin) == {"r1", "r2"}  # one per worker, both in Redis
        third = asyncio.ensure_future(two.take_turn(origin, "r3", 2, 0.0))
        # Refused by Redis twice: the third asked, was told no, and is asking again.
        await until(lambda: len(refused) >= 2, what="the third request to be refused a place")
        assert not third.done() and leases(one, origin) == {"r1", "r2"}
        one.release(origin, "r1")  # kept by worker one for its next request to the origin …
        one.give_back_places()  # … until it has none (or at a sync, SPARE_SECONDS later)
        await asyncio.wait_for(third, 2)
        assert leases(one, origin) == {"r2", "r3"}

    run(scenario())


def test_a_lease_outlasts_a_back_off(two_workers):
    import asyncio

    one, two = two_workers
    origin = "http://a.example"
    one.lease_ms = two.lease_ms = 600  # a back-off longer than a lease
    refused = refusals(two)

    async def scenario():
        one.push_back(origin, 1.5)  # e.g. Retry-After
        waiting = asyncio.ensure_future(one.take_turn(origin, "r1", 1, 0.0))
        await until(lambda: leases(one, origin) == {"r1"}, what="r1 to hold the origin's place")
        taken = time.monotonic()
        rival = asyncio.ensure_future(two.take_turn(origin, "r2", 1, 0.0))
        await waiting  # the back-off is over for r1
        # All along, r1 kept the only place: Redis refused r2 even after r1's first lease
        # (600 ms) would have run out, because the waiting worker renewed it.
        assert leases(one, origin) == {"r1"} and not rival.done()
        assert refused and refused[-1] - taken > 0.6 + 0.2, (refused[-1] - taken, refused)
        one.release(origin, "r1")
        one.give_back_places()
        await asyncio.wait_for(rival, 2)
        assert leases(one, origin) == {"r2"}

    run(scenario())


def test_evidence_is_fetched_by_one_worker_and_replayed_by_the_others(two_workers):
    import asyncio

    from policies.origin import PolicyDocument

    one, two = two_workers
    origin = "http://a.example"
    fetched = []
    lock_refused = []
    set_lock = two.redis.set

    def watched_set(name, *args, **kwargs):  # the other worker's try for the evidence lock
        taken = set_lock(name, *args, **kwargs)
        if name == two.key("evidence-lock", origin) and not taken:
            lock_refused.append(time.monotonic())
        return taken

    two.redis.set = watched_set

    async def fetch(kind, url, **options):
        fetched.append(url)
        # The fetch lasts until the other worker has found the lock taken (Redis said no).
        await until(lambda: lock_refused, what="the other worker to find the lock taken")
        return PolicyDocument(url, 200, b"User-agent: *\nDisallow: /x\n", "<urn:uuid:1>"), None

    async def build(fetch):
        document, _ = await fetch("robots.txt", "http://a.example/robots.txt")
        return document

    async def both():
        return await asyncio.gather(
            one.evidence(origin, build, fetch),
            two.evidence(origin, build, fetch),
        )

    (first, first_ttl), (second, second_ttl) = run(both())
    assert fetched == ["http://a.example/robots.txt"]
    assert lock_refused, "the second worker never waited on the first one's fetch"
    assert first == second  # same bytes, same record id cited by both workers' decisions
    assert 0 < min(first_ttl, second_ttl) <= 60  # the copy is as old as the first fetch

    # Later (once Redis says the stored copy has aged past 59 s of its 60), a worker replaying
    # it may use it only for what is left.
    key = one.key("evidence", origin)
    wait_for(lambda: 0 < one.redis.pttl(key) <= 59_000, timeout=10, what="the copy to age")
    _, later_ttl = run(two.evidence(origin, build, fetch))
    assert fetched == ["http://a.example/robots.txt"]
    assert later_ttl <= 59


def test_an_unreachable_redis_is_a_clear_error_at_start(tmp_path):
    from tests.conftest import require_module, run_crawl

    require_module("scrapy_redis", "distributed mode needs scrapy-redis")

    result = run_crawl(
        tmp_path,
        urls=["http://127.0.0.1:9/"],
        settings={"DISTRIBUTED_REDIS_URL": "redis://127.0.0.1:1/0"},
    )
    assert result.returncode == 1
    assert "Setting DISTRIBUTED_REDIS_URL: cannot use 'redis://127.0.0.1:1/0'" in result.output
    assert not list(tmp_path.glob("warc/*.warc.gz*"))


def test_distributed_settings_override_the_projects_per_worker_pacing(redis_url):
    from scrapy.settings import Settings

    from crawler.addon import Rightscrawl

    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")  # DOWNLOAD_DELAY, AutoThrottle
    settings.set("DISTRIBUTED_REDIS_URL", redis_url, priority="cmdline")
    Rightscrawl().update_settings(settings)
    assert settings.get("SCHEDULER") == "crawler.distributed.SharedScheduler"
    assert settings.get("DUPEFILTER_CLASS") == "crawler.distributed.SharedDupeFilter"
    # the project's 0.5 s becomes the shared, per-origin interval of all workers together
    assert settings.getfloat("DISTRIBUTED_DOWNLOAD_DELAY") == 0.5
    assert settings.getfloat("DOWNLOAD_DELAY") == 0.0
    assert not settings.getbool("AUTOTHROTTLE_ENABLED")
