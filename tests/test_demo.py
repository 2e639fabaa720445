"""`scrapy demo`, as the README's first command runs it (outputs redirected to a temp dir)."""

from __future__ import annotations

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
    warcio_check(files)
