"""The WARC writer thread (#15 items 1-2): bounded queue, back-pressure, and #8's guarantees with
the records written off the reactor thread.

The backlog is real: the writer thread sleeps before each job when the crawl's environment has
`RIGHTSCRAWL_TEST_WRITER_DELAY` (pipelines/warc_thread.py), so pages are fetched faster than they
are written. The records are still built, compressed and written by the real writer into real
files; only its pace changes. An environment variable rather than a setting: no crawl
configuration can slow its own writer, and a test sets it for one subprocess only.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from twisted.internet.defer import Deferred
from warcio.archiveiterator import ArchiveIterator

from crawler.demo.server import SiteProcess
from pipelines.warc_thread import DELAY_ENV, SWITCH_INTERVAL, WriterThread
from pipelines.warc_writer import OPEN_SUFFIX
from tests.conftest import REPO
from tests.test_durability import crawl_command, sql
from tests.test_kill import RequestLog, check, complete

PAGES = 300  # tests/test_kill.py checks the site of this size
CONCURRENCY = 16  # tests/test_durability.py FAST: responses the downloader itself can hold


@pytest.fixture(scope="module")
def farm(tmp_path_factory):
    log = tmp_path_factory.mktemp("writer") / "requests.jsonl"
    with SiteProcess("tests.sites.durability", log_path=log, cwd=REPO) as site:
        yield site


def slow_writer(seconds: float) -> dict[str, str]:
    return {**os.environ, DELAY_ENV: str(seconds)}


def records(warc_dir: Path) -> dict[tuple[str, int], tuple[str, str, str]]:
    """(file name, offset) → (type, target URI, record id) of every whole record, `.open` files
    included (a killed crawl's), the name without `.open` as the database writes it."""
    found = {}
    for path in sorted(warc_dir.glob("*.warc.gz*")):
        name = path.name.removesuffix(OPEN_SUFFIX)
        with open(path, "rb") as stream:
            iterator = ArchiveIterator(stream)
            try:
                for record in iterator:
                    headers = record.rec_headers
                    found[(name, iterator.get_record_offset())] = (
                        record.rec_type,
                        headers.get_header("WARC-Target-URI"),
                        headers.get_header("WARC-Record-ID"),
                    )
            except Exception:  # noqa: BLE001 - a killed write's torn tail: whole records before it
                pass
    return found


def test_a_kill_while_the_writer_has_a_backlog_loses_nothing(farm, tmp_path):
    base = farm.origins["farm"]
    settings = {
        "JOBDIR": str(tmp_path / "job"),
        "WARC_WRITE_QUEUE": "1000",  # room for the whole backlog: nothing waits in the downloader
        "PROVENANCE_BATCH_SIZE": "5",  # rows reach the database while the backlog is there
        "PROVENANCE_FLUSH_SECONDS": "0.2",
    }
    command = crawl_command(f"{base}/s{PAGES}/p/0", tmp_path, **settings)
    warc_dir, db = tmp_path / "warc", tmp_path / "provenance.sqlite"
    served = RequestLog(Path(farm.log_path))
    with open(tmp_path / "killed.log", "wb") as log:
        killed = subprocess.Popen(command, cwd=REPO, stdout=log, stderr=log, env=slow_writer(0.05))
        try:
            while served.grow() < 150 and killed.poll() is None:
                subprocess.run(["sleep", "0.01"], check=True)
        finally:
            killed.kill()
            killed.wait(timeout=30)
    assert killed.returncode == -9, "the crawl ended before the kill"

    # The writer really had a backlog: more pages were fetched than the downloader can hold
    # beyond those written.
    on_disk = records(warc_dir)
    written = sum(1 for kind, uri, _ in on_disk.values() if kind == "response" and "/s300/" in uri)
    assert served.count - written > 2 * CONCURRENCY, (served.count, written)

    # The database is never ahead of the WARC files: every capture row names a whole record of
    # its page, and every page recorded as kept has its capture row.
    rows = sql(db, "SELECT url, warc_file, warc_offset, record_id FROM captures")
    assert rows, "no capture row reached the database before the kill"
    for url, warc_file, offset, record_id in rows:
        assert on_disk.get((warc_file, offset)) == ("response", url, record_id), url
    kept = sql(
        db,
        "SELECT d.url FROM decisions d LEFT JOIN captures c ON c.decision_id = d.id "
        "WHERE d.outcome = 'kept' AND c.id IS NULL",
    )
    assert not kept, f"recorded as kept without a record: {kept[:5]}"
    cited = {
        signal["evidence_record"]
        for (detail,) in sql(db, "SELECT detail FROM decisions")
        for signal in json.loads(detail).get("signals", [])
        if signal.get("evidence_record")
    }
    record_ids = {record_id for _, _, record_id in on_disk.values()}
    assert cited <= record_ids, f"decisions cite evidence not on disk: {cited - record_ids}"

    # The next run recovers the killed file, refetches what the backlog lost and completes.
    complete(command, tmp_path / "complete.log")
    check(tmp_path, base, job=True, context="kill with a writer backlog")
    warcio = subprocess.run(
        [
            sys.executable,
            "-m",
            "warcio.cli",
            "check",
            *map(str, sorted(warc_dir.glob("*.warc.gz"))),
        ],
        capture_output=True,
        text=True,
    )
    assert warcio.returncode == 0, warcio.stdout + warcio.stderr


def test_a_full_writer_queue_slows_fetching_instead_of_buffering(farm, tmp_path):
    base = farm.origins["farm"]
    limit = 4
    command = crawl_command(
        f"{base}/s100/p/0", tmp_path, WARC_WRITE_QUEUE=str(limit), PROVENANCE_BATCH_SIZE="10"
    )
    result = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=300, env=slow_writer(0.02)
    )
    assert result.returncode == 0, result.stderr[-3000:]
    ((stats,),) = sql(tmp_path / "provenance.sqlite", "SELECT stats FROM runs")
    stats = json.loads(stats)
    assert stats["warc/queue_full"] > 0  # the downloader waited for the writer
    # Captures never exceed the limit; policy documents (a few per origin) do not wait for room.
    assert stats["warc/queue_max"] <= limit + stats.get("warc/evidence", 0)
    # Those waiting for room are responses the downloader holds: no more than it may fetch.
    assert stats["warc/queue_waiting_max"] <= CONCURRENCY
    assert (
        stats["warc/captures"]
        == sqlite3.connect(tmp_path / "provenance.sqlite")
        .execute("SELECT count(*) FROM captures")
        .fetchone()[0]
    )


def test_a_waiter_that_submits_nothing_passes_its_turn_on():
    """A crawl stopping (write error) wakes waiters that then submit nothing: the next in line
    must still be woken, or its response would hold its downloader slot for ever."""
    thread = WriterThread(1)
    thread.backlog = 1  # one job in the thread
    first, second = thread.admit(), thread.admit()
    assert first is not None and second is not None
    first.addCallback(lambda _: None)  # woken, submits nothing
    thread._finished(Deferred(), None)
    assert second.called


def test_the_gil_switch_interval_is_short_while_a_writer_thread_runs():
    """The writer thread releases the GIL for every compression, digest and write and waits up
    to the switch interval to get it back from the busy reactor thread: at Python's 5 ms the
    queue filled on every capture (benchmarks/README.md). Short while any writer runs, the
    interpreter's own once the last one stops."""
    before = sys.getswitchinterval()
    first, second = WriterThread(4), WriterThread(4)
    try:
        first.submit(lambda: None)
        assert sys.getswitchinterval() <= SWITCH_INTERVAL < 0.005
        second.submit(lambda: None)
        first.stop()
        assert sys.getswitchinterval() <= SWITCH_INTERVAL  # the second still runs
    finally:
        first.stop()
        second.stop()
    assert sys.getswitchinterval() == before
