"""Offline commands work with the documented defaults; looking commands write nothing.

Each command runs as a user runs it, in a project folder of its own (tmp_path, so the default
`data/…` paths land there and never in the working tree).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import LOOPBACK_SETTINGS, REPO


def scrapy_in(folder: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """`scrapy ARGS…` with `folder` as the working directory and the project's settings."""
    env = {
        **os.environ,
        "SCRAPY_SETTINGS_MODULE": "crawler.settings",
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
        "COLUMNS": "300",
    }
    return subprocess.run(
        [sys.executable, "-m", "scrapy", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        stdin=subprocess.DEVNULL,
    )


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
