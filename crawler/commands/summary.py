"""`scrapy summary --template eu-ai-act [--sme] [--format markdown|json] [--db URL] [--warc-dir DIR]`"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

from scrapy.exceptions import UsageError

from crawler.addon import DEFAULTS
from crawler.config import OfflineCommand, validate
from crawler.contracts import SettingError
from crawler.render import config as render_config
from pipelines.summary import SummaryError, summary, to_markdown

if TYPE_CHECKING:
    import argparse


class Command(OfflineCommand):
    def syntax(self) -> str:
        return "--template eu-ai-act [--sme] [--format markdown|json] [--db URL] [--warc-dir DIR]"

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
        parser.add_argument(
            "--warc-dir", help="folder of the WARC files: sizes and languages (default: WARC_DIR)"
        )

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args or opts.template != "eu-ai-act":
            raise UsageError("the only template is eu-ai-act")
        if opts.format not in ("markdown", "json"):
            raise UsageError(f"--format must be markdown or json, not {opts.format!r}")
        try:
            # SUMMARY_GPAI_SIGNATORY=maybe (or a misspelt name) stops here, as it would a crawl
            validate(self.settings, {**DEFAULTS, **render_config.DEFAULTS})
            data = summary(
                opts.db or self.settings.get("PROVENANCE_DB_URL"),
                opts.warc_dir or self.settings.get("WARC_DIR"),
                sme=opts.sme,
                signatory=self.settings.getbool("SUMMARY_GPAI_SIGNATORY"),
            )
        except (SettingError, SummaryError) as exc:
            print(f"rightscrawl: error: {exc}", file=sys.stderr)
            self.exitcode = 1
            return
        print(
            json.dumps(data, indent=2, ensure_ascii=False)
            if opts.format == "json"
            else to_markdown(data)
        )
        self.exitcode = 0
