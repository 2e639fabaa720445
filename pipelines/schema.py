"""The provenance schema, managed by Alembic migrations (pipelines/migrations) on SQLite and
PostgreSQL. `upgrade(engine)` brings any database to the latest revision; it runs when a crawl
starts, and as `scrapy db upgrade`.

Safe with several workers starting at once on PostgreSQL: the upgrade holds an advisory lock for
its transaction, so one worker migrates and the others find the schema up to date.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

MIGRATIONS = Path(__file__).parent / "migrations"
TABLES = frozenset({"runs", "decisions", "captures", "evidence"})
FIRST_REVISION = "0001"
ADVISORY_LOCK = 727_260_001  # any constant shared by every rightscrawl process


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> str:
    """Bring the database to the latest revision; returns it."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK})
        config = alembic_config(connection)
        tables = set(inspect(connection).get_table_names())
        if "alembic_version" not in tables and TABLES <= tables:
            command.stamp(config, FIRST_REVISION)  # made by a version from before migrations
        command.upgrade(config, "head")
    return head()
