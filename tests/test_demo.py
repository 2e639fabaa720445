"""`scrapy demo`, as the README's first command runs it (outputs redirected to a temp dir)."""

from __future__ import annotations

import sqlite3

from tests.conftest import scrapy_command, warcio_check


def test_demo_crawls_the_bundled_site_and_prints_the_summary(tmp_path):
    db = tmp_path / "demo.sqlite"
    result = scrapy_command(
        "demo",
        "-s",
        f"WARC_DIR={tmp_path / 'warc'}",
        "-s",
        f"PROVENANCE_DB_URL=sqlite:///{db}",
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "11 kept, 11 excluded" in out
    # Works, not only pages: the media origin's PDF, EPUB and images are decided too.
    assert "by kind: document 2 kept, 0 excluded; html 8 kept, 9 excluded; image 1 kept" in out
    connection = sqlite3.connect(db)
    media = dict(
        connection.execute(
            "SELECT substr(url, instr(substr(url, 8), '/') + 7), outcome || ' ' || reasons"
            " FROM decisions WHERE url LIKE '%/img/%' OR url LIKE '%.pdf' OR url LIKE '%.epub'"
        ).fetchall()
    )
    connection.close()
    assert media == {
        "/img/lighthouse.png": "kept []",
        "/img/studio-still.jpg": 'excluded ["iptc-reserved"]',
        "/img/no-image-ai.png": 'excluded ["noai-header"]',
        "/report.pdf": "kept []",
        "/book.epub": "kept []",
    }
    for reason in (
        "iptc-reserved",  # the film still's XMP
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
    warcio_check(files)
