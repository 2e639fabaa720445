"""`scrapy summary --template eu-ai-act [--sme] [--format markdown|json] [--db URL]`"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from scrapy.exceptions import UsageError

from crawler.config import OfflineCommand
from pipelines.summary import summary, to_markdown

if TYPE_CHECKING:
    import argparse


class Command(OfflineCommand):
    def syntax(self) -> str:
        return "--template eu-ai-act [--sme] [--format markdown|json] [--db URL]"

    def short_desc(self) -> str:
        return "The crawl's part of the EU AI Act public summary of training content"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--template", default="eu-ai-act")
        parser.add_argument(
            "--sme", action="store_true", help="top 5%% or 1,000 domains instead of top 10%%"
        )
        parser.add_argument("--format", default="markdown", help="markdown (default) or json")
        parser.add_argument(
            "--db", help="SQLAlchemy URL of the database (default: PROVENANCE_DB_URL)"
        )

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args or opts.template != "eu-ai-act":
            raise UsageError("the only template is eu-ai-act")
        if opts.format not in ("markdown", "json"):
            raise UsageError(f"--format must be markdown or json, not {opts.format!r}")
        data = summary(opts.db or self.settings.get("PROVENANCE_DB_URL"), sme=opts.sme)
        print(
            json.dumps(data, indent=2, ensure_ascii=False)
            if opts.format == "json"
            else to_markdown(data)
        )
        self.exitcode = 0
