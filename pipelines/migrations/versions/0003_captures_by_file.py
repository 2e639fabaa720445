"""An index of captures by WARC file and offset.

Crash recovery asks, at every crawl's start, for the last recorded capture of each WARC file
(pipelines/warc_recovery.py `recorded_until`): with the index that is a walk of the index, not a
scan and sort of the whole table.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_captures_warc_file_offset", "captures", ["warc_file", "warc_offset"])


def downgrade() -> None:
    op.drop_index("ix_captures_warc_file_offset", table_name="captures")
