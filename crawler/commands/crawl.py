"""`scrapy crawl`, with exit statuses that cron and monitoring can act on.

Scrapy's own command exits 0 whenever the crawl started. This one also exits 1 when the crawl
stopped for a reason other than finishing its work (e.g. `provenance_db_error`: the database kept
failing; `warc_write_error`: the WARC folder is full, pipelines/warc.py), 3 when it finished
without fetching a single page (every seed refused, a shared frontier or JOBDIR job with nothing
left: crawler/progress.py), and 75 when another crawl holds the output (crawler/run_lock.py).

`-a render=js` renders every page in the browser (`RENDER_JS`); `-a render=auto` only the pages
whose HTML as served lacks their content (`RENDER_AUTO`, crawler/render/auto.py); `-a render=none`
none.
"""

from __future__ import annotations

import sys
from difflib import get_close_matches
from typing import TYPE_CHECKING

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

from crawler.config import report_start_failure
from crawler.progress import NOTHING_FETCHED

NOTHING_FETCHED_STATUS = 3  # finished without fetching a page (crawler/progress.py says why)

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.spiders import Spider

# Finish reasons that mean the crawl did what it was asked: finished, stopped by a CLOSESPIDER_*
# limit, or interrupted by the operator (Ctrl-C, SIGTERM).
SUCCESSFUL = ("finished", "shutdown", "closespider_")


# -a render=… → (RENDER_JS, RENDER_AUTO)
RENDER_VALUES = {"js": (True, False), "auto": (False, True), "none": (False, False)}
COMMAND_ARGUMENTS = ("render",)  # read by this command, not by the spider
# Spider arguments that may be given more than once: their values are joined, one a line.
REPEATABLE_ARGUMENTS = ("include", "exclude")


def join_repeated(spargs: list[str]) -> list[str]:
    """`-a exclude=A -a exclude=B` → one `exclude=A\nB` (Scrapy keeps the last one only)."""
    joined: dict[str, list[str]] = {}
    others = []
    for argument in spargs:
        name, sep, value = argument.partition("=")
        if sep and name.strip() in REPEATABLE_ARGUMENTS:
            joined.setdefault(name.strip(), []).append(value)
        else:
            others.append(argument)
    return others + [f"{name}={chr(10).join(values)}" for name, values in joined.items()]


def check_spider_arguments(spidercls: type[Spider], given: dict[str, str]) -> None:
    """Refuse `-a NAME=…` that the spider does not take (when it declares its `arguments`), with a
    suggestion: `-a profile=us` is almost surely `-s POLICY_PROFILE=us`."""
    accepted = getattr(spidercls, "arguments", None)
    if accepted is None:
        return  # a spider that does not say: Scrapy's usual "any argument" rule
    from crawler.addon import DEFAULTS

    for name in given:
        if name in accepted or name in COMMAND_ARGUMENTS:
            continue
        close = get_close_matches(name, [*accepted, *COMMAND_ARGUMENTS], 1)
        setting = next((s for s in DEFAULTS if s.endswith(f"_{name.upper()}")), None)
        if close:
            hint = f" Did you mean -a {close[0]}=…?"
        elif setting:
            hint = f" Did you mean -s {setting}={given[name]}?"
        else:
            hint = ""
        raise UsageError(
            f"spider {spidercls.name!r} takes no argument {name!r} "
            f"(it takes {', '.join(f'-a {a}=' for a in (*accepted, *COMMAND_ARGUMENTS))}).{hint}"
        )


class Command(ScrapyCrawlCommand):
    def process_options(self, args, opts) -> None:
        opts.spargs = join_repeated(opts.spargs)
        super().process_options(args, opts)
        # `-a render=js` is a spider argument for the user, a setting for the add-on: the
        # download handler is chosen before any spider exists.
        render = opts.spargs.get("render")
        self.argument_error = None
        if render is not None:
            if render not in RENDER_VALUES:
                # Said in `run`, as one line: raised here, Scrapy would print its usage block.
                self.argument_error = f"-a render= takes js, auto or none, not {render!r}"
                return
            render_js, render_auto = RENDER_VALUES[render]
            self.settings.set("RENDER_JS", render_js, priority="cmdline")
            self.settings.set("RENDER_AUTO", render_auto, priority="cmdline")

    def _create_crawler(self, spidercls: type[Spider] | str) -> Crawler:
        crawler = super()._create_crawler(spidercls)
        self._crawlers = [*getattr(self, "_crawlers", []), crawler]
        return crawler

    def run(self, args, opts) -> None:
        try:
            if getattr(self, "argument_error", None):
                raise UsageError(self.argument_error)
            if len(args) != 1:
                raise UsageError("give one spider: scrapy crawl corpus -a urls=URL")
            try:
                spidercls = self.crawler_process.spider_loader.load(args[0])
            except KeyError:
                raise UsageError(
                    f"no spider named {args[0]!r} (`scrapy list` names them)"
                ) from None
            check_spider_arguments(spidercls, opts.spargs)
        except UsageError as exc:  # one line, not Scrapy's usage block
            print(f"rightscrawl: error: {exc}", file=sys.stderr, flush=True)
            self.exitcode = 2
            return
        started = self.crawler_process.crawl(self._create_crawler(args[0]), **opts.spargs)
        report_start_failure(started)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
            return
        for crawler in getattr(self, "_crawlers", []):
            reason = crawler.stats.get_value("finish_reason") if crawler.stats else None
            if reason is not None and not str(reason).startswith(SUCCESSFUL):
                self.exitcode = 1
            elif crawler.stats and crawler.stats.get_value(NOTHING_FETCHED) and not self.exitcode:
                self.exitcode = NOTHING_FETCHED_STATUS
