"""The add-on's stats collector (crawler/stats.py): Scrapy's, counting the same, minus the shim."""

from __future__ import annotations

from scrapy.settings import Settings
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from crawler.addon import Rightscrawl
from crawler.stats import DirectMemoryStatsCollector


def _settings(**given) -> Settings:
    settings = Settings()
    for name, value in given.items():
        settings.set(name, value, priority="project")
    Rightscrawl().update_settings(settings)
    return settings


def test_the_addon_replaces_scrapys_default_collector():
    assert _settings()["STATS_CLASS"] == "crawler.stats.DirectMemoryStatsCollector"


def test_a_projects_own_collector_is_kept():
    chosen = "scrapy.statscollectors.DummyStatsCollector"
    assert _settings(STATS_CLASS=chosen)["STATS_CLASS"] == chosen


def test_it_counts_as_scrapys_does():
    crawler = get_crawler()
    collectors = [MemoryStatsCollector(crawler), DirectMemoryStatsCollector(crawler)]
    for stats in collectors:
        stats.inc_value("a")
        stats.inc_value("a", 2)
        stats.inc_value("b", start=10)
        stats.max_value("m", 3)
        stats.max_value("m", 1)
        stats.min_value("n", 3)
        stats.min_value("n", 1)
        stats.set_value("s", "x")
        stats.set_value("t", 1)
    assert collectors[0].get_stats() == collectors[1].get_stats()
    assert collectors[1].get_stats() == {"a": 3, "b": 11, "m": 3, "n": 1, "s": "x", "t": 1}
    assert collectors[1].get_value("missing", 7) == 7
