"""The provenance pipeline on a real SQLite file: batching, flush on close, rows and links."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from crawler.contracts import (
    CaptureItem,
    CrawlRun,
    EvidenceFetch,
    WarcLocation,
    WireRequest,
    WireResponse,
)
from pipelines.models import create_engine
from pipelines.provenance import ProvenancePipeline, recorded_settings
from policies import reasons
from policies.engine import decide
from policies.profile import load_profile

PROFILE = load_profile("strict")


@pytest.fixture
def run():
    return CrawlRun(
        "run-1",
        datetime.now(UTC),
        PROFILE,
        "rightscrawl",
        "rightscrawl/0 (+mailto:x@y)",
        "mailto:x@y",
    )


@pytest.fixture
def db(tmp_path):
    return tmp_path / "sub" / "provenance.sqlite"


def _pipeline(db, run, **kwargs):
    stats = get_crawler().stats
    pipeline = ProvenancePipeline(f"sqlite:///{db}", run, stats, **kwargs)
    pipeline.open("corpus")
    return pipeline


def _count(db, table):
    connection = sqlite3.connect(db)
    try:
        return connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
    finally:
        connection.close()


def _excluded(url):
    return decide(
        url, (), profile=PROFILE, stage="before-fetch", extra_reasons=[reasons.ROBOTS_DISALLOWED]
    )


def test_rows_are_batched_then_flushed_on_close(db, run):
    pipeline = _pipeline(db, run, batch_size=3, flush_seconds=3600)
    pipeline.decision_made(_excluded("https://example.org/1"))
    pipeline.decision_made(_excluded("https://example.org/2"))
    assert _count(db, "decisions") == 0  # buffered, not one commit per row
    pipeline.decision_made(_excluded("https://example.org/3"))
    assert _count(db, "decisions") == 3
    pipeline.decision_made(_excluded("https://example.org/4"))
    pipeline.close("shutdown")
    assert _count(db, "decisions") == 4
    connection = sqlite3.connect(db)
    finished, reason = connection.execute("SELECT finished_at, finish_reason FROM runs").fetchone()
    assert finished is not None and reason == "shutdown"


def test_sqlite_is_in_wal_mode(db, run):
    pipeline = _pipeline(db, run)
    pipeline.close()
    assert sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_capture_row_points_at_the_response_record(db, run):
    pipeline = _pipeline(db, run)
    decision = decide("https://example.org/a", (), profile=PROFILE, stage="after-fetch")
    item = CaptureItem(
        url="https://example.org/a",
        request=WireRequest("GET", "https://example.org/a", ()),
        response=WireResponse(
            "https://example.org/a",
            200,
            "HTTP/1.1",
            ((b"Content-Type", b"text/html"),),
            b"<p>a</p>",
            fetched_at=datetime.now(UTC),
        ),
        decision=decision,
        warc=WarcLocation("f.warc.gz", 1234, 567, "<urn:uuid:r>", "sha1:ABC"),
        metadata_record_id="<urn:uuid:m>",
    )
    pipeline.capture_kept(item)
    pipeline.close()
    connection = sqlite3.connect(db)
    row = connection.execute(
        "SELECT d.outcome, d.stage, c.url, c.warc_file, c.warc_offset, c.warc_length, c.record_id,"
        " c.payload_digest, c.metadata_record_id, c.content_type, c.status, c.run_id"
        " FROM captures c JOIN decisions d ON d.id = c.decision_id"
    ).fetchone()
    assert row == (
        "kept",
        "after-fetch",
        "https://example.org/a",
        "f.warc.gz",
        1234,
        567,
        "<urn:uuid:r>",
        "sha1:ABC",
        "<urn:uuid:m>",
        "text/html",
        200,
        "run-1",
    )


def test_evidence_row_keeps_body_and_digest(db, run):
    pipeline = _pipeline(db, run)
    body = b"User-agent: *\nDisallow: /x\n"
    pipeline.evidence_fetched(
        EvidenceFetch(
            "robots.txt",
            "https://example.org/robots.txt",
            datetime.now(UTC),
            200,
            "<urn:uuid:e>",
            request=WireRequest("GET", "https://example.org/robots.txt", ()),
            response=WireResponse("https://example.org/robots.txt", 200, "HTTP/1.1", (), body),
            body=body,
        )
    )
    pipeline.evidence_fetched(
        EvidenceFetch(
            "robots.txt",
            "https://down.example/robots.txt",
            datetime.now(UTC),
            "network-error",
            "<urn:uuid:f>",
            error="DNSLookupError: no such host",
        )
    )
    pipeline.close()
    rows = (
        sqlite3.connect(db)
        .execute("SELECT status, body, sha256, record_id, error FROM evidence ORDER BY id")
        .fetchall()
    )
    assert rows[0][:2] == ("200", body) and len(rows[0][2]) == 64 and rows[0][3] == "<urn:uuid:e>"
    assert rows[1] == ("network-error", None, None, None, "DNSLookupError: no such host")


def test_recorded_settings_hide_database_passwords():
    settings = Settings(
        {"PROVENANCE_DB_URL": "postgresql+psycopg://user:secret@db/prov", "WARC_DIR": "w"}
    )
    recorded = recorded_settings(settings)
    assert "secret" not in recorded["PROVENANCE_DB_URL"]
    assert recorded["WARC_DIR"] == "w"


def test_failed_writes_keep_rows_and_stop_the_crawl_only_past_the_outage_limit(db, run):
    stopped = []
    pipeline = _pipeline(
        db, run, batch_size=1000, flush_seconds=3600, on_persistent_failure=stopped.append
    )
    pipeline.decision_made(_excluded("https://example.org/1"))
    blocker = sqlite3.connect(db, timeout=0)
    blocker.execute("BEGIN EXCLUSIVE")  # another writer holds the database
    pipeline.engine.dispose()
    pipeline.engine = create_engine(f"sqlite:///{db}?timeout=0")
    for _ in range(5):  # a count of failures is no reason to drop rows or stop
        pipeline.flush()
    assert pipeline.stats.get_value("provenance/errors") == 5
    assert stopped == [] and pipeline.pending == 1
    pipeline.outage_max_seconds = 0  # PROVENANCE_OUTAGE_MAX_SECONDS passed
    pipeline.flush()
    assert stopped == ["provenance_db_error"]
    blocker.rollback()
    blocker.close()
    pipeline.close()
    assert _count(db, "decisions") == 1
