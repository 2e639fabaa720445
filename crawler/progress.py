"""Extension: one progress line a person can read, every LOGSTATS_INTERVAL (replaces LogStats).

Progress: 1234 kept, 567 excluded (robots-disallowed 300, http-error 120, noai-meta 40),
890 queued, 12.3 pages/s, 45.6 MB written
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.extensions.logstats import LogStats

from crawler import meta

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request, Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

TOP_REASONS = 3
EXCLUDED_PREFIX = "policy/excluded/"


def excluded_by_count(stats: dict) -> list[tuple[int, str]]:
    """(count, reason code) of the exclusions counted in the stats, most frequent first."""
    return sorted(
        (
            (count, key.removeprefix(EXCLUDED_PREFIX))
            for key, count in stats.items()
            if key.startswith(EXCLUDED_PREFIX)
        ),
        reverse=True,
    )


def megabytes(count: int) -> str:
    return f"{count / 1_000_000:.1f} MB"


class CrawlProgress(LogStats):
    crawler: Crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        extension = super().from_crawler(crawler)
        extension.crawler = crawler
        return extension

    def queued(self) -> int | None:
        scheduler = getattr(self.crawler.engine, "scheduler", None)
        try:
            return len(scheduler) if scheduler is not None else None
        except (TypeError, NotImplementedError):
            return None

    def log(self, spider: Spider) -> None:
        self.calculate_stats()
        stats = self.stats.get_stats()
        reasons = excluded_by_count(stats)
        top = ", ".join(f"{reason} {count}" for count, reason in reasons[:TOP_REASONS])
        queued = self.queued()
        logger.info(
            "Progress: %(kept)d kept, %(excluded)d excluded%(top)s, %(queued)s queued, "
            "%(rate).1f pages/s, %(written)s written",
            {
                "kept": stats.get("policy/kept", 0),
                "excluded": stats.get("policy/excluded", 0),
                "top": f" ({top})" if top else "",
                "queued": "?" if queued is None else queued,
                "rate": self.prate / 60,
                "written": megabytes(stats.get("warc/bytes", 0)),
            },
        )


NOTHING_FETCHED = "rightscrawl/nothing_fetched"  # stat: why a finished crawl fetched no page


class NothingFetched:
    """Extension: a crawl that finished without fetching a single page says so, and why, at the
    default log level; `scrapy crawl` then exits with status 3 (crawler/commands/crawl.py).

    Policy documents (robots.txt …) do not count: a crawl whose every seed was refused fetched
    them and nothing else."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.pages = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        extension = cls(crawler)
        crawler.signals.connect(extension.reached, signal=signals.request_reached_downloader)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def reached(self, request: Request, **_: object) -> None:
        if not request.meta.get(meta.EVIDENCE):
            self.pages += 1

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.pages or reason != "finished":
            return
        why = self.why()
        self.crawler.stats.set_value(NOTHING_FETCHED, why)
        logger.warning("The crawl fetched no page: %(why)s", {"why": why})

    def why(self) -> str:
        stats = self.crawler.stats.get_stats()
        settings = self.crawler.settings
        reasons = excluded_by_count(stats)
        if reasons:
            counts = ", ".join(f"{reason} {count}" for count, reason in reasons)
            return f"every URL was refused before fetching ({counts})"
        if settings.get("DISTRIBUTED_REDIS_URL"):
            return (
                f"the shared frontier of DISTRIBUTED_CRAWL_ID "
                f"{settings.get('DISTRIBUTED_CRAWL_ID') or '(the spider name)'!r} had nothing "
                "left: its seeds were crawled before (a crawl's frontier stays in Redis; give a "
                "new DISTRIBUTED_CRAWL_ID for a new crawl)"
            )
        if settings.get("JOBDIR"):
            return f"the job in JOBDIR {settings.get('JOBDIR')} has nothing left to do"
        return "no request was made (no seed, or every seed filtered as seen before)"
