"""Alembic environment for the provenance database (run through `pipelines.schema`)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from pipelines.models import Base

target_metadata = Base.metadata


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:  # the alembic CLI, with sqlalchemy.url in its configuration
        engine = create_engine(context.config.get_main_option("sqlalchemy.url"))
        with engine.connect() as connection:
            _run(connection)
        return
    _run(connection)


def _run(connection) -> None:
    # render_as_batch: SQLite alters tables by copying them; PostgreSQL does not need it.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
