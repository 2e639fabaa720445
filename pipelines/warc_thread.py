"""One worker thread that runs jobs in the order given, behind a bounded queue.

The WARC pipeline hands it each exchange to build, compress, digest and write: the reactor thread
stays free for downloads and parsing, and since zlib and hashlib release the GIL the work runs on
the second core. One thread, so the records of a file follow each other in submission order.

Back-pressure, never unbounded buffering: at most `limit` jobs wait for or run in the thread.
`admit()` returns None while there is room, else a Deferred that fires (first come, first
served) when a job finishes. A caller that must not wait submits without asking; it goes past the
limit by what its own count bounds (policy documents: one fetch per origin and kind at a time).

Results come back on the reactor thread (`callFromThread`), in submission order.

While the thread runs, the interpreter's switch interval is 0.5 ms instead of 5 ms. The thread
releases the GIL for each compression, digest and write, and each time it wants it back it waits
until the reactor thread, busy parsing, yields it: up to the switch interval. At 5 ms its ~8
waits an exchange capped it below the crawl's pace (every capture waited for the queue, and
`benchmarks/run.py` measured rightscrawl at x0.79 of plain Scrapy; at 0.5 ms the queue never
filled). The shorter interval costs the reactor thread only a check of a flag.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from twisted.internet import defer, reactor
from twisted.python.failure import Failure

if TYPE_CHECKING:
    from collections.abc import Callable

# Tests only: seconds the thread sleeps before each job, so that a test can kill a crawl while
# the queue really holds a backlog. Read from the environment, never from settings: no crawl
# configuration can slow its own writer.
DELAY_ENV = "RIGHTSCRAWL_TEST_WRITER_DELAY"
SWITCH_INTERVAL = 0.0005  # seconds


class _SwitchInterval:
    """The shorter interval while any writer thread runs; the interpreter's own after."""

    running = 0
    before = 0.0

    @classmethod
    def shorten(cls) -> None:
        if cls.running == 0:
            cls.before = sys.getswitchinterval()
            sys.setswitchinterval(min(cls.before, SWITCH_INTERVAL))
        cls.running += 1

    @classmethod
    def restore(cls) -> None:
        cls.running -= 1
        if cls.running == 0:
            sys.setswitchinterval(cls.before)


class WriterThread:
    def __init__(self, limit: int, *, name: str = "warc-writer"):
        self.limit = limit
        self.name = name
        self.backlog = 0  # jobs submitted and not finished
        self._waiting: deque[defer.Deferred[None]] = deque()
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._delay = float(os.environ.get(DELAY_ENV) or 0)

    def admit(self) -> defer.Deferred[None] | None:
        """None when a job may be submitted now, else a Deferred that fires when it may."""
        if self.backlog + len(self._waiting) < self.limit:
            return None
        waiter: defer.Deferred[None] = defer.Deferred()
        self._waiting.append(waiter)
        return waiter

    @property
    def waiting(self) -> int:
        """Callers waiting for room."""
        return len(self._waiting)

    def submit(self, job: Callable[..., Any], *args: Any) -> defer.Deferred[Any]:
        """Run `job(*args)` in the thread, after every job submitted before; the Deferred fires
        on the reactor thread with its result or its exception."""
        if self._thread is None:
            _SwitchInterval.shorten()
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()
        done: defer.Deferred[Any] = defer.Deferred()
        self.backlog += 1
        self._jobs.put((job, args, done))
        return done

    def drained(self) -> defer.Deferred[None]:
        """Fires once every job submitted so far (and every admitted waiter's) has finished."""
        return self.submit(lambda: None)

    def stop(self) -> None:
        """End the thread after its queued jobs (it is a daemon: a dying process never waits)."""
        if self._thread is not None:
            self._jobs.put(None)
            self._thread.join()
            self._thread = None
            _SwitchInterval.restore()

    def _run(self) -> None:
        while (entry := self._jobs.get()) is not None:
            job, args, done = entry
            if self._delay:
                time.sleep(self._delay)
            try:
                result = job(*args)
            except BaseException:  # noqa: BLE001 - handed to the reactor thread
                reactor.callFromThread(self._finished, done, Failure())
            else:
                reactor.callFromThread(self._finished, done, result)

    def _finished(self, done: defer.Deferred[Any], result: Any) -> None:
        self.backlog -= 1
        # Room for the first in line; one that submits nothing (the crawl is stopping) passes
        # its turn on, so no waiter is left behind an empty queue.
        while self._waiting and self.backlog < self.limit:
            self._waiting.popleft().callback(None)
        done.callback(result)  # a Failure makes it errback
