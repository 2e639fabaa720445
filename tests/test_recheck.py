"""`scrapy recheck`: a reservation added after the crawl withdraws the captures it covers."""

from __future__ import annotations

import sqlite3

from tests.conftest import (
    LOOPBACK_SETTINGS,
    assert_consistent,
    run_crawl,
    scrapy_command,
    site_process,
)


def test_recheck_withdraws_what_the_site_now_reserves(tmp_path, monkeypatch):
    robots = tmp_path / "robots.txt"
    monkeypatch.setenv("MUTABLE_ROBOTS", str(robots))
    with site_process("tests.sites.mutable", tmp_path) as site:
        base = site.origins["mutable"]
        crawl = run_crawl(tmp_path / "crawl", urls=[f"{base}/a", f"{base}/b"])
        assert crawl.returncode == 0, crawl.output
        assert crawl.sql("SELECT count(*) FROM captures")[0][0] == 2
        pages_before = [r["path"] for r in site.requests() if r["path"] in ("/a", "/b")]

        robots.write_text("User-agent: *\nDisallow: /a\n")  # the site reserves /a after the crawl
        removal = tmp_path / "removal.tsv"
        command = ["recheck", "--removal-list", str(removal)]
        for name, value in {**LOOPBACK_SETTINGS, "WARC_DIR": str(crawl.warc_dir),
                            "PROVENANCE_DB_URL": f"sqlite:///{crawl.db_path}"}.items():  # fmt: skip
            command += ["-s", f"{name}={value}"]
        result = scrapy_command(*command)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "2 capture(s) re-checked, 1 withdrawn" in result.stdout
        pages_after = [r["path"] for r in site.requests() if r["path"] in ("/a", "/b")]
        assert pages_after == pages_before  # pages are not fetched again

    (record_id,) = crawl.sql("SELECT record_id FROM captures WHERE url = ?", f"{base}/a")[0]
    lines = removal.read_text().splitlines()
    assert lines[1].split("\t")[:2] == [f"{base}/a", record_id]
    rows = crawl.sql("SELECT url, reasons, stage FROM decisions WHERE stage = 'withdrawal'")
    assert rows == [(f"{base}/a", '["withdrawn", "robots-disallowed"]', "withdrawal")]
    assert crawl.sql("SELECT count(*) FROM captures")[0][0] == 2  # history is kept
    assert {s for (s,) in crawl.sql("SELECT spider FROM runs")} == {"corpus", "recheck"}
    assert_consistent(crawl.warc_dir, f"sqlite:///{crawl.db_path}")


def test_captures_of_two_profiles_are_rechecked_in_one_command(tmp_path, monkeypatch):
    """One re-check run per profile, in one process (a reactor starts once)."""
    robots = tmp_path / "robots.txt"
    monkeypatch.setenv("MUTABLE_ROBOTS", str(robots))
    with site_process("tests.sites.mutable", tmp_path) as site:
        base = site.origins["mutable"]
        settings = {"WARC_DIR": str(tmp_path / "crawl" / "warc"),
                    "PROVENANCE_DB_URL": f"sqlite:///{tmp_path / 'crawl' / 'p.sqlite'}"}  # fmt: skip
        for profile, page in (("strict", "a"), ("us", "b")):
            crawl = run_crawl(
                tmp_path / "crawl", urls=[f"{base}/{page}"],
                settings={**settings, "POLICY_PROFILE": profile},
            )  # fmt: skip
            assert crawl.returncode == 0, crawl.output
        robots.write_text("User-agent: *\nDisallow: /\n")
        command = ["recheck"]
        for name, value in {**LOOPBACK_SETTINGS, **settings}.items():
            command += ["-s", f"{name}={value}"]
        result = scrapy_command(*command)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 capture(s) re-checked, 2 withdrawn" in result.stdout
    connection = sqlite3.connect(tmp_path / "crawl" / "p.sqlite")
    runs = connection.execute(
        "SELECT profile FROM runs WHERE spider = 'recheck' ORDER BY profile"
    ).fetchall()
    connection.close()
    assert runs == [("strict",), ("us",)]
