"""A provenance database that goes away mid-crawl: rows are held, fetching pauses, nothing is lost.

Real crawls of a loopback site (tests/sites/outage.py) while another connection holds the
database: SQLite `BEGIN EXCLUSIVE` from this process, PostgreSQL `LOCK TABLE … ACCESS EXCLUSIVE`
plus `pg_terminate_backend` of the crawl's connections. Every wait is on a condition (the
crawl's log, the server's request log, the process), never a sleep.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from scrapy.utils.test import get_crawler
from sqlalchemy import create_engine, text

from crawler.contracts import CrawlRun
from crawler.demo.server import SiteProcess
from pipelines.provenance import ProvenancePipeline, Rows, save_rows
from policies.profile import load_profile
from tests.conftest import LOOPBACK_SETTINGS, POSTGRES, REPO, assert_consistent
from tests.sites import outage

BATCH = 5  # PROVENANCE_BATCH_SIZE in these crawls
CONCURRENCY = 2  # CONCURRENT_REQUESTS
# While the database is out the crawl holds at most one batch being written and one waiting, and
# then pauses; only the requests already in flight (and their robots.txt) can still arrive.
MAX_REQUESTS_WHILE_LOCKED = 2 * BATCH + CONCURRENCY + 1
# Rows held at once: those entries, each a decision and a capture at most, plus a few evidence rows.
MAX_PENDING_ROWS = 2 * (2 * BATCH + CONCURRENCY) + 2


@pytest.fixture
def site(tmp_path):
    with SiteProcess("tests.sites.outage", log_path=tmp_path / "requests.jsonl", cwd=REPO) as s:
        yield s


class RunningCrawl:
    """`scrapy crawl corpus` in the background, its log in a file the test can wait on."""

    def __init__(self, tmp_path: Path, db_url: str, urls: list[str], settings: dict[str, str]):
        self.warc_dir = tmp_path / "warc"
        self.log_path = tmp_path / f"crawl-{uuid.uuid4().hex[:6]}.log"
        merged = {
            **LOOPBACK_SETTINGS,
            "WARC_DIR": str(self.warc_dir),
            "PROVENANCE_DB_URL": db_url,
            "PROVENANCE_BATCH_SIZE": str(BATCH),
            "PROVENANCE_FLUSH_SECONDS": "0",
            "CONCURRENT_REQUESTS": str(CONCURRENCY),
            "RECRAWL_ENABLED": "false",
            **settings,
        }
        command = [
            sys.executable,
            "-m",
            "scrapy",
            "crawl",
            "corpus",
            "-a",
            "urls=" + ",".join(urls),
        ]
        for name, value in merged.items():
            command += ["-s", f"{name}={value}"]
        self.log = open(self.log_path, "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            command, cwd=REPO, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )

    def output(self) -> str:
        return self.log_path.read_text()

    def wait(self, timeout: float = 120) -> int:
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self.log.close()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)
        self.log.close()


def wait_for(condition: Callable[[], object], crawl: RunningCrawl, what: str, timeout: float = 60):
    """Poll `condition` until true; fail if the crawl exits first or the time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if crawl.process.poll() is not None:
            value = condition()
            if value:
                return value
            pytest.fail(
                f"the crawl exited ({crawl.process.returncode}) before {what}:\n{crawl.output()}"
            )
        time.sleep(0.05)  # polling interval of the condition, not a wait for an event
    pytest.fail(f"timed out waiting for {what}:\n{crawl.output()}")


def pages(site: SiteProcess) -> list[dict]:
    return [r for r in site.requests() if r["path"].startswith("/p/")]


def sqlite_rows(db: Path, query: str) -> list[tuple]:
    connection = sqlite3.connect(db)
    try:
        return connection.execute(query).fetchall()
    finally:
        connection.close()


def assert_every_url_decided(site: SiteProcess, decided: set[str]) -> None:
    base = site.origins["site"]
    requested = {base + r["path"] for r in pages(site)}
    assert requested, "the crawl fetched nothing"
    assert requested <= decided, sorted(requested - decided)
    # Every kept page links to a disallowed /private/ URL: refused before fetching, decided too.
    numbers = {int(r["path"].rsplit("/", 1)[1]) for r in pages(site)}
    refused = {base + f"/private/{n}" for n in numbers if n % 7 != 6}
    assert refused <= decided, sorted(refused - decided)


def test_saved_rows_are_written_once_by_the_next_pipeline(tmp_path):
    """The file a stopped crawl leaves: every row back, bytes and times intact, never twice."""
    db_url = f"sqlite:///{tmp_path / 'p.sqlite'}"
    run = CrawlRun("run-1", datetime.now(UTC), load_profile("strict"), "rightscrawl", "ua", None)
    first = ProvenancePipeline(db_url, run, get_crawler().stats, spill_dir=tmp_path / "warc")
    first.open("corpus")
    now = datetime.now(UTC)
    rows = Rows(
        evidence=[
            {"run_id": "run-1", "kind": "robots.txt", "url": "https://a.example/robots.txt",
             "fetched_at": now, "status": "200", "sha256": "0" * 64, "body": b"\xffUser-agent: *",
             "record_id": "<urn:uuid:e>", "error": None},
            {"run_id": "run-1", "kind": "robots.txt", "url": "https://b.example/robots.txt",
             "fetched_at": now, "status": "network-error", "sha256": None, "body": None,
             "record_id": None, "error": "DNSLookupError"},
        ]
    )  # fmt: skip
    decision = {"run_id": "run-1", "url": "https://a.example/x", "outcome": "excluded",
                "reasons": ["robots-disallowed"], "stage": "before-fetch", "decided_at": now,
                "detail": {"url": "https://a.example/x"}}  # fmt: skip
    rows.add(decision)
    first.close()
    save_rows(first.spill_path, rows)

    for _ in range(2):  # the second pipeline finds nothing left to write
        again = ProvenancePipeline(db_url, run, get_crawler().stats, spill_dir=tmp_path / "warc")
        again.open("corpus")
        again.close()
        assert not first.spill_path.exists()
    db = tmp_path / "p.sqlite"
    assert sqlite_rows(db, "SELECT url, reasons FROM decisions") == [
        ("https://a.example/x", '["robots-disallowed"]')
    ]
    assert sqlite_rows(db, "SELECT body, error FROM evidence ORDER BY id") == [
        (b"\xffUser-agent: *", None),
        (None, "DNSLookupError"),
    ]
    save_rows(first.spill_path, rows)  # as if the write had landed before the process died
    again = ProvenancePipeline(db_url, run, get_crawler().stats, spill_dir=tmp_path / "warc")
    again.open("corpus")
    again.close()
    assert sqlite_rows(db, "SELECT count(*) FROM evidence") == [(2,)]


def test_sqlite_locked_for_a_while_pauses_fetching_and_loses_nothing(site, tmp_path):
    db = tmp_path / "provenance.sqlite"
    crawl = RunningCrawl(
        tmp_path,
        f"sqlite:///{db}?timeout=0.2",  # the crawl's busy timeout: fail fast, then back off
        [site.origins["site"] + "/p/0"],
        {"PROVENANCE_OUTAGE_MAX_SECONDS": "60"},
    )
    blocker = None
    try:
        wait_for(lambda: len(pages(site)) >= 5, crawl, "5 pages fetched")
        blocker = sqlite3.connect(db, timeout=30)
        blocker.isolation_level = None
        blocker.execute("BEGIN EXCLUSIVE")  # another process holds the database
        at_lock = len(site.requests())
        # Held until the crawl has failed to write three times in a row (a few seconds of
        # back-off), with fetching paused all that time.
        wait_for(lambda: crawl.output().count("still unavailable") >= 2, crawl, "3 failed writes")
        while_locked = len(site.requests()) - at_lock
        fetched_while_locked = len(pages(site))
        blocker.execute("ROLLBACK")
        blocker.close()
        blocker = None
        assert crawl.wait() == 0, crawl.output()
    finally:
        if blocker is not None:
            blocker.close()
        crawl.kill()
    output = crawl.output()
    assert "Traceback" not in output, output
    assert "fetching paused" in output and "fetching resumes" in output, output
    print("requests while locked:", while_locked)
    assert while_locked <= MAX_REQUESTS_WHILE_LOCKED, (while_locked, output)
    # Once the database was back, the crawl went on to the end, each page fetched once.
    assert fetched_while_locked < len(outage.reachable())  # the lock came mid-crawl
    assert sorted(r["path"] for r in pages(site)) == sorted(f"/p/{n}" for n in outage.reachable())
    decided = {url for (url,) in sqlite_rows(db, "SELECT url FROM decisions")}
    assert_every_url_decided(site, decided)
    (stats,) = sqlite_rows(db, "SELECT stats FROM runs")
    stats = json.loads(stats[0])
    assert stats["provenance/errors"] >= 3
    print("pending_max:", stats["provenance/pending_max"], "errors:", stats["provenance/errors"])
    assert 0 < stats["provenance/pending_max"] <= MAX_PENDING_ROWS, stats
    assert_consistent(crawl.warc_dir, f"sqlite:///{db}")


def test_sqlite_locked_past_the_limit_stops_with_exit_1_and_the_next_crawl_writes_the_rows(
    site, tmp_path
):
    db = tmp_path / "provenance.sqlite"
    db_url = f"sqlite:///{db}?timeout=0.2"
    crawl = RunningCrawl(
        tmp_path, db_url, [site.origins["site"] + "/p/0"], {"PROVENANCE_OUTAGE_MAX_SECONDS": "1.5"}
    )
    blocker = None
    try:
        wait_for(lambda: len(pages(site)) >= 5, crawl, "5 pages fetched")
        blocker = sqlite3.connect(db, timeout=30)
        blocker.isolation_level = None
        blocker.execute("BEGIN EXCLUSIVE")  # held until the crawl gives up and exits
        assert crawl.wait() == 1, crawl.output()
        blocker.execute("ROLLBACK")
    finally:
        if blocker is not None:
            blocker.close()
        crawl.kill()
    output = crawl.output()
    assert "Traceback" not in output, output
    errors = [line for line in output.splitlines() if " ERROR: " in line]
    assert len(errors) == 1 and "PROVENANCE_OUTAGE_MAX_SECONDS" in errors[0], errors
    assert "Spider closed (provenance_db_error)" in output
    assert list(crawl.warc_dir.glob("*.open")) == []  # the WARC file was closed
    assert list(crawl.warc_dir.glob("provenance-pending-*.jsonl"))  # the rows, saved
    fetched_by_first = {site.origins["site"] + r["path"] for r in pages(site)}
    (first_run,) = sqlite_rows(db, "SELECT id FROM runs")[0]

    again = RunningCrawl(tmp_path, db_url, [site.origins["site"] + "/p/0"], {})
    assert again.wait() == 0, again.output()
    assert "Traceback" not in again.output()
    assert list(crawl.warc_dir.glob("provenance-pending-*.jsonl")) == []
    where = f"WHERE run_id = '{first_run}'"
    decided = {url for (url,) in sqlite_rows(db, f"SELECT url FROM decisions {where}")}  # noqa: S608
    assert fetched_by_first <= decided, sorted(fetched_by_first - decided)
    captures = sqlite_rows(db, f"SELECT count(*) FROM captures {where}")  # noqa: S608
    assert captures[0][0] > 0
    assert_consistent(crawl.warc_dir, f"sqlite:///{db}")


def test_postgresql_locked_and_connections_killed_pauses_fetching_and_loses_nothing(
    site, tmp_path, postgres_schema
):
    name = f"rc_outage_{uuid.uuid4().hex[:8]}"
    db_url = f"{postgres_schema}&application_name={name}"
    schema_name = postgres_schema.rsplit("%3D", 1)[1]
    admin = create_engine(POSTGRES)
    crawl = RunningCrawl(
        tmp_path, db_url, [site.origins["site"] + "/p/0"], {"PROVENANCE_OUTAGE_MAX_SECONDS": "60"}
    )

    def waiting_on_the_lock() -> bool:
        with admin.connect() as connection:
            return bool(
                connection.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity"
                        " WHERE application_name = :name AND wait_event_type = 'Lock'"
                    ),
                    {"name": name},
                )
            )

    try:
        wait_for(lambda: len(pages(site)) >= 5, crawl, "5 pages fetched")
        with admin.connect() as holder:
            holder.execute(text(f"LOCK TABLE {schema_name}.decisions IN ACCESS EXCLUSIVE MODE"))
            at_lock = len(site.requests())
            # The server restarts, as far as the crawl can tell: its connections are dropped.
            holder.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE application_name = :n"
                ),
                {"n": name},
            )
            wait_for(
                lambda: "Provenance database unavailable" in crawl.output(), crawl, "a failed write"
            )
            wait_for(waiting_on_the_lock, crawl, "a retry waiting on the lock")
            while_locked = len(site.requests()) - at_lock
            holder.rollback()  # the lock goes: the waiting write goes through
        assert crawl.wait() == 0, crawl.output()
    finally:
        crawl.kill()
        admin.dispose()
    output = crawl.output()
    assert "Traceback" not in output, output
    assert "fetching resumes" in output, output
    assert while_locked <= MAX_REQUESTS_WHILE_LOCKED, (while_locked, output)
    reader = create_engine(postgres_schema)
    try:
        with reader.connect() as connection:
            decided = set(connection.scalars(text("SELECT url FROM decisions")))
            stats = connection.scalar(text("SELECT stats FROM runs"))
    finally:
        reader.dispose()
    assert_every_url_decided(site, decided)
    assert stats["provenance/errors"] >= 1
    assert 0 < stats["provenance/pending_max"] <= MAX_PENDING_ROWS, stats
    assert_consistent(crawl.warc_dir, postgres_schema)


@pytest.mark.parametrize("interrupts", [1, 2])
def test_ctrl_c_during_an_outage_leaves_the_rows_for_the_next_crawl(site, tmp_path, interrupts):
    """Once: the closing crawl waits for the database up to the limit, then exits 1. Twice: it
    stops at once. Either way the WARC file is closed and the rows are saved."""
    db = tmp_path / "provenance.sqlite"
    db_url = f"sqlite:///{db}?timeout=0.2"
    crawl = RunningCrawl(
        tmp_path,
        db_url,
        [site.origins["site"] + "/p/0"],
        {"PROVENANCE_OUTAGE_MAX_SECONDS": "600" if interrupts == 2 else "4"},
    )
    blocker = None
    try:
        wait_for(lambda: len(pages(site)) >= 5, crawl, "5 pages fetched")
        blocker = sqlite3.connect(db, timeout=30)
        blocker.isolation_level = None
        blocker.execute("BEGIN EXCLUSIVE")
        wait_for(
            lambda: "Provenance database unavailable" in crawl.output(), crawl, "a failed write"
        )
        crawl.process.send_signal(signal.SIGINT)  # stop gracefully: waits for the database …
        wait_for(lambda: "Waiting up to" in crawl.output(), crawl, "the closing crawl to wait")
        if interrupts == 2:
            crawl.process.send_signal(signal.SIGINT)  # … unless told again: stop now
            crawl.wait()
        else:
            assert crawl.wait() == 1, crawl.output()  # the database stayed out: a failure
            assert "The provenance database stayed unavailable" in crawl.output()
        blocker.execute("ROLLBACK")
    finally:
        if blocker is not None:
            blocker.close()
        crawl.kill()
    assert list(crawl.warc_dir.glob("*.open")) == []  # the WARC file was closed first
    assert list(crawl.warc_dir.glob("provenance-pending-*.jsonl")), crawl.output()
    fetched_by_first = {site.origins["site"] + r["path"] for r in pages(site)}
    (first_run,) = sqlite_rows(db, "SELECT id FROM runs")[0]

    again = RunningCrawl(tmp_path, db_url, [site.origins["site"] + "/p/0"], {})
    assert again.wait() == 0, again.output()
    query = f"SELECT url FROM decisions WHERE run_id = '{first_run}'"  # noqa: S608
    decided = {url for (url,) in sqlite_rows(db, query)}
    assert fetched_by_first <= decided, sorted(fetched_by_first - decided)
    assert_consistent(crawl.warc_dir, f"sqlite:///{db}")
