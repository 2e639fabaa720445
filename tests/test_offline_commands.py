"""Offline commands work with the documented defaults; looking commands write nothing.

Each command runs as a user runs it, in a project folder of its own (tmp_path, so the default
`data/…` paths land there and never in the working tree).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.conftest import LOOPBACK_SETTINGS, scrapy_command


def scrapy_in(folder: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return scrapy_command(*args, timeout=timeout, project=folder)


def loopback_options() -> list[str]:
    return [f"-s{name}={value}" for name, value in LOOPBACK_SETTINGS.items()]


@pytest.fixture(scope="module")
def crawled(gate_site, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A folder with a crawl made under the default WARC_DIR and PROVENANCE_DB_URL."""
    folder = tmp_path_factory.mktemp("project")
    page = f"{gate_site.origins['main']}/articles/1"
    result = scrapy_in(folder, "crawl", "corpus", "-a", f"urls={page}", *loopback_options())
    assert result.returncode == 0, result.stderr[-2000:]
    assert list((folder / "data" / "warc").glob("*.warc.gz"))
    assert (folder / "data" / "provenance.sqlite").exists()
    return folder, page


@pytest.mark.parametrize(
    "args",
    [
        ["verify"],
        ["audit"],
        ["summary"],
        ["export", "--format", "jsonl", "--out", "export"],
        ["db", "current"],
        ["db", "upgrade"],
        ["recheck", *loopback_options()],
    ],
    ids=lambda args: " ".join(args[:2]),
)
def test_offline_command_uses_the_default_output(crawled, args):
    folder, _ = crawled
    result = scrapy_in(folder, *args)
    assert result.returncode == 0, result.stdout[-1000:] + result.stderr[-2000:]
    assert "Traceback" not in result.stderr


def test_withdraw_uses_the_default_database(crawled):
    folder, page = crawled
    result = scrapy_in(folder, "withdraw", "--url", page, "--reason", "test", "--ref", "T-1")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr


def test_settings_command_shows_the_defaults(tmp_path):
    result = scrapy_in(tmp_path, "settings", "--get", "PROVENANCE_DB_URL")
    assert result.stdout.strip() == "sqlite:///data/provenance.sqlite"
    result = scrapy_in(tmp_path, "settings", "--get", "WARC_DIR")
    assert result.stdout.strip() == "data/warc"


@pytest.mark.parametrize(
    "command",
    [["policy", "explain"], ["fetch", "--nolog"]],
    ids=["policy explain", "fetch"],
)
def test_looking_commands_write_nothing(gate_site, tmp_path, command):
    url = f"{gate_site.origins['main']}/articles/1"
    result = scrapy_in(tmp_path, *command, *loopback_options(), url)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == [], "a looking command wrote into the project folder"
    # It still went through the gate: robots.txt was asked for before the page.
    asked = [
        entry["path"]
        for entry in gate_site.requests()
        if entry["path"] in ("/robots.txt", "/articles/1")
    ]
    assert "/robots.txt" in asked


def test_audit_takes_the_short_run_id_it_shows(crawled):
    folder, _ = crawled
    with sqlite3.connect(folder / "data" / "provenance.sqlite") as connection:
        (run_id,) = connection.execute("SELECT id FROM runs WHERE spider = 'corpus'").fetchone()
    result = scrapy_in(folder, "audit", "--run", run_id[:8], "--format", "json")
    assert result.returncode == 0, result.stderr[-2000:]
    assert [run["id"] for run in json.loads(result.stdout)["runs"]] == [run_id]
    result = scrapy_in(folder, "audit", "--run", "zzzzzzzz")
    assert result.returncode == 1
    assert (
        result.stderr.strip() == "rightscrawl: error: --run: no run with an id starting 'zzzzzzzz'"
    )


def test_wacz_export_prints_only_its_path(crawled):
    folder, _ = crawled
    result = scrapy_in(folder, "export", "--format", "wacz", "--out", "wacz", timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines() == [str(Path("wacz") / "corpus.wacz")]
    assert (folder / "wacz" / "corpus.wacz").stat().st_size > 0


def test_an_empty_parquet_export_keeps_typed_columns(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    assert scrapy_in(tmp_path, "db", "upgrade").returncode == 0
    result = scrapy_in(tmp_path, "export", "--format", "parquet", "--out", "out")
    assert result.returncode == 0, result.stderr[-2000:]
    schema = pq.read_schema(tmp_path / "out" / "corpus.parquet")
    # Typed even with no row to infer from (datasets itself refuses to load any empty split).
    assert str(schema.field("reasons").type) == "list<element: string>"
    assert str(schema.field("license").type) == "string"


def test_a_profile_error_keeps_its_bracketed_words(tmp_path):
    profile = tmp_path / "bad.toml"
    profile.write_text('name = "bad"\n[reservations]\nhonour = 5\n', encoding="utf-8")
    result = scrapy_in(tmp_path, "policy", "show", str(profile))
    assert result.returncode == 1
    assert "[reservations] 'honour'" in " ".join(result.stdout.split())
