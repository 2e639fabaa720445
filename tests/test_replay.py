"""Replay in the tools of the field: a crawl of two origins (a rendered page, a revisit) replays
page by page in pywb from the WARC files and from the WACZ export, byte for byte as the server
sent each page; cdxj-indexer files each page under its URL and its provenance under
`urn:rightscrawl:provenance:<url>`; and files written before those URNs (the metadata record
under the page's URL) stay readable by `scrapy verify`, recovery and export.

pywb 2.10 pins an old redis that cannot share this project's environment (scrapy-redis), so pywb
and cdxj-indexer are installed, once, into their own virtual environment in the user's cache
(~/.cache/rightscrawl-tests/), outside the working tree, and reused by later runs. One crawl and
one pywb server are shared by the tests of this module.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from warcio.timeutils import iso_date_to_timestamp

from crawler.demo.server import SiteProcess
from pipelines.verify import verify
from pipelines.warc_recovery import recover_directory
from pipelines.warc_writer import (
    OPEN_SUFFIX,
    gzip_member,
    page_of,
    provenance_uri,
    rendered_dom_uri,
)
from tests.conftest import (
    CHROMIUM,
    REPO,
    check_warc,
    read_records,
    require,
    run_crawl,
    scrapy_command,
    served_reply,
    site_process,
    warcio_check,
)
from tests.sites.replay import SCRIPT

PYWB = "pywb==2.10.0"
CDXJ_INDEXER = "cdxj-indexer==1.5.0"
INSTALL_SECONDS = 240
WAYBACK_SERVER = REPO / "tests" / "wayback_server.py"
RENDERING = importlib.util.find_spec("scrapy_playwright") is not None and CHROMIUM is not None


# --- pywb and cdxj-indexer, in their own environment ---------------------------------------


def _tools_dir() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    python = f"py{sys.version_info.major}.{sys.version_info.minor}"
    return cache / "rightscrawl-tests" / f"{PYWB.replace('==', '-')}-{python}"


def _install(venv: Path) -> str | None:
    """Create the environment and install pywb and cdxj-indexer; None, or why it failed."""
    shutil.rmtree(venv, ignore_errors=True)
    deadline = time.monotonic() + INSTALL_SECONDS  # within the test's own timeout (300 s)
    steps = (
        [sys.executable, "-m", "venv", str(venv)],
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", PYWB, CDXJ_INDEXER],
    )
    for step in steps:
        try:
            done = subprocess.run(
                step, capture_output=True, text=True, timeout=max(1, deadline - time.monotonic())
            )
        except subprocess.TimeoutExpired:
            done = None
        if done is None or done.returncode != 0:
            shutil.rmtree(venv, ignore_errors=True)
            if done is None:
                return f"`{' '.join(step[-4:])}` took more than {INSTALL_SECONDS} s"
            lines = done.stderr.strip().splitlines() or ["no output"]
            last = next((line for line in reversed(lines) if line.startswith("ERROR")), lines[-1])
            return f"`{' '.join(step[-4:])}` failed: {last}"
    return None


@pytest.fixture(scope="session")
def replay_tools() -> Path:
    """The `bin` folder of an environment holding pywb and cdxj-indexer, installed from the
    package registry on first use (a lock keeps two test runs from installing at once)."""
    venv = _tools_dir()
    venv.parent.mkdir(parents=True, exist_ok=True)
    installed = venv / "installed"
    with open(venv.parent / f"{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        problem = None if installed.exists() else _install(venv)
        if problem is None and not installed.exists():
            installed.write_text(f"{PYWB} {CDXJ_INDEXER}\n")
    require(problem is None, f"cannot install {PYWB} and {CDXJ_INDEXER} into {venv}: {problem}")
    return venv / "bin"


def _tool(tools: Path, *args: str, cwd: Path) -> str:
    done = subprocess.run(
        [str(tools / args[0]), *args[1:]], cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


# --- the crawl ------------------------------------------------------------------------------


@dataclass
class Corpus:
    out: Path  # the crawl's output folder: warc/ and provenance.sqlite
    site: SiteProcess
    rendered: bool

    @property
    def warc_dir(self) -> Path:
        return self.out / "warc"

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.out / 'provenance.sqlite'}"

    def warc_files(self) -> list[Path]:
        return sorted(self.warc_dir.glob("*.warc.gz"))

    def located(self, *record_types: str) -> list[tuple[str, int, dict[str, str]]]:
        """(file name, offset, WARC headers) of every record of these types, in order."""
        return [
            (path.name, offset, headers)
            for path, offset, headers, _ in read_records(self.warc_files())
            if headers["WARC-Type"] in record_types
        ]

    def records(self, record_type: str) -> list[dict[str, str]]:
        return [headers for _, _, headers in self.located(record_type)]

    def outcomes(self, url: str) -> list[str]:
        connection = sqlite3.connect(self.out / "provenance.sqlite")
        try:
            rows = connection.execute("SELECT outcome FROM decisions WHERE url = ?", (url,))
            return [outcome for (outcome,) in rows]
        finally:
            connection.close()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Corpus:
    """Two runs into one output folder: both origins (north's /script rendered when a browser is
    there), then north's /plain again, which the second run writes as a revisit."""
    out = tmp_path_factory.mktemp("replay")
    with site_process("tests.sites.replay", tmp_path_factory.mktemp("replay-site")) as site:
        north, south = site.origins["north"], site.origins["south"]
        render = {"RENDER_URL_PATTERNS": f"^{north}/script$"} if RENDERING else {}
        first = run_crawl(out, urls=[f"{north}/", f"{south}/"], settings=render)
        assert first.returncode == 0, first.output
        second = run_crawl(out, urls=[f"{north}/plain"], settings={"DEPTH_LIMIT": "0"})
        assert second.returncode == 0, second.output
        yield Corpus(out, site, RENDERING)


@pytest.fixture(scope="module")
def wacz(corpus, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("replay-wacz")
    result = scrapy_command(
        "export", "--format", "wacz", "--out", str(out),
        "--warc-dir", str(corpus.warc_dir), "--db", corpus.db_url, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == str(out / "corpus.wacz")
    return out / "corpus.wacz"


@contextlib.contextmanager
def serve_wayback(tools: Path, root: Path) -> Iterator[str]:
    """pywb serving the collections under `root` (made with `wb-manager`): the base URL of the
    server, stopped on leaving."""
    with open(root / "wayback.log", "w") as log:
        server = subprocess.Popen(
            [str(tools / "python"), str(WAYBACK_SERVER)],
            cwd=root,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        try:
            port = server.stdout.readline().strip()  # its first line, once it listens
            assert port.isdigit(), (root / "wayback.log").read_text()[-3000:]
            yield f"http://127.0.0.1:{port}"
        finally:
            server.stdin.close()  # it stops when its stdin closes
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=30)


@pytest.fixture(scope="module")
def wayback(replay_tools, corpus, wacz, tmp_path_factory) -> str:
    """pywb serving two collections, `warcs` (the WARC files added with `wb-manager add`) and
    `wacz` (the export, `wb-manager add --unpack-wacz`): the base URL of the server."""
    root = tmp_path_factory.mktemp("pywb")
    _tool(replay_tools, "wb-manager", "init", "warcs", cwd=root)
    _tool(replay_tools, "wb-manager", "add", "warcs", *map(str, corpus.warc_files()), cwd=root)
    _tool(replay_tools, "wb-manager", "init", "wacz", cwd=root)
    _tool(replay_tools, "wb-manager", "add", "--unpack-wacz", "wacz", str(wacz), cwd=root)
    with serve_wayback(replay_tools, root) as base:
        yield base


_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def replay(base: str, collection: str, warc_date: str, url: str) -> tuple[int, dict, bytes]:
    """pywb's answer for `url` as captured at `warc_date`, unrewritten (`id_`), asked for as a
    browser would (gzip accepted, so a gzip-encoded page comes back as it was sent)."""
    timestamp = iso_date_to_timestamp(warc_date)
    request = urllib.request.Request(
        f"{base}/{collection}/{timestamp}id_/{url}", headers={"Accept-Encoding": "gzip"}
    )
    try:
        with _NO_PROXY.open(request, timeout=30) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


COLLECTIONS = ["warcs", "wacz"]


# --- replay ---------------------------------------------------------------------------------


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_every_archived_response_replays_as_the_server_sent_it(corpus, wayback, collection):
    """Every page and policy document, in pywb: the server's bytes, never our provenance JSON."""
    responses = corpus.records("response")
    urls = {headers["WARC-Target-URI"] for headers in responses}
    north, south = corpus.site.origins["north"], corpus.site.origins["south"]
    for origin in (north, south):
        assert {
            f"{origin}/",
            f"{origin}/article",
            f"{origin}/plain",
            f"{origin}/compressed",
        } <= urls
    for headers in responses:
        url = headers["WARC-Target-URI"]
        status, answer_headers, body = replay(wayback, collection, headers["WARC-Date"], url)
        sent = served_reply(corpus.site, url)
        assert (status, body) == (sent.status, sent.body), url
        assert answer_headers.get("Content-Type") != "application/json", url
        assert answer_headers.get("Memento-Datetime"), url  # a capture, not a pywb error page


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_a_revisit_replays_the_stored_page(corpus, wayback, collection):
    (revisit,) = corpus.records("revisit")
    url = revisit["WARC-Target-URI"]
    assert url == f"{corpus.site.origins['north']}/plain"
    status, _, body = replay(wayback, collection, revisit["WARC-Date"], url)
    assert (status, body) == (200, served_reply(corpus.site, url).body)


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_a_rendered_page_replays_as_sent_and_its_dom_under_its_urn(corpus, wayback, collection):
    """The page as the server sent it, not the DOM a browser made of it (pywb indexes the
    conversion record too: under the page's URL it would be served in the page's place)."""
    require(corpus.rendered, "rendering needs scrapy-playwright and Chromium (.[browser])")
    url = f"{corpus.site.origins['north']}/script"
    (conversion,) = corpus.records("conversion")
    assert conversion["WARC-Target-URI"] == rendered_dom_uri(url)
    (response,) = [h for h in corpus.records("response") if h["WARC-Target-URI"] == url]
    assert replay(wayback, collection, response["WARC-Date"], url)[2] == SCRIPT.encode()
    if collection == "warcs":  # cdxj-indexer (so the WACZ's index) leaves conversions out
        status, _, dom = replay(wayback, collection, conversion["WARC-Date"], rendered_dom_uri(url))
        assert status == 200 and b"Written by script." in dom


def test_provenance_is_found_under_the_pages_urn(corpus, wayback):
    url = f"{corpus.site.origins['south']}/article"
    (response,) = [h for h in corpus.records("response") if h["WARC-Target-URI"] == url]
    status, headers, body = replay(wayback, "warcs", response["WARC-Date"], provenance_uri(url))
    assert status == 200 and headers["Content-Type"] == "application/json"
    provenance = json.loads(body)
    assert provenance["url"] == url and provenance["outcome"] == "kept"


def test_an_excluded_page_is_not_in_the_archive(corpus, wayback):
    url = f"{corpus.site.origins['north']}/private/x"
    assert corpus.outcomes(url) == ["excluded"]  # robots.txt disallows it
    when = corpus.records("response")[0]["WARC-Date"]
    for collection in COLLECTIONS:
        assert replay(wayback, collection, when, url)[0] == 404


# --- indexes and digests --------------------------------------------------------------------


def test_cdxj_indexer_files_each_page_under_its_url_and_provenance_under_its_urn(
    corpus, replay_tools, tmp_path
):
    output = _tool(
        replay_tools, "cdxj-indexer", "--sort", *map(str, corpus.warc_files()), cwd=tmp_path
    )
    filed = defaultdict(list)  # URL: its index lines' fields, in the index's order
    for line in output.splitlines():
        fields = json.loads(line.split(" ", 2)[2])
        filed[fields["url"]].append(fields)

    def where(fields: dict[str, str]) -> tuple[str, int]:
        return fields["filename"], int(fields["offset"])

    pages, provenance = defaultdict(set), defaultdict(set)
    for name, offset, headers in corpus.located("response", "revisit"):
        pages[headers["WARC-Target-URI"]].add((name, offset))
    for name, offset, headers in corpus.located("metadata"):
        provenance[headers["WARC-Target-URI"]].add((name, offset))
    for url, records in pages.items():
        # Under a page's URL: its responses (and revisits) only, the first its earliest response.
        assert {where(f) for f in filed[url]} == records, url
        first = filed[url][0]
        assert first["mime"] != "warc/revisit", url
        assert first.get("status") == str(served_reply(corpus.site, url).status), url
        # Its provenance: under its URN, as JSON.
        urn = provenance_uri(url)
        assert {where(f) for f in filed[urn]} == provenance.pop(urn), url
        assert {f["mime"] for f in filed[urn]} == {"application/json"}
    assert not provenance  # every metadata record is filed under the URN of an archived page


def test_the_warc_files_pass_independent_digest_checks(corpus):
    check_warc(corpus.warc_files())  # FastWARC: record for record, block and payload digests
    warcio_check(corpus.warc_files())


def test_the_crawl_verifies(corpus):
    result = scrapy_command("verify", "--warc-dir", str(corpus.warc_dir), "--db", corpus.db_url)
    assert result.returncode == 0, result.stdout + result.stderr


# --- files written before the URNs ----------------------------------------------------------


def gzip_members(data: bytes) -> list[bytes]:
    """The records of a WARC file, one gzip member each, decompressed."""
    records = []
    while data:
        decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        records.append(decompressor.decompress(data))
        data = decompressor.unused_data
    return records


def retarget(source: Path, dest: Path, target) -> dict[str, tuple[int, int]]:
    """Copy a WARC file, changing the WARC-Target-URI of its metadata and conversion records to
    `target(uri)`; the block (and so every digest) is untouched. Returns where each record is
    now (record id: offset, length)."""
    where, offset = {}, 0
    with open(dest, "wb") as out:
        for record in gzip_members(source.read_bytes()):
            head, separator, block = record.partition(b"\r\n\r\n")
            fields = dict(line.split(": ", 1) for line in head.decode("utf-8").split("\r\n")[1:])
            if fields["WARC-Type"] in ("metadata", "conversion"):
                old = fields["WARC-Target-URI"]
                head = head.replace(
                    f"\r\nWARC-Target-URI: {old}\r\n".encode(),
                    f"\r\nWARC-Target-URI: {target(old)}\r\n".encode(),
                )
            member = gzip_member(head + separator + block)
            out.write(member)
            where[fields["WARC-Record-ID"]] = (offset, len(member))
            offset += len(member)
    return where


def as_written_before(uri: str) -> str:
    """The metadata and conversion records' target as files written before the URNs have it."""
    assert uri.startswith("urn:rightscrawl:"), uri
    return page_of(uri)


def copy_corpus(corpus: Corpus, dest: Path, target) -> tuple[Path, str]:
    """The crawl's files with retargeted records, and a database whose captures rows point at
    them: as a crawl writing that way would have left them."""
    warc_dir = dest / "warc"
    warc_dir.mkdir(parents=True)
    shutil.copy(corpus.out / "provenance.sqlite", dest / "provenance.sqlite")
    connection = sqlite3.connect(dest / "provenance.sqlite")
    try:
        for path in corpus.warc_files():
            for record_id, (offset, length) in retarget(path, warc_dir / path.name, target).items():
                connection.execute(
                    "UPDATE captures SET warc_offset = ?, warc_length = ? WHERE record_id = ?",
                    (offset, length, record_id),
                )
        connection.commit()
    finally:
        connection.close()
    return warc_dir, f"sqlite:///{dest / 'provenance.sqlite'}"


@pytest.fixture
def old_corpus(corpus, tmp_path) -> tuple[Path, str]:
    warc_dir, db_url = copy_corpus(corpus, tmp_path, as_written_before)
    targets = {
        headers["WARC-Target-URI"]
        for _, _, headers, _ in read_records(sorted(warc_dir.glob("*.warc.gz")))
        if headers["WARC-Type"] == "metadata"
    }
    assert targets and not any(t.startswith("urn:") for t in targets)
    return warc_dir, db_url


def test_old_files_still_verify(old_corpus):
    warc_dir, db_url = old_corpus
    report = verify(warc_dir, db_url)
    assert report.ok, report.problems
    assert report.counts["records/metadata"] > 0


def test_old_files_still_export(corpus, old_corpus, tmp_path):
    warc_dir, db_url = old_corpus
    result = scrapy_command(
        "export", "--format", "jsonl", "--out", str(tmp_path / "export"),
        "--warc-dir", str(warc_dir), "--db", db_url, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [
        json.loads(line) for line in (tmp_path / "export" / "corpus.jsonl").read_text().splitlines()
    ]
    article = next(row for row in rows if row["url"] == f"{corpus.site.origins['north']}/article")
    assert "north: article" in article["text"]


def test_old_files_still_recover(old_corpus):
    """A crawl killed while writing an old file: its rows are rebuilt from the old metadata
    records, and the torn record after them is cut off."""
    warc_dir, db_url = old_corpus
    path = sorted(warc_dir.glob("*.warc.gz"))[0]
    connection = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    try:
        lost = connection.execute(
            "SELECT url, record_id, warc_offset FROM captures WHERE warc_file = ? ORDER BY id",
            (path.name,),
        ).fetchall()
        # The rows still in memory when it died.
        connection.execute(
            "DELETE FROM decisions WHERE id IN "
            "(SELECT decision_id FROM captures WHERE warc_file = ?)",
            (path.name,),
        )
        connection.execute("DELETE FROM captures WHERE warc_file = ?", (path.name,))
        connection.commit()
    finally:
        connection.close()
    assert len(lost) >= 5
    data = path.read_bytes()
    torn = path.with_name(path.name + OPEN_SUFFIX)
    torn.write_bytes(data + gzip_member(b"WARC/1.1\r\nWARC-Type: request\r\n")[:20])
    path.unlink()
    assert recover_directory(warc_dir, db_url) == [path]
    assert path.read_bytes() == data
    connection = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    try:
        rebuilt = connection.execute(
            "SELECT url, record_id, warc_offset FROM captures WHERE warc_file = ? ORDER BY id",
            (path.name,),
        ).fetchall()
    finally:
        connection.close()
    assert sorted(rebuilt) == sorted(lost)
    report = verify(warc_dir, db_url)
    assert report.ok, report.problems


def test_a_metadata_record_filed_under_another_page_is_caught(corpus, tmp_path):
    north = corpus.site.origins["north"]
    warc_dir, db_url = copy_corpus(
        corpus,
        tmp_path,
        lambda uri: provenance_uri(f"{north}/elsewhere") if uri.endswith("/article") else uri,
    )
    report = verify(warc_dir, db_url)
    problems = [p.what for p in report.problems]
    assert len(problems) == 2, problems  # one per origin's /article
    assert all(f"target {provenance_uri(f'{north}/elsewhere')}" in p for p in problems)
