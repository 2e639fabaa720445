"""`scrapy db upgrade | current [--db URL]`: the provenance schema (Alembic migrations)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.exceptions import UsageError

from crawler.config import OfflineCommand
from pipelines import models, schema

if TYPE_CHECKING:
    import argparse


class Command(OfflineCommand):
    def syntax(self) -> str:
        return "upgrade | current [--db URL]"

    def short_desc(self) -> str:
        return "Migrate the provenance database to the latest schema, or show its revision"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "--db", help="SQLAlchemy URL of the database (default: PROVENANCE_DB_URL)"
        )

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args not in (["upgrade"], ["current"]):
            raise UsageError("use: scrapy db upgrade | current")
        engine = models.create_engine(opts.db or self.settings.get("PROVENANCE_DB_URL"))
        try:
            if args == ["upgrade"]:
                print(f"at revision {schema.upgrade(engine)} (head)")
            else:
                print(f"at revision {schema.current(engine) or 'none'}; head is {schema.head()}")
        finally:
            engine.dispose()
        self.exitcode = 0
