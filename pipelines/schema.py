"""The provenance schema, managed by Alembic migrations (pipelines/migrations) on SQLite and
PostgreSQL. `upgrade(engine)` brings any database to the latest revision; it runs when a crawl
starts, and as `scrapy db upgrade`.

Safe with several workers starting at once on PostgreSQL: the upgrade holds an advisory lock for
its transaction, so one worker migrates and the others find the schema up to date.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

from pipelines import models

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
TABLES = frozenset({"runs", "decisions", "captures", "evidence"})
FIRST_REVISION = "0001"
ADVISORY_LOCK = 727_260_001  # any constant shared by every rightscrawl process
# The newest revision in pipelines/migrations/versions (a test keeps the two in step). Knowing it
# lets a crawl whose database is current skip importing Alembic (tens of MiB) altogether.
HEAD = "0003"


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return _revision(connection)


def _revision(connection: Connection) -> str | None:
    if "alembic_version" not in inspect(connection).get_table_names():
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine) -> str:
    """Bring the database to the latest revision; returns it."""
    with engine.connect() as connection:
        if _revision(connection) == HEAD:
            return HEAD
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK})
        tables = set(inspect(connection).get_table_names())
        if not tables & (TABLES | {"alembic_version"}):
            # A new database: build the current schema and stamp it (Alembic's recipe for "an up to
            # date database from scratch"), without importing Alembic; a test checks that the
            # migrations and the models build the same schema.
            models.Base.metadata.create_all(connection)
            connection.execute(
                text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
            )
            connection.execute(
                text("INSERT INTO alembic_version (version_num) VALUES (:head)"), {"head": HEAD}
            )
            return HEAD
        from alembic import command

        config = alembic_config(connection)
        if "alembic_version" not in tables and TABLES <= tables:
            command.stamp(config, FIRST_REVISION)  # made by a version from before migrations
        command.upgrade(config, "head")
    return HEAD
