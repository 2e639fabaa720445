"""The Scrapy extension that keeps a worker among the others: its heartbeat, the frontier
looked at while it is idle, and the end of the crawl, once no worker has work in hand."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Self

from scrapy import signals
from scrapy.exceptions import DontCloseSpider, NotConfigured
from twisted.internet import task

from crawler.distributed.state import shared_state

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler

    from crawler.distributed.state import SharedState

logger = logging.getLogger(__name__)

WAKE_SECONDS = 0.5  # an idle worker looks at the frontier this often (Scrapy's own: 5 s)


class SharedFinish:
    """Keep an idle worker open while another worker may still queue requests."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.refresh: task.LoopingCall | None = None
        self.wake: task.LoopingCall | None = None
        self.state: SharedState | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.get("DISTRIBUTED_REDIS_URL"):
            raise NotConfigured
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        self.state = shared_state(self.crawler, spider.name)
        self.state.mark_alive()
        self.state.mark_busy()
        self.state.requeue_lost(self.queue_key)
        self.refresh = task.LoopingCall(self._heartbeat)
        self.refresh.start(self.state.worker_ms / 6000, now=False)  # six beats per timeout
        self.wake = task.LoopingCall(self._wake_if_work)
        self.wake.start(WAKE_SECONDS, now=False)

    @property
    def queue_key(self) -> str:
        assert self.state is not None
        return self.state.key("requests")

    def _heartbeat(self) -> None:
        """Alive (and busy, when it is) for the other workers; what dead ones held goes back.
        A Redis error is logged and the next beat tries again (a LoopingCall whose function
        raises stops for good, and the others would take this worker for dead)."""
        engine = self.crawler.engine
        if self.state is None or engine is None:
            return
        try:
            self.state.mark_alive()
            self.state.flush()
            self.state.renew_leases()
            if not engine.spider_is_idle():
                self.state.mark_busy()
            self.state.requeue_lost(self.queue_key)
        except Exception:
            logger.exception("Distributed heartbeat failed; trying again at the next beat")

    def _wake_if_work(self) -> None:
        """Take requests other workers queued now, not at Scrapy's next heartbeat (5 s): a
        worker with nothing in hand is woken by nothing else."""
        engine = self.crawler.engine
        slot = getattr(engine, "_slot", None)
        if self.state is None or slot is None:
            return
        try:
            self.state.flush(done=False)  # links found, places unused: out within a period
            # A worker with requests in flight asks the frontier as each one ends.
            if engine.needs_backout() or not engine.spider_is_idle():
                return
            if self.state.has_pending() or self.state.frontier_size():
                self.state.empty_until = 0.0
                slot.nextcall.schedule()
        except Exception:
            logger.exception("Looking at the shared frontier failed; trying again")

    def spider_idle(self, spider: Spider) -> None:
        assert self.state is not None
        try:
            # Idle: every request taken has been answered, decided and handed on. A request
            # whose end no hook saw (excluded after the fetch, with no errback) is done too.
            self.state.done_all()
            self.state.give_back_places()
            self.state.mark_idle()
            self.state.requeue_lost(self.queue_key)
            queued = self.state.frontier_size()
            more = queued or self.state.others_busy()
            if queued:  # take them now, not at the next wake
                self.state.empty_until = 0.0
                self.crawler.engine._slot.nextcall.schedule()
        except Exception:  # cannot tell whether others still work: stay, and ask again
            logger.exception("Looking at the shared frontier failed; staying open")
            more = True
        if more:
            raise DontCloseSpider

    def spider_closed(self, spider: Spider) -> None:
        for call in (self.refresh, self.wake):
            if call is not None and call.running:
                call.stop()
        if self.state is not None:
            try:  # what waits goes out; what is not done goes back just below anyway
                self.state.flush()
                self.state.give_back_places()
            except Exception:
                logger.exception("Could not send this worker's last outcomes to the frontier")
            self.state.mark_idle()
            # Taken but not finished (a CLOSESPIDER_* limit, Ctrl-C): for the other workers.
            self.state.requeue_lost(self.queue_key, own=True)
            self.state.leave()
