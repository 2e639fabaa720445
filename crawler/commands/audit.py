"""`scrapy audit [--db URL] [--run ID] [--format text|json|html] [--out FILE]`: what a crawl kept and excluded, why,
from where, under which profile — from the provenance database."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from scrapy.exceptions import UsageError

from crawler.config import OfflineCommand
from pipelines.audit import audit
from pipelines.audit_html import render

if TYPE_CHECKING:
    import argparse


class Command(OfflineCommand):
    def syntax(self) -> str:
        return "[--db URL] [--run ID] [--format text|json|html] [--out FILE]"

    def short_desc(self) -> str:
        return (
            "Summarise runs, decisions, reasons, domains and signals from the provenance database"
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "--db", help="SQLAlchemy URL of the database (default: PROVENANCE_DB_URL)"
        )
        parser.add_argument("--run", help="only this run id")
        parser.add_argument("--format", default="text", help="text (default), json or html")
        parser.add_argument(
            "--out", help="with --format html: the file to write (default: audit.html)"
        )

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args:
            raise UsageError(f"unexpected arguments: {' '.join(args)}")
        if opts.format not in ("text", "json", "html"):
            raise UsageError(f"--format must be text, json or html, not {opts.format!r}")
        try:
            data = audit(opts.db or self.settings.get("PROVENANCE_DB_URL"), run_id=opts.run)
        except LookupError as exc:
            print(f"rightscrawl: error: --run: {exc}", file=sys.stderr)
            self.exitcode = 1
            return
        if opts.format == "json":
            print(json.dumps(data, indent=2, ensure_ascii=False))
        elif opts.format == "html":
            path = Path(opts.out or "audit.html")
            path.write_text(render(data), encoding="utf-8")
            print(path)
        else:
            show(Console(), data)
        self.exitcode = 0


def _table(title: str, columns: list[str], rows) -> Table:
    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(str(value) for value in row))
    return table


def show(console: Console, data: dict) -> None:
    console.print(_table("Runs", ["run", "spider", "started", "finished", "reason", "profile", "kept", "excluded",
                                  "withdrawn since", "withdrawals made"], [
        (r["id"][:8], r["spider"], r["started_at"], r["finished_at"], r["finish_reason"], r["profile"], r["kept"],
         r["excluded"], r["withdrawn"], r["withdrawals"])
        for r in data["runs"]
    ]))  # fmt: skip
    decisions = data["decisions"]
    console.print(f"[bold]{decisions['kept']}[/bold] kept, [bold]{decisions['excluded']}[/bold] excluded, "
                  f"[bold]{decisions['withdrawn']}[/bold] withdrawn since (not counted as kept), "
                  f"{data['warc_bytes']:,} WARC bytes kept")  # fmt: skip
    console.print(
        _table("Excluded by reason", ["reason", "decisions"], data["excluded_by_reason"].items())
    )
    console.print(_table("Domains (by bytes kept)", ["domain", "kept", "excluded", "withdrawn", "WARC bytes"], [
        (d["domain"], d["kept"], d["excluded"], d["withdrawn"], f"{d['warc_bytes']:,}") for d in data["domains"]
    ]))  # fmt: skip
    console.print(_table("Signals seen", ["signal", "seen", "decided"], [
        (kind, count, data["signals_deciding"].get(kind, 0)) for kind, count in data["signals_seen"].items()
    ]))  # fmt: skip
