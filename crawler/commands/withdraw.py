"""`scrapy withdraw --url URL | --domain DOMAIN | --prefix PREFIX --reason TEXT --ref REF [--db URL]`

The complaint path: marks matching captures withdrawn (new decision rows; nothing is deleted).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from scrapy.exceptions import UsageError

from crawler.config import OfflineCommand
from pipelines.withdraw import Selector, withdraw

if TYPE_CHECKING:
    import argparse


class Command(OfflineCommand):
    def syntax(self) -> str:
        return "--url URL | --domain DOMAIN | --prefix PREFIX --reason TEXT --ref REF [--db URL]"

    def short_desc(self) -> str:
        return "Withdraw captures after a complaint (recorded, never deleted)"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--url")
        parser.add_argument("--domain")
        parser.add_argument("--prefix")
        parser.add_argument("--reason", help="why (the complaint's words)")
        parser.add_argument("--ref", help="the complaint's reference")
        parser.add_argument(
            "--db", help="SQLAlchemy URL of the database (default: PROVENANCE_DB_URL)"
        )

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        chosen = [name for name in ("url", "domain", "prefix") if getattr(opts, name)]
        if args or len(chosen) != 1:
            raise UsageError("give exactly one of --url, --domain, --prefix")
        if not opts.reason or not opts.ref:
            raise UsageError(
                "--reason and --ref are required: a withdrawal must say why and for whom"
            )
        selector = Selector(**{chosen[0]: getattr(opts, chosen[0])})
        withdrawn = withdraw(
            opts.db or self.settings.get("PROVENANCE_DB_URL"),
            selector,
            reason=opts.reason,
            ref=opts.ref,
        )
        console = Console()
        console.print(f"{len(withdrawn)} capture(s) withdrawn (ref {opts.ref})")
        for capture in withdrawn:
            console.print(f"  {capture.url}  {capture.warc_file}  {capture.record_id}")
        self.exitcode = 0
