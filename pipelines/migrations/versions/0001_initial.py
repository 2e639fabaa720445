"""The public tables: runs, decisions, captures, evidence (DESIGN.md).

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("spider", sa.Text, nullable=False),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("finished_at", WHEN, nullable=True),
        sa.Column("finish_reason", sa.Text, nullable=True),
        sa.Column("user_agent", sa.Text, nullable=False),
        sa.Column("profile", sa.Text, nullable=False),
        sa.Column("profile_sha256", sa.String(64), nullable=False),
        sa.Column("settings", sa.JSON, nullable=False),
        sa.Column("version", sa.String(50), nullable=False),
        sa.Column("hostname", sa.Text, nullable=False),
        sa.Column("stats", sa.JSON, nullable=True),
    )
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(36), sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("decided_at", WHEN, nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_index("ix_decisions_url", "decisions", ["url"])
    op.create_index("ix_decisions_run_outcome", "decisions", ["run_id", "outcome"])
    op.create_table(
        "captures",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(36), sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("decision_id", sa.Integer, sa.ForeignKey("decisions.id"), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("fetched_at", WHEN, nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("content_type", sa.Text, nullable=True),
        sa.Column("warc_file", sa.Text, nullable=False),
        sa.Column("warc_offset", sa.Integer, nullable=False),
        sa.Column("warc_length", sa.Integer, nullable=False),
        sa.Column("record_id", sa.String(64), nullable=False),
        sa.Column("payload_digest", sa.Text, nullable=True),
        sa.Column("metadata_record_id", sa.String(64), nullable=True),
    )
    op.create_index("ix_captures_url", "captures", ["url"])
    op.create_index("ix_captures_record_id", "captures", ["record_id"])
    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(36), sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("fetched_at", WHEN, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("body", sa.LargeBinary, nullable=True),
        sa.Column("record_id", sa.String(64), nullable=True),
        sa.Column("error", sa.Text, nullable=True),
    )
    op.create_index("ix_evidence_url", "evidence", ["url"])


def downgrade() -> None:
    for table in ("evidence", "captures", "decisions", "runs"):
        op.drop_table(table)
