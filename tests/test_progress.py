"""A long crawl says how it is going, in one line a person can read, at the default log level."""

from __future__ import annotations

import re

from tests.conftest import run_crawl

PROGRESS = re.compile(
    r"\[crawler\.progress\] INFO: Progress: (\d+) kept, (\d+) excluded(?: \(([^)]*)\))?, "
    r"(\d+|\?) queued, [\d.]+ pages/s, [\d.]+ MB written"
)


def test_progress_line_every_interval(gate_site, tmp_path):
    slow = gate_site.origins["slow"]
    crawl = run_crawl(
        tmp_path,
        urls=[f"{slow}/s/0", f"{gate_site.origins['main']}/"],
        settings={"LOGSTATS_INTERVAL": "0.5", "CLOSESPIDER_PAGECOUNT": "60"},
    )
    assert crawl.returncode == 0, crawl.output[-2000:]
    lines = PROGRESS.findall(crawl.output)
    assert len(lines) >= 2, crawl.output[-3000:]
    kept = [int(line[0]) for line in lines]
    assert kept == sorted(kept) and kept[-1] > 0  # counts grow
    # Scrapy's own "Crawled N pages (at N pages/min)" line is replaced, not doubled.
    assert "pages/min" not in crawl.output
    # Excluded pages name their top reasons, e.g. "robots-disallowed 2".
    reasons = [line[2] for line in lines if int(line[1])]
    assert reasons and all(re.fullmatch(r"[a-z-]+ \d+(, [a-z-]+ \d+)*", r) for r in reasons)


def test_no_warning_noise_at_start(gate_site, tmp_path):
    crawl = run_crawl(
        tmp_path,
        urls=[f"{gate_site.origins['busy']}/p/0"],  # allowed, no links
        settings={"CRAWLER_CONTACT": "mailto:test@example.org"},
    )
    assert crawl.returncode == 0
    assert crawl.decisions()[f"{gate_site.origins['busy']}/p/0"][0] == "kept"
    warnings = [line for line in crawl.output.splitlines() if " WARNING: " in line]
    assert warnings == []
