"""crawler/fetched_once.py: one fetch per key while others wait, kept for a time, fail closed.

Run on an asyncio loop as Scrapy's asyncio reactor runs coroutines: a Deferred is awaited as a
future (what `maybe_deferred_to_future` does under that reactor; it needs one installed).
"""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from crawler import fetched_once
from crawler.fetched_once import FetchedOnce


@pytest.fixture(autouse=True)
def deferreds_as_futures(monkeypatch):
    monkeypatch.setattr(
        fetched_once, "maybe_deferred_to_future", lambda d: d.asFuture(asyncio.get_running_loop())
    )


def test_askers_during_the_one_fetch_wait_for_it_and_get_its_value():
    async def scenario():
        cache: FetchedOnce[str, str] = FetchedOnce(60)
        gate = asyncio.Event()
        fetches = []

        async def fetch():
            fetches.append(1)
            await gate.wait()
            return "evidence", None

        first = asyncio.ensure_future(cache.get("o", fetch, lambda: "failed"))
        second = asyncio.ensure_future(cache.get("o", fetch, lambda: "failed"))
        await asyncio.sleep(0)
        assert not first.done() and not second.done() and cache.cached("o") is None
        gate.set()
        assert await first == await second == "evidence"
        assert await cache.get("o", fetch, lambda: "failed") == "evidence"
        assert fetches == [1]

    asyncio.run(scenario())


def test_a_value_is_fetched_again_once_its_time_is_up():
    async def scenario():
        cache: FetchedOnce[str, int] = FetchedOnce(60)
        count = iter(range(10))

        async def fetch():
            return next(count), 0.0  # usable for no time (a replayed copy at its age limit)

        assert await cache.get("o", fetch, lambda: -1) == 0
        time.sleep(0.001)
        assert await cache.get("o", fetch, lambda: -1) == 1
        assert cache.cached("o") == 1

    asyncio.run(scenario())


def test_a_fetch_that_raises_caches_the_fail_closed_value_and_frees_the_waiters(caplog):
    async def scenario():
        cache: FetchedOnce[str, str] = FetchedOnce(60)
        gate = asyncio.Event()

        async def broken():
            await gate.wait()
            raise RuntimeError("a bug")

        def failed():
            logging.getLogger("test").exception("fetch failed")  # in the handler: has exc_info
            return "unreachable"

        first = asyncio.ensure_future(cache.get("o", broken, failed))
        waiter = asyncio.ensure_future(cache.get("o", broken, failed))
        await asyncio.sleep(0)
        gate.set()
        assert await first == await waiter == "unreachable"
        assert cache.cached("o") == "unreachable"

    asyncio.run(scenario())
    assert "RuntimeError: a bug" in caplog.text
