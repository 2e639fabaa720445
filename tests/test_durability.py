"""Nothing recorded is lost (#11 §2): a kill after a rotation, a full disk, a crawl that kept
nothing. Each crawl is a real `scrapy crawl` against tests/sites/durability.py."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from warcio.archiveiterator import ArchiveIterator

from crawler.contracts import WireRequest, WireResponse
from crawler.demo.server import SiteProcess
from pipelines import models, schema
from pipelines.warc_recovery import recover_directory
from pipelines.warc_writer import OPEN_SUFFIX, RotatingWarcWriter
from tests.conftest import REPO, assert_consistent, run_crawl, scrapy_args, scrapy_command
from tests.conftest import crawl_command as conftest_crawl_command
from tests.sites.durability import redirected, reserved

FAST = {"CONCURRENT_REQUESTS": "16", "CONCURRENT_REQUESTS_PER_DOMAIN": "16"}


@pytest.fixture(scope="module")
def farm(tmp_path_factory):
    log = tmp_path_factory.mktemp("farm") / "requests.jsonl"
    with SiteProcess("tests.sites.durability", log_path=log, cwd=REPO) as site:
        yield site


def crawl_command(seed: str, out: Path, **settings: str) -> list[str]:
    """The whole `scrapy crawl corpus` command line of one seed, writing into `out`."""
    return scrapy_args(*conftest_crawl_command(out, urls=[seed], settings={**FAST, **settings}))


def site_pages(base: str, size: int) -> tuple[set[str], set[str]]:
    """The URLs a complete crawl of /s{size}/ decides, and those of them it keeps."""
    decided, kept = set(), set()
    for n in range(size):
        page = f"{base}/s{size}/p/{n}"
        decided.add(page)
        if redirected(n):
            page = f"{base}/s{size}/r/{n}"
            decided.add(page)
        if not reserved(n):
            kept.add(page)
    return decided, kept


def sql(db: Path, query: str, *params) -> list[tuple]:
    connection = sqlite3.connect(db)
    try:
        return connection.execute(query, params).fetchall()
    finally:
        connection.close()


def verify(warc_dir: Path, db: Path, *, context: str = "") -> None:
    """`scrapy verify`'s check passes on the folder and the SQLite database."""
    assert_consistent(warc_dir, f"sqlite:///{db}", context=context)


def wait_for(condition, process: subprocess.Popen, timeout: float = 60) -> None:
    """Poll a condition while the process runs (the crawl may also end first)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, "the crawl ended before the moment came"
        assert time.monotonic() < deadline, "the moment never came"
        time.sleep(0.01)


# -- #11 2.6: a kill after a rotation ---------------------------------------------------------


def test_a_kill_just_after_a_rotation_loses_no_rows(farm, tmp_path):
    seed = f"{farm.origins['farm']}/s120/p/0"
    # Rows are held in memory for the whole crawl: the rotated file has none in the database.
    held = {"PROVENANCE_FLUSH_SECONDS": "3600", "PROVENANCE_BATCH_SIZE": "100000"}
    command = crawl_command(seed, tmp_path, WARC_MAX_SIZE="30000", **held)
    warc_dir, db = tmp_path / "warc", tmp_path / "provenance.sqlite"
    with open(tmp_path / "killed.log", "wb") as log:
        killed = subprocess.Popen(command, cwd=REPO, stdout=log, stderr=log)
        try:
            wait_for(lambda: any(warc_dir.glob("*.warc.gz")), killed)
        finally:
            killed.kill()
            killed.wait(timeout=30)
    (rotated, *_) = sorted(warc_dir.glob("*.warc.gz"))
    again = subprocess.run(
        crawl_command(seed, tmp_path), cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"Recovered {rotated.name}" in again.stderr
    verify(warc_dir, db)
    engine = models.create_engine(f"sqlite:///{db}")
    with engine.connect() as connection:
        rows = connection.scalars(
            select(models.Capture.url).where(models.Capture.warc_file == rotated.name)
        ).all()
    engine.dispose()
    assert rows  # the rotated file's captures were rebuilt, not only the open file's


def _exchange(n: int) -> tuple[WireRequest, WireResponse]:
    url = f"https://example.org/{n}"
    request = WireRequest("GET", url, ((b"Host", b"example.org"),))
    response = WireResponse(url, 200, "HTTP/1.1", ((b"Content-Type", b"text/html"),), b"x" * 500)
    return request, response


def test_a_closed_file_whose_rows_are_recorded_is_not_read_again(tmp_path):
    """Recovery reads a closed file only after its last recorded capture: a start over a big
    archive costs a query, not a re-read. Proven by damaging the part it must not read."""
    db_url = f"sqlite:///{tmp_path / 'p.sqlite'}"
    engine = models.create_engine(db_url)
    schema.upgrade(engine)
    with engine.begin() as connection:
        connection.execute(
            models.Run.__table__.insert().values(
                id="run-1", spider="corpus", started_at=datetime.now(UTC), user_agent="t",
                profile="strict", profile_sha256="0" * 64, settings={}, version="t", hostname="h",
            )
        )  # fmt: skip
    engine.dispose()
    writer = RotatingWarcWriter(
        tmp_path / "warc", prefix="t", max_size=10**9, warcinfo={}, hostname="h", pid=1
    )
    for n in range(20):
        writer.write_exchange(
            *_exchange(n), b'{"run_id": "run-1", "url": "https://example.org/%d"}' % n
        )
    path = writer.close()
    # First start: no row for this file yet, so it is read whole and its 20 captures rebuilt.
    recover_directory(tmp_path / "warc", db_url)
    engine = models.create_engine(db_url)
    with engine.connect() as connection:
        assert len(connection.scalars(select(models.Capture.id)).all()) == 20
        last = connection.scalar(
            select(models.Capture.warc_offset).order_by(models.Capture.warc_offset.desc())
        )
    engine.dispose()
    # Damage everything before the last capture: a second start must not notice.
    data = bytearray(path.read_bytes())
    data[10:last] = b"\0" * (last - 10)
    path.write_bytes(bytes(data))
    recover_directory(tmp_path / "warc", db_url)
    engine = models.create_engine(db_url)
    with engine.connect() as connection:
        assert len(connection.scalars(select(models.Capture.id)).all()) == 20
    engine.dispose()


# -- #11 2.8: disk full -----------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    """A 128 KiB tmpfs (some 35 captures of tests/sites/durability.py), mounted for this test."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("filling a disk needs a small tmpfs, and mounting one needs root")
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=128k", "tmpfs", str(mount_point)],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], capture_output=True, timeout=30)


def test_a_full_disk_stops_the_crawl_with_one_line_and_status_1(farm, tmp_path, small_disk):
    seed = f"{farm.origins['farm']}/s200/p/0"
    out = tmp_path / "out"
    job = {"JOBDIR": str(out / "job")}
    full = subprocess.run(
        crawl_command(seed, out, WARC_DIR=str(small_disk / "warc"), **job),
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    output = full.stdout + full.stderr
    assert full.returncode == 1, output[-3000:]
    assert f"WARC_DIR {small_disk / 'warc'} is full: No space left on device (errno 28)" in output
    assert "Traceback" not in output, output[-3000:]
    assert "'finish_reason': 'warc_write_error'" in output
    # Nothing half-written: closed files only, and they agree with the database already.
    assert not list((small_disk / "warc").glob(f"*{OPEN_SUFFIX}"))
    db = out / "provenance.sqlite"
    verify(small_disk / "warc", db)
    # With room again (the folder moved to a bigger disk), the job goes on where it stopped:
    # the pages dropped when the disk filled are fetched, and none is archived twice.
    shutil.copytree(small_disk / "warc", out / "warc")
    again = subprocess.run(
        crawl_command(seed, out, **job), cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert again.returncode == 0, again.stderr[-3000:]
    verify(out / "warc", db)
    captured = [url for (url,) in sql(db, "SELECT url FROM captures")]
    assert sorted(captured) == sorted(site_pages(farm.origins["farm"], 200)[1])


def test_a_crawl_into_a_full_disk_does_not_start(farm, tmp_path, small_disk):
    (small_disk / "filler").write_bytes(b"\0" * 4096 * 32)  # the whole 128 KiB
    (small_disk / "warc").mkdir()
    full = subprocess.run(
        crawl_command(f"{farm.origins['farm']}/s10/p/0", tmp_path, WARC_DIR=str(small_disk / "warc")),
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    output = full.stdout + full.stderr
    assert full.returncode == 1, output[-3000:]
    assert f"WARC_DIR {small_disk / 'warc'} is full: No space left on device (errno 28)" in output
    assert "Traceback" not in output, output[-3000:]


WRITE_UNTIL_FULL = """
import errno, resource, sys
from crawler.contracts import WireRequest, WireResponse
from pipelines.warc_writer import RotatingWarcWriter

resource.setrlimit(resource.RLIMIT_FSIZE, (50_000, 50_000))  # Python ignores SIGXFSZ: EFBIG
writer = RotatingWarcWriter(sys.argv[1], prefix="t", max_size=10**9, warcinfo={}, pid=1)
written = 0
try:
    for n in range(1000):
        url = f"https://example.org/{n}"
        body = bytes(range(256)) * 8  # incompressible enough to reach the limit soon
        writer.write_exchange(WireRequest("GET", url, ()), WireResponse(url, 200, "HTTP/1.1", (), body), b"{}")
        written += 1
except OSError as error:
    assert error.errno == errno.EFBIG, error
    writer.close()
    print(written)
"""


def test_a_failed_write_leaves_only_whole_exchanges(tmp_path):
    """The kernel refuses a write half-way (a file size limit, as a full disk would): the file
    is cut back to the exchange before, and reads to its end."""
    done = subprocess.run(
        [sys.executable, "-c", WRITE_UNTIL_FULL, str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    written = int(done.stdout)
    (path,) = tmp_path.glob("*.warc.gz")
    assert 0 < path.stat().st_size <= 50_000
    with open(path, "rb") as stream:
        types = [record.rec_type for record in ArchiveIterator(stream)]
    assert types == ["warcinfo"] + ["request", "response", "metadata"] * written


# -- #11 3.13: a crawl that kept nothing ------------------------------------------------------


def test_verify_a_crawl_that_refused_every_seed_before_fetching(tmp_path):
    crawl = run_crawl(
        tmp_path, urls=["http://127.0.0.1:9/"], settings={"ALLOW_PRIVATE_ADDRESSES": "false"}
    )
    assert crawl.returncode == 3, crawl.output  # finished without fetching a page
    assert not crawl.warc_files()
    assert crawl.sql("SELECT outcome FROM decisions") == [("excluded",)]
    result = scrapy_command(
        "verify", "--warc-dir", str(crawl.warc_dir), "--db", f"sqlite:///{crawl.db_path}"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "consistent" in result.stdout


def test_verify_of_an_empty_folder_and_database_is_not_consistent(tmp_path):
    """Nothing at all to check (a wrong --warc-dir or --db) is still reported."""
    (tmp_path / "warc").mkdir()
    engine = models.create_engine(f"sqlite:///{tmp_path / 'p.sqlite'}")
    schema.upgrade(engine)
    engine.dispose()
    result = scrapy_command(
        "verify", "--warc-dir", str(tmp_path / "warc"), "--db", f"sqlite:///{tmp_path / 'p.sqlite'}"
    )
    assert result.returncode == 1
    assert "nothing to check" in result.stdout


def test_a_file_with_nothing_whole_after_the_recorded_part_is_recovered(tmp_path):
    """A kill right after a rotation can leave an `.open` file with no whole record (only the
    start of its warcinfo): recovery removes or cuts it, and the crawl starts."""
    warc_dir = tmp_path / "warc"
    warc_dir.mkdir()
    partial = warc_dir / "rightscrawl-20260101000000000-00002-host-1.warc.gz.open"
    partial.write_bytes(b"\x1f\x8b\x08\x00")  # the first bytes of a gzip member, cut short
    recover_directory(warc_dir, f"sqlite:///{tmp_path / 'p.sqlite'}")
    assert not list(warc_dir.glob("*.open"))
