"""The provenance database: SQLAlchemy 2.0 typed models of the public tables (DESIGN.md).

runs ─┬─< decisions ──< captures
      └─< evidence
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text, event
from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON, datetime: DateTime(timezone=True)}


class Run(Base):
    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    spider: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    finish_reason: Mapped[str | None] = mapped_column(Text)
    user_agent: Mapped[str] = mapped_column(Text)
    profile: Mapped[str] = mapped_column(Text)
    profile_sha256: Mapped[str] = mapped_column(String(64))
    settings: Mapped[dict[str, Any]]
    version: Mapped[str] = mapped_column(String(50))
    hostname: Mapped[str] = mapped_column(Text)
    stats: Mapped[dict[str, Any] | None]


class Decision(Base):
    __tablename__ = "decisions"
    __table_args__ = (
        Index("ix_decisions_url", "url"),
        Index("ix_decisions_run_outcome", "run_id", "outcome"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"))
    url: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(16))  # kept | excluded
    reasons: Mapped[list[str]]
    stage: Mapped[str] = mapped_column(String(16))  # before-fetch | after-fetch
    decided_at: Mapped[datetime]
    detail: Mapped[dict[str, Any]]  # the provenance JSON

    capture: Mapped[Capture | None] = relationship(back_populates="decision")


class Capture(Base):
    __tablename__ = "captures"
    __table_args__ = (
        Index("ix_captures_url", "url"),
        Index("ix_captures_record_id", "record_id"),
        # Crash recovery's last recorded capture per WARC file (migration 0003).
        Index("ix_captures_warc_file_offset", "warc_file", "warc_offset"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"))
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"))
    url: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[datetime]
    status: Mapped[int]
    content_type: Mapped[str | None] = mapped_column(Text)
    warc_file: Mapped[str] = mapped_column(Text)
    warc_offset: Mapped[int]
    warc_length: Mapped[int]
    record_id: Mapped[str] = mapped_column(String(64))  # WARC-Record-ID of the response record
    payload_digest: Mapped[str | None] = mapped_column(Text)
    metadata_record_id: Mapped[str | None] = mapped_column(String(64))
    etag: Mapped[str | None] = mapped_column(Text)  # validators, for conditional re-crawls
    last_modified: Mapped[str | None] = mapped_column(Text)
    # A revisit record: the response record it stands for, and its WARC revisit profile.
    revisit_of: Mapped[str | None] = mapped_column(String(64))
    revisit_profile: Mapped[str | None] = mapped_column(String(32))

    decision: Mapped[Decision] = relationship(back_populates="capture")


class Evidence(Base):
    __tablename__ = "evidence"
    __table_args__ = (Index("ix_evidence_url", "url"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"))
    kind: Mapped[str] = mapped_column(String(50))  # robots.txt, tdmrep.json, …
    url: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(32))  # HTTP status, or "network-error"
    sha256: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    record_id: Mapped[str | None] = mapped_column(String(64))  # WARC-Record-ID, when archived
    error: Mapped[str | None] = mapped_column(Text)


# libpq: seconds to connect; milliseconds sent data may stay unacknowledged before the
# connection counts as broken.
PG_TIMEOUTS = {"connect_timeout": 10, "tcp_user_timeout": 30_000}


def create_engine(url: str) -> Engine:
    """An engine for any SQLAlchemy URL; SQLite files get their folder and WAL mode."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql":
        # A server that vanished (no reset, no answer) must fail a write, not hang it: the crawl
        # retries, pauses and at worst stops (pipelines/provenance.py). Values in the URL win.
        connect_args = {k: v for k, v in PG_TIMEOUTS.items() if k not in parsed.query}
    engine = sa_create_engine(url, connect_args=connect_args)
    if parsed.get_backend_name() == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # noqa: ANN001
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

    return engine
