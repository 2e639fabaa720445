"""Values fetched once per key and kept for a time: an origin's policy documents, a licence.

Callers asking while the one fetch runs wait for it and read its result from the cache. The
Deferred they wait on only signals completion: a Deferred passes one result down its callback
chain, so each waiter reads the cache instead. A fetch that raises (a bug) must not leave anyone
waiting: `failed()`, called inside the handler so it can log the exception, gives the value to
cache instead, the caller's fail-closed reading.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class FetchedOnce(Generic[K, V]):
    def __init__(self, seconds: float):
        self.seconds = seconds  # how long a value is used, unless its fetch says less
        self._entries: dict[K, tuple[V, float] | Deferred[None]] = {}

    def cached(self, key: K) -> V | None:
        """The value fetched for `key`, expired or not; None while none is (or it is fetching)."""
        entry = self._entries.get(key)
        return entry[0] if isinstance(entry, tuple) else None

    async def get(
        self,
        key: K,
        fetch: Callable[[], Awaitable[tuple[V, float | None]]],
        failed: Callable[[], V],
    ) -> V:
        """The value of `key`: cached, or from `fetch()` → (value, seconds it may be used, or None
        for `self.seconds`; the shorter of the two counts)."""
        entry = self._entries.get(key)
        while isinstance(entry, Deferred):
            await maybe_deferred_to_future(entry)
            entry = self._entries.get(key)
        if entry is not None and time.monotonic() < entry[1]:
            return entry[0]
        waiting: Deferred[None] = Deferred()
        self._entries[key] = waiting
        usable_for = self.seconds
        try:
            value, left = await fetch()
            if left is not None:
                usable_for = min(usable_for, left)
        except Exception:  # noqa: BLE001 - see the module docstring
            value = failed()
        self._entries[key] = (value, time.monotonic() + usable_for)
        waiting.callback(None)
        return value
