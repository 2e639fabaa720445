"""`scrapy export --format jsonl|parquet|wacz --out DIR [--modality text|image] [--warc-dir DIR]
[--db URL]`"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from scrapy.exceptions import UsageError

from crawler.config import OfflineCommand
from pipelines.export import MODALITIES, export

if TYPE_CHECKING:
    import argparse


class Command(OfflineCommand):
    def syntax(self) -> str:
        return (
            "--format jsonl|parquet|wacz --out DIR [--modality text|image] [--warc-dir DIR] "
            "[--db URL]"
        )

    def short_desc(self) -> str:
        return "Export kept, not withdrawn captures as a dataset with provenance (or a WACZ)"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "--format", dest="export_format", required=False, help="jsonl, parquet or wacz"
        )
        parser.add_argument("--out", help="output folder")
        parser.add_argument(
            "--modality",
            default="text",
            help="text: pages and documents (corpus.*); image: kept images (images.*)",
        )
        parser.add_argument("--warc-dir", help="folder of WARC files (default: WARC_DIR)")
        parser.add_argument(
            "--db", help="SQLAlchemy URL of the database (default: PROVENANCE_DB_URL)"
        )

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args or opts.export_format not in ("jsonl", "parquet", "wacz") or not opts.out:
            raise UsageError("use --format jsonl|parquet|wacz and --out DIR")
        if opts.modality not in MODALITIES:
            raise UsageError(f"--modality takes {' or '.join(MODALITIES)}, not {opts.modality!r}")
        try:
            path = export(
                opts.db or self.settings.get("PROVENANCE_DB_URL"),
                opts.warc_dir or self.settings.get("WARC_DIR"),
                opts.out,
                opts.export_format,
                modality=opts.modality,
                progress=sys.stderr.isatty(),
            )
        except ImportError as exc:
            raise UsageError(
                f"{exc}: install the export extra, pip install -e '.[export]'"
            ) from exc
        print(path)
        self.exitcode = 0
