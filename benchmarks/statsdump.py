"""A Scrapy extension for the benchmark harness: write the final stats to a JSON file.

    -s EXTENSIONS='{"benchmarks.statsdump.StatsDump": 0}' -s BENCH_STATS_FILE=/tmp/stats.json

Used for both crawls (rightscrawl and the plain spider), so the figures come from the same place
whatever the log level. It does nothing until the spider closes.
"""

from __future__ import annotations

import json

from scrapy import signals
from scrapy.exceptions import NotConfigured


class StatsDump:
    def __init__(self, crawler, path: str):
        self.crawler = crawler
        self.path = path

    @classmethod
    def from_crawler(cls, crawler):
        path = crawler.settings.get("BENCH_STATS_FILE")
        if not path:
            raise NotConfigured("BENCH_STATS_FILE is not set")
        ext = cls(crawler, path)
        # engine_stopped: after spider_closed, once finish_time/elapsed_time_seconds are set.
        crawler.signals.connect(ext.engine_stopped, signal=signals.engine_stopped)
        return ext

    def engine_stopped(self) -> None:
        stats = self.crawler.stats.get_stats()
        with open(self.path, "w", encoding="utf-8") as f:
            json.dump(stats, f, default=str, indent=1, sort_keys=True)
