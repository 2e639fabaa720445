"""`scrapy crawl`, with exit statuses that cron and monitoring can act on.

Scrapy's own command exits 0 whenever the crawl started. This one also exits 1 when the crawl
stopped for a reason other than finishing its work (e.g. `provenance_db_error`: the database kept
failing; `warc_write_error`: the WARC folder is full, pipelines/warc.py), and 75 when another
crawl holds the output (see crawler/run_lock.py).

`-a render=js` renders every page in the browser (`RENDER_JS`); `-a render=none` none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.spiders import Spider

# Finish reasons that mean the crawl did what it was asked: finished, stopped by a CLOSESPIDER_*
# limit, or interrupted by the operator (Ctrl-C, SIGTERM).
SUCCESSFUL = ("finished", "shutdown", "closespider_")


RENDER_VALUES = {"js": True, "none": False}


class Command(ScrapyCrawlCommand):
    def process_options(self, args, opts) -> None:
        super().process_options(args, opts)
        # `-a render=js` is a spider argument for the user, a setting for the add-on: the
        # download handler is chosen before any spider exists.
        render = opts.spargs.get("render")
        if render is not None:
            if render not in RENDER_VALUES:
                raise UsageError(f"-a render= takes js or none, not {render!r}")
            self.settings.set("RENDER_JS", RENDER_VALUES[render], priority="cmdline")

    def _create_crawler(self, spidercls: type[Spider] | str) -> Crawler:
        crawler = super()._create_crawler(spidercls)
        self._crawlers = [*getattr(self, "_crawlers", []), crawler]
        return crawler

    def run(self, args, opts) -> None:
        super().run(args, opts)
        if self.exitcode:
            return
        for crawler in getattr(self, "_crawlers", []):
            reason = crawler.stats.get_value("finish_reason") if crawler.stats else None
            if reason is not None and not str(reason).startswith(SUCCESSFUL):
                self.exitcode = 1
