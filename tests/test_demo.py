"""`scrapy demo`, as the README's first command runs it (outputs redirected to a temp dir)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import REPO


def test_demo_crawls_the_bundled_site_and_prints_the_summary(tmp_path):
    db = tmp_path / "demo.sqlite"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "scrapy",
            "demo",
            "-s",
            f"WARC_DIR={tmp_path / 'warc'}",
            "-s",
            f"PROVENANCE_DB_URL=sqlite:///{db}",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "7 kept, 9 excluded" in out
    for reason in (
        "robots-disallowed",
        "robots-unreachable",
        "tdm-reservation-header",
        "tdm-reservation-meta",
        "noai-header",
        "noai-meta",
        "http-error",
    ):
        assert reason in out
    files = sorted((tmp_path / "warc").glob("*.warc.gz"))
    assert files
    check = subprocess.run(
        [sys.executable, "-m", "warcio.cli", "check", *map(str, files)], capture_output=True
    )
    assert check.returncode == 0
