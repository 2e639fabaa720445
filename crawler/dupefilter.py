"""Scrapy's request dupefilter, written through to JOBDIR at once, and honest after a kill.

Scrapy's RFPDupeFilter buffers `requests.seen`; a crawl killed with SIGKILL loses the fingerprints
still in the buffer, and on resume fetches (and would archive) those pages again. Flushing each
fingerprint keeps a resumed crawl from capturing a page twice. Without JOBDIR nothing is written.

After a kill (or a stop on a failure, crawler/job_resume.py) `requests.seen` says too much: it
holds the requests that were fetched but never archived nor decided — the ones in flight, or
dropped when the WARC folder filled up. A resumed crawl that trusted it would refetch such a
page (its link is rebuilt) yet filter the links of that page it had already queued once, and
lose them for good. So an interrupted job starts from what the job DECIDED instead: the file is
rebuilt from the decided URLs, which is what "seen" must mean for nothing to be fetched twice.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Self

from scrapy import Request
from scrapy.dupefilters import RFPDupeFilter
from scrapy.utils.job import job_dir

from crawler.job_resume import decided_urls, interrupted_runs

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

SEEN = "requests.seen"


class DurableDupeFilter(RFPDupeFilter):
    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        jobdir = job_dir(crawler.settings)
        runs = interrupted_runs(crawler)
        if not (jobdir and runs):
            return super().from_crawler(crawler)
        Path(jobdir, SEEN).unlink(missing_ok=True)  # a kill while rebuilding: rebuilt again
        dupefilter = super().from_crawler(crawler)
        for url in decided_urls(crawler.settings.get("PROVENANCE_DB_URL"), runs):
            try:
                dupefilter.request_seen(Request(url))
            except ValueError:  # not a URL Scrapy can request: nothing to filter
                continue
        return dupefilter

    def request_seen(self, request: Request) -> bool:
        seen = super().request_seen(request)
        if not seen and self.file:
            self.file.flush()
        return seen
