"""Fixtures: loopback sites in subprocesses, and real crawls run with the `scrapy` command.

One helper each for what many tests do: `scrapy_command`/`start_scrapy` run the `scrapy` command
(always with a timeout), `site_process`/`site_factory` serve a site module, `Crawl.records()` reads
WARC files, and `check_warc` reads them a second time with an independent reader (FastWARC).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import importlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from warcio.archiveiterator import ArchiveIterator

from crawler.demo.server import SiteProcess
from crawler.render.config import BROWSER_NAMES
from pipelines import models

REPO = Path(__file__).resolve().parents[1]

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REDIS = "redis://127.0.0.1:6379/0"

LOOPBACK_SETTINGS = {
    "ALLOW_PRIVATE_ADDRESSES": "true",
    "AUTOTHROTTLE_ENABLED": "false",
    "DOWNLOAD_DELAY": "0",
}
# For crawls of an origin that answers 5xx/429 or fails where that is not the test's subject:
# each failure backs the origin off (1 s, 2 s, 4 s … for the rest of the run), which
# test_politeness.py tests; elsewhere it only makes the test wait.
QUICK_BACK_OFF = {"POLITENESS_RETRY_AFTER_MAX": "0.01"}

# CI (.ci/run) sets this: there a missing browser, database, Redis, optional package or the shared
# conformance folder fails the run instead of quietly skipping the tests that need it.
REQUIRE_ALL = os.environ.get("RIGHTSCRAWL_REQUIRE_ALL") == "1"

# The browser the crawler would find (crawler/render/config.py looks for the same names).
CHROMIUM = next((p for name in BROWSER_NAMES if (p := shutil.which(name))), None)

# Hypothesis caches what it learns (`constants/`, examples) in `.hypothesis/` of the working
# directory: point it at a temporary folder, removed when the run ends.
_HYPOTHESIS_HOME = tempfile.TemporaryDirectory(prefix="rightscrawl-hypothesis-")
os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = _HYPOTHESIS_HOME.name

# Property tests: no deadline (a busy 2-core machine makes timings meaningless) and no example
# database, which Hypothesis would otherwise write as `.hypothesis/` into the working tree.
hypothesis_settings.register_profile(
    "rightscrawl",
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
hypothesis_settings.load_profile("rightscrawl")


def require(condition: object, reason: str) -> None:
    """Skip unless `condition`; under RIGHTSCRAWL_REQUIRE_ALL=1 (CI) a missing part fails."""
    if condition:
        return
    if REQUIRE_ALL:
        pytest.fail(f"{reason} (RIGHTSCRAWL_REQUIRE_ALL=1: required in CI)", pytrace=False)
    pytest.skip(reason)


def require_module(name: str, reason: str):
    """The imported module, or a skip (a failure in CI) saying what to install."""
    try:
        return importlib.import_module(name)
    except ImportError:
        require(False, reason)


@pytest.fixture
def chromium() -> str:
    """The system Chromium (the HTML report and rendering tests need it)."""
    require(CHROMIUM, "no Chromium on PATH (apt-get install chromium; .ci/run does as root)")
    return CHROMIUM


def wait_for(condition: Callable[[], object], *, timeout: float = 60, what: str = "") -> object:
    """Poll `condition` until it is true, failing after `timeout` seconds (never a bare sleep)."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what or condition}")
        time.sleep(0.02)
    return value


# --- the working tree stays as it was -------------------------------------------------------

_TREE_KEY = pytest.StashKey[dict]()
_CACHE_PARTS = {".venv", "__pycache__", ".pytest_cache", ".ruff_cache"}


def _tree_state() -> dict[str, object]:
    """Every changed, untracked or ignored path but caches, with the size and mtime of its files."""
    listed = subprocess.run(
        ["git", "status", "--porcelain", "--ignored", "--untracked-files=all", "-z"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if listed.returncode != 0:  # not a git checkout (an sdist): nothing to compare
        return {}
    state: dict[str, object] = {}
    for entry in filter(None, listed.stdout.split("\0")):
        path = entry[3:]
        parts = set(Path(path).parts)
        if parts & _CACHE_PARTS or any(p.endswith(".egg-info") for p in parts):
            continue
        full = REPO / path
        try:
            stat = full.stat()
            state[path] = (entry[:2], stat.st_size, stat.st_mtime_ns)
        except OSError:
            state[path] = (entry[:2], None, None)
    return state


def _is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_sessionstart(session: pytest.Session) -> None:
    # Under pytest-xdist the controller looks before the workers start and after they have all
    # finished; a worker looking on its own would see the others' work half done.
    if not _is_xdist_worker(session.config):
        session.config.stash[_TREE_KEY] = _tree_state()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    before = session.config.stash.get(_TREE_KEY, None)
    if before is None:
        return
    after = _tree_state()
    changed = sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))
    if changed:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = "the test suite changed the working tree: " + ", ".join(changed[:20])
        if reporter is not None:
            reporter.write_line(message, red=True, bold=True)
        else:
            print(message, file=sys.stderr)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


# --- order: the longest files first ---------------------------------------------------------

# pytest-xdist (`-n 2 --dist loadfile`, pyproject.toml) hands each worker whole files in this
# order: a long file started last would leave one worker running it alone at the end. Seconds per
# file, measured on 2 cores (`--durations=0`); files not listed count as 10 s, so a new long file
# still starts before the many short ones. An order only, never a condition of any test.
_LONG_FILES = {
    "test_crawl.py": 70, "test_render.py": 32, "test_offline_commands.py": 30,
    "test_render_auto.py": 30,
    "test_db_outage.py": 27, "test_kill.py": 21, "test_user_errors.py": 21,
    "test_distributed.py": 20, "test_export.py": 14, "test_policy_command.py": 14,
    "test_durability.py": 14, "test_lawful_access.py": 11, "test_parser_robustness.py": 11,
    "test_schema.py": 10, "test_replay.py": 20, "test_recrawl.py": 15, "test_summary.py": 15,
    "test_export_kinds.py": 12, "test_works.py": 12, "test_foreign_project.py": 10,
}  # fmt: skip


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: -_LONG_FILES.get(item.path.name, 10))  # stable: file order kept


# --- sites ----------------------------------------------------------------------------------

_LIVE_SITES: list[SiteProcess] = []


@contextlib.contextmanager
def site_process(module: str, log_dir: Path) -> Iterator[SiteProcess]:
    """Serve the site `module` (tests/sites/*.py), logging every request it receives."""
    with SiteProcess(module, log_path=log_dir / "requests.jsonl", cwd=REPO) as site:
        site.module = module  # type: ignore[attr-defined]
        _LIVE_SITES.append(site)
        try:
            yield site
        finally:
            _LIVE_SITES.remove(site)


@pytest.fixture
def site_factory(tmp_path_factory: pytest.TempPathFactory):
    """`site_factory("tests.sites.x")` serves a site for this test and stops it afterwards."""
    with contextlib.ExitStack() as stack:

        def start(module: str) -> SiteProcess:
            return stack.enter_context(site_process(module, tmp_path_factory.mktemp("site")))

        yield start


@pytest.fixture(scope="session")
def gate_site(tmp_path_factory: pytest.TempPathFactory):
    """The demo site plus test cases, one origin per port, logging every request it receives.

    Shared by the session: a test reads the requests of its own crawl (`Crawl.requests_to`),
    never the whole log, so no test depends on which ran before it."""
    with site_process("tests.sites.gate", tmp_path_factory.mktemp("site")) as site:
        yield site


@pytest.fixture(scope="session")
def gate_corpus(gate_site, tmp_path_factory: pytest.TempPathFactory) -> Crawl:
    """One crawl of the gate site's `main`, `open` and `down` origins (kept pages, exclusions of
    most kinds, an unreachable robots.txt), for the commands that read a crawl's output (audit,
    summary, verify, withdraw, export). Read only: a test that changes it works on `copy_of`."""
    o = gate_site.origins
    result = run_crawl(
        tmp_path_factory.mktemp("gate-corpus"),
        urls=[f"{o['main']}/", f"{o['open']}/", f"{o['down']}/"],
        settings=QUICK_BACK_OFF,  # `down`'s robots.txt answers 503
    )
    assert result.returncode == 0, result.output
    return result


def copy_of(crawl: Crawl, folder: Path) -> Crawl:
    """The crawl's WARC files and database copied into `folder`, for a test that changes them."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copytree(crawl.warc_dir, folder / "warc")
    shutil.copy(crawl.db_path, folder / "provenance.sqlite")
    return Crawl(crawl.returncode, crawl.output, folder / "warc", folder / "provenance.sqlite",
                 crawl.site_requests)  # fmt: skip


# Politeness gaps are measured on the server's clock (its log's monotonic `t`, taken when it has
# read a request's head), never the crawler's. The crawler waits on its own clock before sending;
# the server reads the request later by the loopback transit and the time its event loop takes to
# pick the connection up. On a busy 2-core machine (two pytest-xdist workers, a browser, the site
# servers) a process can wait ~100 ms for a core (seen: a 0.5 s gap read as 0.397 s), which
# shortens one gap and lengthens the next. ARRIVAL_JITTER covers that for one gap; over a whole run
# of requests it counts once, so the run's span checks the pace more closely than any one gap.
ARRIVAL_JITTER = 0.15


def assert_paced(times: list[float], interval: float, *, jitter: float = ARRIVAL_JITTER) -> None:
    """Requests that reached the server at `times` were let out at least `interval` apart."""
    times = sorted(times)
    gaps = [round(later - earlier, 3) for earlier, later in zip(times, times[1:], strict=False)]
    assert gaps, times
    assert min(gaps) >= interval - jitter, f"gaps {gaps}, each at least {interval} - {jitter}"
    span = times[-1] - times[0]
    assert span >= len(gaps) * interval - jitter, f"span {span:.3f} of gaps {gaps}"


def log_length(site: SiteProcess) -> int:
    """How many requests the site has logged so far: an offset for `requests_since`."""
    return len(site.requests())


def requests_since(site: SiteProcess, offset: int) -> list[dict[str, str]]:
    return site.requests()[offset:]


# --- WARC files -----------------------------------------------------------------------------


def read_records(
    files: list[Path], *, blocks: bool = False
) -> list[tuple[Path, int, dict[str, str], bytes]]:
    """(file, offset, WARC headers, payload as stored) of every record, in order (warcio). The
    payload of an HTTP record is its body after the HTTP headers; with `blocks`, the whole block."""
    found = []
    for path in files:
        with open(path, "rb") as stream:
            iterator = ArchiveIterator(stream, no_record_parse=blocks)
            for record in iterator:
                body = record.raw_stream.read()  # as stored: no content decoding
                found.append((path, iterator.offset, dict(record.rec_headers.headers), body))
    return found


def warcio_check(files: list[Path]) -> None:
    """`warcio check` (the reference tool's own digest check) passes on every file."""
    check = subprocess.run(
        [sys.executable, "-m", "warcio.cli", "check", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def assert_consistent(warc_dirs: Path | str | list, db_url: str, *, context: str = "") -> None:
    """The WARC files and the database agree: what `scrapy verify` checks (`pipelines.verify`,
    which the command runs), called here without starting Scrapy once more. The command itself,
    its arguments, output and exit status, is tested in test_verify.py."""
    from pipelines.verify import verify

    report = verify(warc_dirs, db_url)
    problems = "\n".join(f"  {p.where}: {p.what}" for p in report.problems[:50])
    assert report.ok, (
        f"{context}{': ' if context else ''}{len(report.problems)} problem(s)\n{problems}"
    )


def sha1_digest(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def http_payload(block: bytes) -> bytes:
    """The entity body of an HTTP message block (what WARC-Payload-Digest covers)."""
    head, sep, body = block.partition(b"\r\n\r\n")
    assert sep, "an HTTP record without the blank line after its headers"
    return body


def check_warc(files: list[Path]) -> None:
    """Read the WARC files a second time with FastWARC, a reader independent of warcio (which
    wrote and reads them): same records, same types, digests verified by FastWARC itself, and
    WARC-Payload-Digest recomputed here from the payload with hashlib."""
    from fastwarc import ArchiveIterator as FastIterator
    from fastwarc import WarcRecordType

    ours = read_records(files, blocks=True)
    theirs = []
    for path in files:
        for record in FastIterator(str(path), parse_http=False, fsspec_args=False):
            headers = dict(record.headers)
            block_ok = record.verify_block_digest()
            theirs.append((path, headers["WARC-Record-ID"], record.record_type, block_ok))
    assert [(p, h["WARC-Record-ID"]) for p, _, h, _ in ours] == [(p, i) for p, i, _, _ in theirs]
    for (_, _, headers, block), (_, record_id, record_type, block_ok) in zip(
        ours, theirs, strict=True
    ):
        kind = headers["WARC-Type"]
        assert record_type == getattr(WarcRecordType, kind), (record_id, kind, record_type)
        if kind == "warcinfo":
            continue
        assert block_ok, f"FastWARC: bad WARC-Block-Digest on {record_id} ({kind})"
        assert headers["WARC-Block-Digest"] == sha1_digest(block), record_id
        if kind in ("response", "request"):
            expected = sha1_digest(http_payload(block))
        elif kind == "revisit":
            continue  # its payload digest is the stored response's, checked where that is
        else:
            expected = sha1_digest(block)
        assert headers["WARC-Payload-Digest"] == expected, (record_id, kind)
    for path in files:
        for record in FastIterator(
            str(path),
            record_types=int(WarcRecordType.response),
            parse_http=True,
            auto_decode="none",
            fsspec_args=False,
        ):
            assert record.verify_payload_digest(), (
                f"FastWARC: bad payload digest {record.record_id}"
            )


def served_reply(site: SiteProcess, url: str):
    """The `Reply` the site's own code gives for `url` (built again here from its module), or
    None for a site whose answers depend on the request or on state."""
    module = importlib.import_module(site.module)  # type: ignore[attr-defined]
    for name, base in site.origins.items():
        if url.startswith(base + "/"):
            handler = module.build(site.origins)[name]
            if getattr(handler, "wants_headers", False):
                return None
            return handler(url[len(base) :])
    return None


def assert_payloads_as_served(crawl: Crawl, site: SiteProcess) -> int:
    """Every response record's payload is byte for byte what the server's code sent; the number
    of responses compared."""
    compared = 0
    for _, _, headers, block in read_records(crawl.warc_files(), blocks=True):
        if headers["WARC-Type"] != "response":
            continue
        reply = served_reply(site, headers["WARC-Target-URI"])
        if reply is None or reply.raw is not None:
            continue
        assert http_payload(block) == reply.body, headers["WARC-Target-URI"]
        compared += 1
    return compared


# --- crawls and commands --------------------------------------------------------------------


@dataclass
class Crawl:
    returncode: int
    output: str
    warc_dir: Path
    db_path: Path
    site_requests: dict[int, list[dict[str, str]]] = field(default_factory=dict, repr=False)

    def warc_files(self) -> list[Path]:
        return sorted(self.warc_dir.glob("*.warc.gz"))

    def records(self) -> list[tuple[Path, int, dict[str, str], bytes]]:
        """(file, offset, WARC headers, payload as stored) of every record, in order."""
        return read_records(self.warc_files())

    def requests_to(self, site: SiteProcess, origin: str | None = None) -> list[dict[str, str]]:
        """The requests `site` received while this crawl ran (of one origin, if given)."""
        found = self.site_requests[id(site)]
        return [r for r in found if origin is None or r["origin"] == origin]

    def paths(self, site: SiteProcess, origin: str) -> list[str]:
        return [r["path"] for r in self.requests_to(site, origin)]

    def sql(self, query: str, *params) -> list[tuple]:
        connection = sqlite3.connect(self.db_path)
        try:
            return connection.execute(query, params).fetchall()
        finally:
            connection.close()

    def decisions(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        rows = self.sql("SELECT url, outcome, reasons FROM decisions")
        return {url: (outcome, tuple(json.loads(reasons))) for url, outcome, reasons in rows}


def crawl_command(
    tmp_path: Path,
    *,
    urls: list[str] | None = None,
    settings: dict[str, str] | None = None,
    args: dict[str, str] | None = None,
) -> list[str]:
    """The arguments of `scrapy crawl corpus` writing into `tmp_path` (after `scrapy`)."""
    command = ["crawl", "corpus"]
    if urls:
        command += ["-a", "urls=" + ",".join(urls)]
    for name, value in (args or {}).items():
        command += ["-a", f"{name}={value}"]
    merged = {
        **LOOPBACK_SETTINGS,
        "WARC_DIR": str(tmp_path / "warc"),
        "PROVENANCE_DB_URL": f"sqlite:///{tmp_path / 'provenance.sqlite'}",
        **(settings or {}),
    }
    for name, value in merged.items():
        command += ["-s", f"{name}={value}"]
    return command


def run_crawl(
    tmp_path: Path,
    *,
    urls: list[str] | None = None,
    settings: dict[str, str] | None = None,
    args: dict[str, str] | None = None,
    timeout: float = 180,
    check: bool = True,
) -> Crawl:
    """`scrapy crawl corpus` exactly as a user runs it, from the repository root. With `check`,
    the WARC files of a crawl that finished are read a second time by FastWARC (`check_warc`)."""
    offsets = {id(site): log_length(site) for site in _LIVE_SITES}
    result = scrapy_command(*crawl_command(tmp_path, urls=urls, settings=settings, args=args),
                            timeout=timeout)  # fmt: skip
    crawl = Crawl(
        result.returncode,
        result.stdout + result.stderr,
        tmp_path / "warc",
        tmp_path / "provenance.sqlite",
        {id(s): requests_since(s, offsets[id(s)]) for s in _LIVE_SITES if id(s) in offsets},
    )
    if check and crawl.returncode == 0 and crawl.warc_files():
        check_warc(crawl.warc_files())
    return crawl


def scrapy_args(*args: str) -> list[str]:
    return [sys.executable, "-m", "scrapy", *args]


SCRAPY_ENV = {"COLUMNS": "300"}  # a wide terminal: tables are not wrapped


def scrapy_command(
    *args: str,
    timeout: float = 120,
    env: dict[str, str] | None = None,
    project: Path | None = None,
) -> subprocess.CompletedProcess:
    """`scrapy ARGS…` from the repository root, as a user runs it (wide terminal for tables).

    `project`: run in that folder instead, with the project's settings, so that the default
    `data/…` paths land there (never in the working tree)."""
    if project is not None:
        path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
        env = {"SCRAPY_SETTINGS_MODULE": "crawler.settings", "PYTHONPATH": path, **(env or {})}
    return subprocess.run(
        scrapy_args(*args),
        cwd=project or REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **SCRAPY_ENV, **(env or {})},
    )


@contextlib.contextmanager
def start_scrapy(*args: str, output: Path | None = None, timeout: float = 120):
    """`scrapy ARGS…` in the background; on leaving, Ctrl-C (if still running) and a bounded wait.
    Its output goes to `output` (a file) or nowhere."""
    with contextlib.ExitStack() as stack:
        sink = stack.enter_context(open(output, "w")) if output else subprocess.DEVNULL  # noqa: SIM115
        process = subprocess.Popen(
            scrapy_args(*args),
            cwd=REPO,
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **SCRAPY_ENV},
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)


# --- shared servers -------------------------------------------------------------------------


@pytest.fixture
def postgres_schema():
    """A fresh schema on the PostgreSQL server of this machine, as a SQLAlchemy URL."""
    require_module("psycopg", "PostgreSQL tests need psycopg (the distributed extra)")
    engine = models.create_engine(POSTGRES)
    name = f"rc_test_{uuid.uuid4().hex[:12]}"
    try:
        with engine.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {name}"))
    except OperationalError as exc:  # no server to connect to; any other error is a real one
        engine.dispose()
        require(False, f"no PostgreSQL server at 127.0.0.1:5432 ({type(exc.orig).__name__})")
    yield f"{POSTGRES}?options=-csearch_path%3D{name}"
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {name} CASCADE"))
    engine.dispose()


@pytest.fixture
def redis_url():
    """The Redis server of this machine (distributed-mode tests)."""
    require_module("scrapy_redis", "distributed-mode tests need scrapy-redis")
    import redis

    client = redis.Redis.from_url(REDIS)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        require(False, f"no Redis server at 127.0.0.1:6379 ({type(exc).__name__})")
    finally:
        client.close()
    return REDIS
