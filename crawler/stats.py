"""Scrapy's in-memory stats collector without the access shim Scrapy 2.13+ puts on every read.

`scrapy.statscollectors.StatsCollector.__getattribute__` wraps the stats methods to warn about
their deprecated `spider` argument, and runs for every attribute read of the collector, its own
`self._stats` in each `inc_value` included (a failed lookup and a caught AttributeError each
time): measured ~20 times the cost of the dictionary update itself, paid some thirty times per
page by Scrapy's and our counters. Same methods, same arguments, same values; only that
deprecation warning is not given. The add-on puts it in place of Scrapy's default collector
(a project's own `STATS_CLASS` is left alone).
"""

from __future__ import annotations

from scrapy.statscollectors import MemoryStatsCollector

DEFAULT = "scrapy.statscollectors.MemoryStatsCollector"


class DirectMemoryStatsCollector(MemoryStatsCollector):
    __getattribute__ = object.__getattribute__
