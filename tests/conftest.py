"""Fixtures: loopback sites in subprocesses, and real crawls run with the `scrapy` command."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text
from warcio.archiveiterator import ArchiveIterator

from crawler.demo.server import SiteProcess
from pipelines import models

REPO = Path(__file__).resolve().parents[1]

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REDIS = "redis://127.0.0.1:6379/0"

LOOPBACK_SETTINGS = {
    "ALLOW_PRIVATE_ADDRESSES": "true",
    "AUTOTHROTTLE_ENABLED": "false",
    "DOWNLOAD_DELAY": "0",
}


@pytest.fixture(scope="session")
def gate_site(tmp_path_factory: pytest.TempPathFactory):
    """The demo site plus test cases, one origin per port, logging every request it receives."""
    log = tmp_path_factory.mktemp("site") / "requests.jsonl"
    with SiteProcess("tests.sites.gate", log_path=log, cwd=REPO) as site:
        yield site


@dataclass
class Crawl:
    returncode: int
    output: str
    warc_dir: Path
    db_path: Path

    def warc_files(self) -> list[Path]:
        return sorted(self.warc_dir.glob("*.warc.gz"))

    def records(self) -> list[tuple[Path, int, dict[str, str], bytes]]:
        """(file, offset, WARC headers, payload as stored) of every record, in order."""
        found = []
        for path in self.warc_files():
            with open(path, "rb") as stream:
                iterator = ArchiveIterator(stream)
                for record in iterator:
                    body = record.raw_stream.read()  # as stored: no content decoding
                    found.append((path, iterator.offset, dict(record.rec_headers.headers), body))
        return found

    def sql(self, query: str, *params) -> list[tuple]:
        connection = sqlite3.connect(self.db_path)
        try:
            return connection.execute(query, params).fetchall()
        finally:
            connection.close()

    def decisions(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        rows = self.sql("SELECT url, outcome, reasons FROM decisions")
        return {url: (outcome, tuple(json.loads(reasons))) for url, outcome, reasons in rows}


def run_crawl(
    tmp_path: Path,
    *,
    urls: list[str] | None = None,
    settings: dict[str, str] | None = None,
    args: dict[str, str] | None = None,
    timeout: float = 180,
) -> Crawl:
    """`scrapy crawl corpus` exactly as a user runs it, from the repository root."""
    warc_dir, db_path = tmp_path / "warc", tmp_path / "provenance.sqlite"
    command = [sys.executable, "-m", "scrapy", "crawl", "corpus"]
    if urls:
        command += ["-a", "urls=" + ",".join(urls)]
    for name, value in (args or {}).items():
        command += ["-a", f"{name}={value}"]
    merged = {
        **LOOPBACK_SETTINGS,
        "WARC_DIR": str(warc_dir),
        "PROVENANCE_DB_URL": f"sqlite:///{db_path}",
        **(settings or {}),
    }
    for name, value in merged.items():
        command += ["-s", f"{name}={value}"]
    result = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )
    return Crawl(result.returncode, result.stdout + result.stderr, warc_dir, db_path)


def scrapy_command(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """`scrapy ARGS…` from the repository root, as a user runs it (wide terminal for tables)."""
    return subprocess.run(
        [sys.executable, "-m", "scrapy", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "300"},
    )


@pytest.fixture
def postgres_schema():
    """A fresh schema on the PostgreSQL server of this machine, as a SQLAlchemy URL."""
    pytest.importorskip("psycopg", reason="PostgreSQL tests need psycopg (the distributed extra)")
    engine = models.create_engine(POSTGRES)
    name = f"rc_test_{uuid.uuid4().hex[:12]}"
    try:
        with engine.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {name}"))
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"no PostgreSQL server at 127.0.0.1:5432 ({type(exc).__name__})")
    yield f"{POSTGRES}?options=-csearch_path%3D{name}"
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {name} CASCADE"))
    engine.dispose()


@pytest.fixture
def redis_url():
    """The Redis server of this machine (distributed-mode tests)."""
    pytest.importorskip("scrapy_redis", reason="distributed-mode tests need scrapy-redis")
    import redis

    client = redis.Redis.from_url(REDIS)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis server at 127.0.0.1:6379 ({type(exc).__name__})")
    finally:
        client.close()
    return REDIS
