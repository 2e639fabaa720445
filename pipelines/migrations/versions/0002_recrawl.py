"""Incremental re-crawls: the validators of each capture, and revisit records.

`etag` and `last_modified` are the validators the server sent (asked for again with
If-None-Match / If-Modified-Since); `revisit_of` is the response record a revisit record stands
for, and `revisit_profile` which WARC revisit profile it uses.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("captures") as batch:
        batch.add_column(sa.Column("etag", sa.Text, nullable=True))
        batch.add_column(sa.Column("last_modified", sa.Text, nullable=True))
        batch.add_column(sa.Column("revisit_of", sa.String(64), nullable=True))
        batch.add_column(sa.Column("revisit_profile", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("captures") as batch:
        for column in ("revisit_profile", "revisit_of", "last_modified", "etag"):
            batch.drop_column(column)
