"""`scrapy verify [--warc-dir DIR]... [--db URL]`: do the WARC files and the database agree?

`--warc-dir` may be given once per folder: the workers of a distributed crawl each write their
own WARC files into one database.

Exit status 0 when consistent, 1 with a list of problems, 2 on bad arguments.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from scrapy.exceptions import UsageError

from crawler.config import OfflineCommand
from pipelines.verify import verify

if TYPE_CHECKING:
    import argparse


class Command(OfflineCommand):
    def syntax(self) -> str:
        return "[--warc-dir DIR]... [--db URL]"

    def short_desc(self) -> str:
        return "Check that the WARC files and the provenance database agree"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "--warc-dir",
            action="append",
            help="folder of WARC files (default: WARC_DIR); repeat it for several folders",
        )
        parser.add_argument(
            "--db", help="SQLAlchemy URL of the database (default: PROVENANCE_DB_URL)"
        )

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args:
            raise UsageError(f"unexpected arguments: {' '.join(args)}")
        warc_dirs = opts.warc_dir or [self.settings.get("WARC_DIR")]
        db_url = opts.db or self.settings.get("PROVENANCE_DB_URL")
        for warc_dir in warc_dirs:
            if not Path(warc_dir).is_dir():
                raise UsageError(f"--warc-dir {warc_dir!r} is not a folder")
        console = Console()
        report = verify(warc_dirs, db_url, progress=console.is_terminal)
        counts = report.counts
        console.print(
            f"{counts['files']} WARC files, {counts['records']} records "
            f"({counts['records/response']} responses), {counts['captures']} captures, "
            f"{counts['decisions/excluded']} exclusions checked"
        )
        if report.ok:
            console.print("[green]consistent[/green]")
            self.exitcode = 0
            return
        console.print(f"[red]{len(report.problems)} problem(s)[/red]")
        for problem in report.problems:
            console.print(f"  {escape(problem.where)}: {escape(problem.what)}")
        self.exitcode = 1
