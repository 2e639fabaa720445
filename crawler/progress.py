"""Extension: one progress line a person can read, every LOGSTATS_INTERVAL (replaces LogStats).

Progress: 1234 kept, 567 excluded (robots-disallowed 300, http-error 120, noai-meta 40),
890 queued, 12.3 pages/s, 45.6 MB written
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy.extensions.logstats import LogStats

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

TOP_REASONS = 3
EXCLUDED_PREFIX = "policy/excluded/"


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
        reasons = sorted(
            (
                (count, key.removeprefix(EXCLUDED_PREFIX))
                for key, count in stats.items()
                if key.startswith(EXCLUDED_PREFIX)
            ),
            reverse=True,
        )
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
