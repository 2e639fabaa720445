"""`scrapy demo`: the whole job offline — bundled site on loopback, real crawl, summary."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from scrapy.settings import SETTINGS_PRIORITIES

from crawler.contracts import crawl_run
from crawler.demo.server import SiteProcess
from pipelines import models
from pipelines.queries import reason_counts, run_decisions

if TYPE_CHECKING:
    import argparse


class Command(ScrapyCommand):
    requires_project = True
    demo_settings = {
        "ALLOW_PRIVATE_ADDRESSES": True,  # the demo site is on loopback
        "AUTOTHROTTLE_ENABLED": False,
        "DOWNLOAD_DELAY": 0,
        "CRAWLER_CONTACT": "mailto:demo@localhost",
        "WARC_DIR": "data/demo/warc",
        "PROVENANCE_DB_URL": "sqlite:///data/demo/provenance.sqlite",
        "LOG_LEVEL": "WARNING",
        "COLLECT": "html,documents,images",  # the `media` origin's images are decided too
        "DISTRIBUTED_REDIS_URL": None,  # the demo works alone, whatever settings.py shares
    }

    def syntax(self) -> str:
        return "[options]"

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        # Above the project's settings, below anything given with -s.
        for name, value in self.demo_settings.items():
            if (self.settings.getpriority(name) or 0) < SETTINGS_PRIORITIES["cmdline"]:
                self.settings.set(name, value, priority="cmdline")

    def short_desc(self) -> str:
        return "Crawl the bundled offline demo site and show what was kept and excluded"

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args:
            raise UsageError("scrapy demo takes no arguments")
        console = Console()
        site = SiteProcess("crawler.demo.site")
        try:
            console.print("[bold]Demo site[/bold] on loopback:")
            for name, url in site.origins.items():
                console.print(f"  {name:7} {url}/")
            assert self.crawler_process is not None
            crawler = self.crawler_process.create_crawler("corpus")
            urls = ",".join(f"{url}/" for url in site.origins.values())
            self.crawler_process.crawl(crawler, urls=urls)
            self.crawler_process.start()
        finally:
            site.stop()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
            return
        self.exitcode = show_summary(console, crawler, self.settings)


def show_summary(console: Console, crawler, settings) -> int:
    run = crawl_run(crawler)
    engine = models.create_engine(settings.get("PROVENANCE_DB_URL"))
    try:
        rows = run_decisions(engine, run.id)
    finally:
        engine.dispose()
    table = Table(title=f"Run {run.id} — profile {run.profile.name}")
    table.add_column("URL", overflow="fold")
    table.add_column("Kind")
    table.add_column("Outcome")
    table.add_column("Stage")
    table.add_column("Reasons", overflow="fold")
    for row in rows:
        style = "green" if row.outcome == "kept" else "red"
        table.add_row(
            row.url,
            row.kind or "",
            f"[{style}]{row.outcome}[/{style}]",
            row.stage,
            ", ".join(row.reasons),
        )
    console.print(table)
    kept = sum(1 for row in rows if row.outcome == "kept")
    console.print(f"[bold]{kept}[/bold] kept, [bold]{len(rows) - kept}[/bold] excluded")
    kinds = Counter((row.kind or "other", row.outcome) for row in rows)
    console.print(
        "  by kind: "
        + "; ".join(
            f"{kind} {kinds[kind, 'kept']} kept, {kinds[kind, 'excluded']} excluded"
            for kind in sorted({kind for kind, _ in kinds})
        )
    )
    for reason, count in sorted(reason_counts(rows).items()):
        console.print(f"  {reason:28} {count}")
    for warc_file in sorted({row.warc_file for row in rows if row.warc_file}):
        console.print(f"WARC: {settings.get('WARC_DIR')}/{warc_file}")
    console.print(f"Provenance database: {settings.get('PROVENANCE_DB_URL')}")
    return 0 if rows else 1
