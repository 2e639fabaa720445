"""`scrapy audit` reports the crawl's true numbers (checked against SQL on the same database)."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.conftest import scrapy_command


@pytest.fixture(scope="module")
def crawl(gate_corpus):
    return gate_corpus


def _audit(crawl, *extra):
    return scrapy_command("audit", "--db", f"sqlite:///{crawl.db_path}", *extra)


def test_json_figures_match_the_database(crawl):
    result = _audit(crawl, "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    kept, excluded = (
        crawl.sql("SELECT count(*) FROM decisions WHERE outcome = ?", o)[0][0]
        for o in ("kept", "excluded")
    )
    assert data["decisions"] == {"kept": kept, "excluded": excluded}
    reasons = {}
    for (row,) in crawl.sql("SELECT reasons FROM decisions"):
        for reason in json.loads(row):
            reasons[reason] = reasons.get(reason, 0) + 1
    assert data["excluded_by_reason"] == reasons
    assert data["warc_bytes"] == crawl.sql("SELECT sum(warc_length) FROM captures")[0][0]
    ((run_id, profile),) = crawl.sql("SELECT id, profile FROM runs")
    assert [r["id"] for r in data["runs"]] == [run_id]
    assert (
        data["runs"][0]["spider"] == "corpus" and data["runs"][0]["profile"] == profile == "strict"
    )
    assert data["runs"][0]["finished_at"].endswith("+00:00")
    assert data["signals_seen"]["robots.txt"] >= kept
    assert sum(d["kept"] for d in data["domains"]) == kept


def test_text_report_shows_the_tables(crawl):
    result = _audit(crawl)
    assert result.returncode == 0, result.stderr
    for title in (
        "Runs",
        "Excluded by reason",
        "Domains (by bytes kept)",
        "Signals seen",
        "robots-unreachable",
    ):
        assert title in result.stdout


def test_bad_format_is_a_usage_error(crawl):
    assert _audit(crawl, "--format", "pdf").returncode == 2


def test_html_report_renders_offline_with_charts_and_tables(crawl, tmp_path, chromium):
    out = tmp_path / "audit.html"
    result = _audit(crawl, "--format", "html", "--out", str(out))
    assert result.returncode == 0, result.stderr
    html = out.read_text()
    assert "<script" not in html and "http://" not in html.split("<body>")[0]  # self-contained
    rendered = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
         "--dump-dom", out.as_uri()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    dom = rendered.stdout
    assert rendered.returncode == 0 and "<svg" in dom, rendered.stderr[-2000:]
    for element in ('id="chart-reasons"', 'id="chart-domains"', 'id="chart-timeline"', 'id="table-runs"',
                    'id="table-domains"', 'id="table-signals"'):  # fmt: skip
        assert element in dom
    data = json.loads(_audit(crawl, "--format", "json").stdout)
    for reason, count in data["excluded_by_reason"].items():
        assert f'data-label="{reason}" data-value="{count}"' in dom
    assert f'data-kept="{data["decisions"]["kept"]}"' in dom
