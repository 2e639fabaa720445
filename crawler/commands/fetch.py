"""`scrapy fetch`: Scrapy's command behind the compliance gate, writing nothing to the corpus."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.commands.fetch import Command as ScrapyFetchCommand

from crawler.config import write_nothing

if TYPE_CHECKING:
    import argparse


class Command(ScrapyFetchCommand):
    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        write_nothing(self.settings)
